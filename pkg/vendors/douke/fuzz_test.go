package douke

import (
	"encoding/json"
	"testing"

	"github.com/yongjin-dev/yongjin/internal/vendortest"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

// addSeeds seeds f with every testdata/*.json page plus a few hand-made edge
// cases; plain `go test` runs exactly these.
func addSeeds(f *testing.F) {
	vendortest.AddSeeds(f,
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
	)
}

func FuzzDecodePage(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePage(body)
		if vendortest.DecodeFailed(t, p, err) {
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
		vendortest.SameRecords(t, "order", p.Orders, q.Orders)
	})
}

func FuzzNormalize(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		envs := vendortest.Normalized(t, func() ([]events.Envelope, error) { return Normalize(rawPage(body)) })
		vendortest.OrderEvents(t, envs, 4)
	})
}
