package cli

import (
	"bytes"
	"context"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

// testProgram has a default subcommand "run" with one flag and "echo",
// which prints its arguments.
func testProgram(ran *[]string) Program {
	return Program{
		Name: "demo", Summary: "a test program.", Default: "run", Notes: "Notes here.",
		Commands: []Command{
			{Name: "run", Summary: "run it", Run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
				fs := flag.NewFlagSet("demo run", flag.ContinueOnError)
				n := fs.Int("n", 3, "how many")
				if code, ok := ParseArgs(fs, "YONGJIN_CLITEST", "usage: demo run [flags]", args, stderr); !ok {
					return code
				}
				*ran = append(*ran, "run", strings.Repeat("x", *n))
				return 0
			}},
			{Name: "echo", Summary: "print the arguments", Run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
				*ran = append(*ran, "echo "+strings.Join(args, " "))
				return 0
			}},
		},
	}
}

func TestProgramRun(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		ran      string
		out, err []string // substrings
		noOut    bool
	}{
		{name: "no arguments run the default", args: nil, ran: "run xxx", noOut: true},
		{name: "flags go to the default", args: []string{"-n", "1"}, ran: "run x", noOut: true},
		{name: "subcommand by name", args: []string{"echo", "a", "-b"}, ran: "echo a -b", noOut: true},
		{name: "explicit default", args: []string{"run", "--n=2"}, ran: "run xx", noOut: true},
		{name: "help", args: []string{"help"}, out: []string{"demo — a test program.", "  run ", "  echo ", "print the arguments", "help [COMMAND]", "Notes here.", "--n (default 3)", "YONGJIN_CLITEST_N"}},
		{name: "-h", args: []string{"-h"}, out: []string{"  echo ", "--n (default 3)"}},
		{name: "--help", args: []string{"--help"}, out: []string{"  echo ", "--n (default 3)"}},
		{name: "help of a subcommand", args: []string{"help", "run"}, out: []string{"usage: demo run", "--n (default 3)"}},
		{name: "subcommand --help", args: []string{"run", "--help"}, err: []string{"usage: demo run", "--n (default 3)"}, noOut: true},
		{name: "unknown subcommand", args: []string{"ecko"}, code: 2, err: []string{`demo: unknown command "ecko"`, "  echo "}, noOut: true},
		{name: "help of an unknown subcommand", args: []string{"help", "ecko"}, code: 2, err: []string{`unknown command "ecko"`}, noOut: true},
		{name: "bad flag", args: []string{"--n=many"}, code: 2, err: []string{`demo run: invalid value "many" for flag -n`}, noOut: true},
		{name: "unknown flag", args: []string{"run", "--m"}, code: 2, err: []string{"flag provided but not defined: -m"}, noOut: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ran []string
			var out, errb bytes.Buffer
			code := testProgram(&ran).Run(context.Background(), tc.args, &out, &errb)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %s", code, tc.code, errb.String())
			}
			if got := strings.Join(ran, " "); got != tc.ran {
				t.Errorf("ran %q, want %q", got, tc.ran)
			}
			for _, w := range tc.out {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.err {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errb.String())
				}
			}
			if tc.noOut && out.Len() > 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
		})
	}
}

// A program without a default subcommand needs one.
func TestProgramRequiresCommand(t *testing.T) {
	var ran []string
	p := testProgram(&ran)
	p.Default = ""
	var out, errb bytes.Buffer
	if code := p.Run(context.Background(), []string{"-n", "1"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "a command is required") || len(ran) > 0 {
		t.Errorf("exit %d, ran %q, stderr %s", code, ran, errb.String())
	}
}

func TestTimeVar(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	parse := func(s string) (time.Time, error) { return time.ParseInLocation(time.DateOnly, s, cst) }
	v := time.Date(2026, 10, 1, 0, 0, 0, 0, cst)
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	TimeVar(fs, &v, "from", parse, time.DateOnly, cst, "start")
	if d := fs.Lookup("from").DefValue; d != "2026-10-01" {
		t.Errorf("default shown as %q", d)
	}
	if err := fs.Parse([]string{"--from", "2026-11-02"}); err != nil || !v.Equal(time.Date(2026, 11, 2, 0, 0, 0, 0, cst)) {
		t.Errorf("parsed %s, %v", v, err)
	}
	if err := fs.Parse([]string{"--from", "soon"}); err == nil {
		t.Error("a bad time was accepted")
	}
}
