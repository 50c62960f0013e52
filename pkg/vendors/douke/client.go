package douke

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// DefaultBaseURL is veapi's production base URL (veapi serves plain HTTP only).
const DefaultBaseURL = "http://api.veapi.cn"

// Path is the kol_OrderAds path, appended to the base URL.
const Path = "/douke/kol_OrderAds"

// MaxPageSize is the largest page size veapi accepts (and the default).
const MaxPageSize = 20

// Credential names accepted in SourceConfig.Credentials.
const (
	// CredVekey is veapi's API key (required).
	CredVekey = "vekey"
	// CredAccessToken carries the creator's Buyin authorisation (optional).
	CredAccessToken = "access_token"
)

// earliest is the earliest start_time veapi supports: 2021-10-01 00:00:00 CST.
var earliest = time.Date(2021, 10, 1, 0, 0, 0, 0, wire.CST)

// rateLimitRetryAfter is how long a throttled answer asks to wait (veapi does
// not say; one second is a guess).
const rateLimitRetryAfter = time.Second

// Fetcher walks the kol_OrderAds cursor pages of one time window for one
// account. It implements vendors.Fetcher; it is immutable after NewFetcher,
// so concurrent Walks are safe (they share one rate limiter).
type Fetcher struct {
	core     *client.Core
	endpoint string
	secrets  []string
	// base holds the credentials and the validated static parameters.
	base     url.Values
	timeType string
	size     int
	// maxPages bounds one Walk (MaxPages; tests lower it).
	maxPages int
}

var _ vendors.Fetcher = (*Fetcher)(nil)

// NewFetcher validates cfg and returns a Fetcher.
//
//   - BaseURL: default DefaultBaseURL; an http(s) URL without query or fragment,
//     to which Path is appended.
//   - Credentials: "vekey" is required, "access_token" is optional; any other
//     name is rejected (a misspelt credential would otherwise be ignored).
//   - Params: time_type (pay|update; a Window's TimeType overrides it),
//     distribution_type (Live|ProductDetail|Activity|Mix), pid, open_id,
//     query_order_type (0|1), order_ids (1 to 10 comma-separated IDs of
//     [0-9A-Za-z_-]); empty values and unknown names are rejected.
//   - PageSize: 0 means MaxPageSize; otherwise 1..MaxPageSize.
//
// Errors name the offending setting but never contain a credential.
func NewFetcher(cfg vendors.SourceConfig) (*Fetcher, error) { return fetcherWith(cfg, nil) }

// fetcherWith is NewFetcher with test hooks (nil: production).
func fetcherWith(cfg vendors.SourceConfig, h *client.Hooks) (*Fetcher, error) {
	f := &Fetcher{base: url.Values{}, maxPages: MaxPages}
	creds, secrets, err := client.Credentials(Name, cfg.Credentials, []string{CredVekey}, []string{CredAccessToken})
	if err != nil {
		return nil, err
	}
	f.secrets = secrets
	for name, v := range creds {
		f.base.Set(name, v)
	}
	if f.endpoint, err = client.EndpointURL(Name, cfg.BaseURL, DefaultBaseURL, Path, f.secrets...); err != nil {
		return nil, err
	}
	if f.size, err = client.PageSize(Name, cfg.PageSize, MaxPageSize); err != nil {
		return nil, err
	}
	if err := f.setParams(cfg.Params); err != nil {
		return nil, errors.New(client.Redact(err.Error(), f.secrets...))
	}
	f.core = h.Core(client.Config{HTTPClient: cfg.HTTPClient, Secrets: f.secrets, RatePerSecond: cfg.RatePerSecond, OnRetry: cfg.OnRetry})
	return f, nil
}

// setParams validates the configured vendor parameters into f.
func (f *Fetcher) setParams(params map[string]string) error {
	return client.Params(Name, params, paramNames(), func(name, v string) error {
		nv, err := paramRules[name](v)
		if err != nil {
			return err
		}
		if name == "time_type" {
			f.timeType = nv
		} else {
			f.base.Set(name, nv)
		}
		return nil
	})
}

func oneOf(allowed ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		for _, a := range allowed {
			if v == a {
				return v, nil
			}
		}
		return "", fmt.Errorf("%q: want one of %s", v, strings.Join(allowed, ", "))
	}
}

func anyValue(v string) (string, error) { return v, nil }

// paramRules validates (and normalises) each accepted parameter.
var paramRules = map[string]func(string) (string, error){
	"time_type":         oneOf("pay", "update"),
	"distribution_type": oneOf("Live", "ProductDetail", "Activity", "Mix"),
	"pid":               anyValue,
	"open_id":           anyValue,
	"query_order_type":  oneOf("0", "1"),
	"order_ids": func(v string) (string, error) {
		parts := strings.Split(v, ",")
		if len(parts) > 10 {
			return "", fmt.Errorf("%d order IDs: at most 10", len(parts))
		}
		for i, p := range parts {
			p = strings.TrimSpace(p)
			if !wire.ValidKey(p) {
				return "", fmt.Errorf("order ID %d %q: want a non-empty [0-9A-Za-z_-] ID", i+1, p)
			}
			parts[i] = p
		}
		return strings.Join(parts, ","), nil
	},
}

func paramNames() []string {
	out := make([]string, 0, len(paramRules))
	for n := range paramRules {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Walk fetches every page of w in cursor order and calls emit for each page
// whose envelope reported success (empty pages included). Only the envelope
// and data.cursor are decoded (DecodePaging): a record of a drifted type is
// published like any other and judged by the normalizer.
//
// The window is checked first (after truncation to whole seconds): start not
// before 2021-10-01 00:00:00 CST, end after start, end at most start+90 days,
// time type pay or update; a violation returns an error wrapping
// client.ErrPermanent without any request (split long ranges with
// vendors.SplitWindow). start_time and end_time are sent as CST wall-clock
// times; time_type is w.TimeType, else the configured time_type, else "pay".
//
// Paging: the first request sends cursor "0", each next one the data.cursor
// of the previous answer. Walk stops after a page with no orders, with fewer
// orders than the page size, or whose returned cursor is "", "0", equal to the
// cursor sent or one already sent (a cycle); a walk longer than MaxPages
// pages fails with client.ErrPermanent.
//
// Errors are wrapped as "douke page <cursor>: …" and never contain a
// credential; see classify for how veapi answers map to client errors.
func (f *Fetcher) Walk(ctx context.Context, w vendors.Window, emit func(context.Context, vendors.Page) error) error {
	q, err := f.windowQuery(w)
	if err != nil {
		return err
	}
	cursor := "0"
	sent := map[string]bool{}
	for pages := 1; ; pages++ {
		sent[cursor] = true
		page, n, orders, resp, err := f.fetch(ctx, q, cursor)
		if err != nil {
			return fmt.Errorf("douke page %s: %w", cursor, err)
		}
		p := vendors.Page{Cursor: cursor, HTTPStatus: resp.Status, Body: resp.Body, Records: n, PageSize: f.size,
			Content: append([]byte(page.Cursor+"\x00"), orders...)}
		if err := emit(ctx, p); err != nil {
			return fmt.Errorf("douke page %s: emit: %w", cursor, err)
		}
		next := strings.TrimSpace(page.Cursor)
		if n == 0 || n < f.size || next == "" || next == "0" || sent[next] {
			return nil
		}
		if pages >= f.maxPages {
			return fmt.Errorf("douke page %s: %w: paging did not end after %d pages (split the window)", cursor, client.ErrPermanent, f.maxPages)
		}
		cursor = next
	}
}

// MaxPages bounds the pages of one Walk: a vendor that keeps answering new
// cursors cannot hold a window forever.
const MaxPages = 50_000

// windowQuery validates w and returns the query of its first page without cursor.
func (f *Fetcher) windowQuery(w vendors.Window) (url.Values, error) {
	tt := f.timeType
	if w.TimeType != "" {
		tt = w.TimeType
	}
	if tt == "" {
		tt = "pay"
	}
	if tt != "pay" && tt != "update" {
		return nil, fmt.Errorf("douke window: %w: time type %q: want pay or update", client.ErrPermanent, tt)
	}
	s, e := w.Start.Truncate(time.Second), w.End.Truncate(time.Second)
	if s.Before(earliest) {
		return nil, fmt.Errorf("douke window: %w: start %s is before the earliest supported %s",
			client.ErrPermanent, s.In(wire.CST).Format(TimeLayout), earliest.Format(TimeLayout))
	}
	if !e.After(s) {
		return nil, fmt.Errorf("douke window: %w: end %s is not after start %s",
			client.ErrPermanent, e.In(wire.CST).Format(TimeLayout), s.In(wire.CST).Format(TimeLayout))
	}
	if e.Sub(s) > MaxWindow {
		return nil, fmt.Errorf("douke window: %w: %s to %s spans more than %s (split it with vendors.SplitWindow)",
			client.ErrPermanent, s.In(wire.CST).Format(TimeLayout), e.In(wire.CST).Format(TimeLayout), MaxWindow)
	}
	q := url.Values{}
	for k, v := range f.base {
		q[k] = append([]string(nil), v...)
	}
	q.Set("size", strconv.Itoa(f.size))
	q.Set("start_time", s.In(wire.CST).Format(TimeLayout))
	q.Set("end_time", e.In(wire.CST).Format(TimeLayout))
	q.Set("time_type", tt)
	return q, nil
}

// Answer is what paging needs of one veapi answer: its envelope, its number
// of records and data.orders raw (undecoded).
type Answer struct {
	Page    *Page
	Records int
	Orders  []byte
}

// DecodeAnswer decodes what paging needs of one answer (DecodePaging) and
// counts its records without decoding them; errors are DecodePaging's, or
// the count's.
func DecodeAnswer(r client.Response) (Answer, error) {
	body := wire.TrimBOM(r.Body)
	if p, orders, n, ok := decodePagingFast(body); ok {
		return Answer{Page: p, Records: n, Orders: orders}, nil
	}
	p, orders, err := decodePagingReference(body) // the fast reader already said no
	if err != nil {
		return Answer{}, err
	}
	n, err := client.CountElements(orders)
	return Answer{Page: p, Records: n, Orders: orders}, err
}

// fetch requests one page and returns its envelope (cursor; records are not
// decoded: see DecodePaging), its number of records, data.orders raw and the
// raw response.
func (f *Fetcher) fetch(ctx context.Context, q url.Values, cursor string) (*Page, int, []byte, client.Response, error) {
	pg, resp, err := client.Fetch(ctx, f.core, client.GetQuery(f.endpoint, q, "cursor", cursor), DecodeAnswer, classify)
	return pg.Page, pg.Records, pg.Orders, resp, err
}

// Faults is veapi's error taxonomy (kol_OrderAds and csj_ordersearch share
// the gateway and its envelope). veapi documents no error codes, so it is by
// message; rate limiting is tested first ("vekey调用过于频繁" is a throttle,
// not a bad key), then authorisation, then transient server trouble;
// anything else is permanent. The only codes (as sent in "error") trusted
// regardless of the message are HTTP-like ones:
//   - code 429 or msg mentioning 频繁/频率/限流/超限/上限/limit/too many/qps →
//     *client.RateLimitedError (RetryAfter 1 s: veapi does not say; a guess);
//   - else code 401/403 or msg mentioning vekey/key/token/授权/秘钥/密钥/权限/
//     unauthori/authoriz/authent (not bare "auth": "author_openid" is a
//     parameter) → client.ErrUnauthorized;
//   - else msg mentioning 繁忙/超时/稍后/busy/timeout/timed out/try again →
//     client.ErrTransient;
//   - else → client.ErrPermanent.
//
// Vendor errors keep the *APIError in the chain (code and msg in the text).
var Faults = client.Taxonomy[*APIError, string]{
	Code: func(e *APIError) string { return e.Code },
	Text: func(e *APIError) string { return e.Msg },
	Rules: []client.Rule[*APIError, string]{
		{Class: client.RateLimited, RetryAfter: rateLimitRetryAfter, Codes: []string{"429"},
			Words: []string{"频繁", "频率", "限流", "超限", "上限", "limit", "too many", "qps"}},
		{Class: client.Unauthorized, Codes: []string{"401", "403"},
			Words: []string{"vekey", "key", "token", "授权", "秘钥", "密钥", "权限", "unauthori", "authoriz", "authent"}},
		{Class: client.Transient, Words: []string{"繁忙", "超时", "稍后", "busy", "timeout", "timed out", "try again"}},
	},
}

// classify maps a DecodePage error of an HTTP 2xx answer to a client error
// by Faults; an undecodable body (vendors.ErrMalformedPage, e.g. a truncated
// page) is client.ErrTransient.
func classify(err error) error { return Faults.Classify(err) }
