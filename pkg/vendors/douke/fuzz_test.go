package douke

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// addSeeds seeds f with every testdata/*.json page plus a few hand-made edge
// cases; plain `go test` runs exactly these.
func addSeeds(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``,
		`null`,
		`{"error":"0"}`,
		`{"error":0,"data":{"orders":[null]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","pay_success_time":"0000-01-01 00:00:00"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","pay_success_time":"9999-12-31 23:59:59","item_num":"9223372036854775807"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","pay_success_time":"2023-01-01 00:00:00.123456789","pid_info":"{}"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"é","pay_success_time":"2023-01-01 00:00:00"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","pay_success_time":"2023-01-01 00:00:00","commission_rate":"-1"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","pay_success_time":"2023-01-01 00:00:00","product_name":"\ud800"}]}}`,
		"{\"error\":\"0\",\"data\":{\"orders\":[{\"order_id\":\"1\",\"pay_success_time\":\"2023-01-01 00:00:00\",\"shop_name\":\"\xff\xfe\"}]}}",
		`{"error":"-1","msg":null}`,
	} {
		f.Add([]byte(s))
	}
}

func FuzzDecodePage(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePage(body)
		if err != nil {
			if p != nil {
				t.Fatalf("page %+v returned with error %v", p, err)
			}
			if !errors.Is(err, vendors.ErrMalformedPage) && !errors.Is(err, vendors.ErrVendorError) {
				t.Fatalf("error %v wraps neither ErrMalformedPage nor ErrVendorError", err)
			}
			return
		}
		if p.Error != "0" {
			t.Fatalf("success with error code %q", p.Error)
		}
		// A decoded page is stable: its orders re-encode and decode to the same values.
		b, err := json.Marshal(map[string]any{"error": "0", "data": map[string]any{"cursor": p.Cursor, "orders": p.Orders}})
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		q, err := DecodePage(b)
		if err != nil {
			t.Fatalf("re-decode %s: %v", b, err)
		}
		if len(q.Orders) != len(p.Orders) || q.Cursor != p.Cursor {
			t.Fatalf("round trip changed the page: %d/%q vs %d/%q", len(q.Orders), q.Cursor, len(p.Orders), p.Cursor)
		}
		for i := range p.Orders {
			if q.Orders[i] != p.Orders[i] {
				t.Fatalf("order %d changed in a round trip:\n%+v\n%+v", i, p.Orders[i], q.Orders[i])
			}
		}
	})
}

func FuzzNormalize(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		envs, err := Normalize(rawPage(body))
		if err != nil {
			if envs != nil {
				t.Fatalf("%d envelopes returned with error %v", len(envs), err)
			}
			if !errors.Is(err, vendors.ErrMalformedPage) && !errors.Is(err, vendors.ErrVendorError) {
				t.Fatalf("error %v wraps neither ErrMalformedPage nor ErrVendorError", err)
			}
			return
		}
		if len(envs)%5 != 0 {
			t.Fatalf("%d envelopes: want 5 per order", len(envs))
		}
		for i, e := range envs {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatalf("envelope %d: %v", i, err)
			}
			if err := events.Validate(b); err != nil {
				t.Fatalf("envelope %d does not validate: %v\n%s", i, err, b)
			}
			wantType := events.Type(events.KindCommission)
			if i%5 == 0 {
				wantType = events.Type(events.KindOrder)
			}
			if e.Type != wantType {
				t.Fatalf("envelope %d is %s, want %s", i, e.Type, wantType)
			}
		}
		// pure: the same page gives the same events
		again, err := Normalize(rawPage(body))
		if err != nil || len(again) != len(envs) {
			t.Fatalf("second run: %d envelopes, %v", len(again), err)
		}
		for i := range envs {
			if envs[i].ID != again[i].ID || string(envs[i].Data) != string(again[i].Data) {
				t.Fatalf("envelope %d differs between runs", i)
			}
		}
	})
}
