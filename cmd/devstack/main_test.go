package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func runDevstack(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunHelpListsSubcommands(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		code, out, _ := runDevstack(t, context.Background(), arg)
		if code != 0 {
			t.Fatalf("devstack %s: exit %d", arg, code)
		}
		for _, want := range []string{"run ", "help ", "--orders (default 5000)", "--clock (default 2026-11-05)", "--from (default 2026-10-01)", "YONGJIN_DEVSTACK_DATA_DIR"} {
			if !strings.Contains(out, want) {
				t.Errorf("devstack %s lacks %q:\n%s", arg, want, out)
			}
		}
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--orders=lots"}, `invalid value "lots" for flag -orders`},
		{[]string{"run", "--from", "October"}, `invalid value "October" for flag -from`},
		{[]string{"demo"}, `unknown command "demo"`},
	} {
		code, out, stderr := runDevstack(t, context.Background(), tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || out != "" {
			t.Errorf("devstack %q: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, stderr, tc.want)
		}
	}
}

// `devstack run` with a small sandbox against a real ClickHouse: the demo
// ends with ClickHouse equal to the sandbox's ground truth, and a second run
// on the same store changes nothing.
func TestRunDemo(t *testing.T) {
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	args := []string{"run", "--orders", "40", "--clickhouse-addr", addr, "--clickhouse-database", db, "--data-dir", t.TempDir(), "--dashboard-addr", "127.0.0.1:0"}
	for i := range 2 {
		code, out, stderr := runDevstack(t, ctx, args...)
		if code != 0 || !strings.Contains(out, "OK: ClickHouse matches the sandbox ground truth") || !strings.Contains(out, "Dashboard: http://127.0.0.1:") {
			t.Fatalf("run %d: exit %d, stderr:\n%s\nstdout:\n%s", i+1, code, stderr, out)
		}
	}
}
