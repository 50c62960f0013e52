package xingtu

import (
	"net/http"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/sandbox/sandboxtest"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
	api "github.com/yongjin-dev/yongjin/pkg/vendors/xingtu"
)

// The sandbox fixtures in pkg/vendors/xingtu/testdata are the sandbox's answers for the default
// configuration (seed 1, account "demo", clock 2026-11-10 00:00 CST). This
// test keeps them current: it fails when the sandbox's shape drifts (rerun
// with -update after a deliberate change, then review the golden diff).
func TestSandboxFixturesCurrent(t *testing.T) {
	cfg := sandbox.DefaultConfig()
	cfg.Orders = 0
	cfg.Accounts = []sandbox.Account{Account("demo", "fixture-token")}
	_, base := sandboxtest.Start(t, cfg, Handler{})
	for _, g := range []struct{ file, author, period string }{
		{"sandbox_day30.json", "7175462503452054614", api.Period30},
		{"sandbox_day90_no_orders.json", "6923424278372373731", api.Period90},
	} {
		q := url.Values{"token": {"fixture-token"}, "oAuthorId": {g.author}, "period": {g.period}}
		_, got := sandboxtest.Send(t, http.MethodGet, base+Path, q, "")
		got = append(got, '\n')
		name := filepath.Join("..", "..", "..", "pkg", "vendors", "xingtu", "testdata", g.file)
		vendorstest.GoldenBytes(t, name, got)
	}
}
