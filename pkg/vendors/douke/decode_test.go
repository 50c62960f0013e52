package douke

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

func TestFlexInt(t *testing.T) {
	vendorstest.RunParse(t, func(in string) (int64, error) {
		var v struct {
			N FlexInt `json:"n"`
		}
		v.N = 99 // must be overwritten (null and "" reset to 0)
		err := json.Unmarshal([]byte(`{"n":`+in+`}`), &v)
		return int64(v.N), err
	}, []vendorstest.ParseCase[int64]{
		{Name: "null", In: `null`},
		{Name: "empty string", In: `""`},
		{Name: "blank string", In: `"  "`},
		{Name: "number", In: `1290`, Want: 1290},
		{Name: "numeric string", In: `"1290"`, Want: 1290},
		{Name: "padded numeric string", In: `" 1290 "`, Want: 1290},
		{Name: "negative number", In: `-5`, Want: -5},
		{Name: "negative string", In: `"-5"`, Want: -5},
		{Name: "zero fraction number", In: `12.0`, Want: 12},
		{Name: "zero fraction string", In: `"12.00"`, Want: 12},
		{Name: "max int64 number", In: `9223372036854775807`, Want: 9223372036854775807},
		{Name: "max int64 string", In: `"9223372036854775807"`, Want: 9223372036854775807},
		{Name: "19-digit number exact", In: `5049400731628723479`, Want: 5049400731628723479},
		{Name: "empty array", In: `[]`},
		{Name: "empty object", In: `{ }`},
		{Name: "overflow", In: `"9223372036854775808"`, WantErr: "out of int64 range"},
		{Name: "fraction number", In: `12.5`, WantErr: "not an integer"},
		{Name: "fraction string (yuan)", In: `"0.07"`, WantErr: "not an integer"},
		{Name: "exponent", In: `1e3`, WantErr: "not an integer"},
		{Name: "text", In: `"abc"`, WantErr: "not an integer"},
		{Name: "bool", In: `true`, WantErr: "got a boolean"},
		{Name: "array", In: `[1]`, WantErr: "got an array"},
		{Name: "object", In: `{"a":1}`, WantErr: "got an object"},
	})
}

func TestFlexString(t *testing.T) {
	vendorstest.RunParse(t, func(in string) (string, error) {
		var v struct {
			S FlexString `json:"s"`
		}
		v.S = "stale"
		err := json.Unmarshal([]byte(`{"s":`+in+`}`), &v)
		return string(v.S), err
	}, []vendorstest.ParseCase[string]{
		{Name: "null", In: `null`},
		{Name: "empty string", In: `""`},
		{Name: "string verbatim", In: `" a b "`, Want: " a b "},
		{Name: "unicode", In: `"梦想食品专营店"`, Want: "梦想食品专营店"},
		{Name: "escaped", In: `"\u68a6\n"`, Want: "梦\n"},
		{Name: "19-digit string", In: `"5049400731628723479"`, Want: "5049400731628723479"},
		{Name: "19-digit bare number", In: `5049400731628723479`, Want: "5049400731628723479"},
		{Name: "20-digit bare number (beyond int64)", In: `18446744073709551615`, Want: "18446744073709551615"},
		{Name: "small number", In: `31259507`, Want: "31259507"},
		{Name: "zero", In: `0`, Want: "0"},
		{Name: "decimal literal kept", In: `1.50`, Want: "1.50"},
		{Name: "bool", In: `true`, Want: "true"},
		{Name: "empty array", In: `[]`},
		{Name: "empty object", In: `{}`},
		{Name: "array", In: `["x"]`, WantErr: "got an array"},
		{Name: "object", In: `{"x":1}`, WantErr: "got an object"},
	})
}

// orderPage wraps one order object in a success envelope.
func orderPage(order string) []byte {
	return []byte(`{"error":"0","msg":"ok","data":{"cursor":"1","orders":[` + order + `]},"request_id":"r"}`)
}

func TestDecodePageOrderFields(t *testing.T) {
	tests := []struct {
		name  string
		order string
		check func(t *testing.T, o Order)
	}{
		{"order_id 19 digits as string", `{"order_id":"5049400731628723479"}`, func(t *testing.T, o Order) {
			if o.OrderID != "5049400731628723479" {
				t.Errorf("order_id = %q", o.OrderID)
			}
		}},
		{"order_id 19 digits as bare number", `{"order_id":5049400731628723479}`, func(t *testing.T, o Order) {
			if o.OrderID != "5049400731628723479" {
				t.Errorf("order_id = %q", o.OrderID)
			}
		}},
		{"product_id as number, shop_id as number", `{"product_id":3550945007122962547,"shop_id":31259507}`, func(t *testing.T, o Order) {
			if o.ProductID != "3550945007122962547" || o.ShopID != "31259507" {
				t.Errorf("product_id = %q shop_id = %q", o.ProductID, o.ShopID)
			}
		}},
		{"amount null", `{"total_pay_amount":null}`, func(t *testing.T, o Order) {
			if o.TotalPayAmount != 0 {
				t.Errorf("total_pay_amount = %d", o.TotalPayAmount)
			}
		}},
		{"amount empty string", `{"total_pay_amount":""}`, func(t *testing.T, o Order) {
			if o.TotalPayAmount != 0 {
				t.Errorf("total_pay_amount = %d", o.TotalPayAmount)
			}
		}},
		{"amount number", `{"total_pay_amount":1290}`, func(t *testing.T, o Order) {
			if o.TotalPayAmount != 1290 {
				t.Errorf("total_pay_amount = %d", o.TotalPayAmount)
			}
		}},
		{"amount numeric string", `{"total_pay_amount":"1290"}`, func(t *testing.T, o Order) {
			if o.TotalPayAmount != 1290 {
				t.Errorf("total_pay_amount = %d", o.TotalPayAmount)
			}
		}},
		{"string field null / empty / number", `{"author_account":null,"author_short_id":"","author_buyin_id":123467}`, func(t *testing.T, o Order) {
			if o.AuthorAccount != "" || o.AuthorShortID != "" || o.AuthorBuyinID != "123467" {
				t.Errorf("author_account=%q author_short_id=%q author_buyin_id=%q", o.AuthorAccount, o.AuthorShortID, o.AuthorBuyinID)
			}
		}},
		{"String-typed fee sent as int", `{"ads_estimated_tech_service_fee":23}`, func(t *testing.T, o Order) {
			if o.AdsEstimatedTechServiceFee != 23 {
				t.Errorf("ads_estimated_tech_service_fee = %d", o.AdsEstimatedTechServiceFee)
			}
		}},
		{"pid_info object", `{"pid_info":{"pid":"dy_1","external_info":7,"media_type_name":"Live"}}`, func(t *testing.T, o Order) {
			want := PIDInfo{PID: "dy_1", ExternalInfo: "7", MediaTypeName: "Live"}
			if o.PIDInfo != want {
				t.Errorf("pid_info = %+v", o.PIDInfo)
			}
		}},
		{"pid_info null / [] / \"\"", `{"pid_info":[]}`, func(t *testing.T, o Order) {
			if o.PIDInfo != (PIDInfo{}) {
				t.Errorf("pid_info = %+v", o.PIDInfo)
			}
		}},
		{"pid_info as JSON string", `{"pid_info":"{\"pid\":\"dy_2\",\"media_type_name\":\"Mix\"}"}`, func(t *testing.T, o Order) {
			if o.PIDInfo.PID != "dy_2" || o.PIDInfo.MediaTypeName != "Mix" {
				t.Errorf("pid_info = %+v", o.PIDInfo)
			}
		}},
		{"missing fields are zero; unknown fields ignored", `{"order_id":"1","brand_new_field":{"x":[1,2]}}`, func(t *testing.T, o Order) {
			if o != (Order{OrderID: "1"}) {
				t.Errorf("order = %+v", o)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodePage(orderPage(tc.order))
			if err != nil {
				t.Fatalf("DecodePage: %v", err)
			}
			if len(p.Orders) != 1 {
				t.Fatalf("orders = %d, want 1", len(p.Orders))
			}
			tc.check(t, p.Orders[0])
		})
	}
}

func TestDecodePageEnvelope(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantOrders int
		wantCursor string
		wantIs     error  // nil: success
		wantCode   string // for vendor errors
		wantErr    string // substring of the error
	}{
		{name: "string error 0", body: `{"error":"0","msg":"查询成功!","data":{"cursor":"7","orders":[{"order_id":"1"}]},"request_id":"x"}`, wantOrders: 1, wantCursor: "7"},
		{name: "numeric error 0", body: `{"error":0,"data":{"cursor":"7","orders":[{"order_id":"1"},{"order_id":"2"}]}}`, wantOrders: 2, wantCursor: "7"},
		{name: "BOM and whitespace", body: "\xef\xbb\xbf \n{\"error\":\"0\",\"data\":{\"cursor\":\"0\",\"orders\":[]}}", wantCursor: "0"},
		{name: "numeric cursor", body: `{"error":"0","data":{"cursor":5049384353537830167,"orders":[]}}`, wantCursor: "5049384353537830167"},
		{name: "data null", body: `{"error":"0","msg":"ok","data":null}`},
		{name: "data missing", body: `{"error":"0","msg":"ok"}`},
		{name: "data empty array (PHP)", body: `{"error":"0","data":[]}`},
		{name: "data empty string", body: `{"error":"0","data":""}`},
		{name: "orders null", body: `{"error":"0","data":{"cursor":"","orders":null}}`},
		{name: "orders empty object", body: `{"error":"0","data":{"cursor":"","orders":{}}}`},
		{name: "string error code", body: `{"error":"10001","msg":"vekey错误","data":null,"request_id":"r1"}`, wantIs: vendors.ErrVendorError, wantCode: "10001", wantErr: "vekey错误"},
		{name: "numeric error code", body: `{"error":4003,"msg":"请求过于频繁"}`, wantIs: vendors.ErrVendorError, wantCode: "4003", wantErr: "请求过于频繁"},
		{name: "error code with data still an error", body: `{"error":"1","msg":"参数错误","data":{"cursor":"1","orders":[{"order_id":"1"}]}}`, wantIs: vendors.ErrVendorError, wantCode: "1"},
		{name: "empty error code is an error", body: `{"error":"","msg":"?"}`, wantIs: vendors.ErrVendorError, wantCode: ""},
		{name: "malformed JSON", body: `{"error":"0","data":{"cursor":"1","orders":[{"order_id":"1"}`, wantIs: vendors.ErrMalformedPage},
		{name: "empty body", body: ``, wantIs: vendors.ErrMalformedPage},
		{name: "HTML", body: `<html>502 Bad Gateway</html>`, wantIs: vendors.ErrMalformedPage},
		{name: "top-level array", body: `[]`, wantIs: vendors.ErrMalformedPage},
		{name: "top-level null", body: `null`, wantIs: vendors.ErrMalformedPage, wantErr: "no error code"},
		{name: "missing error code", body: `{"msg":"ok","data":{"orders":[]}}`, wantIs: vendors.ErrMalformedPage, wantErr: "no error code"},
		{name: "null error code", body: `{"error":null,"data":{"orders":[]}}`, wantIs: vendors.ErrMalformedPage, wantErr: "no error code"},
		{name: "boolean error code", body: `{"error":false,"data":{"orders":[]}}`, wantIs: vendors.ErrMalformedPage, wantErr: "boolean"},
		{name: "data wrong shape", body: `{"error":"0","data":"oops"}`, wantIs: vendors.ErrMalformedPage, wantErr: "data: want an object"},
		{name: "data non-empty array", body: `{"error":"0","data":[1]}`, wantIs: vendors.ErrMalformedPage, wantErr: "data: want an object"},
		{name: "orders wrong shape", body: `{"error":"0","data":{"orders":{"a":1}}}`, wantIs: vendors.ErrMalformedPage, wantErr: "data.orders: want an array"},
		{name: "order not an object", body: `{"error":"0","data":{"orders":[{"order_id":"1"},"x"]}}`, wantIs: vendors.ErrMalformedPage, wantErr: "data.orders[1]: want an object"},
		{name: "bad amount names field", body: `{"error":"0","data":{"orders":[{"order_id":"1","total_pay_amount":"12.90"}]}}`, wantIs: vendors.ErrMalformedPage, wantErr: "data.orders[0]: field total_pay_amount: not an integer"},
		{name: "bad pid_info", body: `{"error":"0","data":{"orders":[{"pid_info":5}]}}`, wantIs: vendors.ErrMalformedPage, wantErr: "field pid_info"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodePage([]byte(tc.body))
			if tc.wantIs == nil {
				if err != nil {
					t.Fatalf("DecodePage: %v", err)
				}
				if p.Error != "0" || len(p.Orders) != tc.wantOrders || p.Cursor != tc.wantCursor {
					t.Fatalf("page = error %q, %d orders, cursor %q; want %d orders, cursor %q", p.Error, len(p.Orders), p.Cursor, tc.wantOrders, tc.wantCursor)
				}
				return
			}
			if err == nil {
				t.Fatalf("DecodePage succeeded (%+v), want error %v", p, tc.wantIs)
			}
			if p != nil {
				t.Errorf("page = %+v on error, want nil", p)
			}
			if !errors.Is(err, tc.wantIs) {
				t.Fatalf("err = %v, want wrapping %v", err, tc.wantIs)
			}
			other := vendors.ErrVendorError
			if tc.wantIs == vendors.ErrVendorError {
				other = vendors.ErrMalformedPage
			}
			if errors.Is(err, other) {
				t.Errorf("err = %v also wraps %v", err, other)
			}
			if tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %q, want containing %q", err, tc.wantErr)
			}
			if tc.wantIs == vendors.ErrVendorError {
				var ae *APIError
				if !errors.As(err, &ae) {
					t.Fatalf("err %T is not an *APIError", err)
				}
				if ae.Code != tc.wantCode {
					t.Errorf("code = %q, want %q", ae.Code, tc.wantCode)
				}
				if !strings.Contains(err.Error(), `"`+tc.wantCode+`"`) {
					t.Errorf("err = %q does not name the code", err)
				}
			}
		})
	}
}

func TestDecodeDocSample(t *testing.T) {
	p, err := DecodePage(readTestdata(t, "doc_sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Cursor != "5049384353537830167" || p.RequestID != "wAFXlrc" || p.Msg != "查询成功!" {
		t.Errorf("envelope = cursor %q request_id %q msg %q", p.Cursor, p.RequestID, p.Msg)
	}
	if len(p.Orders) != 1 {
		t.Fatalf("orders = %d", len(p.Orders))
	}
	o := p.Orders[0]
	want := Order{
		OrderID:                    "5049400731628723479",
		ProductID:                  "3550945007122962547",
		ProductName:                "【整箱十二枚】猫山王榴莲饼爆浆流心美味榴莲酥好吃夹心网红零食",
		ProductImg:                 "https://p3-aio.ecombdimg.com/obj/ecom-shop-material/v1_npuvHFKx_71018825340362427220507_d43969fee8b46e0322f38edb0834101e_sx_331281_www800-800",
		AuthorShortID:              "0",
		ShopName:                   "梦想食品专营店",
		ShopID:                     "31259507",
		TotalPayAmount:             1290,
		PayGoodsAmount:             1290,
		FlowPoint:                  "PAY_SUCC",
		UpdateTime:                 "2023-03-25 21:54:48",
		PaySuccessTime:             "2023-03-25 21:54:37",
		PIDInfo:                    PIDInfo{PID: "dy_107213597798095225100_20865_2675084869", ExternalInfo: "m23_56565266554_20230325215126", MediaTypeName: "ProductDetail"},
		ItemNum:                    12,
		AdsEstimatedCommission:     209,
		AdsPromotionRate:           1800,
		AdsActivityID:              "0",
		AdsEstimatedTechServiceFee: 23,
		ProductActivityID:          "0",
	}
	if o != want {
		t.Errorf("order =\n%+v\nwant\n%+v", o, want)
	}
}
