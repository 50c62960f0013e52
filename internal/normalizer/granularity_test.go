package normalizer

import (
	"bytes"
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

// TestRecordsSkipDroppedEvents checks that Records without commission
// events (the order vendors then never build the commission.v1 envelopes)
// gives, record by record, exactly what Granularity keeps of the full
// mapping: the same indexes, events and errors, bad records included (one
// whose time does not parse, one that does not decode).
func TestRecordsSkipDroppedEvents(t *testing.T) {
	reg := all.Registry()
	read := func(t *testing.T, dir, file string) []byte {
		body, err := os.ReadFile(filepath.Join("..", "..", "pkg", "vendors", dir, "testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	douke := func(t *testing.T) []byte { return read(t, "douke", "lifecycle.json") }
	for _, tc := range []struct {
		name, vendor string
		body         func(t *testing.T) []byte
		bad          int
	}{
		{"douke/lifecycle", "douke", douke, 0},
		{"douke/doc_sample", "douke", func(t *testing.T) []byte { return read(t, "douke", "doc_sample.json") }, 0},
		{"douke/bad_time", "douke", func(t *testing.T) []byte {
			return bytes.Replace(douke(t), []byte(`"pay_success_time": "2023-03-02 23:59:59"`), []byte(`"pay_success_time": "yesterday"`), 1)
		}, 1},
		{"douke/undecodable", "douke", func(t *testing.T) []byte {
			return bytes.Replace(douke(t), []byte(`"order_id": 4737996432465788974`), []byte(`"order_id": [true]`), 1)
		}, 1},
		{"taobao-live/lifecycle", "taobao-live", func(t *testing.T) []byte { return read(t, "taobaolive", "lifecycle.json") }, 0},
		{"taobao-live/doc_sample", "taobao-live", func(t *testing.T) []byte { return read(t, "taobaolive", "doc_sample.json") }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := reg.Get(tc.vendor)
			if err != nil {
				t.Fatal(err)
			}
			page := events.RawPage{Vendor: tc.vendor, Account: "main", FetchedAt: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Body: tc.body(t)}
			full, err := Records(v, page, true)
			if err != nil {
				t.Fatal(err)
			}
			carried, err := Records(v, page, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(carried) != len(full) {
				t.Fatalf("%d records without commission events, %d with", len(carried), len(full))
			}
			bad := 0
			for i, f := range full {
				c := carried[i]
				if f.Err != nil {
					bad++
					if c.Err == nil || c.Err.Error() != f.Err.Error() || c.Index != f.Index || c.Events != nil {
						t.Fatalf("record %d: %d events, error %v; want no events and %v", f.Index, len(c.Events), c.Err, f.Err)
					}
					continue
				}
				if want := Granularity(append([]events.Envelope(nil), f.Events...), false); c.Err != nil || c.Index != f.Index || !reflect.DeepEqual(c.Events, want) {
					t.Fatalf("record %d: %d events (%v); want the %d that Granularity keeps of %d", f.Index, len(c.Events), c.Err, len(want), len(f.Events))
				}
				if len(f.Events) < 2 || len(c.Events) != 1 {
					t.Fatalf("record %d: %d events, %d without commission events; want its lines only with them", f.Index, len(f.Events), len(c.Events))
				}
			}
			if bad != tc.bad {
				t.Fatalf("%d bad records; want %d", bad, tc.bad)
			}
		})
	}
}
