package douke_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	doukesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/douke"
	"github.com/yongjin-dev/yongjin/internal/sandbox/sandboxtest"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

// TestBenchFixtureCurrent keeps pkg/vendors/douke/testdata/sandbox_page.json
// (the page the vendor package's benchmarks decode) equal to the first full
// 20-order page the sandbox serves for the default configuration; rerun
// with -update after a deliberate change.
func TestBenchFixtureCurrent(t *testing.T) {
	cfg := sandbox.DefaultConfig()
	cfg.Accounts = []sandbox.Account{doukesandbox.Account("bench", "bench-vekey")}
	_, base := sandboxtest.Start(t, cfg, doukesandbox.Handler{})
	f, err := douke.New().NewFetcher(vendors.SourceConfig{BaseURL: base, Account: "bench", Credentials: map[string]string{"vekey": "bench-vekey"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	err = f.Walk(context.Background(), vendors.Window{Start: cfg.From, End: cfg.From.Add(10 * 24 * time.Hour), TimeType: "pay"},
		func(_ context.Context, p vendors.Page) error {
			if got == nil && p.Records == 20 {
				got = p.Body
			}
			return nil
		})
	if err != nil || got == nil {
		t.Fatalf("no full page: %v", err)
	}
	name := filepath.Join("..", "..", "..", "pkg", "vendors", "douke", "testdata", "sandbox_page.json")
	vendorstest.GoldenBytes(t, name, got)
}
