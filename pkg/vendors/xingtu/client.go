package xingtu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// DefaultBaseURL is JustOneAPI's production base URL.
const DefaultBaseURL = "https://api.justoneapi.com"

// Path is the endpoint path, appended to the base URL.
const Path = "/api/douyin-xingtu/gw/api/aggregator/get_author_order_experience/v1"

// CredToken is the SourceConfig.Credentials key of the JustOneAPI token
// (required). It is sent as the token query parameter.
const CredToken = "token"

// Source parameters (SourceConfig.Params).
const (
	// ParamAuthorIDs lists the authors (oAuthorId values) to poll, comma-separated (required).
	ParamAuthorIDs = "author_ids"
	// ParamPeriods lists the periods to poll, comma-separated (default "DAY_30").
	ParamPeriods = "periods"
)

// rateLimitRetryAfter is how long a code-302 answer asks to wait (JustOneAPI
// publishes no QPS limits; one second is a guess).
const rateLimitRetryAfter = time.Second

// MaxQuotaRetryAfter caps the wait a code-303 (daily quota) answer asks for.
// The quota is assumed to reset at midnight China Standard Time, but that is
// not documented; capping the wait at an hour lets a caller that honours
// RetryAfter notice an earlier reset (or a top-up) instead of sleeping for
// most of a day.
const MaxQuotaRetryAfter = time.Hour

// maxBody bounds how much of an error response is read (as the HTTP core does).
const maxBody = 64 << 20

// Fetcher polls get_author_order_experience for one account: one request
// per configured author and period. It implements vendors.Fetcher; it is
// immutable after NewFetcher, so concurrent Walks are safe (they share one
// rate limiter).
type Fetcher struct {
	core     *client.Core
	endpoint string
	token    string
	secrets  []string
	authors  []string
	periods  []string
	// now is the clock of the daily-quota wait; rateLimitWait the wait of a
	// code-302 answer (tests shorten it).
	now           func() time.Time
	rateLimitWait time.Duration
}

var _ vendors.Fetcher = (*Fetcher)(nil)

// NewFetcher validates cfg and returns a Fetcher.
//
//   - BaseURL: default DefaultBaseURL; an http(s) URL without user info, query
//     or fragment, to which Path is appended.
//   - Credentials: "token" is required; any other name is rejected.
//   - Params: author_ids (required) is a comma-separated list of oAuthorId
//     values, each 1..64 characters of [0-9A-Za-z_-], no duplicates; periods
//     (optional, default "DAY_30") is a comma-separated list of DAY_30 and
//     DAY_90, no duplicates. Unknown names and empty values are rejected.
//   - PageSize is ignored (the endpoint has no paging).
//
// Errors name the offending setting but never contain the token.
func NewFetcher(cfg vendors.SourceConfig) (*Fetcher, error) { return fetcherWith(cfg, nil) }

// fetcherWith is NewFetcher with test hooks (nil: production): Now is the
// clock of the daily-quota wait, Wait the wait of a code-302 answer.
func fetcherWith(cfg vendors.SourceConfig, h *client.Hooks) (*Fetcher, error) {
	f := &Fetcher{now: h.Clock(), rateLimitWait: h.WaitOr(rateLimitRetryAfter)}
	creds, secrets, err := client.Credentials(Name, cfg.Credentials, []string{CredToken}, nil)
	if err != nil {
		return nil, err
	}
	f.secrets, f.token = secrets, creds[CredToken]

	if f.endpoint, err = client.EndpointURL(Name, cfg.BaseURL, DefaultBaseURL, Path, f.secrets...); err != nil {
		return nil, err
	}

	if err := f.setParams(cfg.Params); err != nil {
		return nil, errors.New(client.Redact(err.Error(), f.secrets...))
	}

	hc := client.WithTransport(cfg.HTTPClient, func(next http.RoundTripper) http.RoundTripper { return &envelopeStatusTransport{next: next} })
	f.core = h.Core(client.Config{HTTPClient: hc, Secrets: f.secrets, RatePerSecond: cfg.RatePerSecond, OnRetry: cfg.OnRetry})
	return f, nil
}

// setParams validates the configured parameters into f.
func (f *Fetcher) setParams(params map[string]string) error {
	if err := client.Params(Name, params, []string{ParamAuthorIDs, ParamPeriods}, nil); err != nil {
		return err
	}
	authors, err := splitList(params[ParamAuthorIDs], "author ID", func(s string) error {
		if !validAuthorID(s) {
			return fmt.Errorf("want 1 to %d characters of [0-9A-Za-z_-]", maxAuthorIDLen)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("xingtu: param %s: %v", ParamAuthorIDs, err)
	}
	if len(authors) == 0 {
		return fmt.Errorf("xingtu: missing param %s (comma-separated oAuthorId values)", ParamAuthorIDs)
	}
	f.authors = authors
	f.periods = []string{DefaultPeriod}
	if v := params[ParamPeriods]; v != "" {
		periods, err := splitList(v, "period", func(s string) error {
			if s != Period30 && s != Period90 {
				return fmt.Errorf("want %s or %s", Period30, Period90)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("xingtu: param %s: %v", ParamPeriods, err)
		}
		f.periods = periods
	}
	return nil
}

// splitList splits a comma-separated list, trimming items and rejecting
// empty, invalid and duplicate ones.
func splitList(v, what string, check func(string) error) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	seen := map[string]bool{}
	out := make([]string, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("%s %d is empty", what, i+1)
		}
		if err := check(p); err != nil {
			return nil, fmt.Errorf("%s %d %q: %v", what, i+1, wire.Clip(p, 40), err)
		}
		if seen[p] {
			return nil, fmt.Errorf("%s %q is listed twice", what, wire.Clip(p, 40))
		}
		seen[p] = true
		out = append(out, p)
	}
	return out, nil
}

// Authors lists the configured authors in configuration order.
func (f *Fetcher) Authors() []string { return append([]string(nil), f.authors...) }

// Periods lists the configured periods in configuration order.
func (f *Fetcher) Periods() []string { return append([]string(nil), f.periods...) }

// Walk requests every configured author × period, authors in configuration
// order and, for each, the periods in configuration order, and calls emit
// for each answer whose envelope reported success. The window is ignored
// (the endpoint reports fixed trailing periods as of the request).
//
// Each page has Cursor "<author>:<period>", Params {"oAuthorId": author,
// "period": period} (never the token) and Records 1, or 0 when data is null.
//
// Errors are wrapped as "xingtu author <id> period <p>: …"; see classify for
// how JustOneAPI's answers map to client errors. No error contains the
// token. Only the envelope is decoded: data travels byte for byte.
//
// Each author fails alone: an author whose answer fails (an unknown author
// answering a permanent error, retries exhausted) is left and the walk goes
// on with the next; Walk then returns vendors.ItemErrors naming each failed
// author. What every author would hit (a refused token, a quota ban, a failed
// emit, shutdown) ends the walk at once. Authors for which w.SkipItem returns
// true are not requested.
func (f *Fetcher) Walk(ctx context.Context, w vendors.Window, emit func(context.Context, vendors.Page) error) error {
	return vendors.WalkItems(ctx, f.authors, w, func(ctx context.Context, item string) error { return f.walkAuthor(ctx, item, emit) })
}

// walkAuthor fetches and emits every configured period of one author.
func (f *Fetcher) walkAuthor(ctx context.Context, author string, emit func(context.Context, vendors.Page) error) error {
	for _, period := range f.periods {
		env, resp, err := f.fetch(ctx, author, period)
		if err != nil {
			return fmt.Errorf("xingtu author %s period %s: %w", author, period, err)
		}
		p := vendors.Page{
			Cursor:     author + ":" + period,
			HTTPStatus: resp.Status,
			Body:       resp.Body,
			Params:     map[string]string{ParamAuthor: author, ParamPeriod: period},
		}
		if env.Data != nil {
			p.Records = 1
		}
		if err := emit(ctx, p); err != nil {
			return fmt.Errorf("xingtu author %s period %s: %w: %w", author, period, vendors.ErrEmit, err)
		}
	}
	return nil
}

// statusKey is the request-context key of a request's statusSlot.
type statusKey struct{}

// statusSlot receives the HTTP status a JustOneAPI error envelope came with
// when envelopeStatusTransport rewrote it to 200.
type statusSlot struct{ status int }

// envelopeStatusTransport lets the body code decide. JustOneAPI sends the
// same envelope with HTTP 200 or with 400/401/403/429/500/503; the HTTP core
// classifies non-2xx statuses by status alone before the envelope check
// runs. For a response of status >= 400 whose body is a JustOneAPI error
// envelope (code != 0), this transport hands the core the response with
// status 200 (recording the real one in the request's statusSlot) so that
// classify decides by code, and retries follow the code: a 429 carrying
// code 303 is not retried, a 503 carrying code 601 is not retried. Any other
// response passes unchanged.
type envelopeStatusTransport struct{ next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t *envelopeStatusTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(req)
	if err != nil || res.StatusCode < 400 {
		return res, err
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	res.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read HTTP %d body: %w", res.StatusCode, err)
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	res.ContentLength = int64(len(body))
	var ae *APIError
	if _, derr := DecodeEnvelope(body); errors.As(derr, &ae) {
		if slot, ok := req.Context().Value(statusKey{}).(*statusSlot); ok {
			slot.status = res.StatusCode
		}
		res.StatusCode, res.Status = http.StatusOK, "200 OK"
	}
	return res, nil
}

// fetch requests one author and period and returns the decoded envelope with
// the raw response.
func (f *Fetcher) fetch(ctx context.Context, author, period string) (*Envelope, client.Response, error) {
	var slot *statusSlot
	status := 0 // the status of the answer being checked
	newReq := func(ctx context.Context) (*http.Request, error) {
		slot = &statusSlot{}
		q := url.Values{}
		q.Set("token", f.token)
		q.Set(ParamAuthor, author)
		q.Set(ParamPeriod, period)
		return client.NewRequest(context.WithValue(ctx, statusKey{}, slot), http.MethodGet, f.endpoint+"?"+q.Encode(), nil)
	}
	decode := func(r client.Response) (*Envelope, error) {
		if status = r.Status; slot != nil && slot.status != 0 {
			status = slot.status
		}
		return DecodeEnvelope(r.Body)
	}
	classify := func(err error) error { return f.classify(err, status) }
	env, resp, err := client.Fetch(ctx, f.core, newReq, decode, classify)
	var fe *finalError
	if errors.As(err, &fe) {
		err = fe.err
	}
	return env, resp, err
}

// finalError stops the HTTP core from retrying an error that would otherwise
// be retryable (a daily-quota *client.RateLimitedError, whose wait may be an
// hour): it deliberately has no Unwrap, so the core sees neither
// ErrRateLimited nor ErrTransient. fetch unwraps it again.
type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }

// classify maps a DecodeEnvelope error of an answer with HTTP status status
// (the real status, also when the transport rewrote it) to a client error.
// JustOneAPI codes:
//
//	100 invalid token, 600 permission denied → client.ErrUnauthorized
//	302 rate limited → *client.RateLimitedError, RetryAfter 1 s (retried by the core)
//	303 daily quota  → *client.RateLimitedError, RetryAfter until the next
//	                   midnight CST, capped at MaxQuotaRetryAfter (not retried)
//	301 collection failed, 500 internal error → client.ErrTransient
//	601 insufficient balance → client.ErrPermanent (an operator must top up)
//	400 validation, 202 not supported, any other code → client.ErrPermanent
//
// Vendor errors keep the *APIError in the chain (code, message and requestId
// in the text, secrets redacted). An undecodable 2xx body (a truncated
// answer, an HTML page) is client.ErrTransient.
func (f *Fetcher) classify(err error, status int) error {
	var ae *APIError
	if !errors.As(err, &ae) {
		return fmt.Errorf("%w: undecodable HTTP %d body: %v", client.ErrTransient, status, err)
	}
	red := &APIError{Code: ae.Code, Message: client.Redact(ae.Message, f.secrets...), RequestID: client.Redact(ae.RequestID, f.secrets...)}
	var vendorErr error = red
	if status != http.StatusOK {
		vendorErr = fmt.Errorf("HTTP %d: %w", status, red)
	}
	return f.faults().Of(red, vendorErr)
}

// faults is JustOneAPI's error taxonomy (see classify); the daily-quota
// wait runs on f's clock.
func (f *Fetcher) faults() client.Taxonomy[*APIError, int64] {
	return client.Taxonomy[*APIError, int64]{
		Code: func(e *APIError) int64 { return e.Code },
		Rules: []client.Rule[*APIError, int64]{
			{Class: client.Unauthorized, Codes: []int64{CodeInvalidToken, CodePermissionDenied}},
			{Class: client.RateLimited, Codes: []int64{CodeRateLimited}, RetryAfter: f.rateLimitWait, Detail: "JustOneAPI rate limit"},
			{Class: client.RateLimited, Codes: []int64{CodeDailyQuota}, Detail: "JustOneAPI daily quota exceeded",
				Wait: func(*APIError) time.Duration { return untilQuotaReset(f.now()) },
				Then: func(_ *APIError, err error) error { return &finalError{err} }},
			{Class: client.Transient, Codes: []int64{CodeCollectionFailed, CodeInternal}},
			{Class: client.Permanent, Codes: []int64{CodeInsufficientBalance},
				Note: "the JustOneAPI prepaid balance is used up: an operator must top up the account"},
		},
	}
}

// untilQuotaReset is the wait from now to the next midnight China Standard
// Time, at least one second and at most MaxQuotaRetryAfter.
func untilQuotaReset(now time.Time) time.Duration {
	c := now.In(wire.CST)
	next := time.Date(c.Year(), c.Month(), c.Day()+1, 0, 0, 0, 0, wire.CST)
	d := next.Sub(now).Round(time.Second)
	return min(max(d, time.Second), MaxQuotaRetryAfter)
}
