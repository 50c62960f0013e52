package douke

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

const (
	testVekey = "VK-s3cr3t-vekey+/="
	testToken = "e3f74da5-7423-4fc9-9d47-895251f6a3e2"
)

// fakeVeapi is a tiny kol_OrderAds server: it pages its orders by cursor (the
// cursor is the last order ID of the previous page), checks the vekey and
// records every request. Hooks script failures and odd cursors.
type fakeVeapi struct {
	vekey  string
	orders []string

	vendorstest.Recorder
	mu     sync.Mutex
	bodies map[string][]byte // cursor sent → body answered with success
	// before, if set, may answer a request itself (return true) before paging.
	before func(n int, w http.ResponseWriter, r *http.Request) bool
	// nextCursor, if set, replaces the returned cursor.
	nextCursor func(sent, natural string) string
}

func newFake(n int) *fakeVeapi {
	f := &fakeVeapi{vekey: testVekey, bodies: map[string][]byte{}}
	for i := range n {
		f.orders = append(f.orders, strconv.FormatInt(5049400731628700000+int64(i), 10))
	}
	return f
}

func (f *fakeVeapi) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.Record(r)
	if f.before != nil && f.before(n, w, r) {
		return
	}
	q := r.URL.Query()
	if r.Method != http.MethodGet || r.URL.Path != Path {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if q.Get("vekey") != f.vekey {
		// a careless vendor echoes the key it got
		fmt.Fprintf(w, `{"error":"10001","msg":"vekey %s 错误或已过期 (token %s)","data":null,"request_id":"e1"}`, q.Get("vekey"), q.Get("access_token"))
		return
	}
	size, err := strconv.Atoi(q.Get("size"))
	if err != nil || size < 1 || size > 20 {
		fmt.Fprint(w, `{"error":"20001","msg":"size参数错误"}`)
		return
	}
	cursor := q.Get("cursor")
	start := 0
	if cursor != "0" {
		start = -1
		for i, id := range f.orders {
			if id == cursor {
				start = i + 1
			}
		}
		if start < 0 {
			fmt.Fprint(w, `{"error":"20002","msg":"cursor参数错误"}`)
			return
		}
	}
	end := min(start+size, len(f.orders))
	var items []string
	for _, id := range f.orders[start:end] {
		items = append(items, fmt.Sprintf(`{"order_id":%q,"flow_point":"PAY_SUCC","total_pay_amount":100,"pay_success_time":"2023-03-01 10:00:00","update_time":"2023-03-01 10:00:05"}`, id))
	}
	natural := ""
	if end > start {
		natural = f.orders[end-1]
	}
	next := natural
	if f.nextCursor != nil {
		next = f.nextCursor(cursor, natural)
	}
	body := []byte(fmt.Sprintf(`{"error":"0","msg":"查询成功!","data":{"cursor":%q,"orders":[%s]},"request_id":"r%d"}`, next, strings.Join(items, ","), n))
	f.mu.Lock()
	f.bodies[cursor] = body
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

// fastCore lifts the rate limit and shortens backoff for tests.
var fastCore = vendorstest.FastCore

var testWindow = vendors.Window{
	Start:    time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC),
	End:      time.Date(2023, 3, 31, 0, 0, 0, 0, time.UTC),
	TimeType: "update",
}

func newTestFetcher(t *testing.T, baseURL string, mod func(*vendors.SourceConfig), tune func(*client.Config)) *Fetcher {
	t.Helper()
	cfg := vendors.SourceConfig{
		BaseURL:     baseURL,
		Account:     "demo",
		Credentials: map[string]string{"vekey": testVekey},
	}
	return vendorstest.Fetcher(t, cfg, mod, &client.Hooks{Tune: vendorstest.Tune(fastCore, tune)}, fetcherWith)
}

func TestWalkPaging(t *testing.T) {
	tests := []struct {
		name        string
		orders      int
		pageSize    int
		nextCursor  func(sent, natural string) string
		wantCursors []string // as indexes into the orders ("0" = first page)
		wantRecords []int
	}{
		{name: "45 orders default size", orders: 45, wantCursors: []string{"0", "19", "39"}, wantRecords: []int{20, 20, 5}},
		{name: "45 orders size 15 ends on an empty page", orders: 45, pageSize: 15, wantCursors: []string{"0", "14", "29", "44"}, wantRecords: []int{15, 15, 15, 0}},
		{name: "40 orders ends on an empty page", orders: 40, wantCursors: []string{"0", "19", "39"}, wantRecords: []int{20, 20, 0}},
		{name: "no orders", orders: 0, wantCursors: []string{"0"}, wantRecords: []int{0}},
		{name: "cursor repeats the one sent", orders: 45,
			nextCursor: func(sent, natural string) string {
				if sent == "0" {
					return natural
				}
				return sent
			},
			wantCursors: []string{"0", "19"}, wantRecords: []int{20, 20}},
		{name: "empty cursor", orders: 45, nextCursor: func(string, string) string { return "" },
			wantCursors: []string{"0"}, wantRecords: []int{20}},
		{name: "cursor 0", orders: 45, nextCursor: func(string, string) string { return "0" },
			wantCursors: []string{"0"}, wantRecords: []int{20}},
		{name: "cursor cycle", orders: 60, pageSize: 20,
			nextCursor: func(sent, natural string) string {
				if natural == "5049400731628700059" { // the third page points back to the second
					return "5049400731628700019"
				}
				return natural
			},
			wantCursors: []string{"0", "19", "39"}, wantRecords: []int{20, 20, 20}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(tc.orders)
			fake.nextCursor = tc.nextCursor
			srv := httptest.NewServer(fake)
			defer srv.Close()
			f := newTestFetcher(t, srv.URL, func(c *vendors.SourceConfig) { c.PageSize = tc.pageSize }, nil)
			pages, err := vendorstest.WalkAll(context.Background(), f, testWindow)
			if err != nil {
				t.Fatalf("Walk: %v", err)
			}
			var cursors []string
			var records []int
			for _, p := range pages {
				c := p.Cursor
				if c != "0" {
					c = strconv.FormatInt(mustInt(t, c)-5049400731628700000, 10)
				}
				cursors = append(cursors, c)
				records = append(records, p.Records)
				if p.HTTPStatus != 200 {
					t.Errorf("page %s: status %d", p.Cursor, p.HTTPStatus)
				}
				if want := fake.bodies[p.Cursor]; string(p.Body) != string(want) {
					t.Errorf("page %s: body is not the server's bytes:\n got %s\nwant %s", p.Cursor, p.Body, want)
				}
			}
			if !reflect.DeepEqual(cursors, tc.wantCursors) || !reflect.DeepEqual(records, tc.wantRecords) {
				t.Errorf("walked cursors %v records %v, want %v %v", cursors, records, tc.wantCursors, tc.wantRecords)
			}
			if got := len(fake.Requests()); got != len(tc.wantCursors) {
				t.Errorf("%d requests, want %d", got, len(tc.wantCursors))
			}
			// every record was walked exactly once (when the vendor pages sanely)
			if tc.nextCursor == nil {
				total := 0
				for _, r := range records {
					total += r
				}
				if total != tc.orders {
					t.Errorf("walked %d records, want %d", total, tc.orders)
				}
			}
		})
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("cursor %q: %v", s, err)
	}
	return n
}

func TestWalkParams(t *testing.T) {
	fake := newFake(3)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	f := newTestFetcher(t, srv.URL+"/", func(c *vendors.SourceConfig) {
		c.Credentials["access_token"] = testToken
		c.PageSize = 5
		c.Params = map[string]string{
			"time_type":         "pay", // the window's "update" overrides it
			"distribution_type": "Live",
			"pid":               "dy_1234_33_455",
			"open_id":           "dsrr34fd43fe",
			"query_order_type":  "1",
			"order_ids":         "4737996432465788974, 4737996432465780075",
		}
	}, nil)
	w := vendors.Window{
		Start:    time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC),
		End:      time.Date(2023, 3, 2, 12, 34, 56, 789e6, time.UTC),
		TimeType: "update",
	}
	if _, err := vendorstest.WalkAll(context.Background(), f, w); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodGet || r.URL.Path != "/douke/kol_OrderAds" {
		t.Errorf("request %s %s", r.Method, r.URL.Path)
	}
	want := url.Values{
		"vekey":             {testVekey},
		"access_token":      {testToken},
		"size":              {"5"},
		"cursor":            {"0"},
		"start_time":        {"2023-03-01 08:00:00"},
		"end_time":          {"2023-03-02 20:34:56"},
		"time_type":         {"update"},
		"distribution_type": {"Live"},
		"pid":               {"dy_1234_33_455"},
		"open_id":           {"dsrr34fd43fe"},
		"query_order_type":  {"1"},
		"order_ids":         {"4737996432465788974,4737996432465780075"},
	}
	if got := r.URL.Query(); !reflect.DeepEqual(got, want) {
		t.Errorf("query =\n%v\nwant\n%v", got, want)
	}

	// Without a window time type the configured one is used; without both, "pay".
	for _, tc := range []struct {
		param, window, want string
	}{{"update", "", "update"}, {"", "", "pay"}, {"", "pay", "pay"}} {
		fake := newFake(0)
		srv := httptest.NewServer(fake)
		f := newTestFetcher(t, srv.URL, func(c *vendors.SourceConfig) {
			if tc.param != "" {
				c.Params = map[string]string{"time_type": tc.param}
			}
		}, nil)
		w := testWindow
		w.TimeType = tc.window
		if _, err := vendorstest.WalkAll(context.Background(), f, w); err != nil {
			t.Fatal(err)
		}
		if got := fake.Requests()[0].URL.Query().Get("time_type"); got != tc.want {
			t.Errorf("param %q window %q: time_type %q, want %q", tc.param, tc.window, got, tc.want)
		}
		srv.Close()
	}
}

func TestWalkWindowValidation(t *testing.T) {
	earliestUTC := time.Date(2021, 9, 30, 16, 0, 0, 0, time.UTC) // 2021-10-01 00:00:00 CST
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		w       vendors.Window
		wantErr string // "" = valid
	}{
		{"earliest start exactly", vendors.Window{Start: earliestUTC, End: earliestUTC.Add(time.Hour)}, ""},
		{"exactly 90 days", vendors.Window{Start: start, End: start.Add(90 * 24 * time.Hour)}, ""},
		{"start one second too early", vendors.Window{Start: earliestUTC.Add(-time.Second), End: earliestUTC.Add(time.Hour)}, "before the earliest supported 2021-10-01 00:00:00"},
		{"zero window", vendors.Window{}, "before the earliest"},
		{"end equals start", vendors.Window{Start: start, End: start}, "is not after start"},
		{"end before start", vendors.Window{Start: start, End: start.Add(-time.Hour)}, "is not after start"},
		{"same second", vendors.Window{Start: start, End: start.Add(500 * time.Millisecond)}, "is not after start"},
		{"90 days and a second", vendors.Window{Start: start, End: start.Add(90*24*time.Hour + time.Second)}, "spans more than"},
		{"bad time type", vendors.Window{Start: start, End: start.Add(time.Hour), TimeType: "create"}, `time type "create"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(1)
			srv := httptest.NewServer(fake)
			defer srv.Close()
			f := newTestFetcher(t, srv.URL, nil, nil)
			_, err := vendorstest.WalkAll(context.Background(), f, tc.w)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Walk: %v", err)
				}
				return
			}
			if !errors.Is(err, client.ErrPermanent) {
				t.Fatalf("err = %v, want ErrPermanent", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %q, want containing %q", err, tc.wantErr)
			}
			if n := len(fake.Requests()); n != 0 {
				t.Errorf("%d requests sent for an invalid window", n)
			}
		})
	}
	// every window vendors.SplitWindow makes with MaxWindow is accepted
	fake := newFake(0)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	f := newTestFetcher(t, srv.URL, nil, nil)
	ws := vendors.SplitWindow(earliestUTC, earliestUTC.Add(400*24*time.Hour+time.Minute), New().MaxWindow(), "update")
	for _, w := range ws {
		if _, err := vendorstest.WalkAll(context.Background(), f, w); err != nil {
			t.Errorf("split window %v..%v: %v", w.Start, w.End, err)
		}
	}
}

func TestWalkUnauthorizedRedacted(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(int, http.ResponseWriter, *http.Request) bool
	}{
		{"vendor envelope echoing the key", nil},
		{"HTTP 401 echoing the key", func(_ int, w http.ResponseWriter, r *http.Request) bool {
			http.Error(w, "bad vekey "+r.URL.Query().Get("vekey"), http.StatusUnauthorized)
			return true
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(5)
			fake.vekey = "the-right-key"
			fake.before = tc.before
			srv := httptest.NewServer(fake)
			defer srv.Close()
			f := newTestFetcher(t, srv.URL, func(c *vendors.SourceConfig) { c.Credentials["access_token"] = testToken }, nil)
			pages, err := vendorstest.WalkAll(context.Background(), f, testWindow)
			if !errors.Is(err, client.ErrUnauthorized) {
				t.Fatalf("err = %v, want ErrUnauthorized", err)
			}
			if len(pages) != 0 {
				t.Errorf("%d pages emitted on failure", len(pages))
			}
			msg := err.Error()
			for _, secret := range []string{testVekey, url.QueryEscape(testVekey), testToken} {
				if strings.Contains(msg, secret) {
					t.Errorf("error leaks a credential: %s", msg)
				}
			}
			if !strings.HasPrefix(msg, "douke page 0: ") {
				t.Errorf("error lacks page context: %s", msg)
			}
			if n := len(fake.Requests()); n != 1 {
				t.Errorf("%d requests, want 1 (no retry on unauthorized)", n)
			}
			if tc.before == nil {
				if !errors.Is(err, vendors.ErrVendorError) || !strings.Contains(msg, "10001") || !strings.Contains(msg, "[REDACTED]") {
					t.Errorf("vendor error lost its code or redaction marker: %s", msg)
				}
			}
		})
	}
}

func TestWalkRetries(t *testing.T) {
	tests := []struct {
		name      string
		before    func(n int, w http.ResponseWriter, r *http.Request) bool
		maxTries  int
		wantIs    error // nil = success after retries
		wantReqs  int
		wantPages int
	}{
		{name: "5xx twice then success", before: func(n int, w http.ResponseWriter, _ *http.Request) bool {
			if n <= 2 {
				http.Error(w, "bad gateway", http.StatusBadGateway)
				return true
			}
			return false
		}, wantReqs: 2 + 3, wantPages: 3},
		{name: "5xx on a later page", before: func(n int, w http.ResponseWriter, _ *http.Request) bool {
			if n == 2 {
				http.Error(w, "unavailable", http.StatusServiceUnavailable)
				return true
			}
			return false
		}, wantReqs: 4, wantPages: 3},
		{name: "truncated 200 body is retried", before: func(n int, w http.ResponseWriter, _ *http.Request) bool {
			if n == 1 {
				fmt.Fprint(w, `{"error":"0","msg":"查询成功!","data":{"cursor":"5049400731628700019","orders":[{"order_id":"50494`)
				return true
			}
			return false
		}, wantReqs: 4, wantPages: 3},
		{name: "vendor busy is transient", before: func(n int, w http.ResponseWriter, _ *http.Request) bool {
			if n == 1 {
				fmt.Fprint(w, `{"error":"500","msg":"系统繁忙"}`)
				return true
			}
			return false
		}, wantReqs: 4, wantPages: 3},
		{name: "5xx forever gives up", before: func(_ int, w http.ResponseWriter, _ *http.Request) bool {
			http.Error(w, "bad gateway", http.StatusBadGateway)
			return true
		}, maxTries: 3, wantIs: client.ErrTransient, wantReqs: 3},
		{name: "rate limited without retries left", before: func(_ int, w http.ResponseWriter, _ *http.Request) bool {
			fmt.Fprint(w, `{"error":"1","msg":"请求过于频繁"}`)
			return true
		}, maxTries: 1, wantIs: client.ErrRateLimited, wantReqs: 1},
		{name: "permanent vendor error is not retried", before: func(_ int, w http.ResponseWriter, _ *http.Request) bool {
			fmt.Fprint(w, `{"error":"20001","msg":"参数错误"}`)
			return true
		}, wantIs: client.ErrPermanent, wantReqs: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(45)
			fake.before = tc.before
			srv := httptest.NewServer(fake)
			defer srv.Close()
			retries := 0
			f := newTestFetcher(t, srv.URL, nil, func(c *client.Config) {
				c.MaxAttempts = tc.maxTries
				c.OnRetry = func(error, time.Duration) { retries++ }
			})
			pages, err := vendorstest.WalkAll(context.Background(), f, testWindow)
			if tc.wantIs == nil {
				if err != nil {
					t.Fatalf("Walk: %v", err)
				}
			} else if !errors.Is(err, tc.wantIs) {
				t.Fatalf("err = %v, want %v", err, tc.wantIs)
			}
			if n := len(fake.Requests()); n != tc.wantReqs {
				t.Errorf("%d requests, want %d", n, tc.wantReqs)
			}
			if len(pages) != tc.wantPages {
				t.Errorf("%d pages, want %d", len(pages), tc.wantPages)
			}
			total := 0
			for _, p := range pages {
				if _, err := DecodePage(p.Body); err != nil {
					t.Errorf("emitted page %s does not decode: %v", p.Cursor, err)
				}
				total += p.Records
			}
			if tc.wantIs == nil && total != 45 {
				t.Errorf("walked %d records, want 45", total)
			}
			if tc.wantIs == nil && retries != tc.wantReqs-tc.wantPages {
				t.Errorf("%d retries reported, want %d", retries, tc.wantReqs-tc.wantPages)
			}
		})
	}
}

func TestWalkRateLimitedThenOK(t *testing.T) {
	fake := newFake(5)
	fake.before = func(n int, w http.ResponseWriter, _ *http.Request) bool {
		if n == 1 {
			fmt.Fprint(w, `{"error":"4003","msg":"调用过于频繁,请稍后再试"}`)
			return true
		}
		return false
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var waits []time.Duration
	f := newTestFetcher(t, srv.URL, nil, func(c *client.Config) {
		c.OnRetry = func(_ error, d time.Duration) { waits = append(waits, d) }
	})
	pages, err := vendorstest.WalkAll(context.Background(), f, testWindow)
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) != 1 || pages[0].Records != 5 {
		t.Errorf("pages = %+v", pages)
	}
	if len(waits) != 1 || waits[0] < time.Second {
		t.Errorf("retry waits %v, want one of at least 1s", waits)
	}
}

func TestWalkEmitErrorStops(t *testing.T) {
	fake := newFake(45)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	f := newTestFetcher(t, srv.URL, nil, nil)
	boom := errors.New("publish failed")
	calls := 0
	err := f.Walk(context.Background(), testWindow, func(context.Context, vendors.Page) error {
		calls++
		return boom
	})
	if !errors.Is(err, boom) || calls != 1 || len(fake.Requests()) != 1 {
		t.Errorf("err %v after %d emits and %d requests; want the emit error after 1 and 1", err, calls, len(fake.Requests()))
	}

	vendorstest.CancelledInEmit(t, f, testWindow)
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		wantIs error
	}{
		{"vekey", &APIError{Code: "10001", Msg: "vekey错误"}, client.ErrUnauthorized},
		{"key", &APIError{Code: "1", Msg: "Invalid KEY"}, client.ErrUnauthorized},
		{"授权", &APIError{Code: "1", Msg: "百应授权已失效,请重新授权"}, client.ErrUnauthorized},
		{"token", &APIError{Code: "1", Msg: "access_token expired"}, client.ErrUnauthorized},
		{"code 403", &APIError{Code: "403", Msg: "forbidden"}, client.ErrUnauthorized},
		{"authorization", &APIError{Code: "1", Msg: "Authorization required"}, client.ErrUnauthorized},
		{"author is not auth", &APIError{Code: "1", Msg: "author_openid参数错误"}, client.ErrPermanent},
		{"频繁", &APIError{Code: "1", Msg: "请求过于频繁"}, client.ErrRateLimited},
		{"限流", &APIError{Code: "1", Msg: "接口限流"}, client.ErrRateLimited},
		{"limit", &APIError{Code: "1", Msg: "Rate LIMIT exceeded"}, client.ErrRateLimited},
		{"throttle beats key", &APIError{Code: "1", Msg: "vekey调用频繁"}, client.ErrRateLimited},
		{"code 429", &APIError{Code: "429", Msg: ""}, client.ErrRateLimited},
		{"busy", &APIError{Code: "1", Msg: "系统繁忙"}, client.ErrTransient},
		{"other", &APIError{Code: "20001", Msg: "参数错误"}, client.ErrPermanent},
		{"empty msg", &APIError{Code: "7"}, client.ErrPermanent},
		{"undecodable", fmt.Errorf("%w: envelope: unexpected end of JSON input", vendors.ErrMalformedPage), client.ErrTransient},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err)
			vendorstest.OnlyClass(t, got, tc.wantIs)
			var ae *APIError
			if errors.As(tc.err, &ae) {
				if !strings.Contains(got.Error(), `"`+ae.Code+`"`) || !strings.Contains(got.Error(), ae.Msg) {
					t.Errorf("classify = %q lacks code or msg", got)
				}
				if tc.wantIs == client.ErrRateLimited && client.RetryAfter(got) != time.Second {
					t.Errorf("RetryAfter = %s, want 1s", client.RetryAfter(got))
				}
			}
		})
	}
}

func TestNewFetcherValidation(t *testing.T) {
	ok := func() vendors.SourceConfig {
		return vendors.SourceConfig{Account: "a", Credentials: map[string]string{"vekey": testVekey}}
	}
	tests := []struct {
		name    string
		mod     func(*vendors.SourceConfig)
		wantErr string // "" = valid
	}{
		{"defaults", func(*vendors.SourceConfig) {}, ""},
		{"all params", func(c *vendors.SourceConfig) {
			c.Params = map[string]string{"time_type": "update", "distribution_type": "Mix", "pid": "p", "open_id": "o", "query_order_type": "0", "order_ids": "1,2,3,4,5,6,7,8,9,10"}
			c.PageSize = 1
		}, ""},
		{"missing vekey", func(c *vendors.SourceConfig) { c.Credentials = nil }, `missing credential "vekey"`},
		{"blank vekey", func(c *vendors.SourceConfig) { c.Credentials["vekey"] = "  " }, `missing credential "vekey"`},
		{"unknown credential", func(c *vendors.SourceConfig) { c.Credentials["acces_token"] = "x" }, `unknown credential "acces_token"`},
		{"unknown param", func(c *vendors.SourceConfig) { c.Params = map[string]string{"vekey": testVekey} }, `unknown param "vekey"`},
		{"bad time_type", func(c *vendors.SourceConfig) { c.Params = map[string]string{"time_type": "create"} }, `param time_type: "create": want one of pay, update`},
		{"bad distribution_type", func(c *vendors.SourceConfig) { c.Params = map[string]string{"distribution_type": "live"} }, "param distribution_type"},
		{"bad query_order_type", func(c *vendors.SourceConfig) { c.Params = map[string]string{"query_order_type": "2"} }, "param query_order_type"},
		{"11 order ids", func(c *vendors.SourceConfig) { c.Params = map[string]string{"order_ids": "1,2,3,4,5,6,7,8,9,10,11"} }, "at most 10"},
		{"bad order id", func(c *vendors.SourceConfig) { c.Params = map[string]string{"order_ids": "1,,2"} }, "order ID 2"},
		{"empty pid", func(c *vendors.SourceConfig) { c.Params = map[string]string{"pid": ""} }, "param pid: empty value"},
		{"page size 21", func(c *vendors.SourceConfig) { c.PageSize = 21 }, "page size 21"},
		{"negative page size", func(c *vendors.SourceConfig) { c.PageSize = -1 }, "page size -1"},
		{"ftp base URL", func(c *vendors.SourceConfig) { c.BaseURL = "ftp://example.com" }, "base URL"},
		{"base URL with query", func(c *vendors.SourceConfig) { c.BaseURL = "http://example.com/?vekey=" + testVekey }, "base URL"},
		{"base URL without host", func(c *vendors.SourceConfig) { c.BaseURL = "http:///x" }, "base URL"},
		{"base URL with user info", func(c *vendors.SourceConfig) { c.BaseURL = "http://u:" + testVekey + "@example.com" }, "base URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok()
			tc.mod(&cfg)
			f, err := NewFetcher(cfg)
			if tc.wantErr == "" {
				if err != nil || f == nil {
					t.Fatalf("NewFetcher = %v, %v", f, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("NewFetcher succeeded, want error containing %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %q, want containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), testVekey) {
				t.Errorf("err leaks the vekey: %q", err)
			}
		})
	}
}

func TestFetcherEndpoint(t *testing.T) {
	vendorstest.Endpoints(t, map[string]string{
		"":                           "http://api.veapi.cn/douke/kol_OrderAds",
		"http://127.0.0.1:8080":      "http://127.0.0.1:8080/douke/kol_OrderAds",
		"http://sandbox:9000/veapi/": "http://sandbox:9000/veapi/douke/kol_OrderAds",
	}, vendors.SourceConfig{Credentials: map[string]string{"vekey": "k"}}, NewFetcher, func(f *Fetcher) string { return f.endpoint })
}

// TestCase11DoukeWalkPageCap: a window whose paging does not end within the
// page cap fails with a permanent error saying so, after exactly the cap's
// pages, instead of walking on forever.
func TestCase11DoukeWalkPageCap(t *testing.T) {
	fake := newFake(200)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	f := newTestFetcher(t, srv.URL, nil, nil)
	f.maxPages = 5
	pages, err := vendorstest.WalkAll(context.Background(), f, testWindow)
	if !errors.Is(err, client.ErrPermanent) || !strings.Contains(err.Error(), "paging did not end after 5 pages") {
		t.Fatalf("err %v: want a permanent page-cap error", err)
	}
	if len(pages) != 5 || len(fake.Requests()) != 5 {
		t.Fatalf("%d pages emitted, %d requests; want 5 each", len(pages), len(fake.Requests()))
	}
}
