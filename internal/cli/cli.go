// Package cli holds the command-line conventions of yongjin's commands: one
// subcommand table (Program) every command's run dispatches over, with
// `help` and the same exit statuses everywhere (0 done, 1 failed, 2 usage);
// every flag can also be set through an environment variable (the flag
// wins), help text lists those variables, and secrets are read from the
// environment or a mounted file, never from a flag value that shows in ps.
package cli

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// EnvName is the environment variable that overrides flag name for a command
// with the given prefix: prefix "YONGJIN_SINK", flag "batch-size" →
// YONGJIN_SINK_BATCH_SIZE.
func EnvName(prefix, name string) string {
	return prefix + "_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Parse applies environment overrides to fs, then parses args (flags given on
// the command line win over the environment). It also installs a usage text
// that starts with synopsis and lists each flag with its environment variable.
func Parse(fs *flag.FlagSet, prefix, synopsis string, args []string) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := os.LookupEnv(EnvName(prefix, f.Name)); ok && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("environment %s=%q: %w", EnvName(prefix, f.Name), v, err)
			}
		}
	})
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "%s\n\nFlags (each also settable through the environment variable shown):\n", strings.TrimSpace(synopsis))
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" {
				def = fmt.Sprintf(" (default %s)", f.DefValue)
			}
			fmt.Fprintf(out, "  --%s%s   [$%s]\n      %s\n", f.Name, def, EnvName(prefix, f.Name), f.Usage)
		})
	}
	if envErr != nil {
		return envErr
	}
	return fs.Parse(args)
}

// Secret returns the secret named by env var envName, or the trimmed content
// of the file named by env var envName+"_FILE" (Kubernetes Secret mounts).
// It returns "" when neither is set.
func Secret(envName string) (string, error) {
	if v := os.Getenv(envName); v != "" {
		return v, nil
	}
	if path := os.Getenv(envName + "_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("read secret %s_FILE: %w", envName, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", nil
}
