package taobaolive

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

const (
	testAppKey    = "23456789"
	testAppSecret = "s3cr3t-app-secret+/="
	testSession   = "6100e2f7a8b9sess1on-key"
)

var testCreds = map[string]string{CredAppKey: testAppKey, CredAppSecret: testAppSecret, CredSession: testSession}

// testNow is the fixed local clock of the test fetchers.
var testNow = time.Date(2026, 10, 9, 12, 30, 45, 0, time.UTC)

// verifySign recomputes a request's signature independently of Sign: every
// form value except sign, sorted, concatenated, hashed as documented.
func verifySign(form url.Values, secret string) bool {
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != "sign" && form.Get(k) != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var s strings.Builder
	for _, k := range keys {
		s.WriteString(k + form.Get(k))
	}
	var h hash.Hash
	switch form.Get("sign_method") {
	case "md5":
		h = md5.New()
		h.Write([]byte(secret + s.String() + secret))
	case "hmac":
		h = hmac.New(md5.New, []byte(secret))
		h.Write([]byte(s.String()))
	case "hmac-sha256":
		h = hmac.New(sha256.New, []byte(secret))
		h.Write([]byte(s.String()))
	default:
		return false
	}
	return strings.ToUpper(hex.EncodeToString(h.Sum(nil))) == form.Get("sign")
}

// fakeTOP is a tiny TOP gateway: it checks the signature, app key and
// session, pages its orders by page_no/page_size and records every request.
// Hooks script failures and odd answers.
type fakeTOP struct {
	orders []string

	// clock, if set, is the gateway clock: timestamps more than 10 minutes
	// off are refused with code 31 and the Date header shows it.
	clock func() time.Time
	// capSize, if > 0, is the largest page size the gateway uses (and reports).
	capSize int
	// claimTotal, if > 0, replaces total_count; omitTotal leaves it out.
	claimTotal int
	omitTotal  bool
	// before, if set, may answer a request itself (return true).
	before func(n int, w http.ResponseWriter, r *http.Request) bool

	mu    sync.Mutex
	forms []url.Values
	reqs  []*http.Request
}

func newFakeTOP(n int) *fakeTOP {
	f := &fakeTOP{}
	for i := range n {
		f.orders = append(f.orders, strconv.FormatInt(4737996432465700000+int64(i), 10))
	}
	return f
}

func (f *fakeTOP) requests() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.forms)
}

func topError(w http.ResponseWriter, code int, msg, sub, subMsg string) {
	fmt.Fprintf(w, `{"error_response":{"code":%d,"msg":%q,"sub_code":%q,"sub_msg":%q,"request_id":"e1"}}`, code, msg, sub, subMsg)
}

func (f *fakeTOP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.clock != nil {
		w.Header().Set("Date", f.clock().UTC().Format(http.TimeFormat))
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	f.mu.Lock()
	f.forms = append(f.forms, r.PostForm)
	f.reqs = append(f.reqs, r)
	n := len(f.forms)
	f.mu.Unlock()
	if f.before != nil && f.before(n, w, r) {
		return
	}
	form := r.PostForm
	if r.Method != http.MethodPost || r.URL.Path != "/router/rest" || len(r.URL.RawQuery) > 0 {
		http.Error(w, "want POST /router/rest with a form body", 404)
		return
	}
	if form.Get("app_key") != testAppKey {
		topError(w, 29, "Invalid app Key", "", "")
		return
	}
	if !verifySign(form, testAppSecret) {
		topError(w, 25, "Invalid signature", "", "")
		return
	}
	if f.clock != nil {
		ts, err := time.ParseInLocation("2006-01-02 15:04:05", form.Get("timestamp"), time.FixedZone("", 8*3600))
		if d := ts.Sub(f.clock()); err != nil || d > 10*time.Minute || d < -10*time.Minute {
			topError(w, 31, "Invalid timestamp", "", "")
			return
		}
	}
	if form.Get("session") != testSession {
		// a careless gateway echoes what it got
		topError(w, 27, "Invalid session", "invalid-sessionkey", "session "+form.Get("session")+" of app "+form.Get("app_key")+" is invalid")
		return
	}
	var q struct {
		PageSize int `json:"page_size"`
		PageNo   int `json:"page_no"`
	}
	if err := json.Unmarshal([]byte(form.Get("query_predict_order_request")), &q); err != nil || q.PageNo < 1 || q.PageSize < 1 || q.PageSize > 20 {
		fmt.Fprint(w, `{"`+ResponseKey+`":{"result":{"success":false,"msg_code":"参数错误","msg_info":"bad struct"}}}`)
		return
	}
	size := q.PageSize
	if f.capSize > 0 && size > f.capSize {
		size = f.capSize
	}
	from := min((q.PageNo-1)*size, len(f.orders))
	to := min(from+size, len(f.orders))
	var items []string
	for _, id := range f.orders[from:to] {
		items = append(items, fmt.Sprintf(`{"biz_order_id":%q,"order_status":"2","order_amount":"1.00","order_paid_time":"2026-10-01 10:00:00","modify_time":"2026-10-01 10:00:05"}`, id))
	}
	total := len(f.orders)
	if f.claimTotal > 0 {
		total = f.claimTotal
	}
	totalField := fmt.Sprintf(`"total_count":%d,`, total)
	if f.omitTotal {
		totalField = ""
	}
	fmt.Fprintf(w, `{"%s":{"result":{"model":{%s"page_size":%d,"page_no":%d,"elements":{"tcp_predict_order_v_o":[%s]}},"success":true,"msg_code":"","msg_info":""},"request_id":"r%d"}}`,
		ResponseKey, totalField, size, q.PageNo, strings.Join(items, ","), n)
}

// fastCore lifts the rate limit and shortens backoff for tests.
var fastCore = vendorstest.FastCore

var testWindow = vendors.Window{
	Start:    time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC),
	End:      time.Date(2026, 10, 8, 0, 0, 0, 0, time.UTC),
	TimeType: "pay",
}

func newTestFetcher(t *testing.T, baseURL string, mod func(*vendors.SourceConfig)) *Fetcher {
	t.Helper()
	cfg := vendors.SourceConfig{BaseURL: baseURL, Account: "demo", Credentials: maps(testCreds)}
	return vendorstest.Fetcher(t, cfg, mod, &client.Hooks{Tune: fastCore, Now: func() time.Time { return testNow }}, fetcherWith)
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestWalkPaging(t *testing.T) {
	tests := []struct {
		name        string
		orders      int
		pageSize    int
		capSize     int
		claimTotal  int
		omitTotal   bool
		wantRecords []int
	}{
		{name: "45 orders", orders: 45, wantRecords: []int{20, 20, 5}},
		{name: "40 orders end exactly at total_count", orders: 40, wantRecords: []int{20, 20}},
		{name: "no orders", orders: 0, wantRecords: []int{0}},
		{name: "page size 15", orders: 31, pageSize: 15, wantRecords: []int{15, 15, 1}},
		{name: "gateway caps the page size", orders: 25, capSize: 10, wantRecords: []int{10, 10, 5}},
		{name: "total_count larger than the data ends on an empty page", orders: 30, claimTotal: 100, wantRecords: []int{20, 10, 0}},
		{name: "no total_count ends on a short page", orders: 45, omitTotal: true, wantRecords: []int{20, 20, 5}},
		{name: "no total_count ends on an empty page", orders: 40, omitTotal: true, wantRecords: []int{20, 20, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeTOP(tc.orders)
			fake.capSize, fake.claimTotal, fake.omitTotal = tc.capSize, tc.claimTotal, tc.omitTotal
			srv := httptest.NewServer(fake)
			defer srv.Close()
			f := newTestFetcher(t, srv.URL, func(c *vendors.SourceConfig) { c.PageSize = tc.pageSize })
			pages, err := vendorstest.WalkAll(context.Background(), f, testWindow)
			if err != nil {
				t.Fatal(err)
			}
			var records []int
			seen := map[string]bool{}
			for i, p := range pages {
				records = append(records, p.Records)
				if p.Cursor != strconv.Itoa(i+1) || p.HTTPStatus != 200 || p.Params != nil {
					t.Fatalf("page %d: cursor %q status %d params %v", i, p.Cursor, p.HTTPStatus, p.Params)
				}
				dp, err := DecodePage(p.Body)
				if err != nil || len(dp.Orders) != p.Records {
					t.Fatalf("page %d body: %v", i, err)
				}
				for _, o := range dp.Orders {
					if seen[string(o.BizOrderID)] {
						t.Fatalf("order %s twice", o.BizOrderID)
					}
					seen[string(o.BizOrderID)] = true
				}
			}
			if !slices.Equal(records, tc.wantRecords) {
				t.Fatalf("records per page %v, want %v", records, tc.wantRecords)
			}
			if len(seen) != tc.orders {
				t.Fatalf("walked %d orders, want %d", len(seen), tc.orders)
			}
			for i, form := range fake.requests() {
				var q map[string]any
				if err := json.Unmarshal([]byte(form.Get("query_predict_order_request")), &q); err != nil {
					t.Fatal(err)
				}
				if q["page_no"] != float64(i+1) {
					t.Fatalf("request %d page_no %v", i, q["page_no"])
				}
			}
		})
	}
}

func TestRequestForm(t *testing.T) {
	cst := time.FixedZone("", 8*3600)
	tests := []struct {
		name     string
		params   map[string]string
		window   vendors.Window
		wantJSON string
		method   string
	}{
		{
			name:     "defaults",
			window:   testWindow,
			wantJSON: `{"tcp_type":16,"start_time":"2026-10-01 08:00:00","end_time":"2026-10-08 08:00:00","page_size":20,"page_no":1,"date_type":0,"order_status":-1}`,
			method:   "hmac-sha256",
		},
		{
			name: "every param, confirm window",
			params: map[string]string{"sign_method": "md5", "tcp_type": "17", "date_type": "0", "order_status": "5", "item_id": "712345678901234567",
				"rid": "123456", "biz_order_id": "4737996432465788975", "ad_user_nick": "小鹿 <好物>&\"分享\""},
			window: vendors.Window{Start: time.Date(2026, 10, 1, 0, 0, 0, 0, cst), End: time.Date(2026, 10, 2, 23, 59, 59, 999, cst), TimeType: "confirm"},
			wantJSON: `{"tcp_type":17,"start_time":"2026-10-01 00:00:00","end_time":"2026-10-02 23:59:59","page_size":20,"page_no":1,"date_type":1,"order_status":5,` +
				`"item_id":712345678901234567,"rid":123456,"biz_order_id":4737996432465788975,"ad_user_nick":"小鹿 <好物>&\"分享\""}`,
			method: "md5",
		},
		{
			name:     "configured time_type without window time type",
			params:   map[string]string{"time_type": "confirm", "date_type": "1"},
			window:   vendors.Window{Start: testWindow.Start, End: testWindow.End},
			wantJSON: `{"tcp_type":16,"start_time":"2026-10-01 08:00:00","end_time":"2026-10-08 08:00:00","page_size":20,"page_no":1,"date_type":1,"order_status":-1}`,
			method:   "hmac-sha256",
		},
		{
			name:     "window time type overrides the configured one",
			params:   map[string]string{"time_type": "confirm"},
			window:   testWindow,
			wantJSON: `{"tcp_type":16,"start_time":"2026-10-01 08:00:00","end_time":"2026-10-08 08:00:00","page_size":20,"page_no":1,"date_type":0,"order_status":-1}`,
			method:   "hmac-sha256",
		},
		{
			name:     "configured date_type without window time type",
			params:   map[string]string{"date_type": "1", "sign_method": "hmac"},
			window:   vendors.Window{Start: testWindow.Start, End: testWindow.End},
			wantJSON: `{"tcp_type":16,"start_time":"2026-10-01 08:00:00","end_time":"2026-10-08 08:00:00","page_size":20,"page_no":1,"date_type":1,"order_status":-1}`,
			method:   "hmac",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeTOP(3)
			srv := httptest.NewServer(fake)
			defer srv.Close()
			f := newTestFetcher(t, srv.URL, func(c *vendors.SourceConfig) { c.Params = tc.params })
			if _, err := vendorstest.WalkAll(context.Background(), f, tc.window); err != nil {
				t.Fatal(err)
			}
			forms := fake.requests()
			if len(forms) != 1 {
				t.Fatalf("%d requests", len(forms))
			}
			form := forms[0]
			want := map[string]string{
				"method": Method, "app_key": testAppKey, "session": testSession, "v": "2.0", "format": "json",
				"sign_method": tc.method, "timestamp": "2026-10-09 20:30:45", "query_predict_order_request": tc.wantJSON,
			}
			for k, v := range want {
				if form.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, form.Get(k), v)
				}
			}
			if len(form) != len(want)+1 || form.Get("sign") == "" {
				t.Errorf("form has %d fields (%v), want %d plus sign", len(form), form, len(want))
			}
			if !verifySign(form, testAppSecret) {
				t.Error("signature does not verify")
			}
			if _, ok := form[CredAppSecret]; ok {
				t.Error("the app secret was sent")
			}
			r := fake.reqs[0]
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

func TestBaseURL(t *testing.T) {
	vendorstest.Endpoints(t, map[string]string{
		"":                                      "https://eco.taobao.com/router/rest",
		"https://gw.api.taobao.com":             "https://gw.api.taobao.com/router/rest",
		"https://gw.api.taobao.com/router/rest": "https://gw.api.taobao.com/router/rest",
		"http://127.0.0.1:8700/":                "http://127.0.0.1:8700/router/rest",
		"http://proxy/top/":                     "http://proxy/top/router/rest",
	}, vendors.SourceConfig{Credentials: maps(testCreds)}, NewFetcher, func(f *Fetcher) string { return f.endpoint })
}

func TestNewFetcherRejects(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*vendors.SourceConfig)
		want string
	}{
		{"missing session", func(c *vendors.SourceConfig) { delete(c.Credentials, CredSession) }, `missing credential "session"`},
		{"blank secret", func(c *vendors.SourceConfig) { c.Credentials[CredAppSecret] = " " }, `missing credential "app_secret"`},
		{"unknown credential", func(c *vendors.SourceConfig) { c.Credentials["appsecret"] = "x" }, `unknown credential "appsecret"`},
		{"bad URL", func(c *vendors.SourceConfig) { c.BaseURL = "ftp://x" }, "base URL"},
		{"URL with query", func(c *vendors.SourceConfig) { c.BaseURL = "https://x/?a=1" }, "base URL"},
		{"URL with user info", func(c *vendors.SourceConfig) { c.BaseURL = "https://" + testSession + ":" + testAppSecret + "@x/" }, "base URL"},
		{"URL with secret in path", func(c *vendors.SourceConfig) { c.BaseURL = "https://x/" + testAppSecret + "?q" }, "base URL"},
		{"page size", func(c *vendors.SourceConfig) { c.PageSize = 21 }, "page size 21"},
		{"negative page size", func(c *vendors.SourceConfig) { c.PageSize = -1 }, "page size -1"},
		{"unknown param", func(c *vendors.SourceConfig) { c.Params = map[string]string{"page_no": "2"} }, `unknown param "page_no"`},
		{"empty param", func(c *vendors.SourceConfig) { c.Params = map[string]string{"rid": " "} }, "param rid: empty value"},
		{"sign method", func(c *vendors.SourceConfig) { c.Params = map[string]string{"sign_method": "sha1"} }, "param sign_method"},
		{"date type", func(c *vendors.SourceConfig) { c.Params = map[string]string{"date_type": "2"} }, "param date_type"},
		{"order status", func(c *vendors.SourceConfig) { c.Params = map[string]string{"order_status": "1"} }, "param order_status"},
		{"tcp type", func(c *vendors.SourceConfig) { c.Params = map[string]string{"tcp_type": "x"} }, "param tcp_type"},
		{"time type", func(c *vendors.SourceConfig) { c.Params = map[string]string{"time_type": "update"} }, "param time_type"},
		{"date and time type disagree", func(c *vendors.SourceConfig) { c.Params = map[string]string{"time_type": "pay", "date_type": "1"} }, "disagree"},
		{"biz order id text", func(c *vendors.SourceConfig) { c.Params = map[string]string{"biz_order_id": "12a"} }, "param biz_order_id"},
		{"biz order id overflow", func(c *vendors.SourceConfig) { c.Params = map[string]string{"biz_order_id": "99999999999999999999"} }, "param biz_order_id"},
		{"item id zero", func(c *vendors.SourceConfig) { c.Params = map[string]string{"item_id": "0"} }, "param item_id"},
		{"secret as param value", func(c *vendors.SourceConfig) { c.Params = map[string]string{"rid": testAppSecret} }, "param rid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := vendors.SourceConfig{Credentials: maps(testCreds)}
			tc.mod(&cfg)
			_, err := NewFetcher(cfg)
			vendorstest.ErrContains(t, err, tc.want)
			for _, s := range []string{testAppSecret, testSession} {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error contains a credential: %v", err)
				}
			}
		})
	}
	// every param accepted
	_, err := NewFetcher(vendors.SourceConfig{Credentials: maps(testCreds), Params: map[string]string{
		"sign_method": "hmac", "tcp_type": "16", "date_type": "1", "order_status": "-1", "item_id": "1", "rid": "2",
		"biz_order_id": "9223372036854775807", "ad_user_nick": "x"}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWalkRejectsWindow(t *testing.T) {
	fake := newFakeTOP(1)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	f := newTestFetcher(t, srv.URL, nil)
	s := testWindow.Start
	for _, tc := range []struct {
		name string
		w    vendors.Window
		want string
	}{
		{"end before start", vendors.Window{Start: s, End: s.Add(-time.Hour)}, "not after start"},
		{"empty", vendors.Window{Start: s, End: s.Add(999 * time.Millisecond)}, "not after start"},
		{"too long", vendors.Window{Start: s, End: s.Add(MaxWindow + time.Second)}, "spans more than"},
		{"update time type", vendors.Window{Start: s, End: s.Add(time.Hour), TimeType: "update"}, `time type "update"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := vendorstest.WalkAll(context.Background(), f, tc.w)
			if !errors.Is(err, client.ErrPermanent) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrPermanent containing %q", err, tc.want)
			}
		})
	}
	if n := len(fake.requests()); n != 0 {
		t.Fatalf("%d requests for invalid windows", n)
	}
	// exactly MaxWindow is fine
	if _, err := vendorstest.WalkAll(context.Background(), f, vendors.Window{Start: s, End: s.Add(MaxWindow)}); err != nil {
		t.Fatal(err)
	}
}

func TestClassify(t *testing.T) {
	f := newTestFetcher(t, "http://127.0.0.1:1", nil)
	tests := []struct {
		name       string
		body       string
		want       error
		retryAfter time.Duration
		text       []string
	}{
		{"throttle api count", `{"error_response":{"code":7,"msg":"App Call Limited","sub_code":"accesscontrol.limited-by-api-access-count","sub_msg":"This ban will last for 1 more seconds"}}`, client.ErrRateLimited, 2 * time.Second, []string{"code 7", "accesscontrol.limited-by-api-access-count"}},
		{"throttle app count", `{"error_response":{"code":"7","msg":"App Call Limited","sub_code":"accesscontrol.limited-by-app-access-count","sub_msg":"This ban will last for 71520 more seconds"}}`, client.ErrRateLimited, 71521 * time.Second, nil},
		{"throttle by sub_code only", `{"error_response":{"code":15,"sub_code":"accesscontrol.limited-by-app-api-access-count"}}`, client.ErrRateLimited, time.Second, nil},
		{"business limit control", `{"error_response":{"code":15,"msg":"Remote service error","sub_code":"isv.BUSINESS_LIMIT_CONTROL","sub_msg":"This ban will last for 3 more seconds"}}`, client.ErrRateLimited, 4 * time.Second, nil},
		{"absurd ban is capped", `{"error_response":{"code":7,"sub_msg":"This ban will last for 999999999 more seconds"}}`, client.ErrRateLimited, 24*time.Hour + time.Second, nil},
		{"overflowing ban is capped", `{"error_response":{"code":7,"sub_msg":"This ban will last for 99999999999999999999 more seconds"}}`, client.ErrRateLimited, 24*time.Hour + time.Second, nil},
		{"ban without seconds", `{"error_response":{"code":7,"sub_msg":"limited"}}`, client.ErrRateLimited, time.Second, nil},
		{"invalid session", `{"error_response":{"code":27,"msg":"Invalid session","sub_code":"invalid-sessionkey"}}`, client.ErrUnauthorized, 0, []string{"code 27", "invalid-sessionkey"}},
		{"session expired sub_code", `{"error_response":{"code":15,"sub_code":"isv.session-expired"}}`, client.ErrUnauthorized, 0, nil},
		{"missing session", `{"error_response":{"code":26,"msg":"Missing session"}}`, client.ErrUnauthorized, 0, nil},
		{"invalid app key", `{"error_response":{"code":29,"msg":"Invalid app Key"}}`, client.ErrUnauthorized, 0, nil},
		{"missing app key", `{"error_response":{"code":28,"msg":"Missing app Key"}}`, client.ErrUnauthorized, 0, nil},
		{"invalid signature", `{"error_response":{"code":25,"msg":"Invalid signature"}}`, client.ErrUnauthorized, 0, nil},
		{"missing signature", `{"error_response":{"code":24,"msg":"Missing signature"}}`, client.ErrUnauthorized, 0, nil},
		{"isv permissions", `{"error_response":{"code":11,"msg":"Insufficient isv permissions","sub_code":"isv.permission-api-package-empty"}}`, client.ErrUnauthorized, 0, nil},
		{"user permissions", `{"error_response":{"code":12,"msg":"Insufficient user permissions"}}`, client.ErrUnauthorized, 0, nil},
		{"session permissions", `{"error_response":{"code":42,"msg":"Insufficient session permissions"}}`, client.ErrUnauthorized, 0, nil},
		{"security level", `{"error_response":{"code":53,"msg":"Insufficient security level"}}`, client.ErrUnauthorized, 0, nil},
		{"service unavailable", `{"error_response":{"code":10,"msg":"Service currently unavailable"}}`, client.ErrTransient, 0, nil},
		{"isp sub_code", `{"error_response":{"code":15,"msg":"Remote service error","sub_code":"isp.top-remote-connection-timeout"}}`, client.ErrTransient, 0, []string{"isp.top-remote-connection-timeout"}},
		{"doc error sample", string(readTestdata(t, "error_sample.json")), client.ErrPermanent, 0, []string{"code 50", "isv.invalid-parameter", "非法参数"}},
		{"invalid arguments", `{"error_response":{"code":41,"msg":"Invalid arguments","sub_code":"isv.invalid-parameter:page_size"}}`, client.ErrPermanent, 0, nil},
		{"missing arguments", `{"error_response":{"code":40,"msg":"Missing required arguments","sub_code":"isv.missing-parameter"}}`, client.ErrPermanent, 0, nil},
		{"parameter error", `{"error_response":{"code":43,"msg":"Parameter error"}}`, client.ErrPermanent, 0, nil},
		{"invalid method", `{"error_response":{"code":22,"msg":"Invalid method"}}`, client.ErrPermanent, 0, nil},
		{"invalid timestamp without Date", `{"error_response":{"code":31,"msg":"Invalid timestamp"}}`, client.ErrPermanent, 0, nil},
		{"business failure", string(readTestdata(t, "business_failure.json")), client.ErrPermanent, 0, []string{"参数错误", "page_size"}},
		{"business system error", `{"result":{"success":false,"msg_code":"SYSTEM_ERROR","msg_info":"System Error"}}`, client.ErrTransient, 0, []string{"SYSTEM_ERROR"}},
		{"business busy", `{"result":{"success":false,"msg_code":"","msg_info":"系统繁忙,请稍后再试"}}`, client.ErrTransient, 0, nil},
		{"business flow control", `{"result":{"success":false,"msg_code":"FLOW_LIMIT","msg_info":"请求过于频繁"}}`, client.ErrRateLimited, time.Second, nil},
		{"html", `<html>502</html>`, client.ErrTransient, 0, []string{"undecodable"}},
		{"truncated", `{"` + ResponseKey + `":{"result":`, client.ErrTransient, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodePage([]byte(tc.body))
			if err == nil {
				t.Fatal("DecodePage accepted the body")
			}
			got := f.classify(err)
			vendorstest.OnlyClass(t, got, tc.want)
			if ra := client.RetryAfter(got); ra != tc.retryAfter {
				t.Fatalf("RetryAfter = %s, want %s", ra, tc.retryAfter)
			}
			// vendor answers stay in the chain (a RateLimitedError keeps them in its text)
			if keep := tc.want != client.ErrRateLimited && tc.name != "html" && tc.name != "truncated"; keep != errors.Is(got, vendors.ErrVendorError) {
				t.Fatalf("%v: wraps ErrVendorError = %v, want %v", got, !keep, keep)
			}
			for _, s := range tc.text {
				if !strings.Contains(got.Error(), s) {
					t.Fatalf("error %q lacks %q", got, s)
				}
			}
		})
	}
}

// TestWalkErrors runs whole walks against scripted failures.
func TestWalkErrors(t *testing.T) {
	tests := []struct {
		name     string
		before   func(n int, w http.ResponseWriter, r *http.Request) bool
		creds    map[string]string
		want     error
		wantReqs int
		pages    int
	}{
		{"502 then success", func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n == 1 {
				http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
				return true
			}
			return false
		}, nil, nil, 2, 1},
		{"truncated body then success", func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n == 1 {
				fmt.Fprint(w, `{"`+ResponseKey+`":{"res`)
				return true
			}
			return false
		}, nil, nil, 2, 1},
		{"isp error then success", func(n int, w http.ResponseWriter, r *http.Request) bool {
			if n == 1 {
				topError(w, 15, "Remote service error", "isp.remote-service-timeout", "")
				return true
			}
			return false
		}, nil, nil, 2, 1},
		{"always 503", func(n int, w http.ResponseWriter, r *http.Request) bool {
			w.WriteHeader(503)
			return true
		}, nil, client.ErrTransient, 6, 0},
		{"wrong session", nil, map[string]string{CredSession: "wrong-session-value"}, client.ErrUnauthorized, 1, 0},
		{"wrong secret", nil, map[string]string{CredAppSecret: "wrong-secret-value"}, client.ErrUnauthorized, 1, 0},
		{"wrong app key", nil, map[string]string{CredAppKey: "99999999"}, client.ErrUnauthorized, 1, 0},
		{"business failure", func(n int, w http.ResponseWriter, r *http.Request) bool {
			fmt.Fprint(w, string(readTestdata(t, "business_failure.json")))
			return true
		}, nil, client.ErrPermanent, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeTOP(5)
			fake.before = tc.before
			srv := httptest.NewServer(fake)
			defer srv.Close()
			f := newTestFetcher(t, srv.URL, func(c *vendors.SourceConfig) {
				for k, v := range tc.creds {
					c.Credentials[k] = v
				}
			})
			pages, err := vendorstest.WalkAll(context.Background(), f, testWindow)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if len(pages) != tc.pages || len(fake.requests()) != tc.wantReqs {
				t.Fatalf("%d pages, %d requests; want %d, %d", len(pages), len(fake.requests()), tc.pages, tc.wantReqs)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "taobao-live page 1: ") {
				t.Fatalf("error %q lacks the page prefix", err)
			}
		})
	}
}

// TestErrorsRedacted: a gateway that echoes credentials in its messages
// must not get them into the returned error or the retry hook.
func TestErrorsRedacted(t *testing.T) {
	fake := newFakeTOP(5)
	fake.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			// echoes what it got (and, for good measure, the app secret)
			topError(w, 15, "Remote service error", "isp.echo", "app "+r.PostForm.Get("app_key")+" secret "+testAppSecret+" session "+r.PostForm.Get("session"))
			return true
		}
		return false
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var hooked []string
	f := newTestFetcher(t, srv.URL, func(c *vendors.SourceConfig) {
		c.Credentials[CredSession] = testSession + "-stale"
		c.OnRetry = func(err error, _ time.Duration) { hooked = append(hooked, err.Error()) }
	})
	_, err := vendorstest.WalkAll(context.Background(), f, testWindow)
	if !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("err = %v", err)
	}
	if len(hooked) != 1 {
		t.Fatalf("retry hook called %d times", len(hooked))
	}
	for _, msg := range append(hooked, err.Error()) {
		for _, s := range []string{testAppKey, testAppSecret, testSession + "-stale"} {
			if strings.Contains(msg, s) {
				t.Fatalf("credential %q leaked: %s", s, msg)
			}
		}
	}
	if !strings.Contains(err.Error(), "[REDACTED]") {
		t.Fatalf("error %q shows no redaction (the echo was not exercised)", err)
	}
}

// TestClockSkewCorrection: the gateway's clock is 12 days ahead; the first
// request is refused (code 31), the fetcher adopts the Date header's offset
// and every later request is accepted at once.
func TestClockSkewCorrection(t *testing.T) {
	gateway := testNow.Add(12*24*time.Hour + 17*time.Second)
	fake := newFakeTOP(45)
	fake.clock = func() time.Time { return gateway }
	srv := httptest.NewServer(fake)
	defer srv.Close()
	f := newTestFetcher(t, srv.URL, nil)
	pages, err := vendorstest.WalkAll(context.Background(), f, testWindow)
	if err != nil {
		t.Fatal(err)
	}
	forms := fake.requests()
	if len(pages) != 3 || len(forms) != 4 {
		t.Fatalf("%d pages, %d requests; want 3 pages in 4 requests", len(pages), len(forms))
	}
	ts := func(i int) time.Time {
		tm, err := time.ParseInLocation(TimeLayout, forms[i].Get("timestamp"), wire.CST)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	if !ts(0).Equal(testNow) {
		t.Fatalf("first timestamp %s, want the local clock", ts(0))
	}
	for i := 1; i < 4; i++ {
		if d := ts(i).Sub(gateway).Abs(); d > 2*time.Second {
			t.Fatalf("request %d timestamp %s is %s off the gateway clock", i, ts(i), d)
		}
	}
	// a second walk on the same fetcher needs no correction
	if _, err := vendorstest.WalkAll(context.Background(), f, testWindow); err != nil || len(fake.requests()) != 7 {
		t.Fatalf("second walk: %v, %d requests", err, len(fake.requests()))
	}

	// without a usable Date header, code 31 is permanent
	fake2 := newFakeTOP(1)
	fake2.before = func(n int, w http.ResponseWriter, r *http.Request) bool {
		w.Header()["Date"] = nil // suppress the server's own Date
		topError(w, 31, "Invalid timestamp", "", "")
		return true
	}
	srv2 := httptest.NewServer(fake2)
	defer srv2.Close()
	f2 := newTestFetcher(t, srv2.URL, nil)
	if _, err := vendorstest.WalkAll(context.Background(), f2, testWindow); !errors.Is(err, client.ErrPermanent) || len(fake2.requests()) != 1 {
		t.Fatalf("err = %v after %d requests; want ErrPermanent after 1", err, len(fake2.requests()))
	}
}

func TestWalkEmitErrorStops(t *testing.T) {
	fake := newFakeTOP(45)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	f := newTestFetcher(t, srv.URL, nil)
	stop := errors.New("stop")
	n := 0
	err := f.Walk(context.Background(), testWindow, func(context.Context, vendors.Page) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 || len(fake.requests()) != 1 {
		t.Fatalf("err = %v after %d emits and %d requests", err, n, len(fake.requests()))
	}
}

func TestVendor(t *testing.T) {
	v := New()
	if v.Name() != "taobao-live" || v.Endpoint() != "querypredictorderlist" || v.MaxWindow() != 7*24*time.Hour {
		t.Fatalf("vendor %s/%s/%s", v.Name(), v.Endpoint(), v.MaxWindow())
	}
	var inc vendors.Incremental = v
	if tts := inc.IncrementalTimeTypes(); !slices.Equal(tts, []string{"pay", "confirm"}) {
		t.Fatalf("IncrementalTimeTypes = %v", tts)
	}
	if f, err := v.NewFetcher(vendors.SourceConfig{}); err == nil || f != nil {
		t.Fatalf("NewFetcher without credentials = %v, %v", f, err)
	}
	if _, err := v.NewFetcher(vendors.SourceConfig{Credentials: maps(testCreds)}); err != nil {
		t.Fatal(err)
	}
	envs, err := v.Normalize(rawPage(readTestdata(t, "doc_sample.json")))
	if err != nil || len(envs) != 3 {
		t.Fatalf("Normalize: %d, %v", len(envs), err)
	}
}
