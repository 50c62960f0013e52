package douke_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
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
// (its reflection-free reader) and, in the same run, with the two
// encoding/json paths it falls back to: one pass over the page, and in
// parts (envelope, data, order list, then each order).
func BenchmarkDecodePage(b *testing.B) {
	page := benchPage(b)
	for _, bc := range []struct {
		name   string
		decode func([]byte) (*douke.Page, error)
	}{{"fast", douke.DecodePage}, {"one_pass", douke.DecodePageReference}, {"in_parts", douke.DecodePageInParts}} {
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

// BenchmarkNormalizeCarriedPage maps one 20-order page to its 20 order.v1
// events carrying their lines: the normalizer's default work per page
// (no commission.v1 events).
func BenchmarkNormalizeCarriedPage(b *testing.B) {
	page := benchPage(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(page.Body)))
	for b.Loop() {
		recs, err := vendors.NormalizeCarriedRecords(douke.New(), page)
		if err != nil || len(recs) != 20 {
			b.Fatalf("%d records, %v", len(recs), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*20), "µs/order")
}
