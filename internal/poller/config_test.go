package poller_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
)

const validConfig = `
sources:
  - name: douke-main
    vendor: douke
    account: main
    credentials:
      vekey: {env: YONGJIN_TEST_VEKEY}
    params:
      time_type: update
    window:
      from: "2026-10-01"
      to: "2026-10-03 12:00:00"
    page_size: 20
  - name: douke_backfill2
    vendor: douke
    account: second
    base_url: http://127.0.0.1:18080
    credentials:
      vekey: {file: /run/secrets/yongjin/douke-vekey}
    lookback: 24h
    interval: 30s
    rate_per_second: 2.5
`

func TestParseSourcesValid(t *testing.T) {
	c, err := poller.ParseSources([]byte(validConfig), all.Registry())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sources) != 2 {
		t.Fatalf("%d sources, want 2", len(c.Sources))
	}
	a, b := c.Sources[0], c.Sources[1]

	if a.Name != "douke-main" || a.Vendor != "douke" || a.Account != "main" || a.BaseURL != "" || a.PageSize != 20 {
		t.Errorf("source 1 = %+v", a)
	}
	if a.Credentials["vekey"] != (poller.CredentialRef{Env: "YONGJIN_TEST_VEKEY"}) || a.Params["time_type"] != "update" {
		t.Errorf("source 1 credentials %+v params %+v", a.Credentials, a.Params)
	}
	if a.Window == nil {
		t.Fatal("source 1 lost its window")
	}
	from, to, err := a.Window.Range()
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC); !from.Equal(want) {
		t.Errorf("window from = %s, want %s", from, want)
	}
	if want := time.Date(2026, 10, 3, 4, 0, 0, 0, time.UTC); !to.Equal(want) {
		t.Errorf("window to = %s, want %s", to, want)
	}
	// defaults
	if a.Lookback != 72*time.Hour || a.Interval != 5*time.Minute || a.RatePerSecond != 5 {
		t.Errorf("source 1 defaults: lookback %s interval %s rate %v; want 72h 5m 5", a.Lookback, a.Interval, a.RatePerSecond)
	}

	if b.Name != "douke_backfill2" || b.Account != "second" || b.BaseURL != "http://127.0.0.1:18080" || b.Window != nil {
		t.Errorf("source 2 = %+v", b)
	}
	if b.Credentials["vekey"] != (poller.CredentialRef{File: "/run/secrets/yongjin/douke-vekey"}) {
		t.Errorf("source 2 credentials %+v", b.Credentials)
	}
	// explicit values are kept
	if b.Lookback != 24*time.Hour || b.Interval != 30*time.Second || b.RatePerSecond != 2.5 || b.PageSize != 0 {
		t.Errorf("source 2: lookback %s interval %s rate %v page size %d", b.Lookback, b.Interval, b.RatePerSecond, b.PageSize)
	}
}

func TestLoadSources(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sources.yaml")
	if err := os.WriteFile(path, []byte(validConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := poller.LoadSources(path, all.Registry())
	if err != nil || len(c.Sources) != 2 {
		t.Fatalf("LoadSources = %v, %v", c, err)
	}
	if _, err := poller.LoadSources(filepath.Join(t.TempDir(), "missing.yaml"), all.Registry()); err == nil {
		t.Error("LoadSources of a missing file succeeded")
	}
}

// source renders one source entry; extra lines are appended to it.
func source(name string, extra ...string) string {
	s := "  - name: " + name + "\n    vendor: douke\n    account: main\n"
	for _, e := range extra {
		s += "    " + e + "\n"
	}
	return s
}

func TestParseSourcesErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // every substring must appear in the error
	}{
		{"empty file", "", []string{"no sources"}},
		{"comments only", "# sources: none yet\n", []string{"no sources"}},
		{"no sources", "sources: []\n", []string{"no sources"}},
		{"sources key only", "sources:\n", []string{"no sources"}},
		{"unknown vendor", "sources:\n  - name: tb\n    vendor: taobao\n    account: main\n",
			[]string{"source 1 (tb)", `unknown vendor "taobao"`, "douke"}},
		{"missing vendor", "sources:\n  - name: nv\n    account: main\n",
			[]string{"source 1 (nv)", `unknown vendor ""`}},
		{"duplicate name", "sources:\n" + source("a") + source("b") + source("a"),
			[]string{"source 3 (a)", "duplicate name"}},
		{"bad name, upper case and space", "sources:\n" + source(`"Douke Main"`),
			[]string{"source 1 (Douke Main)", "name must match"}},
		{"bad name, empty", "sources:\n" + source(`""`),
			[]string{"source 1 ()", "name must match"}},
		{"bad name, too long", "sources:\n" + source(strings.Repeat("a", 64)),
			[]string{"source 1 (" + strings.Repeat("a", 64) + ")", "name must match"}},
		{"bad name, leading dash", "sources:\n" + source("-x"),
			[]string{"source 1 (-x)", "name must match"}},
		{"missing account", "sources:\n  - name: noacct\n    vendor: douke\n",
			[]string{"source 1 (noacct)", "account is required"}},
		{"window to before from", "sources:\n" + source("w", `window: {from: "2026-10-02", to: "2026-10-01"}`),
			[]string{"source 1 (w)", "window", "must be after"}},
		{"window to equals from", "sources:\n" + source("w", `window: {from: "2026-10-01 08:00:00", to: "2026-10-01T00:00:00Z"}`),
			[]string{"source 1 (w)", "window", "must be after"}},
		{"window bad from", "sources:\n" + source("w", `window: {from: "01/10/2026", to: "2026-10-02"}`),
			[]string{"source 1 (w)", "window.from", "01/10/2026"}},
		{"window missing to", "sources:\n" + source("w", `window: {from: "2026-10-01"}`),
			[]string{"source 1 (w)", "window.to"}},
		{"credential with env and file", "sources:\n" + source("c", "credentials: {vekey: {env: VK, file: /run/vk}}"),
			[]string{"source 1 (c)", "credential vekey", "exactly one of env or file"}},
		{"credential with neither", "sources:\n" + source("c", "credentials: {token: {}}"),
			[]string{"source 1 (c)", "credential token", "exactly one of env or file"}},
		{"unknown source key", "sources:\n" + source("k", "lookbak: 1h"),
			[]string{"lookbak", "not found"}},
		{"unknown top-level key", "source:\n" + source("k"),
			[]string{"source", "not found"}},
		{"unknown credential key", "sources:\n" + source("k", "credentials: {vekey: {path: /x}}"),
			[]string{"path", "not found"}},
		{"literal secret instead of a reference", "sources:\n" + source("k", "credentials: {vekey: abc123}"),
			[]string{"config"}},
		{"lookback too short", "sources:\n" + source("l", "lookback: 30s"),
			[]string{"source 1 (l)", "lookback"}},
		{"negative rate", "sources:\n" + source("r", "rate_per_second: -1"),
			[]string{"source 1 (r)", "rate_per_second"}},
		{"negative page size", "sources:\n" + source("p", "page_size: -1"),
			[]string{"source 1 (p)", "page_size"}},
		{"bad duration", "sources:\n" + source("d", "interval: often"),
			[]string{"often"}},
		{"every bad source is reported", "sources:\n" + source("ok") + "  - name: first-bad\n    vendor: douke\n" + source("BAD"),
			[]string{"source 2 (first-bad)", "account is required", "source 3 (BAD)", "name must match"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := poller.ParseSources([]byte(tc.yaml), all.Registry())
			if err == nil {
				t.Fatalf("ParseSources accepted it: %+v", c)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestFixedWindowRange(t *testing.T) {
	tests := []struct {
		name     string
		w        poller.FixedWindow
		from, to time.Time
		wantErr  string
	}{
		{name: "one CST day", w: poller.FixedWindow{From: "2026-10-01", To: "2026-10-02"},
			from: time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC), to: time.Date(2026, 10, 1, 16, 0, 0, 0, time.UTC)},
		{name: "mixed formats", w: poller.FixedWindow{From: "2026-10-01T00:00:00Z", To: "2026-10-01 08:00:01"},
			from: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), to: time.Date(2026, 10, 1, 0, 0, 1, 0, time.UTC)},
		{name: "bad from", w: poller.FixedWindow{From: "x", To: "2026-10-02"}, wantErr: "window.from"},
		{name: "bad to", w: poller.FixedWindow{From: "2026-10-01", To: "x"}, wantErr: "window.to"},
		{name: "empty", w: poller.FixedWindow{}, wantErr: "window.from"},
		{name: "equal", w: poller.FixedWindow{From: "2026-10-01 08:00:00", To: "2026-10-01T00:00:00Z"}, wantErr: "must be after"},
		{name: "reversed", w: poller.FixedWindow{From: "2026-10-02", To: "2026-10-01"}, wantErr: "must be after"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from, to, err := tc.w.Range()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Range() error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !from.Equal(tc.from) || !to.Equal(tc.to) {
				t.Errorf("Range() = [%s, %s], want [%s, %s]", from, to, tc.from, tc.to)
			}
		})
	}
}

func TestResolveCredentials(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("  file-token-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("YONGJIN_TEST_VEKEY", "env-vekey-value")

	s := poller.Source{Name: "douke-main", Credentials: map[string]poller.CredentialRef{
		"vekey": {Env: "YONGJIN_TEST_VEKEY"},
		"token": {File: tokenFile},
	}}
	got, err := s.ResolveCredentials()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["vekey"] != "env-vekey-value" || got["token"] != "file-token-value" {
		t.Errorf("ResolveCredentials = %q", got)
	}

	none, err := poller.Source{Name: "bare"}.ResolveCredentials()
	if err != nil || len(none) != 0 {
		t.Errorf("no credentials: %v, %v", none, err)
	}
}

func TestResolveCredentialsErrors(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("file-token-value"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("YONGJIN_TEST_PRESENT", "present-secret-value")
	t.Setenv("YONGJIN_TEST_EMPTY", "")
	t.Setenv("YONGJIN_TEST_MISSING", "") // restored after the test
	os.Unsetenv("YONGJIN_TEST_MISSING")

	tests := []struct {
		name string
		ref  poller.CredentialRef
		want []string
	}{
		{"env not set", poller.CredentialRef{Env: "YONGJIN_TEST_MISSING"}, []string{"source douke-main", "credential vekey", "YONGJIN_TEST_MISSING"}},
		{"env empty", poller.CredentialRef{Env: "YONGJIN_TEST_EMPTY"}, []string{"source douke-main", "credential vekey", "YONGJIN_TEST_EMPTY"}},
		{"file missing", poller.CredentialRef{File: filepath.Join(dir, "nope")}, []string{"source douke-main", "credential vekey", "nope"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := poller.Source{Name: "douke-main", Credentials: map[string]poller.CredentialRef{
				"vekey": tc.ref,
				"other": {Env: "YONGJIN_TEST_PRESENT"},
				"token": {File: tokenFile},
			}}
			got, err := s.ResolveCredentials()
			if err == nil {
				t.Fatalf("ResolveCredentials = %q, want error", got)
			}
			if got != nil {
				t.Errorf("ResolveCredentials returned credentials %q with its error", got)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not name %q", msg, w)
				}
			}
			for _, leak := range []string{"present-secret-value", "file-token-value"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q contains a secret value", msg)
				}
			}
		})
	}
}
