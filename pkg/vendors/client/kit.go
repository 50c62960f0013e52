package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Credentials checks a source's credentials against the names a vendor
// accepts: every name must be one of required or optional (a misspelt
// credential would otherwise be ignored) and every required one must be
// non-blank. It returns the trimmed values by name (blank optional ones
// left out) and the secrets to redact from every error (each non-blank
// value raw and trimmed, longest first). Errors name the vendor and the
// credential, never a value:
//
//	<vendor>: unknown credential "x" (known: a, b)
//	<vendor>: missing credential "a"
func Credentials(vendor string, given map[string]string, required, optional []string) (map[string]string, []string, error) {
	var secrets []string
	names := make([]string, 0, len(given))
	for name, v := range given {
		names = append(names, name)
		if t := strings.TrimSpace(v); t != "" {
			secrets = append(secrets, v, t)
		}
	}
	secrets = LongestFirst(secrets...)
	known := append(append([]string(nil), required...), optional...)
	sort.Strings(names)
	for _, name := range names {
		if !contains(known, name) {
			return nil, secrets, fmt.Errorf("%s: unknown credential %q (known: %s)", vendor, Redact(name, secrets...), strings.Join(known, ", "))
		}
	}
	vals := map[string]string{}
	for _, name := range known {
		if v := strings.TrimSpace(given[name]); v != "" {
			vals[name] = v
		} else if contains(required, name) {
			return nil, secrets, fmt.Errorf("%s: missing credential %q", vendor, name)
		}
	}
	return vals, secrets, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// LongestFirst returns the non-empty values, longest first (so a secret
// containing another is redacted whole), without duplicates.
func LongestFirst(vs ...string) []string {
	var out []string
	for _, v := range vs {
		if v != "" && !contains(out, v) {
			out = append(out, v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// RedactError hides the given secrets in err's text while keeping errors.Is
// and errors.As working; nil stays nil, and an error without a secret is
// returned as it is.
func RedactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := Redact(err.Error(), LongestFirst(secrets...)...)
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// Hooks are the test hooks of a vendor's fetcher constructor, one shape
// for every vendor; a nil *Hooks is production.
type Hooks struct {
	// Tune adjusts the HTTP core's config (tests shorten backoff and lift
	// the rate limit).
	Tune func(*Config)
	// Now replaces time.Now for the vendor's own clock (timestamps, quota
	// resets, token expiry).
	Now func() time.Time
	// Wait replaces a vendor's guessed throttle wait (0 = the vendor's).
	Wait time.Duration
}

// Core returns a Core for cc after Tune adjusted it.
func (h *Hooks) Core(cc Config) *Core {
	if h != nil && h.Tune != nil {
		h.Tune(&cc)
	}
	return New(cc)
}

// Clock returns Now, or time.Now without one.
func (h *Hooks) Clock() func() time.Time {
	if h != nil && h.Now != nil {
		return h.Now
	}
	return time.Now
}

// WaitOr returns Wait, or d without one.
func (h *Hooks) WaitOr(d time.Duration) time.Duration {
	if h != nil && h.Wait != 0 {
		return h.Wait
	}
	return d
}

// NewRequest builds one attempt's request: method to u with body (nil =
// none), Accept: application/json and the given header name/value pairs.
func NewRequest(ctx context.Context, method, u string, body []byte, header ...string) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	req.Header.Set("Accept", "application/json")
	return req, nil
}

// GetQuery returns a request builder for GET u?q with the given
// parameter name/value pairs set over q (q itself is left alone): the
// request of a query-string API such as veapi's.
func GetQuery(u string, q url.Values, set ...string) func(context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		for i := 0; i+1 < len(set); i += 2 {
			v.Set(set[i], set[i+1])
		}
		return NewRequest(ctx, http.MethodGet, u+"?"+v.Encode(), nil)
	}
}

// Fetch is the one fetch step of every vendor client: it sends the request
// newReq builds through c (retrying as Do does), decodes each 2xx answer's
// envelope with decode and lets classify turn a decode error (a vendor
// error envelope, an undecodable body) into a client error. It returns the
// decoded value of the answer that passed, with the raw response (also on
// error, as Do returns it).
func Fetch[T any](ctx context.Context, c *Core, newReq func(context.Context) (*http.Request, error), decode func(Response) (T, error), classify func(error) error) (T, Response, error) {
	var out T
	resp, err := c.Do(ctx, newReq, func(r Response) error {
		v, err := decode(r)
		if err != nil {
			return classify(err)
		}
		out = v
		return nil
	})
	if err != nil {
		var zero T
		return zero, resp, err
	}
	return out, resp, nil // Do succeeds only after the check passed, so out is set
}

// Undecodable is the classification of a 2xx body that does not decode (a
// truncated page, an HTML error page): transient, a later attempt may get
// the whole answer.
func Undecodable(err error) error {
	return fmt.Errorf("%w: undecodable 200 body: %v", ErrTransient, err)
}

// Class is what a vendor error means for the caller.
type Class int

// The classes a Rule assigns.
const (
	// Permanent: the same request cannot succeed (ErrPermanent).
	Permanent Class = iota
	// Unauthorized: the credentials were refused (ErrUnauthorized).
	Unauthorized
	// RateLimited: the vendor throttled the caller (*RateLimitedError).
	RateLimited
	// Transient: a later attempt may succeed (ErrTransient).
	Transient
)

// Rule is one line of a vendor's error taxonomy: a vendor error E matches
// when its code is one of Codes, its lower-cased text contains one of
// Words, or Match reports true.
type Rule[E error, K comparable] struct {
	Codes []K
	Words []string
	Match func(E) bool
	// Class is what a matching error means.
	Class Class
	// RetryAfter is a RateLimited rule's wait; Wait, if set, computes it
	// from the error instead.
	RetryAfter time.Duration
	Wait       func(E) time.Duration
	// Detail, if set, is a RateLimited rule's *RateLimitedError detail, and
	// the vendor error then stays in the chain after it; unset, the detail
	// is the vendor error's text.
	Detail string
	// Note, if set, is appended to the classified error's text in
	// parentheses (what an operator must do).
	Note string
	// Then, if set, replaces the classified error (e.g. to mark it final
	// or to try a correction first); it gets the vendor error and the
	// classified one.
	Then func(e E, classified error) error
}

// Taxonomy is a vendor's error taxonomy: how to read a code and a text
// from its error type E, and the rules, first match wins; an E no rule
// matches is Permanent.
type Taxonomy[E error, K comparable] struct {
	Code  func(E) K
	Text  func(E) string
	Rules []Rule[E, K]
}

// Match classifies the first E in err's chain; ok is false when there is
// none (the caller decides: usually Undecodable).
func (t Taxonomy[E, K]) Match(err error) (classified error, ok bool) {
	var e E
	if !errors.As(err, &e) {
		return nil, false
	}
	return t.Of(e, e), true
}

// Classify is Match with Undecodable for an error that holds no E.
func (t Taxonomy[E, K]) Classify(err error) error {
	if c, ok := t.Match(err); ok {
		return c
	}
	return Undecodable(err)
}

// Of classifies e by the rules and wraps chain (e itself, or e with
// context such as an HTTP status) in the client error.
func (t Taxonomy[E, K]) Of(e E, chain error) error {
	for _, r := range t.Rules {
		if t.matches(r, e) {
			return r.build(e, chain)
		}
	}
	return fmt.Errorf("%w: %w", ErrPermanent, chain)
}

func (t Taxonomy[E, K]) matches(r Rule[E, K], e E) bool {
	if len(r.Codes) > 0 && t.Code != nil {
		c := t.Code(e)
		for _, k := range r.Codes {
			if k == c {
				return true
			}
		}
	}
	if len(r.Words) > 0 && t.Text != nil {
		text := strings.ToLower(t.Text(e))
		for _, w := range r.Words {
			if strings.Contains(text, w) {
				return true
			}
		}
	}
	return r.Match != nil && r.Match(e)
}

func (r Rule[E, K]) build(e E, chain error) error {
	note := ""
	if r.Note != "" {
		note = " (" + r.Note + ")"
	}
	var out error
	switch r.Class {
	case RateLimited:
		wait := r.RetryAfter
		if r.Wait != nil {
			wait = r.Wait(e)
		}
		if r.Detail == "" {
			out = &RateLimitedError{RetryAfter: wait, Detail: chain.Error() + note}
		} else {
			out = fmt.Errorf("%w: %w%s", &RateLimitedError{RetryAfter: wait, Detail: r.Detail}, chain, note)
		}
	case Unauthorized:
		out = fmt.Errorf("%w: %w%s", ErrUnauthorized, chain, note)
	case Transient:
		out = fmt.Errorf("%w: %w%s", ErrTransient, chain, note)
	default:
		out = fmt.Errorf("%w: %w%s", ErrPermanent, chain, note)
	}
	if r.Then != nil {
		return r.Then(e, out)
	}
	return out
}

// Params checks a source's vendor parameters: every name must be one of
// known and every value non-blank. set (may be nil) then gets each
// parameter, in name order, with its trimmed value, to validate and keep
// it. Errors name the vendor and the parameter:
//
//	<vendor>: unknown param "x" (known: a, b)   (the name clipped to 40 bytes)
//	<vendor>: param a: empty value (omit it instead)
//	<vendor>: param a: <set's error>
func Params(vendor string, params map[string]string, known []string, set func(name, value string) error) error {
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if !contains(known, name) {
			sorted := append([]string(nil), known...)
			sort.Strings(sorted)
			return fmt.Errorf("%s: unknown param %q (known: %s)", vendor, clip(name, 40), strings.Join(sorted, ", "))
		}
		v := strings.TrimSpace(params[name])
		if v == "" {
			return fmt.Errorf("%s: param %s: empty value (omit it instead)", vendor, name)
		}
		if set == nil {
			continue
		}
		if err := set(name, v); err != nil {
			return fmt.Errorf("%s: param %s: %v", vendor, name, err)
		}
	}
	return nil
}

// clip cuts s to at most n bytes on a rune boundary, marking the cut with "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// WithTransport returns a copy of hc (nil: a client with a 30 s timeout)
// whose transport is wrap applied to hc's own (http.DefaultTransport when
// unset); hc itself is left alone.
func WithTransport(hc *http.Client, wrap func(http.RoundTripper) http.RoundTripper) *http.Client {
	c := &http.Client{Timeout: 30 * time.Second}
	if hc != nil {
		cp := *hc
		c = &cp
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = wrap(rt)
	return c
}
