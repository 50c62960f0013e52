package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/natsserver"
)

func runPoller(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

const sourcesYAML = `
sources:
  - name: douke-main
    vendor: douke
    account: main
    credentials:
      vekey: {env: YONGJIN_TEST_VEKEY}
    params:
      time_type: update
  - name: taobao-main
    vendor: taobao-live
    account: main
    credentials:
      app_key: {env: YONGJIN_TEST_APP_KEY}
      app_secret: {env: YONGJIN_TEST_APP_SECRET}
      session: {env: YONGJIN_TEST_SESSION}
`

func writeSources(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sources.yaml")
	if err := os.WriteFile(path, []byte(sourcesYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRunHelpListsSubcommands(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		code, out, _ := runPoller(t, context.Background(), arg)
		if code != 0 {
			t.Fatalf("poller %s: exit %d", arg, code)
		}
		for _, want := range []string{"run ", "once ", "sources ", "backfill ", "help ", "--config", "YONGJIN_POLLER_LEASE_TTL", "China Standard Time"} {
			if !strings.Contains(out, want) {
				t.Errorf("poller %s lacks %q:\n%s", arg, want, out)
			}
		}
	}
}

func TestRunUsageErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--lease-ttl=long"}, 2, `invalid value "long" for flag -lease-ttl`},
		{[]string{"sources", "--nope"}, 2, "flag provided but not defined: -nope"},
		{[]string{"backfil"}, 2, `unknown command "backfil"`},
		{[]string{"sources", "--config", filepath.Join(t.TempDir(), "missing.yaml")}, 1, "read config"},
		{[]string{"backfill", "--config", writeSources(t), "--source", "douke-main"}, 1, "backfill needs --source, --from and --to"},
		{[]string{"once", "--config", writeSources(t), "--source", "nope"}, 1, `no source named \"nope\"`}, // in a JSON log line
	} {
		code, out, stderr := runPoller(t, ctx, append(tc.args, "--log-level", "error")...)
		if code != tc.code || !strings.Contains(stderr, tc.want) || out != "" {
			t.Errorf("poller %q: exit %d, stdout %q, stderr %q; want %d and %q", tc.args, code, out, stderr, tc.code, tc.want)
		}
	}
}

// `poller sources` with a sources file against a real (in-process) NATS
// server lists every part of every source, none polled yet.
func TestRunSources(t *testing.T) {
	s, err := natsserver.Start(natsserver.Config{StoreDir: t.TempDir(), Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code, out, stderr := runPoller(t, ctx, "sources", "--config", writeSources(t), "--nats-url", s.ClientURL(), "--log-level", "error")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "SOURCE") || !strings.Contains(out, "douke-main") || !strings.Contains(out, "taobao-main") {
		t.Fatalf("sources table:\n%s", out)
	}
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) != 10 || f[4] != "-" || f[5] != "-" {
			t.Errorf("row %q: want 10 columns, no checkpoint and no success yet", l)
		}
	}
}
