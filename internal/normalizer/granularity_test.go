package normalizer

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
)

// TestGranularity checks, on the order vendors' documented pages, that by
// default the normalizer publishes no commission.v1 event (one order.v1 per
// order, carrying its lines), that the carried lines expand to exactly the
// commission.v1 payloads, and that with CommissionEvents every event is
// published.
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
			filtered := Granularity(append([]events.Envelope(nil), full...), false)
			for _, e := range filtered {
				if e.Type == events.Type(events.KindCommission) {
					t.Fatalf("commission.v1 event %s published without --commission-events", e.ID)
				}
			}
			if len(filtered) == 0 {
				t.Fatal("no event left")
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
