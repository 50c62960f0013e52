package normalizer

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
)

// BenchmarkPageMessages measures what process does with a douke page before
// publishing (Records, Granularity, EventMessages), per granularity:
// "default" is the normalizer's default path, "default_build_and_drop" the
// same output built the way it was before Records skipped the commission.v1
// envelopes (every record's events built, then filtered), and
// "commission_events" the --commission-events stream.
func BenchmarkPageMessages(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("..", "..", "pkg", "vendors", "douke", "testdata", "lifecycle.json"))
	if err != nil {
		b.Fatal(err)
	}
	page := events.RawPage{Vendor: "douke", Account: "main", FetchedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Body: body}
	v, err := all.Registry().Get("douke")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name            string
		build, granular bool
		wantMsgs        int
	}{
		{"default", false, false, 4},
		{"default_build_and_drop", true, false, 4},
		{"commission_events", true, true, 20},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			orders := 0
			for b.Loop() {
				recs, err := Records(v, page, bc.build)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for _, r := range recs {
					msgs, err := EventMessages(page.Vendor, Granularity(r.Events, bc.granular))
					if err != nil || r.Err != nil {
						b.Fatal(err, r.Err)
					}
					n += len(msgs)
				}
				if n != bc.wantMsgs {
					b.Fatalf("%d messages; want %d", n, bc.wantMsgs)
				}
				orders += len(recs)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(orders), "µs/order")
		})
	}
}
