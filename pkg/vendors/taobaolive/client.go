package taobaolive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// DefaultBaseURL is TOP's production gateway host (the official SDKs'
// default); Path is appended to it.
const DefaultBaseURL = "https://eco.taobao.com"

// Path is the TOP REST router path, appended to the base URL unless the base
// URL already ends with it.
const Path = "/router/rest"

// Method is the TOP API method name.
const Method = "alibaba.matrix.tcp.outer.querypredictorderlist"

// APIVersion is the TOP protocol version sent as v.
const APIVersion = "2.0"

// MaxPageSize is the largest page_size TOP accepts (and the default).
const MaxPageSize = 20

// DefaultTCPType is the tcp_type sent unless configured ("一般为16").
const DefaultTCPType = 16

// Credential names accepted in SourceConfig.Credentials; all three are
// required and all three are treated as secrets.
const (
	// CredAppKey is the TOP app key.
	CredAppKey = "app_key"
	// CredAppSecret is the TOP app secret (signs every request; never sent).
	CredAppSecret = "app_secret"
	// CredSession is the creator's OAuth session key.
	CredSession = "session"
)

// maxPages bounds one window's walk (a vendor that never ends paging).
const maxPages = 50_000

// maxBan caps the wait a throttle answer may ask for.
const maxBan = 24*time.Hour + time.Second

// Fetcher walks the querypredictorderlist pages of one time window for one
// account. It implements vendors.Fetcher. Its configuration is immutable
// after NewFetcher and concurrent Walks are safe (they share one rate limiter
// and one clock-skew correction).
type Fetcher struct {
	core     *client.Core
	endpoint string
	secrets  []string

	appKey, appSecret, session string
	signMethod                 string
	tcpType                    string // canonical decimal
	dateType                   int
	orderStatus                string // canonical decimal
	itemID, rid, bizOrderID    string // canonical decimals or ""
	adUserNick                 string
	size                       int

	now       func() time.Time
	dates     *dateTransport
	apiFaults client.Taxonomy[*APIError, string]
	offset    atomic.Int64 // nanoseconds added to now() for the timestamp
}

var _ vendors.Fetcher = (*Fetcher)(nil)

// NewFetcher validates cfg and returns a Fetcher.
//
//   - BaseURL: default DefaultBaseURL; an http(s) URL without user info,
//     query or fragment. Path (/router/rest) is appended unless the URL
//     already ends with it, so both "https://gw.api.taobao.com" and
//     "https://gw.api.taobao.com/router/rest" work.
//   - Credentials: "app_key", "app_secret" and "session" are all required;
//     any other name is rejected (a misspelt credential would otherwise be
//     ignored). All three are redacted from every error.
//   - Params: sign_method (md5|hmac|hmac-sha256, default hmac-sha256),
//     tcp_type (a positive integer, default 16), date_type (0 pay time,
//     default, | 1 confirm-receipt time) or, equivalently, time_type (pay |
//     confirm, the poller's name); a Window's TimeType overrides either,
//     order_status (-1 all, default, | 2 | 3 | 4 | 5), item_id, rid and
//     biz_order_id (positive integers, sent as JSON numbers), ad_user_nick.
//     Empty values and unknown names are rejected.
//   - PageSize: 0 means MaxPageSize; otherwise 1..MaxPageSize.
//
// Errors name the offending setting but never contain a credential.
func NewFetcher(cfg vendors.SourceConfig) (*Fetcher, error) { return fetcherWith(cfg, nil) }

// fetcherWith is NewFetcher with test hooks (nil: production).
func fetcherWith(cfg vendors.SourceConfig, h *client.Hooks) (*Fetcher, error) {
	f := &Fetcher{signMethod: SignHMACSHA256, tcpType: strconv.Itoa(DefaultTCPType), orderStatus: "-1", now: h.Clock()}
	creds, secrets, err := client.Credentials(Name, cfg.Credentials, []string{CredAppKey, CredAppSecret, CredSession}, nil)
	if err != nil {
		return nil, err
	}
	f.secrets, f.appKey, f.appSecret, f.session = secrets, creds[CredAppKey], creds[CredAppSecret], creds[CredSession]

	base, err := client.EndpointURL(Name, cfg.BaseURL, DefaultBaseURL, "", f.secrets...)
	if err != nil {
		return nil, err
	}
	// the gateway path is appended unless the configured URL already ends with it
	if f.endpoint = base; !strings.HasSuffix(base, Path) {
		f.endpoint = base + Path
	}
	if f.size, err = client.PageSize(Name, cfg.PageSize, MaxPageSize); err != nil {
		return nil, err
	}
	if err := f.setParams(cfg.Params); err != nil {
		return nil, errors.New(client.Redact(err.Error(), f.secrets...))
	}

	hc := client.WithTransport(cfg.HTTPClient, func(rt http.RoundTripper) http.RoundTripper {
		f.dates = &dateTransport{base: rt, now: f.now}
		return f.dates
	})
	f.core = h.Core(client.Config{HTTPClient: hc, Secrets: f.secrets, RatePerSecond: cfg.RatePerSecond, OnRetry: cfg.OnRetry})
	f.apiFaults = f.apiTaxonomy()
	return f, nil
}

// paramRule validates (and canonicalises) one parameter into f.
type paramRule func(f *Fetcher, v string) error

var paramRules = map[string]paramRule{
	"sign_method": func(f *Fetcher, v string) error {
		switch v {
		case SignMD5, SignHMAC, SignHMACSHA256:
			f.signMethod = v
			return nil
		}
		return fmt.Errorf("%q: want %s, %s or %s", v, SignMD5, SignHMAC, SignHMACSHA256)
	},
	"tcp_type": func(f *Fetcher, v string) (err error) { f.tcpType, err = positiveInt(v); return err },
	"date_type": func(f *Fetcher, v string) error {
		switch v {
		case "0", "1":
			f.dateType = int(v[0] - '0')
			return nil
		}
		return fmt.Errorf("%q: want 0 (pay time) or 1 (confirm-receipt time)", v)
	},
	"time_type": func(f *Fetcher, v string) error {
		switch v {
		case "pay":
			f.dateType = 0
		case "confirm":
			f.dateType = 1
		default:
			return fmt.Errorf("%q: want pay (date_type 0) or confirm (date_type 1)", v)
		}
		return nil
	},
	"order_status": func(f *Fetcher, v string) error {
		switch v {
		case "-1", "2", "3", "4", "5":
			f.orderStatus = v
			return nil
		}
		return fmt.Errorf("%q: want -1 (all), 2, 3, 4 or 5", v)
	},
	"item_id":      func(f *Fetcher, v string) (err error) { f.itemID, err = positiveInt(v); return err },
	"rid":          func(f *Fetcher, v string) (err error) { f.rid, err = positiveInt(v); return err },
	"biz_order_id": func(f *Fetcher, v string) (err error) { f.bizOrderID, err = positiveInt(v); return err },
	"ad_user_nick": func(f *Fetcher, v string) error { f.adUserNick = v; return nil },
}

// positiveInt canonicalises a positive int64 in decimal.
func positiveInt(v string) (string, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return "", fmt.Errorf("%q: want a positive integer", wire.Clip(v, 40))
	}
	return strconv.FormatInt(n, 10), nil
}

func (f *Fetcher) setParams(params map[string]string) error {
	known := make([]string, 0, len(paramRules))
	for k := range paramRules {
		known = append(known, k)
	}
	if err := client.Params(Name, params, known, func(name, v string) error { return paramRules[name](f, v) }); err != nil {
		return err
	}
	if dt, tt := strings.TrimSpace(params["date_type"]), strings.TrimSpace(params["time_type"]); dt != "" && tt != "" &&
		(dt == "0") != (tt == "pay") {
		return fmt.Errorf("taobao-live: params date_type %s and time_type %s disagree (give one of them)", dt, tt)
	}
	return nil
}

// window is a validated query window.
type window struct {
	start, end string // CST wall clock
	dateType   int
}

// Walk fetches every page of w in page order and calls emit for each page
// whose envelope reported success (empty pages included).
//
// The window is checked first (after truncation to whole seconds): end after
// start, at most MaxWindow long, TimeType "" (the configured date_type),
// "pay" (date_type 0) or "confirm" (date_type 1); a violation returns an
// error wrapping client.ErrPermanent without any request (split long ranges
// with vendors.SplitWindow). start_time and end_time are sent as CST
// wall-clock times inside query_predict_order_request.
//
// Only the envelopes and paging are decoded (DecodePaging): a record of a
// drifted type is published like any other and judged by the normalizer.
//
// Paging: page_no runs from 1. Walk stops after a page without elements, or
// when page_no × page_size ≥ total_count (page_size is the one requested, or
// the smaller one the answer reports); when the answer has no total_count it
// stops after a page shorter than the page size. A walk longer than 50,000
// pages fails with client.ErrPermanent. TOP pages by offset: orders that
// arrive during a walk may shift pages, which the poller's overlapping
// windows absorb.
//
// Each attempt is freshly timestamped and signed. When TOP refuses the
// timestamp (code 31) and the answer's HTTP Date header shows the gateway's
// clock differs from ours, the Fetcher adopts that offset for all later
// requests and retries. Errors are wrapped as "taobao-live page <n>: …" and
// never contain a credential; see classify for how answers map to client
// errors.
func (f *Fetcher) Walk(ctx context.Context, w vendors.Window, emit func(context.Context, vendors.Page) error) error {
	win, err := f.window(w)
	if err != nil {
		return err
	}
	for pageNo := 1; ; pageNo++ {
		page, raws, resp, err := f.fetch(ctx, win, pageNo)
		if err != nil {
			return fmt.Errorf("taobao-live page %d: %w", pageNo, err)
		}
		n := len(raws)
		content := []byte(fmt.Sprintf("%d\x00%d\x00", page.TotalCount, page.PageSize))
		for _, r := range raws {
			content = append(append(content, r...), 0)
		}
		p := vendors.Page{Cursor: strconv.Itoa(pageNo), HTTPStatus: resp.Status, Body: resp.Body, Records: n, PageSize: f.size, Content: content}
		if err := emit(ctx, p); err != nil {
			return fmt.Errorf("taobao-live page %d: emit: %w", pageNo, err)
		}
		size := int64(f.size)
		if page.PageSize > 0 && page.PageSize < size {
			size = page.PageSize
		}
		switch {
		case n == 0:
			return nil
		case page.HasTotalCount && int64(pageNo)*size >= page.TotalCount:
			return nil
		case !page.HasTotalCount && int64(n) < size:
			return nil
		case pageNo >= maxPages:
			return fmt.Errorf("taobao-live page %d: %w: paging did not end after %d pages", pageNo, client.ErrPermanent, maxPages)
		}
	}
}

// window validates w.
func (f *Fetcher) window(w vendors.Window) (window, error) {
	var win window
	switch w.TimeType {
	case "":
		win.dateType = f.dateType
	case "pay":
		win.dateType = 0
	case "confirm":
		win.dateType = 1
	default:
		return win, fmt.Errorf("taobao-live window: %w: time type %q: want pay or confirm", client.ErrPermanent, wire.Clip(w.TimeType, 40))
	}
	s, e := w.Start.Truncate(time.Second), w.End.Truncate(time.Second)
	win.start, win.end = s.In(wire.CST).Format(TimeLayout), e.In(wire.CST).Format(TimeLayout)
	if !e.After(s) {
		return win, fmt.Errorf("taobao-live window: %w: end %s is not after start %s", client.ErrPermanent, win.end, win.start)
	}
	if e.Sub(s) > MaxWindow {
		return win, fmt.Errorf("taobao-live window: %w: %s to %s spans more than %s (split it with vendors.SplitWindow)",
			client.ErrPermanent, win.start, win.end, MaxWindow)
	}
	return win, nil
}

// requestJSON renders query_predict_order_request for one page: snake_case
// keys, numbers as JSON number literals (biz_order_id too, exactly as
// configured), strings JSON-quoted.
func (f *Fetcher) requestJSON(win window, pageNo int) string {
	var b strings.Builder
	b.WriteString(`{"tcp_type":` + f.tcpType)
	b.WriteString(`,"start_time":` + jsonString(win.start))
	b.WriteString(`,"end_time":` + jsonString(win.end))
	b.WriteString(`,"page_size":` + strconv.Itoa(f.size))
	b.WriteString(`,"page_no":` + strconv.Itoa(pageNo))
	b.WriteString(`,"date_type":` + strconv.Itoa(win.dateType))
	b.WriteString(`,"order_status":` + f.orderStatus)
	if f.itemID != "" {
		b.WriteString(`,"item_id":` + f.itemID)
	}
	if f.rid != "" {
		b.WriteString(`,"rid":` + f.rid)
	}
	if f.bizOrderID != "" {
		b.WriteString(`,"biz_order_id":` + f.bizOrderID)
	}
	if f.adUserNick != "" {
		b.WriteString(`,"ad_user_nick":` + jsonString(f.adUserNick))
	}
	b.WriteString("}")
	return b.String()
}

func jsonString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(buf.String(), "\n")
}

// signedForm builds the signed form of one attempt.
func (f *Fetcher) signedForm(reqJSON string) (url.Values, error) {
	ts := f.now().Add(time.Duration(f.offset.Load())).In(wire.CST).Format(TimeLayout)
	params := map[string]string{
		"method":                      Method,
		"app_key":                     f.appKey,
		"session":                     f.session,
		"timestamp":                   ts,
		"v":                           APIVersion,
		"sign_method":                 f.signMethod,
		"format":                      "json",
		"query_predict_order_request": reqJSON,
	}
	sign, err := Sign(params, f.appSecret, f.signMethod)
	if err != nil {
		return nil, err
	}
	form := url.Values{}
	for k, v := range params {
		form.Set(k, v)
	}
	form.Set("sign", sign)
	return form, nil
}

// fetch requests one page and returns its envelope and paging, its records
// raw (not decoded: see DecodePaging) and the raw response.
func (f *Fetcher) fetch(ctx context.Context, win window, pageNo int) (*Page, []json.RawMessage, client.Response, error) {
	reqJSON := f.requestJSON(win, pageNo)
	newReq := func(ctx context.Context) (*http.Request, error) {
		form, err := f.signedForm(reqJSON)
		if err != nil {
			return nil, err
		}
		return client.NewRequest(ctx, http.MethodPost, f.endpoint, []byte(form.Encode()),
			"Content-Type", "application/x-www-form-urlencoded;charset=utf-8")
	}
	a, resp, err := client.Fetch(ctx, f.core, newReq, decodeAnswer, f.classify)
	return a.page, a.raws, resp, err
}

// answer is one answer's envelope and paging with its records raw.
type answer struct {
	page *Page
	raws []json.RawMessage
}

func decodeAnswer(r client.Response) (answer, error) {
	p, rs, err := DecodePaging(r.Body)
	return answer{page: p, raws: rs}, err
}

// Platform codes (error_response.code) that mean the credentials or their
// permissions were refused: 11/12 insufficient ISV/user permissions, 24/25
// missing/invalid signature (a wrong app secret), 26/27 missing/invalid
// session, 28/29 missing/invalid app key, 42 insufficient session
// permissions, 53 insufficient security level.
var unauthorizedCodes = []string{"11", "12", "24", "25", "26", "27", "28", "29", "42", "53"}

var banRe = regexp.MustCompile(`(?i)last\s+for\s+(\d+)\s+more\s+second`)

// banWait reads "This ban will last for N more seconds" and returns N+1 s,
// at most maxBan; 1 s when the message says nothing.
func banWait(subMsg string) time.Duration {
	m := banRe.FindStringSubmatch(subMsg)
	if m == nil {
		return time.Second
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n >= int64(maxBan/time.Second) {
		return maxBan
	}
	return time.Duration(n+1) * time.Second
}

// classify maps a DecodePage error of an HTTP 2xx answer to a client error:
//
//   - error_response with code 7, a sub_code accesscontrol.limited-by-* or
//     isv.BUSINESS_LIMIT_CONTROL → *client.RateLimitedError, RetryAfter
//     N+1 s from a sub_msg "This ban will last for N more seconds" (else 1 s);
//   - code 11, 12, 24–29, 42, 53, or a sub_code mentioning session
//     (invalid-sessionkey, session-expired, …) → client.ErrUnauthorized;
//   - code 31 (invalid timestamp) after the clock-skew correction changed the
//     timestamp → client.ErrTransient (retried with the corrected clock),
//     otherwise client.ErrPermanent;
//   - code 10 or a sub_code starting with "isp." → client.ErrTransient;
//   - anything else (15/40/41/43/50 with isv.* sub_codes…) → client.ErrPermanent;
//   - result.success=false → *client.RateLimitedError (1 s) when msg_code or
//     msg_info mentions 限流/流控/频繁/limited/too many/qps/flow control,
//     client.ErrTransient when it mentions a system error, busy or timeout,
//     else client.ErrPermanent;
//   - an undecodable body (vendors.ErrMalformedPage, e.g. a truncated page or
//     an HTML error page) → client.ErrTransient.
//
// Vendor errors keep the *APIError or *BusinessError in the chain (codes
// and messages in the text), except in a RateLimitedError's Detail.
func (f *Fetcher) classify(err error) error {
	if c, ok := f.apiFaults.Match(err); ok {
		return c
	}
	return businessFaults.Classify(err)
}

// apiTaxonomy is the error_response taxonomy of f (code 31 corrects f's clock).
func (f *Fetcher) apiTaxonomy() client.Taxonomy[*APIError, string] {
	sub := func(e *APIError) string { return strings.ToLower(e.SubCode) }
	return client.Taxonomy[*APIError, string]{
		Code: func(e *APIError) string { return e.Code },
		Text: sub,
		Rules: []client.Rule[*APIError, string]{
			{Class: client.RateLimited, Codes: []string{"7"}, Wait: func(e *APIError) time.Duration { return banWait(e.SubMsg) },
				Match: func(e *APIError) bool {
					return strings.HasPrefix(sub(e), "accesscontrol.limited-by") || strings.Contains(sub(e), "business_limit_control")
				}},
			{Class: client.Unauthorized, Codes: unauthorizedCodes, Words: []string{"session"}},
			{Codes: []string{"31"}, Then: func(e *APIError, permanent error) error {
				if f.resync() {
					return fmt.Errorf("%w: %w (timestamp corrected to the gateway's clock, offset %s)",
						client.ErrTransient, e, time.Duration(f.offset.Load()).Round(time.Second))
				}
				return permanent
			}},
			{Class: client.Transient, Codes: []string{"10"}, Match: func(e *APIError) bool { return strings.HasPrefix(sub(e), "isp.") }},
		},
	}
}

// businessFaults is the result.success=false taxonomy, by msg_code and msg_info.
var businessFaults = client.Taxonomy[*BusinessError, string]{
	Text: func(e *BusinessError) string { return e.MsgCode + " " + e.MsgInfo },
	Rules: []client.Rule[*BusinessError, string]{
		{Class: client.RateLimited, RetryAfter: time.Second, Words: []string{"限流", "流控", "频繁", "limited", "too many", "qps", "flow control"}},
		{Class: client.Transient, Words: []string{"系统错误", "系统异常", "系统繁忙", "服务异常", "服务不可用", "繁忙", "超时", "稍后",
			"system error", "system busy", "busy", "timeout", "timed out", "try again", "service unavailable"}},
	},
}

// resync adopts the clock offset the last answer's Date header showed and
// reports whether it changed the timestamp by more than two seconds.
func (f *Fetcher) resync() bool {
	skew, ok := f.dates.last()
	if !ok {
		return false
	}
	old := time.Duration(f.offset.Swap(int64(skew)))
	return (skew - old).Abs() > 2*time.Second
}

// dateTransport records, for each answer with a Date header, how far the
// server's clock is from ours.
type dateTransport struct {
	base http.RoundTripper
	now  func() time.Time

	mu   sync.Mutex
	skew time.Duration
	seen bool
}

// RoundTrip sends req through the base transport and notes the answer's Date.
func (t *dateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.base.RoundTrip(req)
	if err != nil {
		return res, err
	}
	if d, perr := http.ParseTime(res.Header.Get("Date")); perr == nil {
		// Date has whole seconds: on average the server is half a second later.
		skew := d.Add(500 * time.Millisecond).Sub(t.now())
		t.mu.Lock()
		t.skew, t.seen = skew, true
		t.mu.Unlock()
	}
	return res, nil
}

func (t *dateTransport) last() (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.skew, t.seen
}
