package douke_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
)

// benchPage is one full 20-order page of the douke sandbox
// (testdata/sandbox_page.json, kept current by internal/sandbox/douke's
// TestBenchFixtureCurrent).
func benchPage(b *testing.B) events.RawPage {
	b.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "sandbox_page.json"))
	if err != nil {
		b.Fatal(err)
	}
	return events.RawPage{Vendor: "douke", Endpoint: "kol_orderads", Account: "bench", Body: body}
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
