package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Command is one subcommand of a yongjin command: `sink migrate`,
// `poller sources`, ...
type Command struct {
	// Name is the word that selects it on the command line.
	Name string
	// Summary is its one-line description in the help table.
	Summary string
	// Run runs it with the arguments that follow its name and returns the
	// exit status: 0 done, 1 failed, 2 usage error (message on stderr).
	Run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// Program is a command and its subcommand table; Run dispatches to them.
// Every yongjin command's run function is a Program's Run.
type Program struct {
	// Name is the command's name ("sink"), used in messages and help.
	Name string
	// Summary is the one-line description heading the help text.
	Summary string
	// Default names the subcommand run when the arguments are empty or
	// start with a flag; "" makes a subcommand required.
	Default string
	// Commands is the subcommand table, in the order help lists it.
	Commands []Command
	// Notes, when set, follow the table in the help text.
	Notes string
}

func isHelp(arg string) bool {
	switch arg {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// Run dispatches args to a subcommand and returns its exit status:
//   - `help`, -h or --help print the help text (the subcommand table, then
//     the default subcommand's flags) to stdout and return 0; `help NAME`
//     prints NAME's flags;
//   - an unknown subcommand prints an error and the help text to stderr and
//     returns 2;
//   - arguments that are empty or start with a flag go to the Default
//     subcommand (or are a usage error without one).
func (p Program) Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && isHelp(args[0]) {
		if args[0] == "help" && len(args) > 1 {
			c, ok := p.lookup(args[1])
			if !ok {
				return p.unknown(args[1], stderr)
			}
			return c.Run(ctx, []string{"--help"}, stdout, stdout)
		}
		p.Usage(stdout)
		if c, ok := p.lookup(p.Default); ok {
			fmt.Fprintf(stdout, "\n`%s` without a command runs `%s %s`:\n\n", p.Name, p.Name, c.Name)
			c.Run(ctx, []string{"--help"}, stdout, stdout)
		}
		return 0
	}
	name := p.Default
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if name == "" {
		fmt.Fprintf(stderr, "%s: a command is required\n\n", p.Name)
		p.Usage(stderr)
		return 2
	}
	c, ok := p.lookup(name)
	if !ok {
		return p.unknown(name, stderr)
	}
	return c.Run(ctx, args, stdout, stderr)
}

func (p Program) lookup(name string) (Command, bool) {
	for _, c := range p.Commands {
		if c.Name == name && name != "" {
			return c, true
		}
	}
	return Command{}, false
}

func (p Program) unknown(name string, stderr io.Writer) int {
	fmt.Fprintf(stderr, "%s: unknown command %q\n\n", p.Name, name)
	p.Usage(stderr)
	return 2
}

// Usage writes the help text: the summary, the subcommand table and the
// notes.
func (p Program) Usage(w io.Writer) {
	fmt.Fprintf(w, "%s — %s\n\nUsage:\n  %s COMMAND [flags]", p.Name, p.Summary, p.Name)
	if p.Default != "" {
		fmt.Fprintf(w, "   (without COMMAND: %s)", p.Default)
	}
	fmt.Fprint(w, "\n\nCommands:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, c := range p.Commands {
		fmt.Fprintf(tw, "  %s\t%s\n", c.Name, c.Summary)
	}
	fmt.Fprintf(tw, "  help [COMMAND]\tprint this help, or COMMAND's flags (also `%s COMMAND --help`)\n", p.Name)
	_ = tw.Flush()
	if p.Notes != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(p.Notes))
	}
}

// ParseArgs is Parse for a subcommand's Run: usage and errors go to stderr,
// and ok false means Run returns code (0 after --help, 2 for a bad flag or
// environment value).
func ParseArgs(fs *flag.FlagSet, prefix, synopsis string, args []string, stderr io.Writer) (code int, ok bool) {
	fs.Init(fs.Name(), flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := Parse(fs, prefix, synopsis, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		fmt.Fprintf(stderr, "%s: %v\n", fs.Name(), err)
		return 2, false
	}
	return 0, true
}

// Fail reports err on stderr as "name: err" and returns exit status 1, for
// a subcommand's Run.
func Fail(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return 1
}

// timeValue is a flag.Value over a time.Time.
type timeValue struct {
	t      *time.Time
	parse  func(string) (time.Time, error)
	layout string
	loc    *time.Location
}

func (v timeValue) String() string {
	if v.t == nil || v.t.IsZero() {
		return ""
	}
	return v.t.In(v.loc).Format(v.layout)
}

func (v timeValue) Set(s string) error {
	t, err := v.parse(s)
	if err != nil {
		return err
	}
	*v.t = t
	return nil
}

// TimeVar defines a time flag bound to *p (its default is *p's value): parse
// reads a value given on the command line, and the default is shown in
// layout in loc.
func TimeVar(fs *flag.FlagSet, p *time.Time, name string, parse func(string) (time.Time, error), layout string, loc *time.Location, usage string) {
	fs.Var(timeValue{t: p, parse: parse, layout: layout, loc: loc}, name, usage)
}
