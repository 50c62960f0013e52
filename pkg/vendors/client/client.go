// Package client is the one HTTP core every vendor client uses: timeouts,
// bounded retry with jittered exponential backoff for transient failures only,
// a per-account rate limiter, typed errors callers branch on, redaction of
// credentials from every error it returns, and a redirect policy that never
// follows a vendor to another host (where the credentials would go along).
package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
	"golang.org/x/time/rate"
)

// Typed errors. Vendor packages wrap these so callers can use errors.Is.
var (
	// ErrUnauthorized means the credentials were refused; retrying cannot help.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrPermanent means the request is wrong (bad parameters, unknown method);
	// retrying the same request cannot help.
	ErrPermanent = errors.New("permanent vendor error")
	// ErrRateLimited means the vendor throttled the caller. Use RetryAfter.
	ErrRateLimited = errors.New("rate limited")
	// ErrTransient means a network failure, timeout or server error that a later
	// retry may fix.
	ErrTransient = errors.New("transient vendor error")
	// ErrCrossHostRedirect means the vendor answered with a redirect to
	// another origin (host, port or scheme), which the core never follows:
	// Go's client would re-send the request's credentials there (custom
	// headers such as access-token, the Referer with its query, and on
	// 307/308 the body). It is also ErrPermanent; the error is a
	// *RedirectError naming both origins.
	ErrCrossHostRedirect = errors.New("redirect to another host refused")
)

// maxRedirects is how many same-origin redirects one request may follow
// (net/http's own default).
const maxRedirects = 10

// RedirectError is a refused redirect. From and To are origins
// (scheme://host:port) only: a path or query could carry credentials.
type RedirectError struct {
	Status   int
	From, To string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("%s answered HTTP %d redirecting to %s: redirects to another host are refused because they would carry the credentials there "+
		"(if the vendor moved, set base_url to the new address)", e.From, e.Status, e.To)
}

// Is makes errors.Is(err, ErrCrossHostRedirect) and errors.Is(err,
// ErrPermanent) true: the same request would be redirected again.
func (e *RedirectError) Is(target error) bool {
	return target == ErrCrossHostRedirect || target == ErrPermanent
}

// origin is u's scheme://host:port, the port made explicit.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// sameOriginRedirects wraps a CheckRedirect policy (nil = net/http's
// default of at most 10 redirects): a redirect is followed only to the
// origin of the first request, and then only if next allows it.
func sameOriginRedirects(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		from, to := origin(via[0].URL), origin(req.URL)
		if from != to {
			status := 0
			if req.Response != nil {
				status = req.Response.StatusCode
			}
			return &RedirectError{Status: status, From: from, To: to}
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("%w: stopped after %d redirects", ErrPermanent, maxRedirects)
		}
		return nil
	}
}

// RateLimitedError is a throttle answer carrying how long to wait.
type RateLimitedError struct {
	RetryAfter time.Duration
	Detail     string
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limited (retry after %s): %s", e.RetryAfter, e.Detail)
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitedError) Is(target error) bool { return target == ErrRateLimited }

// RetryAfter reports how long a rate-limited error asks to wait (0 if none).
func RetryAfter(err error) time.Duration {
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		return rl.RetryAfter
	}
	return 0
}

// Retryable reports whether err is worth retrying (transient or rate limited).
func Retryable(err error) bool {
	return errors.Is(err, ErrTransient) || errors.Is(err, ErrRateLimited)
}

// Config configures a Core.
type Config struct {
	// HTTPClient defaults to a client with a 30 s overall timeout. The core
	// uses a copy whose redirect policy refuses every redirect to another
	// origin (ErrCrossHostRedirect) before applying the client's own.
	HTTPClient *http.Client
	// RatePerSecond limits requests per second for this account (0 = 5/s).
	RatePerSecond float64
	// Burst is the limiter burst (0 = 1).
	Burst int
	// MaxAttempts bounds the attempts per request (0 = 6).
	MaxAttempts int
	// InitialBackoff is the first retry delay (0 = 200 ms); it grows ×2 with ±50% jitter.
	InitialBackoff time.Duration
	// MaxBackoff caps a single delay (0 = 10 s).
	MaxBackoff time.Duration
	// MaxRetryAfter is the longest vendor-requested wait the core sleeps
	// through (0 = 2 min). A longer ban (a daily quota) ends the call with the
	// *RateLimitedError at once, so the caller can record it and try again at
	// its next interval instead of blocking for hours.
	MaxRetryAfter time.Duration
	// Secrets are redacted from every error the core returns.
	Secrets []string
	// OnRetry, if set, is called before each retry sleep (for logs and metrics)
	// with the redacted error.
	OnRetry func(err error, wait time.Duration)
}

// Core performs vendor HTTP calls for one account.
type Core struct {
	cfg     Config
	limiter *rate.Limiter
}

// New returns a Core with defaults applied.
func New(cfg Config) *Core {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	hc := *cfg.HTTPClient // a copy: the caller's client keeps its own policy
	hc.CheckRedirect = sameOriginRedirects(cfg.HTTPClient.CheckRedirect)
	cfg.HTTPClient = &hc
	if cfg.RatePerSecond == 0 {
		cfg.RatePerSecond = 5
	}
	if cfg.Burst == 0 {
		cfg.Burst = 1
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 6
	}
	if cfg.InitialBackoff == 0 {
		cfg.InitialBackoff = 200 * time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.MaxRetryAfter == 0 {
		cfg.MaxRetryAfter = 2 * time.Minute
	}
	return &Core{cfg: cfg, limiter: rate.NewLimiter(rate.Limit(cfg.RatePerSecond), cfg.Burst)}
}

// Response is a vendor answer: HTTP status and body.
type Response struct {
	Status int
	Body   []byte
}

// Check inspects a response's vendor envelope and returns nil on success or a
// typed error (wrapping ErrUnauthorized, ErrPermanent, ErrTransient, or a
// *RateLimitedError).
type Check func(Response) error

// Do sends the request built by newReq, classifies the answer with check and
// retries transient and rate-limited failures with jittered exponential
// backoff, at most MaxAttempts times. The returned error never contains a
// configured secret.
func (c *Core) Do(ctx context.Context, newReq func(context.Context) (*http.Request, error), check Check) (Response, error) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = c.cfg.InitialBackoff
	b.MaxInterval = c.cfg.MaxBackoff
	b.RandomizationFactor = 0.5
	b.MaxElapsedTime = 0
	var resp Response
	attempt := 0
	op := func() error {
		attempt++
		var err error
		resp, err = c.once(ctx, newReq, check)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil { // cancelled while the request ran: the caller's stop wins over the answer
			return backoff.Permanent(ctx.Err())
		}
		if !Retryable(err) || attempt >= c.cfg.MaxAttempts || RetryAfter(err) > c.cfg.MaxRetryAfter {
			return backoff.Permanent(err)
		}
		return err
	}
	notify := func(err error, wait time.Duration) {
		if ra := RetryAfter(err); ra > wait {
			// the vendor said how long; sleep the difference before backoff's own wait
			t := time.NewTimer(ra - wait)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
			wait = ra
		}
		if c.cfg.OnRetry != nil {
			// OnRetry feeds logs: it gets the redacted error, like Do's caller.
			c.cfg.OnRetry(c.redactErr(err), wait)
		}
	}
	err := backoff.RetryNotify(op, backoff.WithContext(b, ctx), notify)
	if err != nil {
		return resp, c.redactErr(err)
	}
	return resp, nil
}

func (c *Core) once(ctx context.Context, newReq func(context.Context) (*http.Request, error), check Check) (Response, error) {
	if err := c.limiter.Wait(ctx); err != nil {
		return Response{}, err
	}
	req, err := newReq(ctx)
	if err != nil {
		return Response{}, fmt.Errorf("%w: build request: %v", ErrPermanent, err)
	}
	res, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Response{}, ctx.Err()
		}
		// *url.Error repeats the URL, query string (and its credentials) included:
		// report only method, host and path.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, ErrPermanent) { // the redirect policy refused (RedirectError, too many redirects)
			return Response{}, fmt.Errorf("%s %s%s: %w", req.Method, req.URL.Host, req.URL.Path, err)
		}
		return Response{}, fmt.Errorf("%w: %s %s%s: %v", ErrTransient, req.Method, req.URL.Host, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := readBody(res, 64<<20)
	if err != nil {
		return Response{}, fmt.Errorf("%w: read body: %v", ErrTransient, err)
	}
	r := Response{Status: res.StatusCode, Body: body}
	switch {
	case res.StatusCode == http.StatusTooManyRequests:
		return r, &RateLimitedError{RetryAfter: parseRetryAfter(res.Header.Get("Retry-After")), Detail: "HTTP 429"}
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden:
		return r, fmt.Errorf("%w: HTTP %d", ErrUnauthorized, res.StatusCode)
	case res.StatusCode >= 500:
		return r, fmt.Errorf("%w: HTTP %d", ErrTransient, res.StatusCode)
	case res.StatusCode >= 400:
		return r, fmt.Errorf("%w: HTTP %d: %s", ErrPermanent, res.StatusCode, snippet(body))
	}
	if check != nil {
		if err := check(r); err != nil {
			return r, err
		}
	}
	return r, nil
}

func parseRetryAfter(v string) time.Duration {
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return 0
}

func snippet(b []byte) string {
	const max = 200
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// redactedError keeps errors.Is working while hiding secrets in the message.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func (c *Core) redactErr(err error) error {
	msg := Redact(err.Error(), c.cfg.Secrets...)
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// Redact replaces every occurrence of each non-empty secret in s (raw and
// URL-query-escaped) with "[REDACTED]".
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		s = strings.ReplaceAll(s, sec, "[REDACTED]")
		if esc := url.QueryEscape(sec); esc != sec {
			s = strings.ReplaceAll(s, esc, "[REDACTED]")
		}
	}
	return s
}

// readBody reads at most limit bytes of res's body, into one buffer of the
// announced length when the server sent one (a page is read without
// growing and copying its buffer again and again, as io.ReadAll does).
func readBody(res *http.Response, limit int64) ([]byte, error) {
	r := io.LimitReader(res.Body, limit)
	n := res.ContentLength
	if n <= 0 || n >= limit {
		return io.ReadAll(r)
	}
	buf := make([]byte, 0, n+1) // +1: the read that sees EOF needs no new buffer
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // longer than announced: grow as append does
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
