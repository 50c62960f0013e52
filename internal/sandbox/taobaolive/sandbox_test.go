package taobaolive_test

// Tests of the Taobao Live vendor sandbox. They sign requests and decode
// responses with their own code (not this package's Sign or decoder) and
// check the protocol against the vendor document and the sandbox's ground
// truth. Every identifier starts with Sandbox/sandbox (tests: TestSandbox…).

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/sandbox/sandboxtest"
	taobaolivesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/taobaolive"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/taobaolive"
)

const (
	sandboxTestAppKey  = "12500001"
	sandboxTestSecret  = "sandbox-app-secret-1"
	sandboxTestSession = "6102a1b2c3sandbox-session-demo"
	sandboxTestSecond  = "6102a1b2c3sandbox-session-second"
	sandboxTestMethod  = "alibaba.matrix.tcp.outer.querypredictorderlist"
	sandboxTestWrapper = "alibaba_matrix_tcp_outer_querypredictorderlist_response"
)

var sandboxCST = time.FixedZone("CST", 8*3600)

// sandboxTestConfig has two accounts of one app (two creators' sessions).
func sandboxTestConfig(seed int64, orders int) sandbox.Config {
	cfg := sandbox.DefaultConfig()
	cfg.Seed, cfg.Orders = seed, orders
	cfg.Accounts = []sandbox.Account{
		taobaolivesandbox.Account("demo", sandboxTestAppKey, sandboxTestSecret, sandboxTestSession),
		taobaolivesandbox.Account("second", sandboxTestAppKey, sandboxTestSecret, sandboxTestSecond),
	}
	return cfg
}

type sandboxTestEnv struct {
	srv *sandbox.Server
	url string
}

func sandboxStart(t *testing.T, cfg sandbox.Config) *sandboxTestEnv {
	t.Helper()
	s, base := sandboxtest.Start(t, cfg, taobaolivesandbox.Handler{})
	return &sandboxTestEnv{srv: s, url: base + taobaolivesandbox.Path}
}

// sandboxSign is the test's own implementation of the documented signature.
func sandboxSign(form url.Values, secret, method string) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != "sign" && form.Get(k) != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var s strings.Builder
	for _, k := range keys {
		s.WriteString(k)
		s.WriteString(form.Get(k))
	}
	var h hash.Hash
	switch method {
	case "md5":
		h = md5.New()
		io.WriteString(h, secret+s.String()+secret)
	case "hmac":
		h = hmac.New(md5.New, []byte(secret))
		io.WriteString(h, s.String())
	default:
		h = hmac.New(sha256.New, []byte(secret))
		io.WriteString(h, s.String())
	}
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
}

// sandboxStruct renders query_predict_order_request from key/value pairs
// (values are raw JSON).
func sandboxStruct(kv ...string) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, strconv.Quote(kv[i])+":"+kv[i+1])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// sandboxWindowStruct is a full-October pay-time query of page pageNo.
func sandboxWindowStruct(pageNo, size int, kv ...string) string {
	base := []string{"tcp_type", "16", "start_time", `"2026-10-01 00:00:00"`, "end_time", `"2026-10-31 23:59:59"`,
		"page_size", strconv.Itoa(size), "page_no", strconv.Itoa(pageNo)}
	return sandboxStruct(append(base, kv...)...)
}

// form returns a signed request form for session with the struct parameter;
// mod may change the form before signing.
func (e *sandboxTestEnv) form(session, method, structJSON string, mod func(url.Values)) url.Values {
	f := url.Values{
		"method": {sandboxTestMethod}, "app_key": {sandboxTestAppKey}, "session": {session},
		"timestamp": {e.srv.Clock().Now().In(sandboxCST).Format("2006-01-02 15:04:05")}, "v": {"2.0"},
		"sign_method": {method}, "format": {"json"}, "query_predict_order_request": {structJSON},
	}
	if mod != nil {
		mod(f)
	}
	if _, set := f["sign"]; !set { // a mod that set sign (even to "") keeps it
		f.Set("sign", sandboxSign(f, sandboxTestSecret, method))
	}
	return f
}

// raw sends one request (GET with a query or POST with a form body).
func (e *sandboxTestEnv) raw(t *testing.T, httpMethod string, f url.Values) (*http.Response, []byte) {
	t.Helper()
	return sandboxtest.Send(t, httpMethod, e.url, f, "application/x-www-form-urlencoded;charset=utf-8")
}

// sandboxOrder is one wire element with every member kept raw.
type sandboxOrder map[string]json.RawMessage

func (o sandboxOrder) str(t *testing.T, k string) string {
	t.Helper()
	raw, ok := o[k]
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s = %s: want a string", k, raw)
	}
	return s
}

// sandboxPage is a success answer decoded by the test.
type sandboxPage struct {
	simplified bool
	requestID  string
	total      int64
	pageSize   int64
	pageNo     int64
	elements   json.RawMessage
	orders     []sandboxOrder
}

// sandboxError is an error_response decoded by the test.
type sandboxError struct {
	Code      int    `json:"code"`
	Msg       string `json:"msg"`
	SubCode   string `json:"sub_code"`
	SubMsg    string `json:"sub_msg"`
	RequestID string `json:"request_id"`
}

// sandboxParse decodes a body: an error_response, a business failure
// (msgCode set) or a success page.
func sandboxParse(t *testing.T, body []byte) (*sandboxPage, *sandboxError, string) {
	t.Helper()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	if er, ok := top["error_response"]; ok {
		var e sandboxError
		if err := json.Unmarshal(er, &e); err != nil {
			t.Fatal(err)
		}
		return nil, &e, ""
	}
	p := &sandboxPage{simplified: true}
	resp := top
	if w, ok := top[sandboxTestWrapper]; ok {
		p.simplified = false
		resp = nil
		if err := json.Unmarshal(w, &resp); err != nil {
			t.Fatal(err)
		}
	}
	if len(resp) != 2 {
		t.Fatalf("want result and request_id, got %s", body)
	}
	json.Unmarshal(resp["request_id"], &p.requestID)
	var result struct {
		Model *struct {
			TotalCount *int64          `json:"total_count"`
			PageSize   int64           `json:"page_size"`
			PageNo     int64           `json:"page_no"`
			Elements   json.RawMessage `json:"elements"`
		} `json:"model"`
		Success *bool  `json:"success"`
		MsgCode string `json:"msg_code"`
		MsgInfo string `json:"msg_info"`
	}
	if err := json.Unmarshal(resp["result"], &result); err != nil || result.Success == nil {
		t.Fatalf("result %s: %v", resp["result"], err)
	}
	if !*result.Success {
		if result.Model != nil || result.MsgCode == "" || result.MsgInfo == "" {
			t.Fatalf("failure without msg_code/msg_info or with a model: %s", body)
		}
		return nil, nil, result.MsgCode + ": " + result.MsgInfo
	}
	if result.Model == nil || result.Model.TotalCount == nil {
		t.Fatalf("success without model.total_count: %s", body)
	}
	p.total, p.pageSize, p.pageNo, p.elements = *result.Model.TotalCount, result.Model.PageSize, result.Model.PageNo, result.Model.Elements
	list := result.Model.Elements
	if !p.simplified && list != nil {
		var w map[string]json.RawMessage
		if err := json.Unmarshal(list, &w); err != nil || len(w) != 1 || w["tcp_predict_order_v_o"] == nil {
			t.Fatalf("wrapped elements %s", list)
		}
		list = w["tcp_predict_order_v_o"]
	}
	if list != nil {
		if err := json.Unmarshal(list, &p.orders); err != nil {
			t.Fatalf("elements %s: %v", list, err)
		}
	}
	return p, nil, ""
}

// ok sends a request that must succeed.
func (e *sandboxTestEnv) ok(t *testing.T, f url.Values) (*sandboxPage, []byte) {
	t.Helper()
	res, body := e.raw(t, http.MethodPost, f)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("HTTP %d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	p, apiErr, biz := sandboxParse(t, body)
	if p == nil {
		t.Fatalf("not a success: %+v %s", apiErr, biz)
	}
	return p, body
}

// walk pages a struct (built per page) to the end and returns the orders.
func (e *sandboxTestEnv) walk(t *testing.T, session string, size int, mk func(page, size int) string) ([]sandboxOrder, int64) {
	t.Helper()
	var out []sandboxOrder
	var total int64 = -1
	for page := 1; ; page++ {
		p, _ := e.ok(t, e.form(session, "hmac-sha256", mk(page, size), nil))
		if total >= 0 && p.total != total {
			t.Fatalf("total_count changed from %d to %d", total, p.total)
		}
		total = p.total
		if p.pageNo != int64(page) || p.pageSize != int64(size) {
			t.Fatalf("page_no/page_size echoed as %d/%d", p.pageNo, p.pageSize)
		}
		out = append(out, p.orders...)
		if len(p.orders) == 0 || int64(page*size) >= p.total {
			if int64(page*size) < p.total {
				t.Fatalf("page %d empty before total_count %d", page, p.total)
			}
			return out, total
		}
		if len(p.orders) != size {
			t.Fatalf("page %d has %d orders, want a full page", page, len(p.orders))
		}
	}
}

func sandboxCSTTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04:05", s, sandboxCST)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return tm
}

func TestSandboxSignMethodsAccepted(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(1, 50))
	for _, m := range []string{"md5", "hmac", "hmac-sha256"} {
		for _, hm := range []string{http.MethodGet, http.MethodPost} {
			t.Run(m+" "+hm, func(t *testing.T) {
				res, body := e.raw(t, hm, e.form(sandboxTestSession, m, sandboxWindowStruct(1, 5), nil))
				p, apiErr, biz := sandboxParse(t, body)
				if res.StatusCode != 200 || p == nil || len(p.orders) != 5 {
					t.Fatalf("HTTP %d, %+v %s: %s", res.StatusCode, apiErr, biz, body)
				}
				if len(p.requestID) == 0 {
					t.Fatal("no request_id")
				}
				// lower-case hex is accepted too (TOP compares case-insensitively)
				f := e.form(sandboxTestSession, m, sandboxWindowStruct(1, 5), nil)
				f.Set("sign", strings.ToLower(f.Get("sign")))
				if _, body := e.raw(t, hm, f); !bytes.Contains(body, []byte(`"success":true`)) {
					t.Fatalf("lower-case sign refused: %s", body)
				}
			})
		}
	}
}

func TestSandboxGatewayErrors(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(1, 50))
	now := e.srv.Clock().Now()
	ts := func(d time.Duration) func(url.Values) {
		return func(f url.Values) { f.Set("timestamp", now.Add(d).In(sandboxCST).Format("2006-01-02 15:04:05")) }
	}
	set := func(k, v string) func(url.Values) { return func(f url.Values) { f.Set(k, v) } }
	del := func(k string) func(url.Values) { return func(f url.Values) { f.Del(k) } }
	tests := []struct {
		name    string
		session string
		mod     func(url.Values)
		code    int
		subCode string
	}{
		{"wrong sign", sandboxTestSession, set("sign", strings.Repeat("A", 64)), 25, ""},
		{"signed with another secret", sandboxTestSession, func(f url.Values) { f.Set("sign", sandboxSign(f, "not-the-secret", "hmac-sha256")) }, 25, ""},
		{"missing sign", sandboxTestSession, func(f url.Values) { f.Set("sign", "") }, 24, ""},
		{"stale timestamp", sandboxTestSession, ts(-11 * time.Minute), 31, ""},
		{"future timestamp", sandboxTestSession, ts(11 * time.Minute), 31, ""},
		{"real-time timestamp far from the sandbox clock", sandboxTestSession, ts(-72 * time.Hour), 31, ""},
		{"timestamp layout", sandboxTestSession, set("timestamp", now.Format(time.RFC3339)), 31, ""},
		{"missing timestamp", sandboxTestSession, del("timestamp"), 30, ""},
		{"unknown app key", sandboxTestSession, set("app_key", "99999999"), 29, ""},
		{"missing app key", sandboxTestSession, del("app_key"), 28, ""},
		{"wrong session", "6102wrong-session", nil, 27, "invalid-sessionkey"},
		{"missing session", "", nil, 26, ""},
		{"missing method", sandboxTestSession, del("method"), 21, ""},
		{"wrong method", sandboxTestSession, set("method", "taobao.tbk.order.get"), 22, ""},
		{"xml format", sandboxTestSession, set("format", "xml"), 23, ""},
		{"no format", sandboxTestSession, del("format"), 23, ""},
		{"missing version", sandboxTestSession, del("v"), 32, ""},
		{"old version", sandboxTestSession, set("v", "1.0"), 33, ""},
		{"missing sign_method", sandboxTestSession, func(f url.Values) {
			f.Del("sign_method")
			f.Set("sign", sandboxSign(f, sandboxTestSecret, "md5"))
		}, 40, "isv.missing-parameter:sign_method"},
		{"unknown sign_method", sandboxTestSession, set("sign_method", "sha1"), 41, "isv.invalid-parameter:sign_method"},
		{"missing struct", sandboxTestSession, del("query_predict_order_request"), 40, "isv.missing-parameter:query_predict_order_request"},
		{"struct not JSON", sandboxTestSession, set("query_predict_order_request", "tcp_type=16"), 41, "isv.invalid-parameter:query_predict_order_request"},
		{"struct an array", sandboxTestSession, set("query_predict_order_request", "[1]"), 41, "isv.invalid-parameter:query_predict_order_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mod := tc.mod
			// most mutations happen before signing, so only the named check fails
			f := e.form(tc.session, "hmac-sha256", sandboxWindowStruct(1, 5), mod)
			res, body := e.raw(t, http.MethodPost, f)
			if res.StatusCode != 200 {
				t.Fatalf("HTTP %d", res.StatusCode)
			}
			_, apiErr, _ := sandboxParse(t, body)
			if apiErr == nil || apiErr.Code != tc.code || apiErr.SubCode != tc.subCode || apiErr.Msg == "" || apiErr.RequestID == "" {
				t.Fatalf("got %+v (%s), want code %d sub_code %q", apiErr, body, tc.code, tc.subCode)
			}
			if tc.session != "" && bytes.Contains(body, []byte(tc.session)) || bytes.Contains(body, []byte(sandboxTestSecret)) {
				t.Fatal("the answer echoes a credential")
			}
		})
	}
	// 9 minutes of skew is fine
	if p, _ := e.ok(t, e.form(sandboxTestSession, "md5", sandboxWindowStruct(1, 5), ts(-9*time.Minute))); len(p.orders) != 5 {
		t.Fatalf("%d orders", len(p.orders))
	}
	// other HTTP methods
	if res, _ := e.raw(t, http.MethodPut, url.Values{}); res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: HTTP %d", res.StatusCode)
	}
}

func TestSandboxDateHeaderShowsTheClock(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(1, 10))
	res, _ := e.raw(t, http.MethodPost, e.form(sandboxTestSession, "md5", sandboxWindowStruct(1, 5), nil))
	d, err := http.ParseTime(res.Header.Get("Date"))
	if err != nil || !d.Equal(e.srv.Clock().Now().Truncate(time.Second)) {
		t.Fatalf("Date %q (%v), want the sandbox clock %s", res.Header.Get("Date"), err, e.srv.Clock().Now())
	}
}

func TestSandboxBusinessErrors(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(1, 10))
	tests := []struct {
		name, structJSON, want string
	}{
		{"page_size 21", sandboxWindowStruct(1, 21), "page_size"},
		{"page_size 0", sandboxWindowStruct(1, 0), "page_size"},
		{"page_no 0", sandboxWindowStruct(0, 20), "page_no"},
		{"no tcp_type", sandboxStruct("start_time", `"2026-10-01 00:00:00"`, "end_time", `"2026-10-02 00:00:00"`, "page_size", "20", "page_no", "1"), "tcp_type"},
		{"no start_time", sandboxStruct("tcp_type", "16", "end_time", `"2026-10-02 00:00:00"`, "page_size", "20", "page_no", "1"), "start_time"},
		{"bad end_time", sandboxStruct("tcp_type", "16", "start_time", `"2026-10-01 00:00:00"`, "end_time", `"2026/10/02"`, "page_size", "20", "page_no", "1"), "end_time"},
		{"end before start", sandboxStruct("tcp_type", "16", "start_time", `"2026-10-02 00:00:00"`, "end_time", `"2026-10-01 00:00:00"`, "page_size", "20", "page_no", "1"), "end_time"},
		{"date_type 2", sandboxWindowStruct(1, 20, "date_type", "2"), "date_type"},
		{"order_status 1", sandboxWindowStruct(1, 20, "order_status", "1"), "order_status"},
		{"page_size text", sandboxWindowStruct(1, 20, "page_size", `"many"`), "page_size"},
		{"item_id object", sandboxWindowStruct(1, 20, "item_id", `{}`), "item_id"},
		{"biz_order_id fraction", sandboxWindowStruct(1, 20, "biz_order_id", `1.5`), "biz_order_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, simplify := range []bool{false, true} {
				f := e.form(sandboxTestSession, "hmac", tc.structJSON, func(f url.Values) {
					if simplify {
						f.Set("simplify", "true")
					}
				})
				_, body := e.raw(t, http.MethodPost, f)
				p, apiErr, biz := sandboxParse(t, body)
				if p != nil || apiErr != nil || !strings.HasPrefix(biz, "参数错误: ") || !strings.Contains(biz, tc.want) {
					t.Fatalf("got page %v, error %+v, failure %q; want a 参数错误 failure about %s", p, apiErr, biz, tc.want)
				}
				if wrapped := bytes.HasPrefix(body, []byte(`{"`+sandboxTestWrapper)); wrapped == simplify {
					t.Fatalf("simplify=%v but body %s", simplify, body)
				}
			}
		})
	}
}

func TestSandboxThrottle(t *testing.T) {
	cfg := sandboxTestConfig(1, 10)
	cfg.Faults = sandbox.Faults{ThrottleRate: 1}
	e := sandboxStart(t, cfg)
	_, body := e.raw(t, http.MethodPost, e.form(sandboxTestSession, "md5", sandboxWindowStruct(1, 5), nil))
	_, apiErr, _ := sandboxParse(t, body)
	want := sandboxError{Code: 7, Msg: "App Call Limited", SubCode: "accesscontrol.limited-by-api-access-count", SubMsg: "This ban will last for 1 more seconds"}
	if apiErr == nil || apiErr.RequestID == "" {
		t.Fatalf("got %s", body)
	}
	got := *apiErr
	got.RequestID = ""
	if got != want {
		t.Fatalf("throttle answer %+v, want %+v", got, want)
	}
	if st := e.srv.Stats("taobao-live"); st.Throttled != 1 || st.Requests != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// sandboxVisible lists the model's orders of book visible at at whose pay
// time (or receipt time, byReceipt) lies in [from, to], computed straight
// from the model.
func sandboxVisible(b *sandbox.Book, at, from, to time.Time, byReceipt bool) []string {
	var out []string
	for i := 0; i < b.Len(); i++ {
		o := b.Order(i)
		s, ok := o.At(at)
		if !ok {
			continue
		}
		tm := o.PaidAt()
		if byReceipt {
			tm = s.ReceivedAt
			if tm.IsZero() {
				continue
			}
		}
		if tm.Before(from) || tm.After(to) {
			continue
		}
		out = append(out, o.IDString())
	}
	return out
}

func TestSandboxPagingCoversEveryOrderOnce(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(7, 333))
	from := time.Date(2026, 10, 1, 0, 0, 0, 0, sandboxCST)
	to := time.Date(2026, 10, 31, 23, 59, 59, 0, sandboxCST)
	for _, acct := range []struct {
		session string
		book    int
	}{{sandboxTestSession, 0}, {sandboxTestSecond, 1}} {
		want := sandboxVisible(e.srv.Model().Books("taobao-live")[acct.book], e.srv.Clock().Now(), from, to, false)
		if len(want) < 300 {
			t.Fatalf("only %d visible orders", len(want))
		}
		for _, size := range []int{20, 7, 1} {
			orders, total := e.walk(t, acct.session, size, func(page, size int) string { return sandboxWindowStruct(page, size) })
			if total != int64(len(want)) {
				t.Fatalf("total_count %d, want %d", total, len(want))
			}
			var got []string
			var last time.Time
			for _, o := range orders {
				got = append(got, o.str(t, "biz_order_id"))
				paid := sandboxCSTTime(t, o.str(t, "order_paid_time"))
				if paid.Before(last) {
					t.Fatal("pages are not sorted by pay time")
				}
				last = paid
			}
			if !slices.Equal(got, want) {
				t.Fatalf("size %d: got %d orders, want %d (every visible order once, by pay time)", size, len(got), len(want))
			}
		}
	}
	// beyond the last page: an empty page that still reports total_count
	p, body := e.ok(t, e.form(sandboxTestSession, "md5", sandboxWindowStruct(1000, 20), nil))
	if len(p.orders) != 0 || p.total == 0 || p.elements != nil {
		t.Fatalf("page beyond the end: %s", body)
	}
}

func TestSandboxShapes(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(1, 40))
	simplify := func(f url.Values) { f.Set("simplify", "true") }
	p, body := e.ok(t, e.form(sandboxTestSession, "md5", sandboxWindowStruct(1, 3), simplify))
	if !p.simplified || len(p.orders) != 3 || !bytes.HasPrefix(body, []byte(`{"result":{"model":{"total_count":`)) || p.elements[0] != '[' {
		t.Fatalf("simplified page: %s", body)
	}
	p, body = e.ok(t, e.form(sandboxTestSession, "md5", sandboxWindowStruct(1, 3), nil))
	if p.simplified || len(p.orders) != 3 || !bytes.HasPrefix(body, []byte(`{"`+sandboxTestWrapper+`":{"result":{"model":`)) {
		t.Fatalf("wrapped page: %s", body)
	}
	empty := sandboxWindowStruct(1, 3, "tcp_type", "17")
	if p, body = e.ok(t, e.form(sandboxTestSession, "md5", empty, simplify)); p.total != 0 || string(p.elements) != "[]" {
		t.Fatalf("simplified empty page: %s", body)
	}
	if p, body = e.ok(t, e.form(sandboxTestSession, "md5", empty, nil)); p.total != 0 || p.elements != nil {
		t.Fatalf("wrapped empty page must omit elements: %s", body)
	}
	// the package's decoder reads both shapes to the same orders
	for _, mod := range []func(url.Values){nil, simplify} {
		_, body := e.ok(t, e.form(sandboxTestSession, "md5", sandboxWindowStruct(2, 4), mod))
		dp, err := taobaolive.DecodePage(body)
		if err != nil || len(dp.Orders) != 4 || dp.TotalCount == 0 {
			t.Fatalf("DecodePage: %v", err)
		}
	}
}

// sandboxYuan parses the sandbox's yuan strings (two decimals, or "0").
func sandboxYuan(t *testing.T, s string) int64 {
	t.Helper()
	if s == "0" {
		return 0
	}
	i, f, ok := strings.Cut(s, ".")
	if !ok || len(f) != 2 {
		t.Fatalf("amount %q: want two decimals", s)
	}
	n, err := strconv.ParseInt(i+f, 10, 64)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return n
}

// sandboxTOPStatus is the test's own reading of order_status.
var sandboxTOPStatus = map[string]events.Status{
	"2": events.StatusPaid, "订单已支付": events.StatusPaid,
	"3": events.StatusReceived, "订单已确认收货": events.StatusReceived, "已结束": events.StatusReceived,
	"4": events.StatusCancelled, "订单售中退款关闭": events.StatusCancelled,
	"5": events.StatusRefunded, "订单有退款": events.StatusRefunded,
}

func TestSandboxWireMatchesModel(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(3, 400))
	book := e.srv.Model().Books("taobao-live")[0]
	now := e.srv.Clock().Now()
	orders, _ := e.walk(t, sandboxTestSession, 20, func(page, size int) string { return sandboxWindowStruct(page, size) })
	seen := map[string]int{}
	for _, w := range orders {
		id, err := strconv.ParseUint(w.str(t, "biz_order_id"), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		o := book.Lookup(id)
		s, ok := o.At(now)
		if !ok {
			t.Fatalf("order %d served but not visible", id)
		}
		status := w.str(t, "order_status")
		if _, err := strconv.Atoi(status); err == nil {
			seen["numeric status"]++
		} else {
			seen["label status"]++
		}
		if status == "已结束" {
			seen["已结束"]++
		}
		var wantStatus events.Status
		switch {
		case s.Status == events.StatusPaid:
			wantStatus = events.StatusPaid
		case s.Status == events.StatusReceived || s.Status == events.StatusSettled:
			wantStatus = events.StatusReceived
		case s.Status == events.StatusRefunded && s.ReceivedAt.IsZero():
			wantStatus = events.StatusCancelled
		default:
			wantStatus = events.StatusRefunded
		}
		if sandboxTOPStatus[status] != wantStatus {
			t.Fatalf("order %d in %s rendered as %q", id, s.Status, status)
		}
		seen[string(wantStatus)]++
		creator, live, fee := s.Line(events.RoleCreator), s.Line(events.RoleLiveChannel), s.Line(events.RolePlatformFee)
		amounts := map[string]int64{
			"order_amount": o.PaidFen, "order_commission_amount": s.EstimatedBaseFen, "predict_amount": creator.EstimatedFen,
			"predict_total_amount": creator.EstimatedFen + live.EstimatedFen, "out_ad_user_fee": fee.EstimatedFen,
		}
		if s.Status == events.StatusRefunded {
			amounts["refund_amount"] = o.PaidFen
		}
		for k, v := range amounts {
			if got := sandboxYuan(t, w.str(t, k)); got != v {
				t.Fatalf("order %d %s = %d fen, want %d", id, k, got, v)
			}
		}
		if s.Status != events.StatusRefunded && w.str(t, "refund_amount") != "0" {
			t.Fatalf("order %d refund_amount %q", id, w.str(t, "refund_amount"))
		}
		if got, want := w.str(t, "partner_predict_amount"), strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%d.%02d", o.CreatorRateBP/100, o.CreatorRateBP%100), "0"), ".")+"%"; got != want {
			t.Fatalf("order %d partner_predict_amount %q, want %q", id, got, want)
		}
		if string(w["item_id"]) != o.Product.ID {
			t.Fatalf("item_id %s: want the bare number %s", w["item_id"], o.Product.ID)
		}
		if string(w["buy_amount"]) != strconv.FormatInt(o.Quantity, 10) {
			t.Fatalf("buy_amount %s", w["buy_amount"])
		}
		wall := func(tm time.Time) string { return tm.In(sandboxCST).Format("2006-01-02 15:04:05") }
		if w.str(t, "order_paid_time") != wall(o.PaidAt()) || w.str(t, "modify_time") != wall(s.UpdatedAt) {
			t.Fatalf("order %d times %q %q", id, w.str(t, "order_paid_time"), w.str(t, "modify_time"))
		}
		end, refundEnd := w.str(t, "end_time"), w.str(t, "refund_end_time")
		var wantEnd, wantRefundEnd string
		switch wantStatus {
		case events.StatusReceived:
			wantEnd = wall(s.ReceivedAt)
		case events.StatusCancelled:
			wantEnd = wall(s.RefundedAt)
		case events.StatusRefunded:
			wantEnd, wantRefundEnd = wall(s.ReceivedAt), wall(s.RefundedAt)
		}
		if end != wantEnd || refundEnd != wantRefundEnd {
			t.Fatalf("order %d (%s): end_time %q refund_end_time %q, want %q %q", id, wantStatus, end, refundEnd, wantEnd, wantRefundEnd)
		}
		if _, present := w["end_time"]; !present {
			seen["end_time omitted"]++
		} else if end == "" {
			seen["end_time empty"]++
		}
		if w.str(t, "ad_user_nick") != o.Author.Nickname || w.str(t, "item_title") != o.Product.Name || w.str(t, "rid") != taobaolivesandbox.RID(o) {
			t.Fatalf("order %d descriptive fields", id)
		}
		var ext map[string]any
		if json.Unmarshal([]byte(w.str(t, "extend_info")), &ext) == nil {
			seen["extend_info JSON"]++
		} else {
			seen["extend_info other"]++
		}
	}
	for _, k := range []string{"numeric status", "label status", "已结束", "paid", "received", "cancelled", "refunded",
		"end_time omitted", "end_time empty", "extend_info JSON", "extend_info other"} {
		if seen[k] == 0 {
			t.Errorf("no order with %s among %d (%v)", k, len(orders), seen)
		}
	}
}

func TestSandboxReceiptTimeWindow(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(5, 500))
	// the receipt look-back covers every generated order
	for _, b := range e.srv.Model().Books("taobao-live") {
		for i := 0; i < b.Len(); i++ {
			o := b.Order(i)
			for _, tr := range o.Schedule() {
				if tr.Status == events.StatusReceived && tr.At.Sub(o.PaidAt()) > taobaolivesandbox.ReceiptLookback {
					t.Fatalf("order %s is received %s after payment, beyond the look-back", o.IDString(), tr.At.Sub(o.PaidAt()))
				}
			}
		}
	}
	from := time.Date(2026, 10, 10, 0, 0, 0, 0, sandboxCST)
	to := time.Date(2026, 10, 16, 23, 59, 59, 0, sandboxCST)
	book := e.srv.Model().Books("taobao-live")[0]
	want := sandboxVisible(book, e.srv.Clock().Now(), from, to, true)
	if len(want) < 20 {
		t.Fatalf("only %d receipts in the window", len(want))
	}
	orders, total := e.walk(t, sandboxTestSession, 20, func(page, size int) string {
		return sandboxStruct("tcp_type", "16", "start_time", `"2026-10-10 00:00:00"`, "end_time", `"2026-10-16 23:59:59"`,
			"page_size", strconv.Itoa(size), "page_no", strconv.Itoa(page), "date_type", "1")
	})
	var got []string
	var last time.Time
	for _, o := range orders {
		got = append(got, o.str(t, "biz_order_id"))
		end := sandboxCSTTime(t, o.str(t, "end_time"))
		if end.Before(from) || end.After(to) || end.Before(last) {
			t.Fatalf("receipt %s outside the window or out of order", end)
		}
		last = end
		if st := sandboxTOPStatus[o.str(t, "order_status")]; st != events.StatusReceived && st != events.StatusRefunded {
			t.Fatalf("status %q in a receipt-time query", o.str(t, "order_status"))
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if total != int64(len(want)) || !slices.Equal(got, want) {
		t.Fatalf("got %d orders (total %d), want %d", len(got), total, len(want))
	}
}

func TestSandboxFilters(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(2, 300))
	all, _ := e.walk(t, sandboxTestSession, 20, func(page, size int) string { return sandboxWindowStruct(page, size) })
	pick := all[17]
	tests := []struct {
		name  string
		kv    []string
		match func(o sandboxOrder) bool
	}{
		{"order_status 4", []string{"order_status", "4"}, func(o sandboxOrder) bool {
			return sandboxTOPStatus[o.str(t, "order_status")] == events.StatusCancelled
		}},
		{"order_status 3", []string{"order_status", "3"}, func(o sandboxOrder) bool {
			return sandboxTOPStatus[o.str(t, "order_status")] == events.StatusReceived
		}},
		{"biz_order_id as a number", []string{"biz_order_id", pick.str(t, "biz_order_id")}, func(o sandboxOrder) bool {
			return o.str(t, "biz_order_id") == pick.str(t, "biz_order_id")
		}},
		{"biz_order_id as a string", []string{"biz_order_id", strconv.Quote(pick.str(t, "biz_order_id"))}, func(o sandboxOrder) bool {
			return o.str(t, "biz_order_id") == pick.str(t, "biz_order_id")
		}},
		{"item_id", []string{"item_id", string(pick["item_id"])}, func(o sandboxOrder) bool { return string(o["item_id"]) == string(pick["item_id"]) }},
		{"rid", []string{"rid", pick.str(t, "rid")}, func(o sandboxOrder) bool { return o.str(t, "rid") == pick.str(t, "rid") }},
		{"ad_user_nick", []string{"ad_user_nick", strconv.Quote(pick.str(t, "ad_user_nick"))}, func(o sandboxOrder) bool {
			return o.str(t, "ad_user_nick") == pick.str(t, "ad_user_nick")
		}},
		{"tcp_type 17", []string{"tcp_type", "17"}, func(sandboxOrder) bool { return false }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []string
			for _, o := range all {
				if tc.match(o) {
					want = append(want, o.str(t, "biz_order_id"))
				}
			}
			got, _ := e.walk(t, sandboxTestSession, 20, func(page, size int) string { return sandboxWindowStruct(page, size, tc.kv...) })
			var ids []string
			for _, o := range got {
				ids = append(ids, o.str(t, "biz_order_id"))
			}
			if !slices.Equal(ids, want) {
				t.Fatalf("got %d orders, want %d", len(ids), len(want))
			}
			if tc.name != "tcp_type 17" && len(want) == 0 {
				t.Fatal("the filter matches nothing; the test would prove nothing")
			}
		})
	}
}

func TestSandboxSameSeedByteIdentical(t *testing.T) {
	a := sandboxStart(t, sandboxTestConfig(9, 200))
	b := sandboxStart(t, sandboxTestConfig(9, 200))
	c := sandboxStart(t, sandboxTestConfig(10, 200))
	for page := 1; page <= 3; page++ {
		fa := a.form(sandboxTestSession, "md5", sandboxWindowStruct(page, 20), nil)
		_, ba := a.raw(t, http.MethodPost, fa)
		_, bb := b.raw(t, http.MethodPost, fa)
		_, bc := c.raw(t, http.MethodPost, fa)
		if !bytes.Equal(ba, bb) {
			t.Fatalf("page %d differs between two sandboxes with the same seed", page)
		}
		if bytes.Equal(ba, bc) {
			t.Fatalf("page %d is the same for another seed", page)
		}
	}
}

// sandboxRawSum sums raw page bodies the test's own way: latest state per
// order (by modify_time), status from order_status, paid fen from
// order_amount, creator from predict_amount, service_provider from
// out_ad_user_fee.
func sandboxRawSum(t *testing.T, bodies [][]byte) summary.Summary {
	t.Helper()
	type st struct {
		modify  string
		status  events.Status
		paid    int64
		creator int64
		sp      int64
	}
	latest := map[string]st{}
	for _, body := range bodies {
		p, apiErr, biz := sandboxParse(t, body)
		if p == nil {
			t.Fatalf("a walked page is not a success: %+v %s", apiErr, biz)
		}
		for _, o := range p.orders {
			s := st{
				modify: o.str(t, "modify_time"), status: sandboxTOPStatus[o.str(t, "order_status")],
				paid: sandboxYuan(t, o.str(t, "order_amount")), creator: sandboxYuan(t, o.str(t, "predict_amount")),
				sp: sandboxYuan(t, o.str(t, "out_ad_user_fee")),
			}
			if s.status == "" {
				t.Fatalf("order_status %q", o.str(t, "order_status"))
			}
			id := o.str(t, "biz_order_id")
			if cur, ok := latest[id]; !ok || s.modify >= cur.modify {
				latest[id] = s
			}
		}
	}
	orders := map[events.Status]*summary.OrderRow{}
	lines := map[[2]string]*summary.CommissionRow{}
	for _, s := range latest {
		r := orders[s.status]
		if r == nil {
			r = &summary.OrderRow{Platform: "taobao-live", Status: s.status}
			orders[s.status] = r
		}
		r.Orders++
		r.PaidFen += s.paid
		for _, l := range []struct {
			role events.Role
			fen  int64
		}{{events.RoleCreator, s.creator}, {events.RoleServiceProvider, s.sp}} {
			k := [2]string{string(s.status), string(l.role)}
			c := lines[k]
			if c == nil {
				c = &summary.CommissionRow{Platform: "taobao-live", Status: s.status, Role: l.role}
				lines[k] = c
			}
			c.Lines++
			c.EstimatedFen += l.fen
		}
	}
	var out summary.Summary
	for _, r := range orders {
		out.Orders = append(out.Orders, *r)
	}
	for _, r := range lines {
		out.Commissions = append(out.Commissions, *r)
	}
	out.Normalize()
	return out
}

// TestSandboxTruthEqualsPages walks every account with the package's Fetcher
// (real-time timestamps: the fetcher must correct its clock to the
// sandbox's) and checks the truth equals both the normalized events'
// summary and the test's own sum over the raw pages, at two clock times.
func TestSandboxTruthEqualsPages(t *testing.T) {
	cfg := sandboxTestConfig(11, 400)
	e := sandboxStart(t, cfg)
	base := strings.TrimSuffix(e.url, taobaolivesandbox.Path)
	for _, clock := range []time.Time{
		time.Date(2026, 10, 17, 12, 0, 0, 0, sandboxCST), // orders mid-life
		cfg.Clock,
	} {
		t.Run(clock.Format(time.DateOnly), func(t *testing.T) {
			e.srv.Clock().Set(clock)
			var bodies [][]byte
			var envs []events.Envelope
			for _, acct := range cfg.Accounts {
				f, err := taobaolive.New().NewFetcher(vendors.SourceConfig{BaseURL: base, Account: acct.Name,
					Credentials: acct.Credentials, RatePerSecond: 10000})
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range vendors.SplitWindow(cfg.From, clock, taobaolive.MaxWindow, "pay") {
					err := f.Walk(context.Background(), w, func(_ context.Context, p vendors.Page) error {
						bodies = append(bodies, p.Body)
						evs, err := taobaolive.Normalize(events.RawPage{Vendor: "taobao-live", Endpoint: taobaolive.Endpoint,
							Account: acct.Name, Cursor: p.Cursor, Body: p.Body})
						envs = append(envs, evs...)
						return err
					})
					if err != nil {
						t.Fatal(err)
					}
				}
			}
			truth := e.srv.Truth("taobao-live").Summary
			if truth.TotalOrders() < 300 {
				t.Fatalf("truth has %d orders", truth.TotalOrders())
			}
			got, err := summary.FromEvents(envs)
			if err != nil {
				t.Fatal(err)
			}
			if d := summary.Diff(truth, got); len(d) > 0 {
				t.Fatalf("normalized events differ from the truth:\n%s", strings.Join(d, "\n"))
			}
			if d := summary.Diff(truth, sandboxRawSum(t, bodies)); len(d) > 0 {
				t.Fatalf("the raw pages differ from the truth:\n%s", strings.Join(d, "\n"))
			}
			// TOP semantics: no settled orders, no settled fen, two roles
			for _, r := range truth.Commissions {
				if r.Status == events.StatusSettled || r.SettledFen != 0 || (r.Role != events.RoleCreator && r.Role != events.RoleServiceProvider) {
					t.Fatalf("truth row %+v", r)
				}
			}
		})
	}
}
