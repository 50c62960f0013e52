package douyinpoi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// DefaultBaseURL is the Douyin Open Platform's production base URL.
const DefaultBaseURL = "https://open.douyin.com"

// PlanPath is the plan-list path, appended to the base URL.
const PlanPath = "/poi/plan/list/"

// MaxPageSize is the largest page size the API accepts (and the default).
const MaxPageSize = 100

// MaxPages bounds the pages Walk requests for one SPU (a guard against an
// answer whose page_count never ends).
const MaxPages = 10000

// Credential names accepted in SourceConfig.Credentials (both required).
const (
	CredClientKey    = "client_key"
	CredClientSecret = "client_secret"
)

// Param names accepted in SourceConfig.Params.
const (
	// ParamSPUIDs lists the SPUs to poll: comma-separated positive decimal
	// int64 IDs (required).
	ParamSPUIDs = "spu_ids"
	// ParamPageSize is the page size 1..100 (optional).
	ParamPageSize = "page_size"
)

// Retry-after values for the platform's throttle answers (it documents none).
const (
	// QuotaRetryAfter is how long 2190001 (quota used up) asks to wait.
	QuotaRetryAfter = time.Minute
	// TokenLimitRetryAfter is how long 10020 (too many token requests) asks to wait.
	TokenLimitRetryAfter = time.Minute
)

// Douyin error codes this package branches on (PROTOCOL-NOTES section 2).
const (
	CodeBusy              = 2100004 // system busy, retry
	CodeInvalidParam      = 2100005 // invalid parameter
	CodeNoPermission      = 2100007 // no permission (e.g. an SPU the app does not own)
	CodeUserBanned        = 2100009 // user banned
	CodeQuota             = 2190001 // quota used up
	CodeTokenInvalid      = 2190002 // access_token invalid
	CodeNotAuthorised     = 2190003 // user has not authorised this API
	CodeNoCapability      = 2190004 // app lacks this capability
	CodeTokenExpired      = 2190008 // access_token expired
	CodeTokenMismatch     = 2190015 // access_token / open_id mismatch
	CodeParam             = 10002   // parameter error
	CodeBadClientKey      = 10003   // bad client_key
	CodeTokenInvalidOAuth = 10008   // token invalid or expired
	CodeBadClientSecret   = 10013   // bad client_secret
	CodeTokenLimit        = 10020   // token request limit reached
)

// Fetcher walks the plan pages of the configured SPUs for one app. It
// implements vendors.Fetcher; it is immutable after NewFetcher (the token
// cache is internally synchronised), so concurrent Walks are safe.
type Fetcher struct {
	core     *client.Core
	tokens   *TokenSource
	endpoint string
	secrets  []string
	spuIDs   []string
	size     int
}

var _ vendors.Fetcher = (*Fetcher)(nil)

// NewFetcher validates cfg and returns a Fetcher.
//
//   - BaseURL: default DefaultBaseURL; an http(s) URL without user info,
//     query or fragment, to which TokenPath and PlanPath are appended.
//   - Credentials: "client_key" and "client_secret", both required; any other
//     name is rejected.
//   - Params: "spu_ids" (required): comma-separated positive decimal int64
//     IDs, no duplicates, kept as exact text; "page_size" (optional) 1..100.
//     Unknown names and empty values are rejected.
//   - PageSize: 0 means MaxPageSize (or params page_size); otherwise 1..100,
//     and it must agree with params page_size when both are given.
//
// Fetchers with the same base URL and app credentials share one process-wide
// TokenSource (the platform keeps at most two tokens of an app alive).
// Errors name the offending setting but never contain a credential.
func NewFetcher(cfg vendors.SourceConfig) (*Fetcher, error) { return fetcherWith(cfg, nil) }

// fetcherWith is NewFetcher with test hooks; with hooks (non-nil) the token
// source is private to the Fetcher and built with them (Tune, Now).
func fetcherWith(cfg vendors.SourceConfig, h *client.Hooks) (*Fetcher, error) {
	f := &Fetcher{}
	creds, secrets, err := client.Credentials(Name, cfg.Credentials, []string{CredClientKey, CredClientSecret}, nil)
	if err != nil {
		return nil, err
	}
	f.secrets = secrets
	key, secret := creds[CredClientKey], creds[CredClientSecret]

	if f.endpoint, err = endpointURL(cfg.BaseURL, PlanPath, f.secrets...); err != nil {
		return nil, err
	}
	tokenURL, _ := endpointURL(cfg.BaseURL, TokenPath, f.secrets...)

	if err := f.setParams(cfg.Params, cfg.PageSize); err != nil {
		return nil, errors.New(client.Redact(err.Error(), f.secrets...))
	}

	cc := client.Config{HTTPClient: cfg.HTTPClient, Secrets: f.secrets, RatePerSecond: cfg.RatePerSecond}
	if onRetry := cfg.OnRetry; onRetry != nil {
		// the core knows the credentials but not the rotating access token
		cc.OnRetry = func(err error, wait time.Duration) {
			onRetry(client.RedactError(err, f.tokens.recentTokens()...), wait)
		}
	}
	f.core = h.Core(cc)
	if h != nil {
		tc := client.Config{HTTPClient: cfg.HTTPClient}
		if h.Tune != nil {
			h.Tune(&tc)
		}
		f.tokens = newTokenSource(tokenURL, key, secret, tc, h.Now)
	} else {
		f.tokens = sharedTokenSource(tokenURL, key, secret, cfg.HTTPClient)
	}
	return f, nil
}

// endpointURL validates base (default DefaultBaseURL) and appends path.
func endpointURL(base, path string, secrets ...string) (string, error) {
	return client.EndpointURL(Name, base, DefaultBaseURL, path, secrets...)
}

// setParams validates the configured parameters into f.
func (f *Fetcher) setParams(params map[string]string, pageSize int) error {
	if err := client.Params(Name, params, []string{ParamSPUIDs, ParamPageSize}, nil); err != nil {
		return err
	}
	if pageSize < 0 || pageSize > MaxPageSize {
		return fmt.Errorf("douyin-poi: page size %d: want 1..%d (0 = %d)", pageSize, MaxPageSize, MaxPageSize)
	}
	f.size = pageSize
	if v, ok := params[ParamPageSize]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > MaxPageSize {
			return fmt.Errorf("douyin-poi: param %s: %q: want an integer 1..%d", ParamPageSize, wire.Clip(v, 40), MaxPageSize)
		}
		if pageSize != 0 && pageSize != n {
			return fmt.Errorf("douyin-poi: param %s %d disagrees with the source page size %d", ParamPageSize, n, pageSize)
		}
		f.size = n
	}
	if f.size == 0 {
		f.size = MaxPageSize
	}
	v, ok := params[ParamSPUIDs]
	if !ok {
		return fmt.Errorf("douyin-poi: missing param %s (comma-separated SPU IDs)", ParamSPUIDs)
	}
	seen := map[string]bool{}
	for i, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		if _, err := parseSPU(p); err != nil {
			return fmt.Errorf("douyin-poi: param %s: SPU %d: %v", ParamSPUIDs, i+1, err)
		}
		if seen[p] {
			return fmt.Errorf("douyin-poi: param %s: SPU %s listed twice", ParamSPUIDs, p)
		}
		seen[p] = true
		f.spuIDs = append(f.spuIDs, p)
	}
	return nil
}

// SPUIDs returns the configured SPU IDs in polling order.
func (f *Fetcher) SPUIDs() []string { return append([]string(nil), f.spuIDs...) }

// PageSize returns the page size Walk requests.
func (f *Fetcher) PageSize() int { return f.size }

// Walk fetches every plan page of every configured SPU, SPUs in configured
// order and pages from page_no 1, and calls emit for each page whose envelope
// reported success (an empty page included). The window is ignored: plans
// are reference data listed as they are now.
//
// Each emitted vendors.Page has Params {"spu_id": "<id>"} and Cursor
// "<spu_id>:<page_no>". Paging stops after the page where page_no >=
// page_count, or after an empty page (when page_count is absent it is derived
// from total, and failing that a short page ends the SPU); more than MaxPages
// pages is an error wrapping client.ErrPermanent.
//
// Every request carries the cached client_token; when the plan API answers
// 2190002, 2190008 or 10008 the token is invalidated, a new one obtained and
// the request sent once more — a second refusal is an error wrapping
// client.ErrUnauthorized. See classify for the other codes. Errors are
// wrapped as "douyin-poi spu <id> page <n>: …" and never contain a
// credential or a token.
//
// Each SPU fails alone: an SPU whose pages fail (a delisted SPU answering a
// permanent error, retries exhausted) is left and the walk goes on with the
// next; Walk then returns vendors.ItemErrors naming each failed SPU. What
// every SPU would hit (refused credentials, a throttle beyond the retries, a
// failed emit, shutdown) ends the walk at once. SPUs for which w.SkipItem
// returns true are not requested.
func (f *Fetcher) Walk(ctx context.Context, w vendors.Window, emit func(context.Context, vendors.Page) error) error {
	return vendors.WalkItems(ctx, f.spuIDs, w, func(ctx context.Context, item string) error { return f.walkSPU(ctx, item, emit) })
}

// walkSPU fetches and emits every plan page of one SPU.
func (f *Fetcher) walkSPU(ctx context.Context, spu string, emit func(context.Context, vendors.Page) error) error {
	for pageNo := 1; ; pageNo++ {
		if pageNo > MaxPages {
			return fmt.Errorf("douyin-poi spu %s: %w: more than %d pages", spu, client.ErrPermanent, MaxPages)
		}
		page, n, resp, err := f.fetch(ctx, spu, pageNo)
		if err != nil {
			return fmt.Errorf("douyin-poi spu %s page %d: %w", spu, pageNo, err)
		}
		p := vendors.Page{
			Cursor: spu + ":" + strconv.Itoa(pageNo), HTTPStatus: resp.Status, Body: resp.Body,
			Records: n, Params: map[string]string{ParamSPUID: spu}, PageSize: f.size,
		}
		if err := emit(ctx, p); err != nil {
			return fmt.Errorf("douyin-poi spu %s page %d: %w: %w", spu, pageNo, vendors.ErrEmit, err)
		}
		if last(page, n, pageNo, f.size) {
			return nil
		}
	}
}

// last reports whether page (number pageNo, requested with size, holding n
// plans) ends its SPU.
func last(page *Page, n, pageNo, size int) bool {
	if n == 0 {
		return true
	}
	count := page.PageCount
	if count == 0 && page.Total > 0 {
		count = (page.Total + int64(size) - 1) / int64(size)
	}
	if count > 0 {
		return int64(pageNo) >= count
	}
	return n < size
}

// fetch requests one page with the cached token, refreshing the token once
// when the API refuses it.
func (f *Fetcher) fetch(ctx context.Context, spu string, pageNo int) (*Page, int, client.Response, error) {
	body := []byte(`{"spu_id":` + spu + `,"page_no":` + strconv.Itoa(pageNo) + `,"page_size":` + strconv.Itoa(f.size) + `}`)
	for refreshed := false; ; refreshed = true {
		tok, err := f.tokens.Token(ctx)
		if err != nil {
			return nil, 0, client.Response{}, err
		}
		page, n, resp, err := f.fetchWith(ctx, tok, body)
		var tr *tokenRejectedError
		if err != nil && errors.As(err, &tr) && !refreshed {
			f.tokens.Invalidate(tok)
			continue
		}
		return page, n, resp, client.RedactError(err, append(f.tokens.recentTokens(), tok)...)
	}
}

// fetchWith sends one page request with token tok through the HTTP core.
// Only the envelope and paging are decoded (DecodePaging): a plan of a
// drifted type is published like any other and judged by the normalizer.
func (f *Fetcher) fetchWith(ctx context.Context, tok string, body []byte) (*Page, int, client.Response, error) {
	newReq := func(ctx context.Context) (*http.Request, error) {
		return client.NewRequest(ctx, http.MethodPost, f.endpoint, body, "access-token", tok, "Content-Type", "application/json")
	}
	a, resp, err := client.Fetch(ctx, f.core, newReq, decodeAnswer, classify)
	return a.page, a.n, resp, err
}

// answer is one plan answer's envelope and its number of plans.
type answer struct {
	page *Page
	n    int
}

func decodeAnswer(r client.Response) (answer, error) {
	p, list, err := DecodePaging(r.Body)
	if err != nil {
		return answer{}, err
	}
	n, err := client.CountElements(list)
	return answer{page: p, n: n}, err
}

// tokenRejectedError is a plan-API answer refusing the access token (2190002,
// 2190008, 10008): the caller refreshes the token and retries once. It wraps
// client.ErrUnauthorized and the *APIError.
type tokenRejectedError struct{ api *APIError }

func (e *tokenRejectedError) Error() string {
	return fmt.Sprintf("%v: access token refused: %v", client.ErrUnauthorized, e.api)
}

func (e *tokenRejectedError) Unwrap() []error { return []error{client.ErrUnauthorized, e.api} }

// classify maps a DecodePage/DecodeToken error of an HTTP 2xx answer to a
// client error:
//   - 2100004 (busy) → *client.RateLimitedError without a wait (the core
//     backs off exponentially);
//   - 2190001 (quota used up) → *client.RateLimitedError, RetryAfter
//     QuotaRetryAfter; 10020 (token request limit) → RetryAfter
//     TokenLimitRetryAfter;
//   - 2190002, 2190008, 10008 (token invalid/expired) → an error wrapping
//     client.ErrUnauthorized that Fetcher.fetch recognises to refresh the
//     token and retry once;
//   - 2100007, 2100009, 2190003, 2190004, 2190015, 10003, 10013 →
//     client.ErrUnauthorized;
//   - 2100005, 10002 and any other code → client.ErrPermanent;
//   - an undecodable body (vendors.ErrMalformedPage) → client.ErrTransient.
//
// Vendor errors keep the *APIError in the chain (codes, descriptions, logid).
func classify(err error) error { return faults.Classify(err) }

// faults is the Douyin Open Platform's error taxonomy (see classify).
var faults = client.Taxonomy[*APIError, int64]{
	Code: func(e *APIError) int64 { return e.Code },
	Rules: []client.Rule[*APIError, int64]{
		{Class: client.RateLimited, Codes: []int64{CodeBusy}},
		{Class: client.RateLimited, Codes: []int64{CodeQuota}, RetryAfter: QuotaRetryAfter},
		{Class: client.RateLimited, Codes: []int64{CodeTokenLimit}, RetryAfter: TokenLimitRetryAfter},
		{Codes: []int64{CodeTokenInvalid, CodeTokenExpired, CodeTokenInvalidOAuth},
			Then: func(e *APIError, _ error) error { return &tokenRejectedError{api: e} }},
		{Class: client.Unauthorized, Codes: []int64{CodeNoPermission, CodeUserBanned, CodeNotAuthorised, CodeNoCapability,
			CodeTokenMismatch, CodeBadClientKey, CodeBadClientSecret}},
	},
}
