package taobaolive

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// addSeeds seeds f with every testdata/*.json page plus hand-made edge
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
		`{}`,
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
		// A decoded page is stable: re-encoded in the wrapped shape it decodes
		// to the same values.
		model := map[string]any{"page_size": p.PageSize, "page_no": p.PageNo,
			"elements": map[string]any{ElementKey: p.Orders}}
		if p.HasTotalCount {
			model["total_count"] = p.TotalCount
		}
		b, err := json.Marshal(map[string]any{ResponseKey: map[string]any{
			"result":     map[string]any{"success": true, "msg_code": p.MsgCode, "msg_info": p.MsgInfo, "model": model},
			"request_id": p.RequestID,
		}})
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		q, err := DecodePage(b)
		if err != nil {
			t.Fatalf("re-decode %s: %v", b, err)
		}
		if len(q.Orders) != len(p.Orders) || q.TotalCount != p.TotalCount || q.HasTotalCount != p.HasTotalCount ||
			q.PageSize != p.PageSize || q.PageNo != p.PageNo {
			t.Fatalf("round trip changed the page: %+v vs %+v", q, p)
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
		if len(envs)%3 != 0 {
			t.Fatalf("%d envelopes: want 3 per order", len(envs))
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
			if i%3 == 0 {
				wantType = events.Type(events.KindOrder)
			}
			if e.Type != wantType {
				t.Fatalf("envelope %d is %s, want %s", i, e.Type, wantType)
			}
		}
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
