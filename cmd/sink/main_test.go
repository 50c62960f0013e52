package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

func runSinkCommand(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunHelpListsSubcommands(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		code, out, _ := runSinkCommand(t, arg)
		if code != 0 {
			t.Fatalf("sink %s: exit %d", arg, code)
		}
		for _, want := range []string{"run ", "migrate ", "summary ", "dashboard ", "dlq ", "help ", "--batch-size", "YONGJIN_SINK_BATCH_SIZE", "YONGJIN_CLICKHOUSE_PASSWORD"} {
			if !strings.Contains(out, want) {
				t.Errorf("sink %s lacks %q:\n%s", arg, want, out)
			}
		}
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--batch-size=many"}, `invalid value "many" for flag -batch-size`},
		{[]string{"migrate", "--nope"}, "flag provided but not defined: -nope"},
		{[]string{"migrat"}, `unknown command "migrat"`},
	} {
		code, out, stderr := runSinkCommand(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || out != "" {
			t.Errorf("sink %q: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, stderr, tc.want)
		}
	}
	t.Setenv("YONGJIN_SINK_FLUSH_INTERVAL", "soon")
	if code, _, stderr := runSinkCommand(t, "migrate"); code != 2 || !strings.Contains(stderr, "YONGJIN_SINK_FLUSH_INTERVAL") {
		t.Errorf("bad environment value: exit %d, stderr %q", code, stderr)
	}
}

// `sink migrate --dry-run --server-version 26.7` prints the golden script
// without any server: the address is one nothing listens on.
func TestRunMigrateDryRunOffline(t *testing.T) {
	code, out, stderr := runSinkCommand(t, "migrate", "--dry-run", "--server-version", "26.7", "--clickhouse-addr", "127.0.0.1:1", "--log-level", "error")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want, err := os.ReadFile("../../internal/clickhouse/testdata/migrate-26.7.sql")
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Fatalf("output differs from migrate-26.7.sql:\n%s", out)
	}
}
