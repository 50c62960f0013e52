package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	secret    = "SUPERSECRET"
	oddSecret = "s3cr3t+/=&key" // differs from its query escaping
)

// script is an httptest handler that answers request n (1-based) with
// answers[min(n, len)-1] and counts requests.
type script struct {
	n       atomic.Int64
	answers []answer
}

type answer struct {
	status int
	header map[string]string
	body   string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(s.n.Add(1))
	a := s.answers[min(n, len(s.answers))-1]
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	fmt.Fprint(w, a.body)
}

func (s *script) requests() int { return int(s.n.Load()) }

func serve(t *testing.T, answers ...answer) (*script, *httptest.Server) {
	t.Helper()
	s := &script{answers: answers}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

// retries records OnRetry calls.
type retries struct {
	mu    sync.Mutex
	errs  []error
	waits []time.Duration
}

func (r *retries) hook(err error, wait time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
	r.waits = append(r.waits, wait)
}

func (r *retries) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errs)
}

// fastConfig keeps retries in the millisecond range.
func fastConfig(srv *httptest.Server, rt *retries) Config {
	cfg := Config{
		HTTPClient:     srv.Client(),
		RatePerSecond:  1000,
		Burst:          10,
		MaxAttempts:    5,
		InitialBackoff: time.Millisecond,
		MaxBackoff:     5 * time.Millisecond,
		Secrets:        []string{secret, oddSecret},
	}
	if rt != nil {
		cfg.OnRetry = rt.hook
	}
	return cfg
}

func get(target string) func(context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	}
}

// secretURL puts both secrets in the query string, as vendors like douke require.
func secretURL(base string) string {
	return base + "/api/orders?vekey=" + secret + "&token=" + url.QueryEscape(oddSecret) + "&page=1"
}

func okCheck(Response) error { return nil }

func TestDoSuccess(t *testing.T) {
	s, srv := serve(t, answer{status: 200, body: `{"error":"0","data":[1,2]}`})
	var checked []Response
	check := func(r Response) error { checked = append(checked, r); return nil }
	rt := &retries{}
	resp, err := New(fastConfig(srv, rt)).Do(context.Background(), get(secretURL(srv.URL)), check)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || string(resp.Body) != `{"error":"0","data":[1,2]}` {
		t.Errorf("response = %d %q", resp.Status, resp.Body)
	}
	if len(checked) != 1 || string(checked[0].Body) != string(resp.Body) {
		t.Errorf("check saw %v, want the one response", checked)
	}
	if s.requests() != 1 || rt.count() != 0 {
		t.Errorf("requests = %d, retries = %d; want 1, 0", s.requests(), rt.count())
	}
}

func TestDoNilCheck(t *testing.T) {
	_, srv := serve(t, answer{status: 200, body: "x"})
	resp, err := New(fastConfig(srv, nil)).Do(context.Background(), get(srv.URL), nil)
	if err != nil || string(resp.Body) != "x" {
		t.Fatalf("Do = %q, %v", resp.Body, err)
	}
}

// Status-code classification: which answers are retried, how often, and the
// typed error they end with.
func TestDoStatusClassification(t *testing.T) {
	tests := []struct {
		name        string
		answers     []answer
		maxAttempts int
		wantErr     error // nil = success
		notErr      []error
		wantReqs    int
		wantRetries int
	}{
		{name: "500 twice then 200", answers: []answer{{status: 500}, {status: 500}, {status: 200, body: "ok"}},
			wantReqs: 3, wantRetries: 2},
		{name: "502 then 200", answers: []answer{{status: 502}, {status: 200, body: "ok"}},
			wantReqs: 2, wantRetries: 1},
		{name: "401 is not retried", answers: []answer{{status: 401, body: "bad key"}, {status: 200}},
			wantErr: ErrUnauthorized, notErr: []error{ErrTransient, ErrPermanent}, wantReqs: 1},
		{name: "403 is unauthorized", answers: []answer{{status: 403}, {status: 200}},
			wantErr: ErrUnauthorized, wantReqs: 1},
		{name: "400 is permanent", answers: []answer{{status: 400, body: "size out of range"}, {status: 200}},
			wantErr: ErrPermanent, notErr: []error{ErrTransient, ErrUnauthorized, ErrRateLimited}, wantReqs: 1},
		{name: "404 is permanent", answers: []answer{{status: 404}, {status: 200}},
			wantErr: ErrPermanent, wantReqs: 1},
		{name: "persistent 503 stops at MaxAttempts", answers: []answer{{status: 503}}, maxAttempts: 4,
			wantErr: ErrTransient, notErr: []error{ErrPermanent}, wantReqs: 4, wantRetries: 3},
		{name: "MaxAttempts 1 never retries", answers: []answer{{status: 500}, {status: 200}}, maxAttempts: 1,
			wantErr: ErrTransient, wantReqs: 1},
		{name: "persistent 429 without Retry-After", answers: []answer{{status: 429}}, maxAttempts: 3,
			wantErr: ErrRateLimited, wantReqs: 3, wantRetries: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, srv := serve(t, tc.answers...)
			rt := &retries{}
			cfg := fastConfig(srv, rt)
			if tc.maxAttempts != 0 {
				cfg.MaxAttempts = tc.maxAttempts
			}
			resp, err := New(cfg).Do(context.Background(), get(secretURL(srv.URL)), okCheck)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				if resp.Status != 200 || string(resp.Body) != "ok" {
					t.Errorf("response = %d %q", resp.Status, resp.Body)
				}
			} else {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Do error = %v, want errors.Is %v", err, tc.wantErr)
				}
				for _, not := range tc.notErr {
					if errors.Is(err, not) {
						t.Errorf("Do error %v also matches %v", err, not)
					}
				}
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q leaks the secret", err)
				}
			}
			if got := s.requests(); got != tc.wantReqs {
				t.Errorf("requests = %d, want %d", got, tc.wantReqs)
			}
			if got := rt.count(); got != tc.wantRetries {
				t.Errorf("OnRetry calls = %d, want %d", got, tc.wantRetries)
			}
		})
	}
}

func TestDoPermanentErrorShowsBody(t *testing.T) {
	_, srv := serve(t, answer{status: 400, body: "size must be 1..20"})
	_, err := New(fastConfig(srv, nil)).Do(context.Background(), get(srv.URL), okCheck)
	if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "HTTP 400") || !strings.Contains(err.Error(), "size must be 1..20") {
		t.Errorf("error = %v, want permanent HTTP 400 with the body", err)
	}
}

func TestDoRetryAfterHeader(t *testing.T) {
	s, srv := serve(t,
		answer{status: 429, header: map[string]string{"Retry-After": "1"}, body: "slow down"},
		answer{status: 200, body: "ok"})
	rt := &retries{}
	start := time.Now()
	resp, err := New(fastConfig(srv, rt)).Do(context.Background(), get(srv.URL), okCheck)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Body) != "ok" || s.requests() != 2 {
		t.Errorf("body %q after %d requests, want ok after 2", resp.Body, s.requests())
	}
	if rt.count() != 1 {
		t.Fatalf("OnRetry calls = %d, want 1", rt.count())
	}
	if rt.waits[0] < time.Second {
		t.Errorf("OnRetry wait = %s, want ≥ 1s (Retry-After)", rt.waits[0])
	}
	if !errors.Is(rt.errs[0], ErrRateLimited) || RetryAfter(rt.errs[0]) != time.Second {
		t.Errorf("OnRetry error = %v (retry after %s), want rate limited 1s", rt.errs[0], RetryAfter(rt.errs[0]))
	}
	if elapsed < time.Second {
		t.Errorf("retried after %s, before the vendor's Retry-After of 1s", elapsed)
	}
}

func TestDoCheckErrors(t *testing.T) {
	t.Run("transient is retried", func(t *testing.T) {
		s, srv := serve(t, answer{status: 200, body: "busy"}, answer{status: 200, body: "busy"}, answer{status: 200, body: "ok"})
		rt := &retries{}
		check := func(r Response) error {
			if string(r.Body) == "busy" {
				return fmt.Errorf("%w: vendor busy", ErrTransient)
			}
			return nil
		}
		resp, err := New(fastConfig(srv, rt)).Do(context.Background(), get(srv.URL), check)
		if err != nil {
			t.Fatal(err)
		}
		if string(resp.Body) != "ok" || s.requests() != 3 || rt.count() != 2 {
			t.Errorf("body %q, requests %d, retries %d; want ok, 3, 2", resp.Body, s.requests(), rt.count())
		}
	})
	t.Run("permanent is not retried", func(t *testing.T) {
		s, srv := serve(t, answer{status: 200, body: "bad"})
		check := func(Response) error { return fmt.Errorf("%w: unknown method", ErrPermanent) }
		_, err := New(fastConfig(srv, nil)).Do(context.Background(), get(srv.URL), check)
		if !errors.Is(err, ErrPermanent) || s.requests() != 1 {
			t.Errorf("error %v after %d requests, want permanent after 1", err, s.requests())
		}
	})
	t.Run("rate limited with retry after", func(t *testing.T) {
		s, srv := serve(t, answer{status: 200, body: "throttled"})
		rt := &retries{}
		check := func(Response) error { return &RateLimitedError{RetryAfter: 20 * time.Millisecond, Detail: "code 429"} }
		cfg := fastConfig(srv, rt)
		cfg.MaxAttempts = 2
		_, err := New(cfg).Do(context.Background(), get(srv.URL), check)
		if !errors.Is(err, ErrRateLimited) {
			t.Fatalf("error = %v, want errors.Is ErrRateLimited", err)
		}
		if errors.Is(err, ErrTransient) || errors.Is(err, ErrPermanent) {
			t.Errorf("error %v matches another class", err)
		}
		if got := RetryAfter(err); got != 20*time.Millisecond {
			t.Errorf("RetryAfter(err) = %s, want 20ms", got)
		}
		if s.requests() != 2 || rt.count() != 1 {
			t.Fatalf("requests %d, retries %d; want 2, 1", s.requests(), rt.count())
		}
		if rt.waits[0] < 20*time.Millisecond {
			t.Errorf("OnRetry wait = %s, want ≥ the requested 20ms", rt.waits[0])
		}
	})
	t.Run("rate limited error survives redaction", func(t *testing.T) {
		_, srv := serve(t, answer{status: 200})
		check := func(Response) error {
			return &RateLimitedError{RetryAfter: time.Hour, Detail: "key " + secret + " over quota"}
		}
		cfg := fastConfig(srv, nil)
		cfg.MaxAttempts = 1
		_, err := New(cfg).Do(context.Background(), get(srv.URL), check)
		if !errors.Is(err, ErrRateLimited) || RetryAfter(err) != time.Hour {
			t.Errorf("error = %v (retry after %s), want rate limited 1h", err, RetryAfter(err))
		}
		if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), "[REDACTED]") {
			t.Errorf("error %q is not redacted", err)
		}
	})
	t.Run("vendor echo of the secret is redacted", func(t *testing.T) {
		_, srv := serve(t, answer{status: 200})
		check := func(Response) error {
			return fmt.Errorf("%w: vekey %s / %s / %s refused", ErrUnauthorized, secret, oddSecret, url.QueryEscape(oddSecret))
		}
		_, err := New(fastConfig(srv, nil)).Do(context.Background(), get(srv.URL), check)
		if !errors.Is(err, ErrUnauthorized) {
			t.Fatalf("error = %v, want errors.Is ErrUnauthorized after redaction", err)
		}
		msg := err.Error()
		for _, leak := range []string{secret, oddSecret, url.QueryEscape(oddSecret)} {
			if strings.Contains(msg, leak) {
				t.Errorf("error %q contains %q", msg, leak)
			}
		}
		if strings.Count(msg, "[REDACTED]") != 3 {
			t.Errorf("error %q: want 3 redactions", msg)
		}
	})
}

func TestDoNetworkErrorHidesURL(t *testing.T) {
	tests := []struct {
		name   string
		server func(t *testing.T) (base string, client *http.Client)
	}{
		{"server closed", func(t *testing.T) (string, *http.Client) {
			srv := httptest.NewServer(http.NotFoundHandler())
			base, client := srv.URL, srv.Client()
			srv.Close()
			return base, client
		}},
		{"client timeout", func(t *testing.T) (string, *http.Client) {
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-release:
				case <-r.Context().Done():
				}
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(release) })
			client := srv.Client()
			client.Timeout = 20 * time.Millisecond
			return srv.URL, client
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, client := tc.server(t)
			rt := &retries{}
			cfg := Config{
				HTTPClient:     client,
				RatePerSecond:  1000,
				MaxAttempts:    2,
				InitialBackoff: time.Millisecond,
				Secrets:        []string{secret, oddSecret},
				OnRetry:        rt.hook,
			}
			_, err := New(cfg).Do(context.Background(), get(secretURL(base)), okCheck)
			if !errors.Is(err, ErrTransient) {
				t.Fatalf("error = %v, want errors.Is ErrTransient", err)
			}
			if rt.count() != 1 {
				t.Errorf("OnRetry calls = %d, want 1 (MaxAttempts 2)", rt.count())
			}
			msg := err.Error()
			for _, leak := range []string{secret, oddSecret, url.QueryEscape(oddSecret), "vekey", "token=", "?", "page=1"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error %q contains %q", msg, leak)
				}
			}
			// the retried errors given to OnRetry (logged by callers) must not leak either
			for _, e := range rt.errs {
				if strings.Contains(e.Error(), secret) || strings.Contains(e.Error(), "vekey") {
					t.Errorf("OnRetry error %q leaks the query", e)
				}
			}
			if u, _ := url.Parse(base); !strings.Contains(msg, u.Host+"/api/orders") {
				t.Errorf("error %q should still name host and path %s/api/orders", msg, u.Host)
			}
		})
	}
}

func TestDoBuildRequestError(t *testing.T) {
	s, srv := serve(t, answer{status: 200})
	newReq := func(context.Context) (*http.Request, error) {
		return nil, errors.New("bad parameter for " + secret)
	}
	_, err := New(fastConfig(srv, nil)).Do(context.Background(), newReq, okCheck)
	if !errors.Is(err, ErrPermanent) || s.requests() != 0 {
		t.Errorf("error %v after %d requests, want permanent after 0", err, s.requests())
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q leaks the secret", err)
	}
}

func TestDoContextCancel(t *testing.T) {
	t.Run("cancel from OnRetry", func(t *testing.T) {
		s, srv := serve(t, answer{status: 503})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cfg := fastConfig(srv, nil)
		cfg.MaxAttempts = 100
		cfg.InitialBackoff = time.Hour // only cancellation can end the wait
		cfg.MaxBackoff = time.Hour
		var calls atomic.Int64
		cfg.OnRetry = func(error, time.Duration) { calls.Add(1); cancel() }
		start := time.Now()
		_, err := New(cfg).Do(ctx, get(srv.URL), okCheck)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
		if s.requests() != 1 || calls.Load() != 1 {
			t.Errorf("requests %d, retries %d; want 1, 1", s.requests(), calls.Load())
		}
		if d := time.Since(start); d > 2*time.Minute {
			t.Errorf("Do took %s after cancel", d)
		}
	})
	t.Run("cancel while the vendor asks to wait an hour", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var n atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			cancel()
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
		}))
		defer srv.Close()
		cfg := fastConfig(srv, nil)
		cfg.MaxAttempts = 100
		_, err := New(cfg).Do(ctx, get(srv.URL), okCheck)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
		if n.Load() != 1 {
			t.Errorf("requests = %d, want 1", n.Load())
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		s, srv := serve(t, answer{status: 200})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := New(fastConfig(srv, nil)).Do(ctx, get(srv.URL), okCheck)
		if !errors.Is(err, context.Canceled) || s.requests() != 0 {
			t.Errorf("error %v after %d requests, want context.Canceled after 0", err, s.requests())
		}
	})
}

func TestRedact(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		secrets []string
		want    string
	}{
		{"raw", "vekey=abc123 refused", []string{"abc123"}, "vekey=[REDACTED] refused"},
		{"every occurrence", "abc123 abc123", []string{"abc123"}, "[REDACTED] [REDACTED]"},
		{"query escaped", "GET /x?k=a%2Bb%2Fc%3D", []string{"a+b/c="}, "GET /x?k=[REDACTED]"},
		{"raw and escaped", "a+b/c= and a%2Bb%2Fc%3D", []string{"a+b/c="}, "[REDACTED] and [REDACTED]"},
		{"space escapes to plus", "q=two+words", []string{"two words"}, "q=[REDACTED]"},
		{"several secrets", "k=one t=two", []string{"one", "two"}, "k=[REDACTED] t=[REDACTED]"},
		{"empty secret ignored", "nothing to hide", []string{""}, "nothing to hide"},
		{"empty among real", "key abc", []string{"", "abc", ""}, "key [REDACTED]"},
		{"no secrets", "plain", nil, "plain"},
		{"absent secret", "plain", []string{"zzz"}, "plain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Redact(tc.in, tc.secrets...); got != tc.want {
				t.Errorf("Redact(%q, %q) = %q, want %q", tc.in, tc.secrets, got, tc.want)
			}
		})
	}
}

func TestRetryableAndRetryAfter(t *testing.T) {
	rl := &RateLimitedError{RetryAfter: 3 * time.Second, Detail: "x"}
	tests := []struct {
		name      string
		err       error
		retryable bool
		after     time.Duration
	}{
		{"nil", nil, false, 0},
		{"transient", fmt.Errorf("%w: HTTP 500", ErrTransient), true, 0},
		{"rate limited sentinel", ErrRateLimited, true, 0},
		{"rate limited error", rl, true, 3 * time.Second},
		{"wrapped rate limited error", fmt.Errorf("page 3: %w", rl), true, 3 * time.Second},
		{"unauthorized", fmt.Errorf("%w: HTTP 401", ErrUnauthorized), false, 0},
		{"permanent", ErrPermanent, false, 0},
		{"other", errors.New("boom"), false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Retryable(tc.err); got != tc.retryable {
				t.Errorf("Retryable = %v, want %v", got, tc.retryable)
			}
			if got := RetryAfter(tc.err); got != tc.after {
				t.Errorf("RetryAfter = %s, want %s", got, tc.after)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"1", time.Second},
		{" 120 ", 2 * time.Minute},
		{"0", 0},
		{"", 0},
		{"-5", 0},
		{"Wed, 21 Oct 2026 07:28:00 GMT", 0},
	}
	for _, tc := range tests {
		if got := parseRetryAfter(tc.in); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// OnRetry exists for logs, so the errors it is given must be redacted like
// the returned one: a vendor that echoes the key in a transient error must not
// put the key in the retry log line.
func TestOnRetryErrorIsRedacted(t *testing.T) {
	_, srv := serve(t, answer{status: 200, body: "busy"}, answer{status: 200, body: "ok"})
	rt := &retries{}
	check := func(r Response) error {
		if string(r.Body) == "busy" {
			return fmt.Errorf("%w: vekey %s (%s) busy", ErrTransient, secret, url.QueryEscape(oddSecret))
		}
		return nil
	}
	if _, err := New(fastConfig(srv, rt)).Do(context.Background(), get(srv.URL), check); err != nil {
		t.Fatal(err)
	}
	if rt.count() != 1 {
		t.Fatalf("OnRetry calls = %d, want 1", rt.count())
	}
	e := rt.errs[0]
	if msg := e.Error(); strings.Contains(msg, secret) || strings.Contains(msg, url.QueryEscape(oddSecret)) {
		t.Errorf("OnRetry error %q leaks a secret", msg)
	}
	if !errors.Is(e, ErrTransient) {
		t.Errorf("OnRetry error %v lost its class", e)
	}
}

// TestLongBanIsNotSleptThrough: a vendor ban longer than MaxRetryAfter ends
// the call at once with the rate-limited error (no second request).
func TestLongBanIsNotSleptThrough(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Retry-After", "86400")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c := New(Config{InitialBackoff: time.Millisecond, MaxRetryAfter: time.Minute})
	start := time.Now()
	_, err := c.Do(context.Background(), func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	}, nil)
	if !errors.Is(err, ErrRateLimited) || RetryAfter(err) != 24*time.Hour {
		t.Fatalf("err = %v (retry after %s); want the day-long ban", err, RetryAfter(err))
	}
	if n.Load() != 1 || time.Since(start) > 2*time.Minute {
		t.Fatalf("%d requests in %s; want one, at once", n.Load(), time.Since(start))
	}
}
