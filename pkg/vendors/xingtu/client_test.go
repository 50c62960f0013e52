package xingtu

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// testToken is a sentinel token with characters that change under query
// escaping, so redaction of both forms is tested.
const testToken = "SENTINEL-t0ken+/=&?#secret"

// fakeJOA is a tiny JustOneAPI endpoint: it checks the token, records every
// request and answers {"code":0,…} with data per "author:period" (default
// {"order_cnt":1}). answer, if set, may answer request n itself.
type fakeJOA struct {
	token string
	data  map[string]string

	vendorstest.Recorder
	answer func(n int, w http.ResponseWriter, r *http.Request) bool
}

func newFake() *fakeJOA { return &fakeJOA{token: testToken, data: map[string]string{}} }

func (f *fakeJOA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.Record(r)
	if f.answer != nil && f.answer(n, w, r) {
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != Path {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	if q.Get("token") != f.token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":100,"message":"Invalid or inactive token","data":null,"recordTime":"2026-11-10 08:00:00","requestId":"req-tok"}`)
		return
	}
	key := q.Get("oAuthorId") + ":" + q.Get("period")
	data, ok := f.data[key]
	if !ok {
		data = `{"order_cnt":1}`
	}
	fmt.Fprintf(w, `{"code":0,"message":null,"data":%s,"recordTime":"2026-11-10 08:00:00","requestId":"req-%d"}`, data, n)
}

// envelopeAnswer answers with status and a JustOneAPI error envelope.
func envelopeAnswer(status int, code int, msg string) func(int, http.ResponseWriter, *http.Request) bool {
	return func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"code":%d,"message":%q,"data":null,"recordTime":"2026-11-10 08:00:00","requestId":"req-%d"}`, code, msg, code)
		return true
	}
}

// quotaNow is the fixed clock of test fetchers: 23:30 CST, 30 minutes
// before the daily quota resets.
var quotaNow = time.Date(2026, 11, 10, 23, 30, 0, 0, wire.CST)

// testSource is a valid source configuration for baseURL.
func testSource(baseURL string) vendors.SourceConfig {
	return vendors.SourceConfig{
		BaseURL:     baseURL,
		Account:     "demo",
		Credentials: map[string]string{CredToken: testToken},
		Params:      map[string]string{ParamAuthorIDs: "a1"},
	}
}

// newTestFetcher builds a fetcher with fast backoff, no rate limit, at most
// three attempts, a 2 ms code-302 wait and the quotaNow clock.
func newTestFetcher(t *testing.T, cfg vendors.SourceConfig, onRetry func(error, time.Duration)) *Fetcher {
	t.Helper()
	f, err := fetcherWith(cfg, &client.Hooks{Tune: func(c *client.Config) {
		c.RatePerSecond = 1e6
		c.InitialBackoff = time.Millisecond
		c.MaxBackoff = 2 * time.Millisecond
		c.MaxAttempts = 3
		c.OnRetry = onRetry
	}, Now: func() time.Time { return quotaNow }, Wait: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestWalkAuthorsTimesPeriods(t *testing.T) {
	fake := newFake()
	fake.data["6912345678901234567:DAY_90"] = `null`
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg := testSource(srv.URL)
	cfg.Params = map[string]string{ParamAuthorIDs: " 6912345678901234567 ,a_2", ParamPeriods: "DAY_30, DAY_90"}
	f := newTestFetcher(t, cfg, nil)
	if !reflect.DeepEqual(f.Authors(), []string{"6912345678901234567", "a_2"}) || !reflect.DeepEqual(f.Periods(), []string{"DAY_30", "DAY_90"}) {
		t.Fatalf("authors %v periods %v", f.Authors(), f.Periods())
	}
	pages, err := vendorstest.WalkAll(context.Background(), f, vendors.Window{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		author, period string
		records        int
	}{
		{"6912345678901234567", "DAY_30", 1},
		{"6912345678901234567", "DAY_90", 0},
		{"a_2", "DAY_30", 1},
		{"a_2", "DAY_90", 1},
	}
	reqs := fake.Requests()
	if len(pages) != len(want) || len(reqs) != len(want) {
		t.Fatalf("%d pages, %d requests; want %d", len(pages), len(reqs), len(want))
	}
	for i, w := range want {
		p, r := pages[i], reqs[i]
		q := r.URL.Query()
		wantQ := url.Values{"token": {testToken}, "oAuthorId": {w.author}, "period": {w.period}}
		if r.Method != http.MethodGet || r.URL.Path != Path || !reflect.DeepEqual(q, wantQ) {
			t.Errorf("request %d: %s %s %v; want GET %s %v", i, r.Method, r.URL.Path, q, Path, wantQ)
		}
		if p.Cursor != w.author+":"+w.period || p.Records != w.records || p.HTTPStatus != 200 ||
			!reflect.DeepEqual(p.Params, map[string]string{"oAuthorId": w.author, "period": w.period}) {
			t.Errorf("page %d: cursor %q records %d status %d params %v", i, p.Cursor, p.Records, p.HTTPStatus, p.Params)
		}
		if !strings.Contains(string(p.Body), fmt.Sprintf(`"requestId":"req-%d"`, i+1)) {
			t.Errorf("page %d body is not the answer: %s", i, p.Body)
		}
	}
}

func TestWalkDefaultPeriodAndIgnoredWindow(t *testing.T) {
	fake := newFake()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	f := newTestFetcher(t, testSource(srv.URL), nil)
	var got []string
	w := vendors.Window{Start: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), TimeType: "pay"}
	err := f.Walk(context.Background(), w, func(_ context.Context, p vendors.Page) error {
		got = append(got, p.Cursor)
		return nil
	})
	if err != nil || !reflect.DeepEqual(got, []string{"a1:DAY_30"}) {
		t.Fatalf("cursors %v, err %v; want [a1:DAY_30]", got, err)
	}
}

func TestWalkClassification(t *testing.T) {
	htmlAnswer := func(status int, body string) func(int, http.ResponseWriter, *http.Request) bool {
		return func(_ int, w http.ResponseWriter, _ *http.Request) bool {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			fmt.Fprint(w, body)
			return true
		}
	}
	tests := []struct {
		name       string
		answer     func(int, http.ResponseWriter, *http.Request) bool
		wantIs     error
		reqs       int
		retryAfter time.Duration // checked when non-zero
		vendorErr  bool
		text       []string
	}{
		{"100 over 200", envelopeAnswer(200, 100, "Invalid or inactive token"), client.ErrUnauthorized, 1, 0, true, []string{"code 100", "invalid or inactive token", "req-100"}},
		{"100 over 401", envelopeAnswer(401, 100, "Invalid or inactive token"), client.ErrUnauthorized, 1, 0, true, []string{"HTTP 401", "code 100", "req-100"}},
		{"600 over 403", envelopeAnswer(403, 600, "Permission denied"), client.ErrUnauthorized, 1, 0, true, []string{"HTTP 403", "code 600", "permission denied"}},
		{"601 over 200", envelopeAnswer(200, 601, "Insufficient balance"), client.ErrPermanent, 1, 0, true, []string{"code 601", "insufficient balance", "top up", "req-601"}},
		{"601 over 403: the body decides", envelopeAnswer(403, 601, "Insufficient balance"), client.ErrPermanent, 1, 0, true, []string{"HTTP 403", "code 601", "top up"}},
		{"400 over 400", envelopeAnswer(400, 400, "oAuthorId is required"), client.ErrPermanent, 1, 0, true, []string{"HTTP 400", "code 400", "validation error", "oAuthorId is required"}},
		{"202 over 200", envelopeAnswer(200, 202, "Not supported"), client.ErrPermanent, 1, 0, true, []string{"code 202", "not supported"}},
		{"unknown 602 over 200", envelopeAnswer(200, 602, "?"), client.ErrPermanent, 1, 0, true, []string{"code 602", "unknown code"}},
		{"unknown 503 over 503", envelopeAnswer(503, 503, "busy"), client.ErrPermanent, 1, 0, true, []string{"HTTP 503", "code 503"}},
		{"302 over 429 is retried", envelopeAnswer(429, 302, "Rate limited"), client.ErrRateLimited, 3, 2 * time.Millisecond, true, []string{"HTTP 429", "code 302", "rate limited", "req-302"}},
		{"302 over 200 is retried", envelopeAnswer(200, 302, "Rate limited"), client.ErrRateLimited, 3, 2 * time.Millisecond, true, []string{"code 302"}},
		{"303 over 429 is not retried", envelopeAnswer(429, 303, "Daily quota exceeded"), client.ErrRateLimited, 1, 30 * time.Minute, true, []string{"HTTP 429", "code 303", "daily quota exceeded", "req-303"}},
		{"303 over 200 is not retried", envelopeAnswer(200, 303, "Daily quota exceeded"), client.ErrRateLimited, 1, 30 * time.Minute, true, []string{"code 303"}},
		{"301 over 200 is retried", envelopeAnswer(200, 301, "Collection failed"), client.ErrTransient, 3, 0, true, []string{"code 301", "collection failed"}},
		{"500 over 500 is retried", envelopeAnswer(500, 500, "Internal error"), client.ErrTransient, 3, 0, true, []string{"HTTP 500", "code 500", "internal error"}},
		{"502 HTML is retried", htmlAnswer(502, "<html>502 Bad Gateway</html>"), client.ErrTransient, 3, 0, false, []string{"HTTP 502"}},
		{"401 without envelope", htmlAnswer(401, "denied"), client.ErrUnauthorized, 1, 0, false, []string{"HTTP 401"}},
		{"404 without envelope", htmlAnswer(404, "no such page"), client.ErrPermanent, 1, 0, false, []string{"HTTP 404", "no such page"}},
		{"429 without envelope is retried", htmlAnswer(429, "slow down"), client.ErrRateLimited, 3, 0, false, []string{"HTTP 429"}},
		{"200 HTML is transient", htmlAnswer(200, "<html>login</html>"), client.ErrTransient, 3, 0, false, []string{"undecodable HTTP 200 body"}},
		{"400 with a success envelope", func(_ int, w http.ResponseWriter, _ *http.Request) bool {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"code":0,"data":{}}`)
			return true
		}, client.ErrPermanent, 1, 0, false, []string{"HTTP 400"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			fake.answer = tc.answer
			srv := httptest.NewServer(fake)
			defer srv.Close()
			f := newTestFetcher(t, testSource(srv.URL), nil)
			pages, err := vendorstest.WalkAll(context.Background(), f, vendors.Window{})
			if len(pages) != 0 {
				t.Errorf("%d pages emitted on failure", len(pages))
			}
			vendorstest.OnlyClass(t, err, tc.wantIs)
			if n := len(fake.Requests()); n != tc.reqs {
				t.Errorf("%d requests, want %d", n, tc.reqs)
			}
			if tc.retryAfter != 0 {
				if got := client.RetryAfter(err); got != tc.retryAfter {
					t.Errorf("RetryAfter = %s, want %s", got, tc.retryAfter)
				}
			}
			if got := errors.Is(err, vendors.ErrVendorError); got != tc.vendorErr {
				t.Errorf("errors.Is(err, ErrVendorError) = %v, want %v", got, tc.vendorErr)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "xingtu author a1 period DAY_30: ") {
				t.Errorf("error lacks the request context: %s", msg)
			}
			for _, s := range tc.text {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q lacks %q", msg, s)
				}
			}
		})
	}
}

func TestWalkRetriesThenSucceeds(t *testing.T) {
	fake := newFake()
	fake.answer = func(n int, w http.ResponseWriter, r *http.Request) bool {
		switch n {
		case 1:
			return envelopeAnswer(429, 302, "Rate limited")(n, w, r)
		case 2:
			return envelopeAnswer(200, 301, "Collection failed")(n, w, r)
		case 3:
			w.WriteHeader(502)
			return true
		}
		return false
	}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var mu sync.Mutex
	var retried []error
	cfg := testSource(srv.URL)
	f, err := fetcherWith(cfg, &client.Hooks{Tune: func(c *client.Config) {
		c.RatePerSecond, c.InitialBackoff, c.MaxBackoff = 1e6, time.Millisecond, 2*time.Millisecond
		c.OnRetry = func(err error, _ time.Duration) {
			mu.Lock()
			retried = append(retried, err)
			mu.Unlock()
		}
	}, Wait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	pages, err := vendorstest.WalkAll(context.Background(), f, vendors.Window{})
	if err != nil || len(pages) != 1 || pages[0].Records != 1 {
		t.Fatalf("pages %d, err %v", len(pages), err)
	}
	if n := len(fake.Requests()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
	if len(retried) != 3 || !errors.Is(retried[0], client.ErrRateLimited) || !errors.Is(retried[1], client.ErrTransient) || !errors.Is(retried[2], client.ErrTransient) {
		t.Errorf("retries: %v", retried)
	}
}

// No error, retry notification or page param ever contains the token, in
// any encoding, whatever the vendor echoes.
func TestTokenNeverLeaks(t *testing.T) {
	secrets := []string{testToken, url.QueryEscape(testToken), url.PathEscape(testToken)}
	echo := func(status, code int) func(int, http.ResponseWriter, *http.Request) bool {
		return func(_ int, w http.ResponseWriter, r *http.Request) bool {
			tok := r.URL.Query().Get("token")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"code":%d,"message":"token %s (raw %s) refused","data":null,"requestId":%q}`, code, tok, r.URL.RawQuery, tok)
			return true
		}
	}
	tests := []struct {
		name   string
		answer func(int, http.ResponseWriter, *http.Request) bool
	}{
		{"100 over 401", echo(401, 100)},
		{"100 over 200", echo(200, 100)},
		{"400 over 400", echo(400, 400)},
		{"601 over 200", echo(200, 601)},
		{"302 over 429", echo(429, 302)},
		{"303 over 200", echo(200, 303)},
		{"500 over 500", echo(500, 500)},
		{"999 over 200", echo(200, 999)},
		{"plain 400 echo", func(_ int, w http.ResponseWriter, r *http.Request) bool {
			http.Error(w, "bad request "+r.URL.String(), http.StatusBadRequest)
			return true
		}},
		{"plain 200 echo", func(_ int, w http.ResponseWriter, r *http.Request) bool {
			fmt.Fprint(w, "<html>"+r.URL.Query().Get("token")+"</html>")
			return true
		}},
		{"connection dropped", func(_ int, w http.ResponseWriter, _ *http.Request) bool {
			hj, ok := w.(http.Hijacker)
			if !ok {
				panic("no hijacker")
			}
			c, _, _ := hj.Hijack()
			c.Close()
			return true
		}},
	}
	check := func(t *testing.T, where, msg string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(msg, s) {
				t.Errorf("%s leaks the token: %s", where, msg)
			}
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake()
			fake.answer = tc.answer
			srv := httptest.NewServer(fake)
			defer srv.Close()
			var mu sync.Mutex
			var notes []string
			f := newTestFetcher(t, testSource(srv.URL), func(err error, _ time.Duration) {
				mu.Lock()
				notes = append(notes, err.Error())
				mu.Unlock()
			})
			_, err := vendorstest.WalkAll(context.Background(), f, vendors.Window{})
			if err == nil {
				t.Fatal("walk succeeded")
			}
			check(t, "the error", err.Error())
			for _, n := range notes {
				check(t, "a retry notification", n)
			}
		})
	}
	t.Run("unreachable host", func(t *testing.T) {
		srv := httptest.NewServer(newFake())
		base := srv.URL
		srv.Close()
		_, err := vendorstest.WalkAll(context.Background(), newTestFetcher(t, testSource(base), nil), vendors.Window{})
		if !errors.Is(err, client.ErrTransient) {
			t.Fatalf("err = %v, want ErrTransient", err)
		}
		check(t, "the error", err.Error())
	})
	t.Run("success pages", func(t *testing.T) {
		srv := httptest.NewServer(newFake())
		defer srv.Close()
		pages, err := vendorstest.WalkAll(context.Background(), newTestFetcher(t, testSource(srv.URL), nil), vendors.Window{})
		if err != nil || len(pages) != 1 {
			t.Fatal(err)
		}
		for k, v := range pages[0].Params {
			check(t, "a page param", k+"="+v)
		}
		check(t, "a page body", string(pages[0].Body))
		check(t, "a page cursor", pages[0].Cursor)
	})
	t.Run("config errors", func(t *testing.T) {
		for _, mutate := range []func(*vendors.SourceConfig){
			func(c *vendors.SourceConfig) { c.Params[ParamAuthorIDs] = testToken },
			func(c *vendors.SourceConfig) { c.Params[ParamPeriods] = testToken },
			func(c *vendors.SourceConfig) { c.Params[testToken] = "x" },
			func(c *vendors.SourceConfig) { c.BaseURL = "https://" + testToken + "@h/" },
			func(c *vendors.SourceConfig) { c.BaseURL = "ftp://h/" + testToken },
			func(c *vendors.SourceConfig) { c.Credentials[testToken] = "x" },
		} {
			cfg := testSource("http://127.0.0.1:1")
			mutate(&cfg)
			_, err := NewFetcher(cfg)
			if err == nil {
				t.Fatal("NewFetcher accepted a bad config")
			}
			check(t, "a config error", err.Error())
		}
	})
}

func TestWalkEmitErrorStops(t *testing.T) {
	fake := newFake()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfg := testSource(srv.URL)
	cfg.Params = map[string]string{ParamAuthorIDs: "a1,a2", ParamPeriods: "DAY_90,DAY_30"}
	f := newTestFetcher(t, cfg, nil)
	boom := errors.New("publish failed")
	n := 0
	err := f.Walk(context.Background(), vendors.Window{}, func(_ context.Context, p vendors.Page) error {
		n++
		if p.Cursor == "a1:DAY_30" {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 2 || len(fake.Requests()) != 2 || !strings.Contains(err.Error(), "xingtu author a1 period DAY_30: emit") {
		t.Fatalf("err %v after %d pages / %d requests", err, n, len(fake.Requests()))
	}
}

func TestWalkCancelled(t *testing.T) {
	fake := newFake()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	f := newTestFetcher(t, testSource(srv.URL), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := vendorstest.WalkAll(ctx, f, vendors.Window{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestNewFetcherValidation(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*vendors.SourceConfig)
		want   string // "" = valid
	}{
		{"valid", func(*vendors.SourceConfig) {}, ""},
		{"page size ignored", func(c *vendors.SourceConfig) { c.PageSize = 999 }, ""},
		{"both periods", func(c *vendors.SourceConfig) { c.Params[ParamPeriods] = "DAY_90,DAY_30" }, ""},
		{"no token", func(c *vendors.SourceConfig) { delete(c.Credentials, CredToken) }, `missing credential "token"`},
		{"blank token", func(c *vendors.SourceConfig) { c.Credentials[CredToken] = "  " }, `missing credential "token"`},
		{"unknown credential", func(c *vendors.SourceConfig) { c.Credentials["vekey"] = "x" }, `unknown credential "vekey"`},
		{"no author_ids", func(c *vendors.SourceConfig) { delete(c.Params, ParamAuthorIDs) }, "missing param author_ids"},
		{"nil params", func(c *vendors.SourceConfig) { c.Params = nil }, "missing param author_ids"},
		{"empty author_ids", func(c *vendors.SourceConfig) { c.Params[ParamAuthorIDs] = " " }, "empty value"},
		{"empty author in list", func(c *vendors.SourceConfig) { c.Params[ParamAuthorIDs] = "a1,,a2" }, "author ID 2 is empty"},
		{"bad author", func(c *vendors.SourceConfig) { c.Params[ParamAuthorIDs] = "a1,a b" }, `author ID 2 "a b"`},
		{"duplicate author", func(c *vendors.SourceConfig) { c.Params[ParamAuthorIDs] = "a1,a2,a1" }, `author ID "a1" is listed twice`},
		{"bad period", func(c *vendors.SourceConfig) { c.Params[ParamPeriods] = "DAY_7" }, `period 1 "DAY_7": want DAY_30 or DAY_90`},
		{"lower-case period", func(c *vendors.SourceConfig) { c.Params[ParamPeriods] = "day_30" }, "want DAY_30 or DAY_90"},
		{"duplicate period", func(c *vendors.SourceConfig) { c.Params[ParamPeriods] = "DAY_30,DAY_30" }, "listed twice"},
		{"empty periods", func(c *vendors.SourceConfig) { c.Params[ParamPeriods] = "" }, "param periods: empty value"},
		{"unknown param", func(c *vendors.SourceConfig) { c.Params["period"] = "DAY_30" }, `unknown param "period"`},
		{"bad base URL scheme", func(c *vendors.SourceConfig) { c.BaseURL = "ftp://api.justoneapi.com" }, "base URL"},
		{"base URL with query", func(c *vendors.SourceConfig) { c.BaseURL = "https://api.justoneapi.com/?x=1" }, "base URL"},
		{"base URL without host", func(c *vendors.SourceConfig) { c.BaseURL = "https:///x" }, "base URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testSource("")
			tc.mutate(&cfg)
			f, err := NewFetcher(cfg)
			if tc.want == "" {
				if err != nil || f == nil {
					t.Fatalf("NewFetcher: %v", err)
				}
				return
			}
			if err == nil || f != nil {
				t.Fatalf("NewFetcher accepted it (err %v)", err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "xingtu: ") {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

func TestFetcherEndpoint(t *testing.T) {
	for base, want := range map[string]string{
		"":                             "https://api.justoneapi.com" + Path,
		"http://127.0.0.1:8080":        "http://127.0.0.1:8080" + Path,
		"http://127.0.0.1:8080/":       "http://127.0.0.1:8080" + Path,
		"https://proxy.example/joa///": "https://proxy.example/joa" + Path,
	} {
		f, err := NewFetcher(testSource(base))
		if err != nil {
			t.Fatal(err)
		}
		if f.endpoint != want {
			t.Errorf("base %q: endpoint %q, want %q", base, f.endpoint, want)
		}
	}
}

// A caller's HTTP client (and its transport) is used but not modified.
func TestCallerHTTPClientKept(t *testing.T) {
	fake := newFake()
	srv := httptest.NewServer(fake)
	defer srv.Close()
	var used int
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used++
		return http.DefaultTransport.RoundTrip(r)
	})}
	orig := hc.Transport
	cfg := testSource(srv.URL)
	cfg.HTTPClient = hc
	f, err := NewFetcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vendorstest.WalkAll(context.Background(), f, vendors.Window{}); err != nil {
		t.Fatal(err)
	}
	if used != 1 {
		t.Errorf("the caller's transport served %d requests, want 1", used)
	}
	if reflect.ValueOf(hc.Transport).Pointer() != reflect.ValueOf(orig).Pointer() {
		t.Error("the caller's client was modified")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestUntilQuotaReset(t *testing.T) {
	for _, tc := range []struct {
		now  time.Time
		want time.Duration
	}{
		{time.Date(2026, 11, 10, 23, 30, 0, 0, wire.CST), 30 * time.Minute},
		{time.Date(2026, 11, 10, 23, 59, 59, 900e6, wire.CST), time.Second},
		{time.Date(2026, 11, 10, 15, 45, 0, 0, time.UTC), 15 * time.Minute}, // 23:45 CST
		{time.Date(2026, 11, 10, 10, 0, 0, 0, wire.CST), MaxQuotaRetryAfter},
		{time.Date(2026, 11, 10, 0, 0, 0, 0, wire.CST), MaxQuotaRetryAfter},
	} {
		if got := untilQuotaReset(tc.now); got != tc.want {
			t.Errorf("untilQuotaReset(%s) = %s, want %s", tc.now, got, tc.want)
		}
	}
}
