package xingtu

import (
	"bytes"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
)

// The sandbox fixtures in testdata are the sandbox's answers for the default
// configuration (seed 1, account "demo", clock 2026-11-10 00:00 CST). This
// test keeps them current: it fails when the sandbox's shape drifts (rerun
// with -update after a deliberate change, then review the golden diff).
func TestSandboxFixturesCurrent(t *testing.T) {
	cfg := sandbox.DefaultConfig()
	cfg.Orders = 0
	cfg.Accounts = []sandbox.Account{SandboxAccount("demo", "fixture-token")}
	s, err := SandboxServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	for _, g := range goldenPages {
		if !bytes.HasPrefix([]byte(g.file), []byte("sandbox_")) {
			continue
		}
		q := url.Values{"token": {"fixture-token"}, "oAuthorId": {g.author}, "period": {g.period}}
		res, err := hs.Client().Get(hs.URL + SandboxPath + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		name := filepath.Join("testdata", g.file)
		if *update {
			if err := os.WriteFile(name, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if want := readTestdata(t, g.file); !bytes.Equal(got, want) {
			t.Errorf("%s is not what the sandbox answers now:\n got %s\nwant %s", name, got, want)
		}
	}
}
