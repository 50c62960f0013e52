package taobaolive

import (
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

// addSeeds seeds f with every testdata/*.json page plus hand-made edge
// cases; plain `go test` runs exactly these.
func addSeeds(f *testing.F) {
	vendorstest.AddSeeds(f,
		`{"result":null}`,
		`{"model":{"elements":[null]}}`,
		`{"result":{"success":true,"model":{"elements":[{"biz_order_id":"1","order_paid_time":"0000-01-01 00:00:00"}]}}}`,
		`{"result":{"success":true,"model":{"elements":[{"biz_order_id":"1","order_paid_time":"9999-12-31 23:59:59","buy_amount":"9223372036854775807"}]}}}`,
		`{"result":{"success":true,"model":{"elements":[{"biz_order_id":"1","order_paid_time":"2026-01-01 00:00:00","order_amount":"92233720368547758.07","partner_predict_amount":"99999999999999999.99%"}]}}}`,
		`{"result":{"success":true,"model":{"elements":[{"biz_order_id":"é","order_paid_time":"2026-01-01 00:00:00"}]}}}`,
		`{"result":{"success":true,"model":{"elements":[{"biz_order_id":"1","order_paid_time":"2026-01-01 00:00:00","extend_info":"{\"outerAdUserDivRatio\":1e3}"}]}}}`,
		`{"result":{"success":true,"model":{"elements":{"tcp_predict_order_v_o":{"biz_order_id":"1","order_paid_time":"2026-01-01 00:00:00","item_title":"\ud800"}}}}}`,
		"{\"result\":{\"success\":true,\"model\":{\"elements\":[{\"biz_order_id\":\"1\",\"order_paid_time\":\"2026-01-01 00:00:00\",\"ad_user_nick\":\"\xff\xfe\"}]}}}",
		`{"error_response":{"code":7,"sub_msg":"This ban will last for 99999999999 more seconds"}}`,
		`{"result":{"success":"false"}}`,
	)
}

func FuzzDecodePage(f *testing.F) {
	addSeeds(f)
	vendorstest.FuzzDecode(f, DecodePage, nil, func(t *testing.T, p *Page) {
		// A decoded page is stable: re-encoded in the wrapped shape it decodes
		// to the same values.
		model := map[string]any{"page_size": p.PageSize, "page_no": p.PageNo,
			"elements": map[string]any{ElementKey: p.Orders}}
		if p.HasTotalCount {
			model["total_count"] = p.TotalCount
		}
		q := vendorstest.Redecode(t, map[string]any{ResponseKey: map[string]any{
			"result":     map[string]any{"success": true, "msg_code": p.MsgCode, "msg_info": p.MsgInfo, "model": model},
			"request_id": p.RequestID,
		}}, DecodePage)
		if len(q.Orders) != len(p.Orders) || q.TotalCount != p.TotalCount || q.HasTotalCount != p.HasTotalCount ||
			q.PageSize != p.PageSize || q.PageNo != p.PageNo {
			t.Fatalf("round trip changed the page: %+v vs %+v", q, p)
		}
		vendorstest.SameRecords(t, "order", p.Orders, q.Orders)
	})
}

func FuzzNormalize(f *testing.F) {
	addSeeds(f)
	vendorstest.FuzzOrderNormalize(f, 2, func(body []byte) ([]events.Envelope, error) { return Normalize(rawPage(body)) })
}

// FuzzParseYuan checks the amount parser against its formatter: whatever it
// accepts renders back to a string that parses to the same fen.
func FuzzParseYuan(f *testing.F) {
	for _, s := range []string{"100", "12.5", "0.07", "-3.20", "12.500", "", "-", "1e3", "92233720368547758.07", "92233720368547758.08", "10%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fen, err := ParseYuan(s)
		if err != nil {
			return
		}
		back, err := ParseYuan(FormatYuan(fen))
		if err != nil || back != fen {
			t.Fatalf("ParseYuan(%q) = %d; FormatYuan gives %q → %d, %v", s, fen, FormatYuan(fen), back, err)
		}
		if bp, err := ParsePercent(s); err == nil && bp < 0 {
			t.Fatalf("ParsePercent(%q) = %d < 0", s, bp)
		}
	})
}
