package douyinpoi

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

var readTestdata = vendorstest.ReadTestdata

func TestDecodeDocSuccessSample(t *testing.T) {
	p, err := DecodePage(readTestdata(t, "doc_success.json"))
	if err != nil {
		t.Fatalf("DecodePage: %v", err)
	}
	want := &Page{
		Plans: []Plan{{
			PlanID: "7089334664648722476", CommissionRate: 2888, ContentType: 2, Status: 1, CreateTime: "2022-04-22",
		}},
		PageCount: 1, Total: 8,
		Extra: Extra{LogID: "20220426184533010225145152084C7731", Now: "1650969933"},
	}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", p, want)
	}
}

func TestDecodeDocErrorSample(t *testing.T) {
	_, err := DecodePage(readTestdata(t, "doc_error.json"))
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want *APIError", err)
	}
	want := APIError{Code: 2100007, Description: "无权限操作", SubCode: 110003,
		SubDescription: "没有发布/修改通用佣金计划的权限", LogID: "20220426180719010225142142054AC378"}
	if *ae != want {
		t.Fatalf("APIError = %+v, want %+v", *ae, want)
	}
	if !errors.Is(err, vendors.ErrVendorError) {
		t.Error("an APIError must wrap vendors.ErrVendorError")
	}
	for _, s := range []string{"2100007", "无权限操作", "110003", "没有发布/修改通用佣金计划的权限", "20220426180719010225142142054AC378"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error text %q lacks %q", err.Error(), s)
		}
	}
}

func TestDecodePage(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantPlans []Plan
		wantCode  int64  // >0: an APIError with this code
		wantErr   string // non-empty: ErrMalformedPage containing this
		check     func(t *testing.T, p *Page)
	}{
		{name: "IDs as strings, create_time as a timestamp",
			body:      `{"data":{"data":[{"plan_id":"7089334664648722476","commission_rate":"2888","content_type":"2","status":"1","create_time":1650556800}],"page_count":"1","total":"1","error_code":"0"}}`,
			wantPlans: []Plan{{PlanID: "7089334664648722476", CommissionRate: 2888, ContentType: 2, Status: 1, CreateTime: "1650556800"}}},
		{name: "largest int64 plan_id survives",
			body:      `{"data":{"data":[{"plan_id":9223372036854775807}],"error_code":0}}`,
			wantPlans: []Plan{{PlanID: "9223372036854775807"}}},
		{name: "byte-order mark and spaces",
			body:      "\xef\xbb\xbf  {\"data\":{\"data\":[],\"error_code\":0}}  ",
			wantPlans: nil},
		{name: "null data.data", body: `{"data":{"data":null,"error_code":0}}`},
		{name: "only extra says success", body: `{"extra":{"error_code":0,"now":1650969933}}`,
			check: func(t *testing.T, p *Page) {
				if p.Extra.Now != "1650969933" {
					t.Errorf("extra.now = %q", p.Extra.Now)
				}
			}},
		{name: "nulls everywhere", body: `{"data":{"data":[{"plan_id":1,"commission_rate":null,"content_type":null,"status":null,"create_time":null}],"error_code":0,"page_count":null},"extra":null}`,
			wantPlans: []Plan{{PlanID: "1"}}},
		{name: "unknown fields ignored", body: `{"data":{"data":[{"plan_id":5,"new_field":{"x":[1]}}],"error_code":0,"more":true},"extra":{"error_code":0,"foo":"bar"}}`,
			wantPlans: []Plan{{PlanID: "5"}}},

		{name: "error in data only", body: `{"data":{"error_code":2190008,"description":"access_token过期"}}`, wantCode: 2190008},
		{name: "error in extra only", body: `{"data":{"data":[{"plan_id":1}],"error_code":0},"extra":{"error_code":2190002,"description":"access_token无效"}}`, wantCode: 2190002},
		{name: "error with null data", body: `{"data":null,"extra":{"error_code":2100004,"description":"系统繁忙"}}`, wantCode: 2100004},
		{name: "error code as string", body: `{"data":{"error_code":"2100005"}}`, wantCode: 2100005},

		{name: "empty body", body: ``, wantErr: "want a JSON object"},
		{name: "array body", body: `[]`, wantErr: "want a JSON object"},
		{name: "html", body: `<html>502</html>`, wantErr: "want a JSON object"},
		{name: "truncated", body: `{"data":{"data":[`, wantErr: "envelope"},
		{name: "no code anywhere", body: `{"data":{"data":[]}}`, wantErr: "neither data.error_code nor extra.error_code"},
		{name: "empty object", body: `{}`, wantErr: "neither"},
		{name: "data not an object", body: `{"data":[1],"extra":{"error_code":0}}`, wantErr: "data: want an object, got an array"},
		{name: "extra not an object", body: `{"data":{"error_code":0},"extra":"x"}`, wantErr: "extra: want an object, got a string"},
		{name: "data.data not an array", body: `{"data":{"data":{"plan_id":1},"error_code":0}}`, wantErr: "data.data: want an array"},
		{name: "plan not an object", body: `{"data":{"data":[1],"error_code":0}}`, wantErr: "data.data[0]: want an object, got a number"},
		{name: "plan_id with exponent", body: `{"data":{"data":[{"plan_id":7.089334664648722e18}],"error_code":0}}`, wantErr: "data.data[0]: field plan_id"},
		{name: "plan_id boolean", body: `{"data":{"data":[{"plan_id":true}],"error_code":0}}`, wantErr: "field plan_id"},
		{name: "rate with fraction", body: `{"data":{"data":[{"plan_id":1},{"plan_id":2,"commission_rate":28.5}],"error_code":0}}`, wantErr: "data.data[1]: field commission_rate"},
		{name: "status object", body: `{"data":{"data":[{"plan_id":1,"status":{}}],"error_code":0}}`, wantErr: "field status"},
		{name: "rate out of range", body: `{"data":{"data":[{"plan_id":1,"commission_rate":99999999999999999999}],"error_code":0}}`, wantErr: "out of int64 range"},
		{name: "negative page_count", body: `{"data":{"data":[],"error_code":0,"page_count":-1}}`, wantErr: "negative page_count"},
		{name: "create_time array", body: `{"data":{"data":[{"plan_id":1,"create_time":[]}],"error_code":0}}`, wantErr: "field create_time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := DecodePage([]byte(tc.body))
			switch {
			case tc.wantCode != 0:
				var ae *APIError
				if !errors.As(err, &ae) || ae.Code != tc.wantCode {
					t.Fatalf("err = %v, want APIError %d", err, tc.wantCode)
				}
				if p != nil {
					t.Error("page returned with an error")
				}
			case tc.wantErr != "":
				if !errors.Is(err, vendors.ErrMalformedPage) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrMalformedPage containing %q", err, tc.wantErr)
				}
				if p != nil {
					t.Error("page returned with an error")
				}
			default:
				if err != nil {
					t.Fatalf("DecodePage: %v", err)
				}
				if !reflect.DeepEqual(p.Plans, tc.wantPlans) {
					t.Fatalf("plans = %+v, want %+v", p.Plans, tc.wantPlans)
				}
				if tc.check != nil {
					tc.check(t, p)
				}
			}
		})
	}
}

func TestDecodeToken(t *testing.T) {
	const tok = "clt.451b472ce4bebc54fefd926482863677GfqNFp4g8XvXodw3ffjRWfkJQF32"
	tests := []struct {
		name     string
		body     string
		want     *Token
		wantCode int64
		wantErr  string
	}{
		{name: "documented success", body: `{"data":{"access_token":"` + tok + `","description":"","error_code":0,"expires_in":7200},"message":"success"}`,
			want: &Token{AccessToken: tok, ExpiresIn: 7200}},
		{name: "no error_code, token present", body: `{"data":{"access_token":"` + tok + `"}}`, want: &Token{AccessToken: tok}},
		{name: "with extra", body: `{"data":{"access_token":"` + tok + `","expires_in":"7200","error_code":0},"extra":{"error_code":0,"now":1597213176393}}`,
			want: &Token{AccessToken: tok, ExpiresIn: 7200}},
		{name: "bad secret", body: `{"data":{"description":"client_key 或者 client_secret 报错","error_code":10013},"message":"error"}`, wantCode: 10013},
		{name: "limit with message only", body: `{"data":{"error_code":10020},"message":"error"}`, wantCode: 10020},
		{name: "success without token", body: `{"data":{"error_code":0},"message":"success"}`, wantErr: "success without an access_token"},
		{name: "nothing", body: `{"message":"success"}`, wantErr: "no error_code and no access_token"},
		{name: "bad expires_in next to a token", body: `{"data":{"access_token":"` + tok + `","expires_in":"soon","error_code":0}}`, wantErr: "token data"},
		{name: "negative expires_in", body: `{"data":{"access_token":"` + tok + `","expires_in":-1,"error_code":0}}`, wantErr: "negative expires_in"},
		{name: "token object", body: `{"data":{"access_token":{"v":"` + tok + `"},"error_code":0}}`, wantErr: "token data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeToken([]byte(tc.body))
			if err != nil && strings.Contains(err.Error(), tok) {
				t.Fatalf("error leaks the token: %v", err)
			}
			switch {
			case tc.wantCode != 0:
				var ae *APIError
				if !errors.As(err, &ae) || ae.Code != tc.wantCode {
					t.Fatalf("err = %v, want APIError %d", err, tc.wantCode)
				}
			case tc.wantErr != "":
				if !errors.Is(err, vendors.ErrMalformedPage) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrMalformedPage containing %q", err, tc.wantErr)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if *got != *tc.want {
					t.Fatalf("token = %+v, want %+v", *got, *tc.want)
				}
			}
		})
	}
}

func TestTokenStringHidesToken(t *testing.T) {
	tk := Token{AccessToken: "clt.secret-token-value", ExpiresIn: 7200}
	for _, s := range []string{tk.String(), tk.GoString()} {
		if strings.Contains(s, "secret-token-value") || !strings.Contains(s, "7200") {
			t.Errorf("Token renders as %q", s)
		}
	}
}

func TestFlexScalars(t *testing.T) {
	ints := []struct {
		in   string
		want int64
		err  bool
	}{
		{`0`, 0, false}, {`null`, 0, false}, {`""`, 0, false}, {`" 42 "`, 42, false}, {`-7`, -7, false},
		{`12.00`, 12, false}, {`"9223372036854775807"`, 9223372036854775807, false},
		{`12.5`, 0, true}, {`1e3`, 0, true}, {`12.`, 0, true}, {`true`, 0, true}, {`[]`, 0, true}, {`{}`, 0, true}, {`"abc"`, 0, true},
		{`9223372036854775808`, 0, true},
	}
	for _, tc := range ints {
		var v FlexInt
		err := json.Unmarshal([]byte(tc.in), &v)
		if (err != nil) != tc.err || (!tc.err && int64(v) != tc.want) {
			t.Errorf("FlexInt(%s) = %d, %v; want %d, err=%v", tc.in, v, err, tc.want, tc.err)
		}
	}
	ids := []struct {
		in   string
		want string
		err  bool
	}{
		{`7089334664648722476`, "7089334664648722476", false}, {`"7089334664648722476"`, "7089334664648722476", false},
		{`" 12 "`, "12", false}, {`null`, "", false}, {`-1`, "-1", false},
		{`7.089334664648722e18`, "", true}, {`1E3`, "", true}, {`1.0`, "", true}, {`false`, "", true}, {`[1]`, "", true},
	}
	for _, tc := range ids {
		var v FlexID
		err := json.Unmarshal([]byte(tc.in), &v)
		if (err != nil) != tc.err || (!tc.err && string(v) != tc.want) {
			t.Errorf("FlexID(%s) = %q, %v; want %q, err=%v", tc.in, v, err, tc.want, tc.err)
		}
	}
	strs := []struct {
		in   string
		want string
		err  bool
	}{
		{`"2022-04-22"`, "2022-04-22", false}, {`1650556800`, "1650556800", false}, {`null`, "", false},
		{`true`, "", true}, {`{}`, "", true},
	}
	for _, tc := range strs {
		var v FlexString
		err := json.Unmarshal([]byte(tc.in), &v)
		if (err != nil) != tc.err || (!tc.err && string(v) != tc.want) {
			t.Errorf("FlexString(%s) = %q, %v; want %q, err=%v", tc.in, v, err, tc.want, tc.err)
		}
	}
}
