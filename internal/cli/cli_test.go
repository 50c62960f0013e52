package cli

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEnvName(t *testing.T) {
	tests := []struct{ prefix, name, want string }{
		{"YONGJIN_SINK", "batch-size", "YONGJIN_SINK_BATCH_SIZE"},
		{"YONGJIN_POLLER", "config", "YONGJIN_POLLER_CONFIG"},
		{"YONGJIN_POLLER", "nats-url", "YONGJIN_POLLER_NATS_URL"},
		{"YONGJIN", "metrics-addr", "YONGJIN_METRICS_ADDR"},
		{"YONGJIN_SINK", "flush_interval", "YONGJIN_SINK_FLUSH_INTERVAL"},
		{"YONGJIN_SINK", "a-b-c", "YONGJIN_SINK_A_B_C"},
	}
	for _, tc := range tests {
		if got := EnvName(tc.prefix, tc.name); got != tc.want {
			t.Errorf("EnvName(%q, %q) = %q, want %q", tc.prefix, tc.name, got, tc.want)
		}
	}
}

type flags struct {
	fs      *flag.FlagSet
	batch   *int
	url     *string
	flush   *time.Duration
	dryRun  *bool
	comment *string
}

func newFlags() flags {
	fs := flag.NewFlagSet("sink", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return flags{
		fs:      fs,
		batch:   fs.Int("batch-size", 1000, "rows per insert"),
		url:     fs.String("nats-url", "nats://127.0.0.1:4222", "NATS server URL"),
		flush:   fs.Duration("flush-interval", time.Second, "max time between inserts"),
		dryRun:  fs.Bool("dry-run", false, "do not write"),
		comment: fs.String("comment", "", "free text"),
	}
}

const prefix = "YONGJIN_TESTCLI"

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		batch   int
		url     string
		flush   time.Duration
		dryRun  bool
		rest    []string
		wantErr []string // substrings of the error; nil = success
	}{
		{name: "defaults", batch: 1000, url: "nats://127.0.0.1:4222", flush: time.Second},
		{name: "env overrides",
			env:   map[string]string{prefix + "_BATCH_SIZE": "50", prefix + "_NATS_URL": "nats://nats:4222", prefix + "_FLUSH_INTERVAL": "250ms", prefix + "_DRY_RUN": "true"},
			batch: 50, url: "nats://nats:4222", flush: 250 * time.Millisecond, dryRun: true},
		{name: "flags win over env",
			env:   map[string]string{prefix + "_BATCH_SIZE": "50", prefix + "_NATS_URL": "nats://nats:4222"},
			args:  []string{"--batch-size=7", "-dry-run"},
			batch: 7, url: "nats://nats:4222", flush: time.Second, dryRun: true},
		{name: "flag without env", args: []string{"--flush-interval", "2m", "extra", "args"},
			batch: 1000, url: "nats://127.0.0.1:4222", flush: 2 * time.Minute, rest: []string{"extra", "args"}},
		{name: "empty env value is applied", env: map[string]string{prefix + "_NATS_URL": ""},
			batch: 1000, url: "", flush: time.Second},
		{name: "bad env int", env: map[string]string{prefix + "_BATCH_SIZE": "lots"},
			wantErr: []string{prefix + "_BATCH_SIZE", "lots"}},
		{name: "bad env duration", env: map[string]string{prefix + "_FLUSH_INTERVAL": "5 minutes"},
			wantErr: []string{prefix + "_FLUSH_INTERVAL"}},
		{name: "bad env bool", env: map[string]string{prefix + "_DRY_RUN": "maybe"},
			wantErr: []string{prefix + "_DRY_RUN"}},
		{name: "bad env is an error even when the flag is given", env: map[string]string{prefix + "_BATCH_SIZE": "lots"},
			args: []string{"--batch-size=3"}, wantErr: []string{prefix + "_BATCH_SIZE"}},
		{name: "bad flag", args: []string{"--batch-size=many"}, wantErr: []string{"batch-size"}},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: []string{"nope"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			f := newFlags()
			err := Parse(f.fs, prefix, "yongjin sink: EVENTS → ClickHouse", tc.args)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatal("Parse succeeded, want error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *f.batch != tc.batch || *f.url != tc.url || *f.flush != tc.flush || *f.dryRun != tc.dryRun {
				t.Errorf("parsed batch=%d url=%q flush=%s dry-run=%v; want %d %q %s %v",
					*f.batch, *f.url, *f.flush, *f.dryRun, tc.batch, tc.url, tc.flush, tc.dryRun)
			}
			if got := f.fs.Args(); strings.Join(got, " ") != strings.Join(tc.rest, " ") {
				t.Errorf("remaining args = %q, want %q", got, tc.rest)
			}
		})
	}
}

// Only the exact prefix applies: a variable of another command is ignored.
func TestParseIgnoresOtherPrefixes(t *testing.T) {
	t.Setenv("YONGJIN_OTHER_BATCH_SIZE", "5")
	t.Setenv("BATCH_SIZE", "6")
	f := newFlags()
	if err := Parse(f.fs, prefix, "s", nil); err != nil {
		t.Fatal(err)
	}
	if *f.batch != 1000 {
		t.Errorf("batch = %d, want the default 1000", *f.batch)
	}
}

func TestParseUsage(t *testing.T) {
	f := newFlags()
	var out bytes.Buffer
	f.fs.SetOutput(&out)
	if err := Parse(f.fs, prefix, "\n  yongjin sink: EVENTS → ClickHouse\n", nil); err != nil {
		t.Fatal(err)
	}
	f.fs.Usage()
	u := out.String()
	if !strings.HasPrefix(u, "yongjin sink: EVENTS → ClickHouse\n") {
		t.Errorf("usage does not start with the trimmed synopsis:\n%s", u)
	}
	for _, want := range []string{
		"--batch-size (default 1000)", "[$" + prefix + "_BATCH_SIZE]", "rows per insert",
		"--nats-url (default nats://127.0.0.1:4222)", "[$" + prefix + "_NATS_URL]",
		"--dry-run (default false)", "[$" + prefix + "_DRY_RUN]",
		"--comment   [$" + prefix + "_COMMENT]", // no "(default )" for an empty default
	} {
		if !strings.Contains(u, want) {
			t.Errorf("usage lacks %q:\n%s", want, u)
		}
	}
}

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "password")
	if err := os.WriteFile(file, []byte("  from-file\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const name = "YONGJIN_TESTCLI_PASSWORD"
	tests := []struct {
		name    string
		env     map[string]string // "" values are set empty
		want    string
		wantErr bool
	}{
		{name: "neither", want: ""},
		{name: "from env", env: map[string]string{name: "from-env"}, want: "from-env"},
		{name: "env kept verbatim", env: map[string]string{name: " spaced "}, want: " spaced "},
		{name: "from file, trimmed", env: map[string]string{name + "_FILE": file}, want: "from-file"},
		{name: "env wins over file", env: map[string]string{name: "from-env", name + "_FILE": file}, want: "from-env"},
		{name: "empty env falls back to file", env: map[string]string{name: "", name + "_FILE": file}, want: "from-file"},
		{name: "both empty", env: map[string]string{name: "", name + "_FILE": ""}, want: ""},
		{name: "missing file", env: map[string]string{name + "_FILE": filepath.Join(dir, "nope")}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// start from a clean slate whatever the outer environment holds
			for _, k := range []string{name, name + "_FILE"} {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			got, err := Secret(name)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Secret = %q, want error", got)
				}
				if !strings.Contains(err.Error(), name+"_FILE") {
					t.Errorf("error %q does not name %s_FILE", err, name)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Secret = %q, want %q", got, tc.want)
			}
		})
	}
}
