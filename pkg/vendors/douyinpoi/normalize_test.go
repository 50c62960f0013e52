package douyinpoi

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

const testSPU = "7089053269443495980"

var testFetchedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func rawPage(body []byte) events.RawPage {
	p := vendorstest.RawPage(Name, Endpoint, testSPU+":1", testFetchedAt, body)
	p.Params = map[string]string{ParamSPUID: testSPU}
	return p
}

func TestGolden(t *testing.T) {
	vendorstest.GoldenNormalize(t, []string{"doc_success", "variants", "empty"}, Normalize, rawPage)
}

func TestDocSampleMapping(t *testing.T) {
	envs, err := Normalize(rawPage(readTestdata(t, "doc_success.json")))
	vendorstest.Count(t, envs, err, 1)
	p := vendorstest.DecodeAs[events.CommissionPlan](t, envs[0])
	observed := time.Unix(1650969933, 0).UTC() // extra.now
	want := events.CommissionPlan{
		Platform: "douyin-poi", Account: "demo", ProductID: testSPU, PlanID: "7089334664648722476",
		RateBP: 2888, ContentType: 2, ContentTypeLabel: "video", VendorStatus: 1, CreatedDate: "2022-04-22",
		ObservedAt: observed, Version: observed.UnixMilli(),
	}
	if *p != want {
		t.Fatalf("plan =\n%+v\nwant\n%+v", *p, want)
	}
	e := envs[0]
	vendorstest.Checks{
		{"type", e.Type, "commission_plan.v1"},
		{"subject", e.Subject, testSPU + "/7089334664648722476"},
		{"source", e.Source, "yongjin/douyin-poi/demo"},
		{"time", e.Time, observed},
		{"id", e.ID, events.NewID(events.KindCommissionPlan, "douyin-poi", "demo", testSPU+"/7089334664648722476", observed.UnixMilli())},
		{"plan_id in data is a string", strings.Contains(string(e.Data), `"plan_id":"7089334664648722476"`), true},
		{"product_id in data is a string", strings.Contains(string(e.Data), `"product_id":"`+testSPU+`"`), true},
	}.Verify(t)
}

func TestVariantsMapping(t *testing.T) {
	envs, err := Normalize(rawPage(readTestdata(t, "variants.json")))
	if err != nil {
		t.Fatal(err)
	}
	observed := time.UnixMilli(1767240000123).UTC() // extra.now in milliseconds
	want := []struct {
		plan, created, label string
		rate, ct, status     int64
	}{
		{"7089334664648722477", "2022-04-25", "live", 2900, 1, 3},
		{"7089334664648722478", "2022-04-22", "both", 150, 3, 2}, // 1650556800 = 2022-04-22 00:00 CST
		{"9223372036854775807", "2022-04-22", "unknown", 5000, 7, 0},
		{"7000000000000000001", "", "unknown", 0, 0, 0},
		{"7000000000000000002", "2022-04-22 10:11:12", "video", 100, 2, 1},
		{"7000000000000000003", "", "unknown", 100, 0, -1},
	}
	if len(envs) != len(want) {
		t.Fatalf("%d envelopes, want %d", len(envs), len(want))
	}
	for i, w := range want {
		v, err := events.Decode(envs[i])
		if err != nil {
			t.Fatal(err)
		}
		p := v.(*events.CommissionPlan)
		if p.PlanID != w.plan || p.CreatedDate != w.created || p.ContentTypeLabel != w.label || p.RateBP != w.rate ||
			p.ContentType != w.ct || p.VendorStatus != w.status || !p.ObservedAt.Equal(observed) || p.Version != observed.UnixMilli() {
			t.Errorf("plan %d = %+v, want %+v observed %s", i, *p, w, observed)
		}
	}
}

func TestNormalizeErrors(t *testing.T) {
	ok := readTestdata(t, "doc_success.json")
	tests := []struct {
		name   string
		page   func() events.RawPage
		target error
		text   string
	}{
		{"vendor error sample", func() events.RawPage { return rawPage(readTestdata(t, "doc_error.json")) }, vendors.ErrVendorError, "2100007"},
		{"token expired page", func() events.RawPage { return rawPage(readTestdata(t, "token_expired.json")) }, vendors.ErrVendorError, "2190008"},
		{"no spu_id param", func() events.RawPage { p := rawPage(ok); p.Params = nil; return p }, vendors.ErrMalformedPage, "no spu_id parameter"},
		{"non-numeric spu_id", func() events.RawPage { p := rawPage(ok); p.Params = map[string]string{"spu_id": "abc"}; return p }, vendors.ErrMalformedPage, "spu_id"},
		{"spu_id with leading zero", func() events.RawPage { p := rawPage(ok); p.Params = map[string]string{"spu_id": "0123"}; return p }, vendors.ErrMalformedPage, "spu_id"},
		{"no account", func() events.RawPage { p := rawPage(ok); p.Account = ""; return p }, vendors.ErrMalformedPage, "account"},
		{"control char in account", func() events.RawPage { p := rawPage(ok); p.Account = "a\nb"; return p }, vendors.ErrMalformedPage, "control"},
		{"no time at all", func() events.RawPage {
			p := rawPage([]byte(`{"data":{"data":[{"plan_id":1}],"error_code":0}}`))
			p.FetchedAt = time.Time{}
			return p
		}, vendors.ErrMalformedPage, "no plausible extra.now"},
		{"negative rate", func() events.RawPage {
			return rawPage([]byte(`{"data":{"data":[{"plan_id":1,"commission_rate":-5}],"error_code":0}}`))
		}, vendors.ErrMalformedPage, "data.data[0]: " + vendors.ErrMalformedPage.Error() + ": plan 1: negative commission_rate"},
		{"missing plan_id", func() events.RawPage {
			return rawPage([]byte(`{"data":{"data":[{"plan_id":1},{"commission_rate":5}],"error_code":0}}`))
		}, vendors.ErrMalformedPage, "data.data[1]"},
		{"plan_id with a space", func() events.RawPage {
			return rawPage([]byte(`{"data":{"data":[{"plan_id":"1 2"}],"error_code":0}}`))
		}, vendors.ErrMalformedPage, "plan_id"},
		{"garbage", func() events.RawPage { return rawPage([]byte(`<html>`)) }, vendors.ErrMalformedPage, "want a JSON object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			envs, err := Normalize(tc.page())
			if !errors.Is(err, tc.target) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.target, tc.text)
			}
			if envs != nil {
				t.Errorf("%d envelopes returned with an error", len(envs))
			}
		})
	}
}

func TestNormalizeObservationFallback(t *testing.T) {
	for _, now := range []string{``, `,"now":null`, `,"now":0`, `,"now":"soon"`, `,"now":99`, `,"now":99999999999999999`, `,"now":1.5`} {
		body := `{"data":{"data":[{"plan_id":1,"commission_rate":10}],"error_code":0},"extra":{"error_code":0` + now + `}}`
		envs, err := Normalize(rawPage([]byte(body)))
		if err != nil {
			t.Fatalf("%s: %v", now, err)
		}
		v, _ := events.Decode(envs[0])
		if p := v.(*events.CommissionPlan); !p.ObservedAt.Equal(testFetchedAt) || p.Version != testFetchedAt.UnixMilli() {
			t.Errorf("now%s: observed %s version %d, want the fetch time", now, p.ObservedAt, p.Version)
		}
	}
}

func TestObservedAt(t *testing.T) {
	tests := []struct {
		in   FlexString
		want time.Time
		ok   bool
	}{
		{"1650969933", time.Unix(1650969933, 0), true},
		{"1597213176393", time.UnixMilli(1597213176393), true},
		{" 1650969933 ", time.Unix(1650969933, 0), true},
		{"1650969933.000", time.Unix(1650969933, 0), true},
		{"946684800", time.Unix(946684800, 0), true}, // 2000-01-01
		{"946684799", time.Time{}, false},
		{"7258118400", time.Time{}, false}, // 2200-01-01 in seconds
		{"7258118400000", time.Time{}, false},
		{"", time.Time{}, false}, {"-1", time.Time{}, false}, {"x", time.Time{}, false},
	}
	for _, tc := range tests {
		got, ok := ObservedAt(tc.in)
		if ok != tc.ok || !got.Equal(tc.want) || (ok && got.Location() != time.UTC) {
			t.Errorf("ObservedAt(%q) = %s, %v; want %s, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCreatedDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2022-04-22", "2022-04-22"},
		{" 2022-04-22 ", "2022-04-22"},
		{"2022-04-22 10:11:12", "2022-04-22 10:11:12"},
		{"2022-04-22\n10", "2022-04-22"},
		{"1650556800", "2022-04-22"},    // 2022-04-22 00:00:00 CST
		{"1650556799", "2022-04-21"},    // one second earlier
		{"1650556800000", "2022-04-22"}, // milliseconds
		{"0", ""}, {"", ""}, {"-5", ""}, {"2022-13-01", ""}, {"22/04/2022", ""}, {"99999999999999", ""},
	}
	for _, tc := range tests {
		if got := CreatedDate(FlexString(tc.in)); got != tc.want {
			t.Errorf("CreatedDate(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestContentTypeLabel(t *testing.T) {
	for code, want := range map[int64]string{1: "live", 2: "video", 3: "both", 0: "unknown", 4: "unknown", -1: "unknown"} {
		if got := ContentTypeLabel(code); got != want {
			t.Errorf("ContentTypeLabel(%d) = %q, want %q", code, got, want)
		}
	}
}

func TestNormalizeIsPure(t *testing.T) {
	p := rawPage(readTestdata(t, "variants.json"))
	a, errA := Normalize(p)
	b, errB := Normalize(p)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		t.Fatal("two runs differ")
	}
}
