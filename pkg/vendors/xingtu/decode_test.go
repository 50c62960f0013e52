package xingtu

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

func TestDecodeEnvelope(t *testing.T) {
	tests := []struct {
		name, body string
		want       *Envelope
	}{
		{"documented", `{"code":0,"message":null,"data":{"a":1},"recordTime":"2026-11-10 08:00:00","requestId":"r1"}`,
			&Envelope{Data: []byte(`{"a":1}`), RecordTime: "2026-11-10 08:00:00", RequestID: "r1"}},
		{"string code", `{"code":"0","data":[]}`, &Envelope{Data: []byte(`[]`)}},
		{"spaced string code", `{"code":" 0 ","data":1}`, &Envelope{Data: []byte(`1`)}},
		{"zero fraction code", `{"code":0.0}`, &Envelope{}},
		{"string message", `{"code":0,"message":"成功"}`, &Envelope{Message: "成功"}},
		{"number message and request id", `{"code":0,"message":7,"requestId":123456789012345678901}`,
			&Envelope{Message: "7", RequestID: "123456789012345678901"}},
		{"object message", `{"code":0,"message":{"k":"v"}}`, &Envelope{Message: `{"k":"v"}`}},
		{"null data", `{"code":0,"data":null}`, &Envelope{}},
		{"spaced null data", `{"code":0,"data": null }`, &Envelope{}},
		{"missing data", `{"code":0}`, &Envelope{}},
		{"data kept byte for byte", "{\"code\":0,\"data\":{ \"a\" : [1, 2.50] ,\n\"b\":\"<&>\" }}", &Envelope{Data: []byte("{ \"a\" : [1, 2.50] ,\n\"b\":\"<&>\" }")}},
		{"number record time", `{"code":0,"recordTime":1762732800000}`, &Envelope{RecordTime: "1762732800000"}},
		{"BOM and whitespace", "\xef\xbb\xbf \n{\"code\":0}\n", &Envelope{}},
		{"unknown members ignored", `{"code":0,"extra":{"x":[1]},"data":{}}`, &Envelope{Data: []byte(`{}`)}},
		{"big integer inside data", `{"code":0,"data":{"id":7012345678901234567890}}`, &Envelope{Data: []byte(`{"id":7012345678901234567890}`)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeEnvelope([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if (got.Data == nil) != (tc.want.Data == nil) || string(got.Data) != string(tc.want.Data) {
				t.Errorf("data %q, want %q", got.Data, tc.want.Data)
			}
			got.Data, tc.want.Data = nil, nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeEnvelopeErrors(t *testing.T) {
	tests := []struct {
		name, body string
		code       int64 // 0: malformed
		msg, reqID string
		text       string
	}{
		{"vendor error", `{"code":601,"message":"余额不足","data":null,"requestId":"r9"}`, 601, "余额不足", "r9", `code 601 (insufficient balance): "余额不足", requestId "r9"`},
		{"string code", `{"code":"100","message":null}`, 100, "", "", "code 100 (invalid or inactive token)"},
		{"negative code", `{"code":-1,"message":"x"}`, -1, "x", "", "code -1 (unknown code)"},
		{"data ignored on error", `{"code":500,"data":{"a":1}}`, 500, "", "", "code 500 (internal error)"},
		{"long message clipped", `{"code":400,"message":"` + strings.Repeat("长", 200) + `"}`, 400, strings.Repeat("长", 200), "", "…"},
		{"empty", ``, 0, "", "", "got nothing"},
		{"null", `null`, 0, "", "", "got null"},
		{"array", `[{"code":0}]`, 0, "", "", "got an array"},
		{"string", `"ok"`, 0, "", "", "got a string"},
		{"invalid", `{"code":0,}`, 0, "", "", "envelope"},
		{"trailing garbage", `{"code":0} x`, 0, "", "", "envelope"},
		{"no code", `{"message":"x"}`, 0, "", "", "no code"},
		{"empty string code", `{"code":""}`, 0, "", "", "not an integer"},
		{"array code", `{"code":[0]}`, 0, "", "", "got an array"},
		{"huge code", `{"code":99999999999999999999}`, 0, "", "", "not an integer"},
		{"data truncated", `{"code":0,"data":{"a":`, 0, "", "", "envelope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env, err := DecodeEnvelope([]byte(tc.body))
			if env != nil || err == nil {
				t.Fatalf("got %+v, %v; want an error", env, err)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q lacks %q", err, tc.text)
			}
			var ae *APIError
			if tc.code == 0 {
				if !errors.Is(err, vendors.ErrMalformedPage) || errors.As(err, &ae) {
					t.Errorf("error %v: want ErrMalformedPage only", err)
				}
				return
			}
			if !errors.As(err, &ae) || !errors.Is(err, vendors.ErrVendorError) || errors.Is(err, vendors.ErrMalformedPage) {
				t.Fatalf("error %v: want an *APIError", err)
			}
			if ae.Code != tc.code || ae.Message != tc.msg || ae.RequestID != tc.reqID {
				t.Errorf("APIError %+v, want code %d message %q requestId %q", ae, tc.code, tc.msg, tc.reqID)
			}
		})
	}
}

func TestCodeMeaning(t *testing.T) {
	for code, want := range map[int64]string{100: "invalid or inactive token", 601: "insufficient balance", 303: "daily quota exceeded", 101: "unknown code", 0: "unknown code"} {
		if got := CodeMeaning(code); got != want {
			t.Errorf("CodeMeaning(%d) = %q, want %q", code, got, want)
		}
	}
}
