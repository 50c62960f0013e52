package douyinpoi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

const (
	testKey    = "awtestclientkey01"
	testSecret = "7802f4e6f243e659d51135445fe-secret"
)

// fakeTokens is a counting fake of POST /oauth/client_token/.
type fakeTokens struct {
	mu       sync.Mutex
	requests []tokenRequest
	// answer returns the answer to request n (from 1); nil: success with
	// token "clt.test-token-<n>" valid 7200 s.
	answer func(n int) (status int, body string)
	// gate, if set, is waited on before answering.
	gate chan struct{}
	// arrived, if set, receives the request number on arrival.
	arrived chan int
}

type tokenRequest struct {
	contentType string
	body        map[string]string
}

func tokenOK(n int) string {
	return fmt.Sprintf(`{"data":{"access_token":"clt.test-token-%d","description":"","error_code":0,"expires_in":7200},"message":"success"}`, n)
}

func (f *fakeTokens) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var body map[string]string
	_ = json.Unmarshal(b, &body)
	f.mu.Lock()
	f.requests = append(f.requests, tokenRequest{contentType: r.Header.Get("Content-Type"), body: body})
	n := len(f.requests)
	answer, gate, arrived := f.answer, f.gate, f.arrived
	f.mu.Unlock()
	if arrived != nil {
		arrived <- n
	}
	if gate != nil {
		select {
		case <-gate:
		case <-time.After(2 * time.Minute): // a broken single flight must not hang the test
		}
	}
	status, resp := http.StatusOK, tokenOK(n)
	if answer != nil {
		status, resp = answer(n)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, resp)
}

func (f *fakeTokens) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// fastCore lifts the rate limit and shortens backoff for tests.
func fastCore(c *client.Config) {
	c.RatePerSecond = 1e6
	c.Burst = 1000
	c.InitialBackoff = time.Millisecond
	c.MaxBackoff = 2 * time.Millisecond
}

// fakeClock is a settable clock for token expiry tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestTokens(t *testing.T, f *fakeTokens, now func() time.Time, tune func(*client.Config)) *TokenSource {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cc := client.Config{}
	fastCore(&cc)
	if tune != nil {
		tune(&cc)
	}
	return newTokenSource(srv.URL+TokenPath, testKey, testSecret, cc, now)
}

func TestTokenRequestAndCache(t *testing.T) {
	f := &fakeTokens{}
	ts := newTestTokens(t, f, nil, nil)
	for i := 0; i < 3; i++ {
		tok, err := ts.Token(context.Background())
		if err != nil || tok != "clt.test-token-1" {
			t.Fatalf("Token #%d = %q, %v", i, tok, err)
		}
	}
	if n := f.count(); n != 1 {
		t.Fatalf("%d token requests, want 1 (cached)", n)
	}
	req := f.requests[0]
	want := map[string]string{"client_key": testKey, "client_secret": testSecret, "grant_type": "client_credential"}
	if fmt.Sprint(req.body) != fmt.Sprint(want) || req.contentType != "application/json" {
		t.Fatalf("request %q %v, want application/json %v", req.contentType, req.body, want)
	}
}

func TestTokenSingleFlight(t *testing.T) {
	const callers = 64
	var waiting atomic.Int32
	allWaiting := make(chan struct{})
	f := &fakeTokens{gate: allWaiting}
	ts := newTestTokens(t, f, nil, nil)
	// the fake answers only once every other caller waits for the first fetch
	ts.onWait = func() {
		if waiting.Add(1) == callers-1 {
			close(allWaiting)
		}
	}
	var wg sync.WaitGroup
	toks := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], errs[i] = ts.Token(context.Background())
		}()
	}
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || toks[i] != "clt.test-token-1" {
			t.Fatalf("caller %d: %q, %v", i, toks[i], errs[i])
		}
	}
	if n := f.count(); n != 1 {
		t.Fatalf("%d token requests from %d concurrent callers, want exactly 1", n, callers)
	}
	if w := waiting.Load(); w != callers-1 {
		t.Fatalf("%d callers waited, want %d", w, callers-1)
	}
}

func TestTokenRefreshBeforeExpiry(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := &fakeTokens{}
	ts := newTestTokens(t, f, clock.Now, nil)
	steps := []struct {
		advance  time.Duration
		want     string
		requests int
	}{
		{0, "clt.test-token-1", 1},
		{89 * time.Minute, "clt.test-token-1", 1},                // 31 min of life left: still used
		{time.Minute + time.Second, "clt.test-token-2", 2},       // under 30 min left: refreshed
		{89*time.Minute + 59*time.Second, "clt.test-token-2", 2}, // the new token's own 90 minutes
		{2 * time.Second, "clt.test-token-3", 3},
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		tok, err := ts.Token(context.Background())
		if err != nil || tok != s.want || f.count() != s.requests {
			t.Fatalf("step %d: %q, %v after %d requests; want %q after %d", i, tok, err, f.count(), s.want, s.requests)
		}
	}
}

func TestTokenShortLifetime(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := &fakeTokens{answer: func(n int) (int, string) {
		return 200, fmt.Sprintf(`{"data":{"access_token":"clt.short-%d","error_code":0,"expires_in":600},"message":"success"}`, n)
	}}
	ts := newTestTokens(t, f, clock.Now, nil)
	for i, s := range []struct {
		advance time.Duration
		want    string
	}{{0, "clt.short-1"}, {299 * time.Second, "clt.short-1"}, {time.Second, "clt.short-2"}} {
		clock.Advance(s.advance)
		if tok, err := ts.Token(context.Background()); err != nil || tok != s.want {
			t.Fatalf("step %d: %q, %v; want %q (half of a 10-minute life is the margin)", i, tok, err, s.want)
		}
	}
}

func TestTokenMissingExpiresInDefaults(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := &fakeTokens{answer: func(n int) (int, string) {
		return 200, fmt.Sprintf(`{"data":{"access_token":"clt.noexp-%d","error_code":0},"message":"success"}`, n)
	}}
	ts := newTestTokens(t, f, clock.Now, nil)
	_, _ = ts.Token(context.Background())
	clock.Advance(89 * time.Minute)
	if tok, _ := ts.Token(context.Background()); tok != "clt.noexp-1" {
		t.Fatalf("token %q: a missing expires_in must mean 7200 s", tok)
	}
}

func TestTokenFailedEarlyRefreshKeepsValidToken(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := &fakeTokens{answer: func(n int) (int, string) {
		if n == 1 {
			return 200, tokenOK(1)
		}
		return 200, `{"data":{"description":"client_key 或者 client_secret 报错","error_code":10013},"message":"error"}`
	}}
	ts := newTestTokens(t, f, clock.Now, nil)
	if _, err := ts.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(100 * time.Minute) // refresh due, token still alive
	for i := 0; i < 3; i++ {
		if tok, err := ts.Token(context.Background()); err != nil || tok != "clt.test-token-1" {
			t.Fatalf("after a failed early refresh: %q, %v; want the still valid token", tok, err)
		}
	}
	if n := f.count(); n != 2 {
		t.Fatalf("%d token requests: a failed refresh must not be retried on every call", n)
	}
	clock.Advance(time.Minute) // the next attempt
	if _, err := ts.Token(context.Background()); err != nil || f.count() != 3 {
		t.Fatalf("a minute later: %v after %d requests, want the old token after a third request", err, f.count())
	}
	clock.Advance(20 * time.Minute) // now expired
	tok, err := ts.Token(context.Background())
	if !errors.Is(err, client.ErrUnauthorized) || tok != "" {
		t.Fatalf("after expiry: %q, %v; want ErrUnauthorized", tok, err)
	}
}

func TestTokenInvalidate(t *testing.T) {
	f := &fakeTokens{}
	ts := newTestTokens(t, f, nil, nil)
	old, _ := ts.Token(context.Background())
	ts.Invalidate(old)
	fresh, err := ts.Token(context.Background())
	if err != nil || fresh != "clt.test-token-2" {
		t.Fatalf("after Invalidate: %q, %v", fresh, err)
	}
	ts.Invalidate(old)   // a second caller refused with the old token: no effect
	ts.Invalidate("")    // nothing
	ts.Invalidate("clt") // not the cached token
	if tok, _ := ts.Token(context.Background()); tok != fresh || f.count() != 2 {
		t.Fatalf("stale invalidations caused a refresh: %q after %d requests", tok, f.count())
	}
}

func TestTokenLeaderCancelled(t *testing.T) {
	gate := make(chan struct{})
	arrived := make(chan int, 4)
	f := &fakeTokens{gate: gate, arrived: arrived}
	ts := newTestTokens(t, f, nil, nil)
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	waiterStarted := make(chan struct{})
	ts.onWait = func() { close(waiterStarted) }
	leaderErr := make(chan error, 1)
	go func() {
		_, err := ts.Token(leaderCtx)
		leaderErr <- err
	}()
	<-arrived // the leader's request is at the server
	waiterTok := make(chan string, 1)
	go func() {
		tok, err := ts.Token(context.Background())
		if err != nil {
			tok = "error: " + err.Error()
		}
		waiterTok <- tok
	}()
	<-waiterStarted
	ts.mu.Lock()
	ts.onWait = nil
	ts.mu.Unlock()
	cancelLeader()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: %v, want context.Canceled", err)
	}
	<-arrived // the waiter took over with its own request
	close(gate)
	if tok := <-waiterTok; tok != "clt.test-token-2" {
		t.Fatalf("waiter got %q, want the token of its own fetch", tok)
	}
}

func TestTokenErrors(t *testing.T) {
	tests := []vendorstest.ErrorCase{
		{Name: "wrong secret 10013", Status: 200, Body: `{"data":{"description":"client_key 或者 client_secret 报错","error_code":10013},"message":"error"}`, Target: client.ErrUnauthorized, Requests: 1},
		{Name: "unknown key 10003", Status: 200, Body: `{"data":{"description":"client_key 不存在","error_code":10003},"message":"error"}`, Target: client.ErrUnauthorized, Requests: 1},
		{Name: "too many token calls 10020", Status: 200, Body: `{"data":{"description":"too many","error_code":10020},"message":"error"}`, Target: client.ErrRateLimited, RetryAfter: TokenLimitRetryAfter, Requests: 1},
		{Name: "busy 2100004", Status: 200, Body: `{"data":{"description":"系统繁忙","error_code":2100004},"message":"error"}`, Target: client.ErrRateLimited, Requests: 3},
		{Name: "parameter error 10002", Status: 200, Body: `{"data":{"description":"参数错误","error_code":10002},"message":"error"}`, Target: client.ErrPermanent, Requests: 1},
		{Name: "undecodable", Status: 200, Body: `<html>`, Target: client.ErrTransient, Requests: 3},
		{Name: "HTTP 401 echoing the secret", Status: 401, Body: "bad secret " + testSecret, Target: client.ErrUnauthorized, Requests: 1},
		{Name: "HTTP 400 echoing the secret", Status: 400, Body: "bad request " + testSecret + " " + testKey, Target: client.ErrPermanent, Requests: 1},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			f := &fakeTokens{answer: func(int) (int, string) { return tc.Status, tc.Body }}
			ts := newTestTokens(t, f, nil, func(c *client.Config) { c.MaxAttempts = tc.MaxAttempts() })
			tok, err := ts.Token(context.Background())
			tc.Check(t, err, f.count())
			if tok != "" {
				t.Fatalf("Token = %q with the error %v", tok, err)
			}
			msg := err.Error()
			if strings.Contains(msg, testSecret) || strings.Contains(msg, testKey) {
				t.Errorf("error leaks a credential: %s", msg)
			}
			if !strings.HasPrefix(msg, "douyin-poi client_token: ") {
				t.Errorf("error lacks context: %s", msg)
			}
		})
	}
}

func TestNewTokenSource(t *testing.T) {
	f := &fakeTokens{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	ts, err := NewTokenSource(srv.URL, testKey, testSecret, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := ts.Token(context.Background()); err != nil || tok != "clt.test-token-1" {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	for _, bad := range []struct{ base, key, secret string }{
		{"ftp://x", testKey, testSecret}, {srv.URL, "", testSecret}, {srv.URL, testKey, ""},
		{"http://user:" + testSecret + "@host", testKey, testSecret},
	} {
		_, err := NewTokenSource(bad.base, bad.key, bad.secret, nil)
		if err == nil {
			t.Errorf("NewTokenSource(%q, %q, …) accepted", bad.base, bad.key)
		} else if strings.Contains(err.Error(), testSecret) {
			t.Errorf("error leaks the secret: %v", err)
		}
	}
}
