package doukecsj

import (
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
	vendorstest.FuzzDecode(f, DecodePage, nil, func(t *testing.T, p *Page) {
		// A decoded page is stable: its orders re-encode and decode to the same values.
		q := vendorstest.Redecode(t, map[string]any{"error": "0", "data": map[string]any{"cursor": p.Cursor, "orders": p.Orders}}, DecodePage)
		if q.Cursor != p.Cursor {
			t.Fatalf("round trip changed the cursor: %q vs %q", q.Cursor, p.Cursor)
		}
		vendorstest.SameRecords(t, "order", p.Orders, q.Orders)
	})
}

func FuzzNormalize(f *testing.F) {
	addSeeds(f)
	vendorstest.FuzzOrderNormalize(f, 2, func(body []byte) ([]events.Envelope, error) { return Normalize(rawPage(body)) })
}
