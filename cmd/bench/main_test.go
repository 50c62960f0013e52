package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runBenchCommand(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunHelp(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		code, out, _ := runBenchCommand(t, arg)
		if code != 0 {
			t.Fatalf("bench %s: exit %d", arg, code)
		}
		for _, want := range []string{"run ", "help ", "--pages (default 20000)", "--phases (default catchup,sink,raw-clickhouse,raw-jetstream,e2e,latency)", "YONGJIN_BENCH_PAGES"} {
			if !strings.Contains(out, want) {
				t.Errorf("bench %s lacks %q:\n%s", arg, want, out)
			}
		}
	}
}

// Usage errors are found before anything starts: no server is needed.
func TestRunUsageErrors(t *testing.T) {
	t.Setenv("YONGJIN_CLICKHOUSE_ADDR", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--pages=all"}, `invalid value "all" for flag -pages`},
		{[]string{"run", "--phases", "catchup,e2ee", "--clickhouse-addr", "127.0.0.1:1"}, `unknown phase "e2ee"`},
		{[]string{"run"}, "--clickhouse-addr (or $YONGJIN_CLICKHOUSE_ADDR) is required"},
		{[]string{"bench"}, `unknown command "bench"`},
	} {
		code, out, stderr := runBenchCommand(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || out != "" {
			t.Errorf("bench %q: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, stderr, tc.want)
		}
	}
}
