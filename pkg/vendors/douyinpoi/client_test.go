package douyinpoi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

// fakeAPI is a scripted fake of the token and plan endpoints.
type fakeAPI struct {
	tokens fakeTokens

	mu       sync.Mutex
	plans    map[string]int // SPU → number of plans
	requests []planRequest
	// answer, if set, may answer plan request n (from 1) itself.
	answer func(n int, req planRequest) (status int, body string, ok bool)
	// noPageCount / noTotal drop those members from answers.
	noPageCount, noTotal bool
}

type planRequest struct {
	token, contentType string
	body               []byte
	spu                string
	pageNo, size       int
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case TokenPath:
		f.tokens.ServeHTTP(w, r)
		return
	case PlanPath:
	default:
		http.NotFound(w, r)
		return
	}
	b, _ := io.ReadAll(r.Body)
	req := planRequest{token: r.Header.Get("access-token"), contentType: r.Header.Get("Content-Type"), body: b}
	var m map[string]json.Number
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	_ = d.Decode(&m)
	req.spu = m["spu_id"].String()
	req.pageNo, _ = strconv.Atoi(m["page_no"].String())
	req.size, _ = strconv.Atoi(m["page_size"].String())
	f.mu.Lock()
	f.requests = append(f.requests, req)
	n := len(f.requests)
	answer := f.answer
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if answer != nil {
		if status, body, ok := answer(n, req); ok {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
			return
		}
	}
	_, _ = io.WriteString(w, f.page(req))
}

// page renders the plans of one page: plan i of an SPU has ID spu's last
// digits + i, rate 100+i.
func (f *fakeAPI) page(req planRequest) string {
	total := f.plans[req.spu]
	pages := (total + req.size - 1) / req.size
	var items []string
	for i := (req.pageNo - 1) * req.size; i < total && i < req.pageNo*req.size; i++ {
		items = append(items, fmt.Sprintf(`{"commission_rate":%d,"content_type":%d,"create_time":"2022-04-22","plan_id":%d,"status":1}`,
			100+i, 1+i%3, 7089334664648722476+int64(i)))
	}
	data := `"data":[` + strings.Join(items, ",") + `]`
	if !f.noPageCount {
		data += `,"page_count":` + strconv.Itoa(pages)
	}
	if !f.noTotal {
		data += `,"total":` + strconv.Itoa(total)
	}
	return `{"data":{` + data + `,"error_code":0,"description":""},"extra":{"description":"","error_code":0,"logid":"L","now":1767240000,"sub_description":"","sub_error_code":0}}`
}

func (f *fakeAPI) planRequests() []planRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]planRequest(nil), f.requests...)
}

func errorBody(code int64, desc string, sub int64, subDesc string) string {
	return fmt.Sprintf(`{"data":{"error_code":%d,"description":%q},"extra":{"description":%q,"error_code":%d,"logid":"20260101LOGID","now":1767240000,"sub_description":%q,"sub_error_code":%d}}`,
		code, desc, desc, code, subDesc, sub)
}

func newTestFetcher(t *testing.T, api *fakeAPI, mod func(*vendors.SourceConfig), tune func(*client.Config)) *Fetcher {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	cfg := vendors.SourceConfig{
		BaseURL:     srv.URL,
		Account:     "demo",
		Credentials: map[string]string{CredClientKey: testKey, CredClientSecret: testSecret},
		Params:      map[string]string{ParamSPUIDs: testSPU},
	}
	return vendorstest.Fetcher(t, cfg, mod, &client.Hooks{Tune: vendorstest.Tune(fastCore, tune)}, fetcherWith)
}

func TestWalkPaging(t *testing.T) {
	spus := []string{"7089053269443495980", "7089053269443495981", "7089053269443495982", "7089053269443495983", "7089053269443495984"}
	api := &fakeAPI{plans: map[string]int{spus[0]: 0, spus[1]: 1, spus[2]: 100, spus[3]: 101, spus[4]: 250}}
	f := newTestFetcher(t, api, func(c *vendors.SourceConfig) { c.Params[ParamSPUIDs] = strings.Join(spus, " , ") }, nil)
	pages, err := vendorstest.WalkAll(context.Background(), f, vendors.Window{})
	if err != nil {
		t.Fatal(err)
	}
	type pg struct {
		cursor, spu string
		records     int
	}
	want := []pg{
		{spus[0] + ":1", spus[0], 0},
		{spus[1] + ":1", spus[1], 1},
		{spus[2] + ":1", spus[2], 100},
		{spus[3] + ":1", spus[3], 100}, {spus[3] + ":2", spus[3], 1},
		{spus[4] + ":1", spus[4], 100}, {spus[4] + ":2", spus[4], 100}, {spus[4] + ":3", spus[4], 50},
	}
	if len(pages) != len(want) {
		t.Fatalf("%d pages, want %d", len(pages), len(want))
	}
	for i, w := range want {
		p := pages[i]
		if p.Cursor != w.cursor || p.Params[ParamSPUID] != w.spu || len(p.Params) != 1 || p.Records != w.records || p.HTTPStatus != 200 {
			t.Errorf("page %d = %s %v %d records, want %+v", i, p.Cursor, p.Params, p.Records, w)
		}
		if _, err := DecodePage(p.Body); err != nil {
			t.Errorf("page %d body: %v", i, err)
		}
	}
	reqs := api.planRequests()
	if len(reqs) != len(want) {
		t.Fatalf("%d plan requests, want %d", len(reqs), len(want))
	}
	// the request body carries spu_id as a bare JSON number, exactly
	if got, want := string(reqs[0].body), `{"spu_id":7089053269443495980,"page_no":1,"page_size":100}`; got != want {
		t.Errorf("request body %s, want %s", got, want)
	}
	if got, want := string(reqs[7].body), `{"spu_id":7089053269443495984,"page_no":3,"page_size":100}`; got != want {
		t.Errorf("request body %s, want %s", got, want)
	}
	for i, r := range reqs {
		if r.token != "clt.test-token-1" || r.contentType != "application/json" {
			t.Errorf("request %d: token %q content type %q", i, r.token, r.contentType)
		}
	}
	if n := api.tokens.count(); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
}

func TestWalkPageSizeAndFallbacks(t *testing.T) {
	tests := []struct {
		name                 string
		plans, size          int
		noPageCount, noTotal bool
		wantPages            int
	}{
		{"page size 10", 25, 10, false, false, 3},
		{"page_count missing: derived from total", 25, 10, true, false, 3},
		{"both missing: a short page ends", 25, 10, true, true, 3},
		{"both missing, exact multiple: an empty page ends", 20, 10, true, true, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{plans: map[string]int{testSPU: tc.plans}, noPageCount: tc.noPageCount, noTotal: tc.noTotal}
			f := newTestFetcher(t, api, func(c *vendors.SourceConfig) { c.Params[ParamPageSize] = strconv.Itoa(tc.size) }, nil)
			pages, err := vendorstest.WalkAll(context.Background(), f, vendors.Window{})
			if err != nil {
				t.Fatal(err)
			}
			if len(pages) != tc.wantPages {
				t.Fatalf("%d pages, want %d", len(pages), tc.wantPages)
			}
			if r := api.planRequests()[0]; r.size != tc.size {
				t.Errorf("page_size %d, want %d", r.size, tc.size)
			}
		})
	}
}

func TestWalkRunawayPageCount(t *testing.T) {
	api := &fakeAPI{plans: map[string]int{testSPU: 1}}
	api.answer = func(n int, r planRequest) (int, string, bool) {
		if n > 3 {
			return 200, errorBody(CodeInvalidParam, "stop", 0, ""), true
		}
		return 200, `{"data":{"data":[{"plan_id":1}],"page_count":1000000,"error_code":0}}`, true
	}
	f := newTestFetcher(t, api, nil, nil)
	pages, err := vendorstest.WalkAll(context.Background(), f, vendors.Window{})
	if !errors.Is(err, client.ErrPermanent) || len(pages) != 3 {
		t.Fatalf("%d pages, %v", len(pages), err)
	}
	if !strings.HasPrefix(err.Error(), "douyin-poi spu "+testSPU+" page 4: ") {
		t.Errorf("error lacks context: %v", err)
	}
}

func TestWalkRefreshesRefusedToken(t *testing.T) {
	for _, code := range []int64{CodeTokenExpired, CodeTokenInvalid, CodeTokenInvalidOAuth} {
		t.Run(strconv.FormatInt(code, 10), func(t *testing.T) {
			api := &fakeAPI{plans: map[string]int{testSPU: 150}}
			api.answer = func(n int, r planRequest) (int, string, bool) {
				if r.token == "clt.test-token-1" && r.pageNo == 2 {
					return 200, errorBody(code, "access_token过期", 0, ""), true
				}
				return 0, "", false
			}
			f := newTestFetcher(t, api, nil, nil)
			pages, err := vendorstest.WalkAll(context.Background(), f, vendors.Window{})
			if err != nil {
				t.Fatal(err)
			}
			if len(pages) != 2 || pages[1].Records != 50 {
				t.Fatalf("%d pages", len(pages))
			}
			reqs := api.planRequests()
			if len(reqs) != 3 || reqs[2].token != "clt.test-token-2" || reqs[2].pageNo != 2 {
				t.Fatalf("requests %+v; want page 2 retried once with the new token", reqs)
			}
			if n := api.tokens.count(); n != 2 {
				t.Fatalf("%d token requests, want 2", n)
			}
		})
	}
}

func TestWalkTokenRefusedTwice(t *testing.T) {
	api := &fakeAPI{plans: map[string]int{testSPU: 5}}
	api.answer = func(n int, r planRequest) (int, string, bool) {
		return 200, errorBody(CodeTokenExpired, "access_token过期 "+r.token, 0, ""), true
	}
	var retried []string
	f := newTestFetcher(t, api, func(c *vendors.SourceConfig) {
		c.OnRetry = func(err error, _ time.Duration) { retried = append(retried, err.Error()) }
	}, nil)
	pages, err := vendorstest.WalkAll(context.Background(), f, vendors.Window{})
	if !errors.Is(err, client.ErrUnauthorized) || !errors.Is(err, vendors.ErrVendorError) || len(pages) != 0 {
		t.Fatalf("%d pages, %v; want ErrUnauthorized", len(pages), err)
	}
	if n, m := api.tokens.count(), len(api.planRequests()); n != 2 || m != 2 {
		t.Fatalf("%d token and %d plan requests, want 2 and 2 (one refresh, one retry)", n, m)
	}
	msg := err.Error()
	if strings.Contains(msg, "clt.test-token") || !strings.Contains(msg, "[REDACTED]") || !strings.Contains(msg, "2190008") {
		t.Fatalf("error must keep the code and hide the echoed token: %s", msg)
	}
	if len(retried) != 0 {
		t.Errorf("token refusals must not go through the core's retries: %v", retried)
	}
}

func TestWalkConcurrentRefusalsRefreshOnce(t *testing.T) {
	spus := []string{"101", "102", "103", "104", "105", "106", "107", "108"}
	api := &fakeAPI{plans: map[string]int{}}
	for _, s := range spus {
		api.plans[s] = 3
	}
	api.answer = func(n int, r planRequest) (int, string, bool) {
		if r.token == "clt.test-token-1" {
			return 200, errorBody(CodeTokenExpired, "expired", 0, ""), true
		}
		return 0, "", false
	}
	f := newTestFetcher(t, api, func(c *vendors.SourceConfig) { c.Params[ParamSPUIDs] = strings.Join(spus, ",") }, nil)
	// every walk starts with the cached token 1, which the API refuses
	if tok, err := f.tokens.Token(context.Background()); err != nil || tok != "clt.test-token-1" {
		t.Fatalf("prefill: %q, %v", tok, err)
	}
	const walks = 8
	var wg sync.WaitGroup
	errs := make([]error, walks)
	for i := range walks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = vendorstest.WalkAll(context.Background(), f, vendors.Window{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("walk %d: %v", i, err)
		}
	}
	// stale refusals of token 1 must not invalidate token 2
	if n := api.tokens.count(); n != 2 {
		t.Fatalf("%d token requests for %d concurrent walks refused with the same token, want 2", n, walks)
	}
}

func TestWalkErrorClassification(t *testing.T) {
	tests := []vendorstest.ErrorCase{
		{Name: "busy then OK", Status: 200, Body: errorBody(CodeBusy, "系统繁忙", 0, ""), Requests: 2},
		{Name: "quota used up", Status: 200, Body: errorBody(CodeQuota, "配额用完", 0, ""), Target: client.ErrRateLimited, Requests: 1, RetryAfter: QuotaRetryAfter, Text: []string{"2190001"}},
		{Name: "HTTP 429", Status: 429, Body: `slow down`, Target: client.ErrRateLimited, Requests: 3},
		{Name: "invalid parameter", Status: 200, Body: errorBody(CodeInvalidParam, "参数不合法", 0, ""), Target: client.ErrPermanent, Requests: 1, Text: []string{"2100005", "参数不合法"}},
		{Name: "parameter error", Status: 200, Body: errorBody(CodeParam, "参数错误", 0, ""), Target: client.ErrPermanent, Requests: 1, Text: []string{"10002"}},
		{Name: "no permission (doc sample)", Status: 200, Body: `{"data":{"error_code":2100007,"description":"无权限操作"},"extra":{"description":"无权限操作","error_code":2100007,"logid":"20220426180719010225142142054AC378","now":1650967640,"sub_description":"没有发布/修改通用佣金计划的权限","sub_error_code":110003}}`, Target: client.ErrUnauthorized, Requests: 1, Text: []string{"2100007", "无权限操作", "110003", "没有发布/修改通用佣金计划的权限", "20220426180719010225142142054AC378"}},
		{Name: "user banned", Status: 200, Body: errorBody(CodeUserBanned, "banned", 0, ""), Target: client.ErrUnauthorized, Requests: 1},
		{Name: "not authorised", Status: 200, Body: errorBody(CodeNotAuthorised, "x", 0, ""), Target: client.ErrUnauthorized, Requests: 1},
		{Name: "no capability", Status: 200, Body: errorBody(CodeNoCapability, "x", 0, ""), Target: client.ErrUnauthorized, Requests: 1},
		{Name: "token mismatch", Status: 200, Body: errorBody(CodeTokenMismatch, "x", 0, ""), Target: client.ErrUnauthorized, Requests: 1},
		{Name: "unknown code", Status: 200, Body: errorBody(4040404, "new", 7, "sub"), Target: client.ErrPermanent, Requests: 1, Text: []string{"4040404", "sub_error_code 7"}},
		{Name: "HTTP 502", Status: 502, Body: `<html>`, Target: client.ErrTransient, Requests: 3},
		{Name: "undecodable 200", Status: 200, Body: `{"data":`, Target: client.ErrTransient, Requests: 3},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			api := &fakeAPI{plans: map[string]int{testSPU: 5}}
			api.answer = func(n int, r planRequest) (int, string, bool) {
				if tc.Target == nil && n > 1 {
					return 0, "", false
				}
				return tc.Status, tc.Body, true
			}
			f := newTestFetcher(t, api, nil, func(c *client.Config) { c.MaxAttempts = tc.MaxAttempts() })
			pages, err := vendorstest.WalkAll(context.Background(), f, vendors.Window{})
			if tc.Check(t, err, len(api.planRequests())) {
				if len(pages) != 0 {
					t.Fatalf("%d pages with the error %v", len(pages), err)
				}
			} else if len(pages) != 1 {
				t.Fatalf("%d pages, want 1", len(pages))
			}
			if n := api.tokens.count(); n != 1 {
				t.Errorf("%d token requests, want 1", n)
			}
		})
	}
}

func TestWalkNeverLeaksSecrets(t *testing.T) {
	api := &fakeAPI{plans: map[string]int{testSPU: 5}}
	api.answer = func(n int, r planRequest) (int, string, bool) {
		if n == 1 {
			return 502, "upstream saw token " + r.token, true // retried: goes through OnRetry
		}
		return 400, "bad request with token " + r.token + " key " + testKey + " secret " + testSecret, true
	}
	var logged []string
	f := newTestFetcher(t, api, func(c *vendors.SourceConfig) {
		c.OnRetry = func(err error, _ time.Duration) { logged = append(logged, err.Error()) }
	}, nil)
	_, err := vendorstest.WalkAll(context.Background(), f, vendors.Window{})
	if !errors.Is(err, client.ErrPermanent) {
		t.Fatalf("err = %v", err)
	}
	if len(logged) != 1 {
		t.Fatalf("%d retries logged, want 1", len(logged))
	}
	for _, msg := range append(logged, err.Error()) {
		for _, s := range []string{"clt.test-token-1", testKey, testSecret} {
			if strings.Contains(msg, s) {
				t.Errorf("%q leaks %q", msg, s)
			}
		}
	}
	if !strings.Contains(err.Error(), "bad request with token [REDACTED]") {
		t.Errorf("redaction lost the rest of the message: %v", err)
	}
}

func TestWalkTokenFailure(t *testing.T) {
	api := &fakeAPI{plans: map[string]int{testSPU: 5}}
	api.tokens.answer = func(int) (int, string) {
		return 200, `{"data":{"description":"client_key 或者 client_secret 报错","error_code":10013},"message":"error"}`
	}
	f := newTestFetcher(t, api, nil, nil)
	pages, err := vendorstest.WalkAll(context.Background(), f, vendors.Window{})
	if !errors.Is(err, client.ErrUnauthorized) || len(pages) != 0 || len(api.planRequests()) != 0 {
		t.Fatalf("%d pages, %d plan requests, %v; want ErrUnauthorized before any plan request", len(pages), len(api.planRequests()), err)
	}
	if !strings.Contains(err.Error(), "10013") || strings.Contains(err.Error(), testSecret) {
		t.Errorf("error text: %v", err)
	}
}

func TestWalkEmitErrorStops(t *testing.T) {
	api := &fakeAPI{plans: map[string]int{testSPU: 250}}
	f := newTestFetcher(t, api, nil, nil)
	boom := errors.New("boom")
	calls := 0
	err := f.Walk(context.Background(), vendors.Window{}, func(context.Context, vendors.Page) error {
		calls++
		return boom
	})
	if !errors.Is(err, boom) || calls != 1 || len(api.planRequests()) != 1 {
		t.Fatalf("err %v after %d emits and %d requests", err, calls, len(api.planRequests()))
	}
}

func TestWalkContextCancelled(t *testing.T) {
	api := &fakeAPI{plans: map[string]int{testSPU: 250}}
	f := newTestFetcher(t, api, nil, nil)
	vendorstest.CancelledInEmit(t, f, vendors.Window{})
}

func TestNewFetcherValidation(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*vendors.SourceConfig)
		err  string // "" = valid
	}{
		{"minimal", func(c *vendors.SourceConfig) {}, ""},
		{"page size via params", func(c *vendors.SourceConfig) { c.Params[ParamPageSize] = "50" }, ""},
		{"page size via config", func(c *vendors.SourceConfig) { c.PageSize = 50 }, ""},
		{"both page sizes agree", func(c *vendors.SourceConfig) { c.PageSize = 50; c.Params[ParamPageSize] = "50" }, ""},
		{"page sizes disagree", func(c *vendors.SourceConfig) { c.PageSize = 50; c.Params[ParamPageSize] = "60" }, "disagrees"},
		{"page size 0 param", func(c *vendors.SourceConfig) { c.Params[ParamPageSize] = "0" }, "want an integer 1..100"},
		{"page size 101", func(c *vendors.SourceConfig) { c.Params[ParamPageSize] = "101" }, "want an integer 1..100"},
		{"config page size 101", func(c *vendors.SourceConfig) { c.PageSize = 101 }, "page size 101"},
		{"no spu_ids", func(c *vendors.SourceConfig) { delete(c.Params, ParamSPUIDs) }, "missing param spu_ids"},
		{"empty spu_ids", func(c *vendors.SourceConfig) { c.Params[ParamSPUIDs] = " " }, "empty value"},
		{"bad spu", func(c *vendors.SourceConfig) { c.Params[ParamSPUIDs] = "1,x" }, "SPU 2"},
		{"empty element", func(c *vendors.SourceConfig) { c.Params[ParamSPUIDs] = "1,,2" }, "SPU 2"},
		{"spu above int64", func(c *vendors.SourceConfig) { c.Params[ParamSPUIDs] = "9223372036854775808" }, "positive decimal int64"},
		{"spu zero", func(c *vendors.SourceConfig) { c.Params[ParamSPUIDs] = "0" }, "positive"},
		{"spu with leading zero", func(c *vendors.SourceConfig) { c.Params[ParamSPUIDs] = "0123" }, "positive decimal"},
		{"spu with plus", func(c *vendors.SourceConfig) { c.Params[ParamSPUIDs] = "+123" }, "positive decimal"},
		{"duplicate spu", func(c *vendors.SourceConfig) { c.Params[ParamSPUIDs] = "5,6,5" }, "listed twice"},
		{"unknown param", func(c *vendors.SourceConfig) { c.Params["spu_id"] = "5" }, `unknown param "spu_id"`},
		{"unknown credential", func(c *vendors.SourceConfig) { c.Credentials["access_token"] = "clt.x" }, `unknown credential "access_token"`},
		{"missing key", func(c *vendors.SourceConfig) { delete(c.Credentials, CredClientKey) }, `missing credential "client_key"`},
		{"blank secret", func(c *vendors.SourceConfig) { c.Credentials[CredClientSecret] = "  " }, `missing credential "client_secret"`},
		{"bad base URL", func(c *vendors.SourceConfig) { c.BaseURL = "open.douyin.com" }, "base URL"},
		{"base URL with query", func(c *vendors.SourceConfig) { c.BaseURL = "https://open.douyin.com/?x=1" }, "base URL"},
		{"base URL with the secret as user info", func(c *vendors.SourceConfig) {
			c.BaseURL = "https://u:" + testSecret + "@open.douyin.com"
		}, "base URL"},
		{"secret echoed in a param", func(c *vendors.SourceConfig) { c.Params[ParamSPUIDs] = testSecret }, "[REDACTED]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := vendors.SourceConfig{
				Credentials: map[string]string{CredClientKey: testKey, CredClientSecret: testSecret},
				Params:      map[string]string{ParamSPUIDs: testSPU},
			}
			tc.mod(&cfg)
			f, err := NewFetcher(cfg)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("NewFetcher: %v", err)
				}
				return
			}
			vendorstest.ErrContains(t, err, tc.err)
			if f != nil {
				t.Error("a fetcher returned with an error")
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestFetcherSettings(t *testing.T) {
	f, err := NewFetcher(vendors.SourceConfig{
		Credentials: map[string]string{CredClientKey: testKey, CredClientSecret: testSecret},
		Params:      map[string]string{ParamSPUIDs: " 7089053269443495980,1 ", ParamPageSize: "20"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.endpoint != "https://open.douyin.com/poi/plan/list/" || f.tokens.url != "https://open.douyin.com/oauth/client_token/" {
		t.Errorf("endpoints %s, %s", f.endpoint, f.tokens.url)
	}
	if got := f.SPUIDs(); strings.Join(got, ",") != "7089053269443495980,1" || f.PageSize() != 20 {
		t.Errorf("SPUs %v, page size %d", got, f.PageSize())
	}
	g, err := NewFetcher(vendors.SourceConfig{
		BaseURL:     "http://127.0.0.1:1/prefix/",
		Credentials: map[string]string{CredClientKey: testKey, CredClientSecret: testSecret},
		Params:      map[string]string{ParamSPUIDs: "1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if g.endpoint != "http://127.0.0.1:1/prefix/poi/plan/list/" || g.PageSize() != MaxPageSize {
		t.Errorf("endpoint %s, page size %d", g.endpoint, g.PageSize())
	}
}

func TestFetchersShareTokenSource(t *testing.T) {
	cfg := func(key, secret, base string) vendors.SourceConfig {
		return vendors.SourceConfig{
			BaseURL:     base,
			Credentials: map[string]string{CredClientKey: key, CredClientSecret: secret},
			Params:      map[string]string{ParamSPUIDs: "1"},
		}
	}
	const base = "http://127.0.0.1:1"
	a, _ := NewFetcher(cfg("share-key", "share-secret", base))
	b, _ := NewFetcher(cfg("share-key", "share-secret", base))
	c, _ := NewFetcher(cfg("share-key", "other-secret", base))
	d, _ := NewFetcher(cfg("share-key", "share-secret", "http://127.0.0.1:2"))
	if a.tokens != b.tokens {
		t.Error("fetchers of the same app do not share their token source")
	}
	if a.tokens == c.tokens || a.tokens == d.tokens {
		t.Error("fetchers of different apps or hosts share a token source")
	}
}

func TestVendor(t *testing.T) {
	v := New()
	if v.Name() != "douyin-poi" || v.Endpoint() != "poi_plan_list" || v.MaxWindow() != 0 {
		t.Fatalf("vendor %s/%s/%s", v.Name(), v.Endpoint(), v.MaxWindow())
	}
	if f, err := v.NewFetcher(vendors.SourceConfig{}); err == nil || f != nil {
		t.Fatalf("NewFetcher without credentials = %v, %v", f, err)
	}
	envs, err := v.Normalize(rawPage(readTestdata(t, "doc_success.json")))
	if err != nil || len(envs) != 1 {
		t.Fatalf("Normalize = %d, %v", len(envs), err)
	}
}
