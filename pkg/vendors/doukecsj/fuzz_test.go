package doukecsj

import (
	"encoding/json"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

func addSeeds(f *testing.F) {
	vendorstest.AddSeeds(f,
		`{"error":"0"}`,
		`{"error":0,"data":{"orders":[null]}}`,
		`{"error":"0","data":{"cursor":7,"orders":[{"order_id":"1","pay_success_time":"2024-01-01 00:00:00","shop_id":12345678901234567890}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","pay_success_time":"2024-01-01 00:00:00","colonel_order_info":"x"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"1","pay_success_time":"2024-01-01 00:00:00","split_rate":"-1"}]}}`,
		`{"error":"0","data":{"orders":[{"order_id":"é","pay_success_time":"2024-01-01 00:00:00"}]}}`,
		`{"error":"-1","msg":null}`,
	)
}

func FuzzDecodePage(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePage(body)
		if vendorstest.DecodeFailed(t, p, err) {
			return
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
		if q.Cursor != p.Cursor {
			t.Fatalf("round trip changed the cursor: %q vs %q", q.Cursor, p.Cursor)
		}
		vendorstest.SameRecords(t, "order", p.Orders, q.Orders)
	})
}

func FuzzNormalize(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		envs := vendorstest.Normalized(t, func() ([]events.Envelope, error) { return Normalize(rawPage(body)) })
		vendorstest.OrderEvents(t, envs, 2)
	})
}
