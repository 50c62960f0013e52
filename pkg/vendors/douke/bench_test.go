package douke_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
	doukesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/douke"
)

// benchPage fetches one full 20-order page from the sandbox.
func benchPage(b *testing.B) events.RawPage {
	b.Helper()
	cfg := sandbox.DefaultConfig()
	cfg.Accounts = []sandbox.Account{doukesandbox.Account("bench", "bench-vekey")}
	srv, err := doukesandbox.Server(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	f, err := douke.New().NewFetcher(vendors.SourceConfig{BaseURL: ts.URL, Account: "bench", Credentials: map[string]string{"vekey": "bench-vekey"}})
	if err != nil {
		b.Fatal(err)
	}
	var page events.RawPage
	err = f.Walk(context.Background(), vendors.Window{Start: cfg.From, End: cfg.From.Add(10 * 24 * time.Hour), TimeType: "pay"},
		func(_ context.Context, p vendors.Page) error {
			if page.Body == nil && p.Records == 20 {
				page = events.RawPage{Vendor: "douke", Endpoint: "kol_orderads", Account: "bench", Body: p.Body}
			}
			return nil
		})
	if err != nil || page.Body == nil {
		b.Fatalf("no full page: %v", err)
	}
	return page
}

// BenchmarkNormalizePage maps one 20-order page to its 100 events.
// Compare with BenchmarkNormalizePageBaseline (decoding the same bytes into
// generic JSON) from the same run.
func BenchmarkNormalizePage(b *testing.B) {
	page := benchPage(b)
	b.SetBytes(int64(len(page.Body)))
	b.ResetTimer()
	for b.Loop() {
		envs, err := douke.New().Normalize(page)
		if err != nil || len(envs) != 100 {
			b.Fatalf("%d events, %v", len(envs), err)
		}
	}
	b.ReportMetric(float64(b.N*20)/b.Elapsed().Seconds(), "orders/s")
}

// BenchmarkNormalizePageBaseline only decodes the page into map[string]any.
func BenchmarkNormalizePageBaseline(b *testing.B) {
	page := benchPage(b)
	b.SetBytes(int64(len(page.Body)))
	b.ResetTimer()
	for b.Loop() {
		var v map[string]any
		if err := json.Unmarshal(page.Body, &v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*20)/b.Elapsed().Seconds(), "orders/s")
}

// BenchmarkDecodePage decodes one 20-order sandbox page with DecodePage
// (its one-pass path) and, in the same run, decoding in parts (envelope,
// data, order list, then each order), which it falls back to.
func BenchmarkDecodePage(b *testing.B) {
	page := benchPage(b)
	for _, bc := range []struct {
		name   string
		decode func([]byte) (*douke.Page, error)
	}{{"one_pass", douke.DecodePage}, {"in_parts", douke.DecodePageInParts}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(page.Body)))
			for b.Loop() {
				p, err := bc.decode(page.Body)
				if err != nil || len(p.Orders) != 20 {
					b.Fatalf("%v", err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*20), "µs/order")
		})
	}
}
