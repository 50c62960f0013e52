package normalizer

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
)

// TestGranularity checks, on the order vendors' documented pages, that the
// order-only mapping the normalizer publishes by default (one order.v1 per
// order, carrying its lines) is exactly Normalize without the commission.v1
// events, that the carried lines expand to exactly those commission.v1
// payloads, and that with CommissionEvents every event is published.
func TestGranularity(t *testing.T) {
	reg := all.Registry()
	for _, tc := range []struct{ vendor, dir, file string }{
		{"douke", "douke", "lifecycle.json"},
		{"douke", "douke", "doc_sample.json"},
		{"taobao-live", "taobaolive", "lifecycle.json"},
		{"taobao-live", "taobaolive", "doc_sample.json"},
	} {
		t.Run(tc.vendor+"/"+tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("..", "..", "pkg", "vendors", tc.dir, "testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			page := events.RawPage{Vendor: tc.vendor, Account: "main", FetchedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Body: body}
			v, err := reg.Get(tc.vendor)
			if err != nil {
				t.Fatal(err)
			}
			full, err := v.Normalize(page)
			if err != nil {
				t.Fatal(err)
			}
			orders, err := v.(vendors.OrderNormalizer).NormalizeOrders(page)
			if err != nil {
				t.Fatal(err)
			}
			filtered := Granularity(append([]events.Envelope(nil), full...), false)
			if !reflect.DeepEqual(orders, filtered) {
				t.Fatalf("NormalizeOrders gives %d events, Normalize without commission.v1 %d", len(orders), len(filtered))
			}
			if got := Granularity(append([]events.Envelope(nil), full...), true); !reflect.DeepEqual(got, full) {
				t.Fatal("with commission events, not every event is published")
			}
			var carried, separate []events.CommissionLine
			for _, e := range full {
				p, err := events.Decode(e)
				if err != nil {
					t.Fatal(err)
				}
				switch x := p.(type) {
				case *events.Order:
					if len(x.CommissionLines) == 0 {
						t.Fatalf("order %s carries no lines", x.OrderID)
					}
					carried = append(carried, x.Lines()...)
				case *events.CommissionLine:
					separate = append(separate, *x)
				}
			}
			if len(separate) == 0 || !reflect.DeepEqual(carried, separate) {
				t.Fatalf("the %d carried lines differ from the %d commission.v1 payloads", len(carried), len(separate))
			}
		})
	}
}
