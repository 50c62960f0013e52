package taobaolive

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

func TestParseYuan(t *testing.T) {
	vendorstest.RunParse(t, ParseYuan, []vendorstest.ParseCase[int64]{
		{In: "100", Want: 10000},
		{In: "12.5", Want: 1250},
		{In: "0.07", Want: 7},
		{In: "12.34", Want: 1234},
		{In: "12.500", Want: 1250},
		{In: "0.070000", Want: 7},
		{In: " 3.2 ", Want: 320},
		{In: "007.5", Want: 750},
		{In: "-3.20", Want: -320},
		{In: "+1", Want: 100},
		{In: "0"},
		{In: ""},
		{In: "  "},
		{In: "-"},
		{In: "92233720368547758.07", Want: 9223372036854775807},
		{In: "92233720368547758.08", WantErr: "out of range"},
		{In: "1.005", WantErr: "more than two decimals"},
		{In: "0.001", WantErr: "more than two decimals"},
		{In: "1e3", WantErr: "not a decimal"},
		{In: "1,000.00", WantErr: "not a decimal"},
		{In: "12.", WantErr: "not a decimal"},
		{In: ".5", WantErr: "not a decimal"},
		{In: "¥12", WantErr: "not a decimal"},
		{In: "--1", WantErr: "not a decimal"},
		{In: "NaN", WantErr: "not a decimal"},
		{In: "10%", WantErr: "not a decimal"},
	})
}

func TestFormatYuanRoundTrip(t *testing.T) {
	for _, fen := range []int64{0, 1, 7, 10, 99, 100, 1234, -1, -320, 9223372036854775807, -9223372036854775807} {
		s := FormatYuan(fen)
		back, err := ParseYuan(s)
		if err != nil || back != fen {
			t.Fatalf("FormatYuan(%d) = %q parses back to %d, %v", fen, s, back, err)
		}
	}
	if got := FormatYuan(1234); got != "12.34" {
		t.Fatalf("FormatYuan(1234) = %q", got)
	}
	if got := FormatYuan(-5); got != "-0.05" {
		t.Fatalf("FormatYuan(-5) = %q", got)
	}
}

func TestParsePercent(t *testing.T) {
	vendorstest.RunParse(t, ParsePercent, []vendorstest.ParseCase[int64]{
		{In: "10%", Want: 1000},
		{In: "10.5%", Want: 1050},
		{In: "12.34%", Want: 1234},
		{In: "0.25 %", Want: 25},
		{In: "10", Want: 1000},
		{In: "100%", Want: 10000},
		{In: ""},
		{In: "%"},
		{In: "-"},
		{In: "10.500%", Want: 1050},
		{In: "10.555%", WantErr: "more than two decimals"},
		{In: "-5%", WantErr: "not a decimal"},
		{In: "ten%", WantErr: "not a decimal"},
		{In: "10%%", WantErr: "not a decimal"},
	})
}

// TestWireScalars decodes each tolerant wire type from every accepted shape.
func TestWireScalars(t *testing.T) {
	type holder struct {
		Y Yuan       `json:"y"`
		P Percent    `json:"p"`
		I FlexInt    `json:"i"`
		S FlexString `json:"s"`
	}
	tests := []struct {
		name    string
		in      string
		want    holder
		wantErr string
	}{
		{"all null", `{"y":null,"p":null,"i":null,"s":null}`, holder{}, ""},
		{"all empty strings", `{"y":"","p":"","i":"","s":""}`, holder{}, ""},
		{"empty arrays and objects", `{"y":[],"p":{},"i":[],"s":{}}`, holder{}, ""},
		{"numbers", `{"y":12.5,"p":10,"i":3,"s":4737996432465788974}`, holder{Y: 1250, P: 1000, I: 3, S: "4737996432465788974"}, ""},
		{"numeric strings", `{"y":"0.07","p":"10.5%","i":" 3 ","s":"x"}`, holder{Y: 7, P: 1050, I: 3, S: "x"}, ""},
		{"zero fraction int", `{"i":"12.00"}`, holder{I: 12}, ""},
		{"boolean string field", `{"s":true}`, holder{S: "true"}, ""},
		{"yuan boolean", `{"y":true}`, holder{}, "want a yuan amount"},
		{"yuan object", `{"y":{"a":1}}`, holder{}, "want a yuan amount"},
		{"yuan three decimals", `{"y":"1.234"}`, holder{}, "more than two decimals"},
		{"yuan exponent number", `{"y":1e2}`, holder{}, "not a decimal"},
		{"percent negative", `{"p":"-1%"}`, holder{}, "not a decimal"},
		{"int fraction", `{"i":1.5}`, holder{}, "not an integer"},
		{"int overflow", `{"i":"9223372036854775808"}`, holder{}, "out of int64 range"},
		{"string array", `{"s":["a"]}`, holder{}, "want a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := holder{Y: 99, P: 99, I: 99, S: "old"}
			err := json.Unmarshal([]byte(tc.in), &h)
			if vendorstest.WantErr(t, err, tc.wantErr) {
				return
			}
			// fields absent from the input keep their old value
			want := tc.want
			for _, k := range []string{"y", "p", "i", "s"} {
				if !strings.Contains(tc.in, `"`+k+`"`) {
					switch k {
					case "y":
						want.Y = 99
					case "p":
						want.P = 99
					case "i":
						want.I = 99
					case "s":
						want.S = "old"
					}
				}
			}
			if h != want {
				t.Fatalf("got %+v, want %+v", h, want)
			}
		})
	}
}

func TestExtendInfo(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ExtendInfo
	}{
		{"doc sample string", `"{ \"outerPartnerDivRatio\": 200, \"outerAdUserDivRatio\": 1000 }"`,
			ExtendInfo{Raw: `{ "outerPartnerDivRatio": 200, "outerAdUserDivRatio": 1000 }`, Parsed: true,
				OuterPartnerDivRatio: 200, HasOuterPartnerDivRatio: true, OuterAdUserDivRatio: 1000, HasOuterAdUserDivRatio: true}},
		{"object", `{"outerAdUserDivRatio":"500"}`,
			ExtendInfo{Raw: `{"outerAdUserDivRatio":"500"}`, Parsed: true, OuterAdUserDivRatio: 500, HasOuterAdUserDivRatio: true}},
		{"no ratios", `"{\"foo\":1}"`, ExtendInfo{Raw: `{"foo":1}`, Parsed: true}},
		{"bad ratios ignored", `"{\"outerAdUserDivRatio\":-1,\"outerPartnerDivRatio\":1.5}"`,
			ExtendInfo{Raw: `{"outerAdUserDivRatio":-1,"outerPartnerDivRatio":1.5}`, Parsed: true}},
		{"not JSON", `"-"`, ExtendInfo{Raw: "-"}},
		{"JSON array text", `"[1]"`, ExtendInfo{Raw: "[1]"}},
		{"number", `12`, ExtendInfo{Raw: "12"}},
		{"null", `null`, ExtendInfo{}},
		{"empty string", `""`, ExtendInfo{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v struct {
				E ExtendInfo `json:"e"`
			}
			if err := json.Unmarshal([]byte(`{"e":`+tc.in+`}`), &v); err != nil {
				t.Fatalf("ExtendInfo must never fail: %v", err)
			}
			if v.E != tc.want {
				t.Fatalf("got %+v, want %+v", v.E, tc.want)
			}
		})
	}
}

func TestDecodeDocSample(t *testing.T) {
	p, err := DecodePage(readTestdata(t, "doc_sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Shape != ShapeWrapped || !p.HasTotalCount || p.TotalCount != 100 || p.PageSize != 10 || p.PageNo != 1 || len(p.Orders) != 1 {
		t.Fatalf("page = %+v", p)
	}
	if p.MsgCode != "参数错误" || p.MsgInfo != "System Error" {
		t.Fatalf("msg_code/msg_info not kept: %q %q", p.MsgCode, p.MsgInfo)
	}
	o := p.Orders[0]
	want := Order{
		BizOrderID: "1234", ItemID: "1234", ItemTitle: "六神花露水", OrderStatus: "已结束",
		OrderPaidTime: "2024-04-01 14:00:00", OrderAmount: 10000, OrderCommissionAmount: 1000, PredictAmount: 1000,
		RefundAmount: 1000, PredictTotalAmount: 1000, OutAdUserFee: 1000, OutAdUserType: "1", RID: "123456",
		ParentOrderID: "123", OutAdUserRatio: "-", SellerCommissionRatio: "-",
		Picture:              "https://img.alicdn.com/imgextra/i3/3937219703/O1CN01UopdvH2LY1zHJO805_!!3937219703-0-C2M.jpg",
		PartnerPredictAmount: 1000, ModifyTime: "2024-04-01 14:00:00",
		ExtendInfo: ExtendInfo{Raw: `{ "outerPartnerDivRatio": 200, "outerAdUserDivRatio": 1000 }`, Parsed: true,
			OuterPartnerDivRatio: 200, HasOuterPartnerDivRatio: true, OuterAdUserDivRatio: 1000, HasOuterAdUserDivRatio: true},
		AdUserNick: "xxx", BuyAmount: 1,
	}
	if o != want {
		t.Fatalf("order:\n got %+v\nwant %+v", o, want)
	}
}

func TestDecodeShapes(t *testing.T) {
	const el = `{"biz_order_id":"1","order_paid_time":"2024-04-01 14:00:00"}`
	tests := []struct {
		name      string
		body      string
		shape     Shape
		orders    int
		total     int64
		hasTotal  bool
		requestID string
	}{
		{"wrapped", `{"` + ResponseKey + `":{"result":{"model":{"total_count":2,"elements":{"tcp_predict_order_v_o":[` + el + `,` + el + `]}},"success":true},"request_id":"r1"}}`, ShapeWrapped, 2, 2, true, "r1"},
		{"wrapped single object", `{"` + ResponseKey + `":{"result":{"model":{"total_count":1,"elements":{"tcp_predict_order_v_o":` + el + `}},"success":true}}}`, ShapeWrapped, 1, 1, true, ""},
		{"wrapped with bare array", `{"` + ResponseKey + `":{"result":{"model":{"elements":[` + el + `]},"success":true}}}`, ShapeWrapped, 1, 0, false, ""},
		{"wrapped without elements", `{"` + ResponseKey + `":{"result":{"model":{"total_count":0},"success":true}}}`, ShapeWrapped, 0, 0, true, ""},
		{"wrapped empty inner list", `{"` + ResponseKey + `":{"result":{"model":{"total_count":0,"elements":{"tcp_predict_order_v_o":[]}},"success":true}}}`, ShapeWrapped, 0, 0, true, ""},
		{"wrapped elements {}", `{"` + ResponseKey + `":{"result":{"model":{"total_count":"","elements":{}},"success":true}}}`, ShapeWrapped, 0, 0, false, ""},
		{"simplified", `{"result":{"model":{"total_count":"1","elements":[` + el + `]},"success":true},"request_id":"r2"}`, ShapeSimplified, 1, 1, true, "r2"},
		{"simplified wrapped elements", `{"result":{"model":{"total_count":1,"elements":{"tcp_predict_order_v_o":[` + el + `]}},"success":true}}`, ShapeSimplified, 1, 1, true, ""},
		{"result at top level", `{"model":{"total_count":1,"elements":[` + el + `]},"success":true,"msg_code":"","msg_info":""}`, ShapeSimplified, 1, 1, true, ""},
		{"model without success", `{"model":{"total_count":1,"elements":[` + el + `]}}`, ShapeSimplified, 1, 1, true, ""},
		{"success string", `{"result":{"success":"true","model":null}}`, ShapeSimplified, 0, 0, false, ""},
		{"success without model", `{"result":{"success":1}}`, ShapeSimplified, 0, 0, false, ""},
		{"BOM and whitespace", "\xef\xbb\xbf \n" + `{"result":{"success":true,"model":{}}}`, ShapeSimplified, 0, 0, false, ""},
		{"error_response null", `{"error_response":null,"result":{"success":true}}`, ShapeSimplified, 0, 0, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodePage([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if p.Shape != tc.shape || len(p.Orders) != tc.orders || p.TotalCount != tc.total || p.HasTotalCount != tc.hasTotal || p.RequestID != tc.requestID {
				t.Fatalf("got shape %s, %d orders, total %d (%v), request %q", p.Shape, len(p.Orders), p.TotalCount, p.HasTotalCount, p.RequestID)
			}
			for _, o := range p.Orders {
				if o.BizOrderID != "1" {
					t.Fatalf("order %+v", o)
				}
			}
		})
	}
}

func TestDecodeVendorErrors(t *testing.T) {
	t.Run("doc error sample", func(t *testing.T) {
		_, err := DecodePage(readTestdata(t, "error_sample.json"))
		var ae *APIError
		if !errors.As(err, &ae) || !errors.Is(err, vendors.ErrVendorError) {
			t.Fatalf("err = %v, want *APIError", err)
		}
		want := APIError{Code: "50", Msg: "Remote service error", SubCode: "isv.invalid-parameter", SubMsg: "非法参数"}
		if *ae != want {
			t.Fatalf("got %+v, want %+v", *ae, want)
		}
		for _, s := range []string{"50", "Remote service error", "isv.invalid-parameter", "非法参数"} {
			if !strings.Contains(err.Error(), s) {
				t.Fatalf("error text %q lacks %q", err, s)
			}
		}
	})
	t.Run("notes error sample with request_id", func(t *testing.T) {
		_, err := DecodePage(readTestdata(t, "error_notes_sample.json"))
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != "15" || ae.RequestID != "z28yfhto78v1" {
			t.Fatalf("err = %v (%+v)", err, ae)
		}
	})
	t.Run("string code", func(t *testing.T) {
		_, err := DecodePage([]byte(`{"error_response":{"code":"27","msg":"Invalid session","sub_code":"invalid-sessionkey"}}`))
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != "27" || ae.SubCode != "invalid-sessionkey" {
			t.Fatalf("err = %v", err)
		}
	})
	for _, tc := range []struct{ name, body, code, info string }{
		{"success false", string(readTestdata(t, "business_failure.json")), "参数错误", "page_size取值为1到20"},
		{"success false string", `{"result":{"success":"false","msg_code":"X","msg_info":"Y","model":{"total_count":1}}}`, "X", "Y"},
		{"success 0 at top level", `{"success":0,"msg_code":"A","msg_info":"B"}`, "A", "B"},
		{"no success no model but a message", `{"result":{"msg_code":"SYSTEM_ERROR","msg_info":"系统错误"}}`, "SYSTEM_ERROR", "系统错误"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodePage([]byte(tc.body))
			var be *BusinessError
			if p != nil || !errors.As(err, &be) || !errors.Is(err, vendors.ErrVendorError) {
				t.Fatalf("p = %v, err = %v; want *BusinessError", p, err)
			}
			if be.MsgCode != tc.code || be.MsgInfo != tc.info {
				t.Fatalf("got %+v", be)
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	const el = `{"biz_order_id":"1"}`
	tests := []struct{ name, body, want string }{
		{"empty", ``, "want a JSON object, got nothing"},
		{"null", `null`, "want a JSON object, got null"},
		{"array", `[]`, "want a JSON object, got an array"},
		{"html", `<html>502</html>`, "want a JSON object, got invalid JSON"},
		{"truncated", `{"result":`, "body:"},
		{"no result", `{"foo":1}`, "no result"},
		{"empty object", `{}`, "no result"},
		{"result null", `{"result":null}`, "neither success nor model"},
		{"result array", `{"result":[1]}`, "result: want an object, got an array"},
		{"wrapper string", `{"` + ResponseKey + `":"x"}`, ResponseKey + ": want an object"},
		{"error_response string", `{"error_response":"boom"}`, "error_response: want an object"},
		{"success garbage", `{"result":{"success":"maybe"}}`, "result.success"},
		{"model array", `{"result":{"success":true,"model":[1]}}`, "result.model: want an object"},
		{"negative total", `{"result":{"success":true,"model":{"total_count":-1}}}`, "negative"},
		{"total text", `{"result":{"success":true,"model":{"total_count":"many"}}}`, "total_count"},
		{"elements string", `{"result":{"success":true,"model":{"elements":"x"}}}`, "elements: want an array or an object"},
		{"elements other key", `{"result":{"success":true,"model":{"elements":{"items":[` + el + `]}}}}`, `got an object with "items"`},
		{"inner list string", `{"result":{"success":true,"model":{"elements":{"tcp_predict_order_v_o":"x"}}}}`, "tcp_predict_order_v_o: want an array"},
		{"element null", `{"result":{"success":true,"model":{"elements":[null]}}}`, "elements[0]: want an object, got null"},
		{"element number", `{"result":{"success":true,"model":{"elements":[` + el + `,5]}}}`, "elements[1]: want an object, got a number"},
		{"bad amount names the field", `{"result":{"success":true,"model":{"elements":[{"biz_order_id":"1","order_amount":"1.234"}]}}}`, "elements[0]: field order_amount: \"1.234\" has more than two decimals"},
		{"bad percent names the field", `{"result":{"success":true,"model":{"elements":[{"partner_predict_amount":"abc"}]}}}`, "field partner_predict_amount"},
		{"bad quantity", `{"result":{"success":true,"model":{"elements":[{"buy_amount":"two"}]}}}`, "field buy_amount"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodePage([]byte(tc.body))
			if p != nil || !errors.Is(err, vendors.ErrMalformedPage) {
				t.Fatalf("p = %v, err = %v; want ErrMalformedPage", p, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %q, want containing %q", err, tc.want)
			}
		})
	}
}

// TestDecodeBigIDsExact checks IDs above 2^53 survive as bare numbers.
func TestDecodeBigIDsExact(t *testing.T) {
	p, err := DecodePage([]byte(`{"result":{"success":true,"model":{"elements":[{"biz_order_id":4737996432465788975,"parent_order_id":9223372036854775807,"item_id":712345678901234567}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	o := p.Orders[0]
	if o.BizOrderID != "4737996432465788975" || o.ParentOrderID != "9223372036854775807" || o.ItemID != "712345678901234567" {
		t.Fatalf("IDs changed: %+v", o)
	}
}
