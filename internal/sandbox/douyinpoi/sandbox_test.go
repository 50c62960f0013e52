package douyinpoi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/sandbox/sandboxtest"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
	api "github.com/yongjin-dev/yongjin/pkg/vendors/douyinpoi"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

const (
	sbKeyA    = "awsandboxkeyA"
	sbSecretA = "sandbox-secret-A"
	sbKeyB    = "awsandboxkeyB"
	sbSecretB = "sandbox-secret-B"
)

// testSandbox is a running sandbox with per-path request counts.
type testSandbox struct {
	srv *sandbox.Server
	h   *Handler
	url string

	mu    sync.Mutex
	paths map[string]int
	// after, if set, runs after each request is served (with its path).
	after func(path string)
}

// issued returns every token the sandbox issued on any server.
func (s *testSandbox) issued() []string {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	var out []string
	for _, m := range s.h.mounts {
		m.mu.Lock()
		for tok := range m.tokens {
			out = append(out, tok)
		}
		m.mu.Unlock()
	}
	return out
}

// vendorTestdata returns the file name of the vendor package's testdata.
func vendorTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "pkg", "vendors", "douyinpoi", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (s *testSandbox) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paths[path]
}

func sandboxConfig(seed int64) sandbox.Config {
	cfg := sandbox.DefaultConfig()
	cfg.Seed = seed
	cfg.Orders = 0
	cfg.Accounts = []sandbox.Account{Account("a", sbKeyA, sbSecretA), Account("b", sbKeyB, sbSecretB)}
	return cfg
}

func startSandbox(t *testing.T, cfg sandbox.Config) *testSandbox {
	t.Helper()
	srv, err := sandbox.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler()
	if err := srv.Register(h); err != nil {
		t.Fatal(err)
	}
	ts := &testSandbox{srv: srv, h: h, paths: map[string]int{}}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.paths[r.URL.Path]++
		ts.mu.Unlock()
		srv.Handler().ServeHTTP(w, r)
		if ts.after != nil {
			ts.after(r.URL.Path)
		}
	}))
	t.Cleanup(hs.Close)
	ts.url = hs.URL
	return ts
}

// call sends one request and returns the status and body.
func call(t *testing.T, method, u, contentType, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("access-token", token)
	}
	res, b := sandboxtest.Do(t, req)
	return res.StatusCode, string(b)
}

func (s *testSandbox) token(t *testing.T, key, secret string) string {
	t.Helper()
	body := fmt.Sprintf(`{"client_key":%q,"client_secret":%q,"grant_type":"client_credential"}`, key, secret)
	_, resp := call(t, http.MethodPost, s.url+TokenPath, "application/json", "", body)
	tok, err := api.DecodeToken([]byte(resp))
	if err != nil {
		t.Fatalf("token: %v (%s)", err, resp)
	}
	return tok.AccessToken
}

func (s *testSandbox) plans(t *testing.T, token, spu string, pageNo, size int) string {
	t.Helper()
	body := fmt.Sprintf(`{"spu_id":%s,"page_no":%d,"page_size":%d}`, spu, pageNo, size)
	status, resp := call(t, http.MethodPost, s.url+PlanPath, "application/json", token, body)
	if status != 200 {
		t.Fatalf("plan call: HTTP %d %s", status, resp)
	}
	return resp
}

// code returns the data.error_code of an answer.
func code(t *testing.T, body string) int64 {
	t.Helper()
	var v struct {
		Data struct {
			ErrorCode int64 `json:"error_code"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return v.Data.ErrorCode
}

func TestSandboxTokenEndpoint(t *testing.T) {
	s := startSandbox(t, sandboxConfig(1))
	okRe := regexp.MustCompile(`^\{"data":\{"access_token":"clt\.[0-9a-f]{32}[0-9A-Za-z]{28}","description":"","error_code":0,"expires_in":7200\},"message":"success"\}$`)
	tests := []struct {
		name, method, ctype, body string
		status                    int
		want                      string // exact body, or "ok" for the success pattern
	}{
		{"success", "POST", "application/json", `{"client_key":"awsandboxkeyA","client_secret":"sandbox-secret-A","grant_type":"client_credential"}`, 200, "ok"},
		{"content type with charset", "POST", "application/json; charset=utf-8", `{"client_key":"awsandboxkeyB","client_secret":"sandbox-secret-B","grant_type":"client_credential"}`, 200, "ok"},
		{"wrong secret", "POST", "application/json", `{"client_key":"awsandboxkeyA","client_secret":"sandbox-secret-B","grant_type":"client_credential"}`, 200,
			`{"data":{"description":"client_key 或者 client_secret 报错","error_code":10013},"message":"error"}`},
		{"unknown key", "POST", "application/json", `{"client_key":"nobody","client_secret":"x","grant_type":"client_credential"}`, 200,
			`{"data":{"description":"client_key 不存在","error_code":10003},"message":"error"}`},
		{"wrong grant type", "POST", "application/json", `{"client_key":"awsandboxkeyA","client_secret":"sandbox-secret-A","grant_type":"authorization_code"}`, 200,
			`{"data":{"description":"参数错误","error_code":10002},"message":"error"}`},
		{"missing secret", "POST", "application/json", `{"client_key":"awsandboxkeyA","grant_type":"client_credential"}`, 200,
			`{"data":{"description":"参数错误","error_code":10002},"message":"error"}`},
		{"form body", "POST", "application/x-www-form-urlencoded", `client_key=awsandboxkeyA&client_secret=sandbox-secret-A&grant_type=client_credential`, 200,
			`{"data":{"description":"参数错误","error_code":10002},"message":"error"}`},
		{"GET", "GET", "", ``, 405, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, tc.method, s.url+TokenPath, tc.ctype, "", tc.body)
			if status != tc.status {
				t.Fatalf("HTTP %d, want %d (%s)", status, tc.status, body)
			}
			switch {
			case tc.want == "ok":
				if !okRe.MatchString(body) {
					t.Fatalf("body %s does not look like the documented answer", body)
				}
			case tc.want != "" && body != tc.want:
				t.Fatalf("body\n%s\nwant\n%s", body, tc.want)
			}
		})
	}
}

func TestSandboxPlanAnswerShape(t *testing.T) {
	cfg := sandboxConfig(1)
	s := startSandbox(t, cfg)
	tok := s.token(t, sbKeyA, sbSecretA)
	spu := SPUs(cfg.Seed, "a")[0]
	body := s.plans(t, tok, spu, 1, 100)
	plan := `\{"commission_rate":\d+,"content_type":[123],"create_time":("\d{4}-\d{2}-\d{2}"|\d{10}),"plan_id":\d{19},"status":[123]\}`
	re := regexp.MustCompile(`^\{"data":\{"data":\[` + plan + `(,` + plan + `)*\],"page_count":\d+,"total":\d+,"error_code":0,"description":""\},` +
		`"extra":\{"description":"","error_code":0,"logid":"\d{14}[0-9A-F]{20}","now":(\d+),"sub_description":"","sub_error_code":0\}\}$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("answer does not have the documented shape:\n%s", body)
	}
	if now, _ := strconv.ParseInt(m[len(m)-1], 10, 64); now != cfg.Clock.Unix() {
		t.Errorf("extra.now %d, want the sandbox clock %d", now, cfg.Clock.Unix())
	}
	p, err := api.DecodePage([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if p.Total < 1 || p.Total > MaxPlansPerSPU || p.PageCount != (p.Total+99)/100 {
		t.Errorf("total %d, page_count %d", p.Total, p.PageCount)
	}
	// IDs above 2^53 arrive exactly: they match the generated ones
	cat := sandboxCatalog(cfg.Seed, "a")[0]
	for i, pl := range p.Plans {
		if string(pl.PlanID) != strconv.FormatUint(cat.plans[i].id, 10) || cat.plans[i].id < 1<<53 {
			t.Fatalf("plan %d: id %s, generated %d", i, pl.PlanID, cat.plans[i].id)
		}
	}
}

func TestSandboxErrorMatchesDocSample(t *testing.T) {
	cfg := sandboxConfig(1)
	s := startSandbox(t, cfg)
	tok := s.token(t, sbKeyA, sbSecretA)
	foreign := SPUs(cfg.Seed, "b")[3] // account b's SPU with account a's token
	body := s.plans(t, tok, foreign, 1, 10)
	var got, want map[string]map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(vendorTestdata(t, "doc_error.json"), &want); err != nil {
		t.Fatal(err)
	}
	if l, _ := got["extra"]["logid"].(string); len(l) != len(want["extra"]["logid"].(string)) {
		t.Errorf("logid %q is not shaped like the document's", l)
	}
	got["extra"]["logid"], got["extra"]["now"] = want["extra"]["logid"], want["extra"]["now"]
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("error answer\n%s\ndiffers from the document's sample", body)
	}
	_, err := api.DecodePage([]byte(body))
	var ae *api.APIError
	if !errors.As(err, &ae) || ae.Code != api.CodeNoPermission || ae.SubCode != SubNoPermission {
		t.Fatalf("decoded as %v", err)
	}
}

func TestSandboxPlanErrors(t *testing.T) {
	cfg := sandboxConfig(1)
	s := startSandbox(t, cfg)
	tok := s.token(t, sbKeyA, sbSecretA)
	spu := SPUs(cfg.Seed, "a")[0]
	tests := []struct {
		name, ctype, token, body string
		code                     int64
	}{
		{"valid", "application/json", tok, `{"spu_id":` + spu + `,"page_no":1,"page_size":10}`, 0},
		{"no token", "application/json", "", `{"spu_id":` + spu + `,"page_no":1,"page_size":10}`, api.CodeTokenInvalid},
		{"unknown token", "application/json", "clt.nope", `{"spu_id":` + spu + `,"page_no":1,"page_size":10}`, api.CodeTokenInvalid},
		{"spu_id as a string", "application/json", tok, `{"spu_id":"` + spu + `","page_no":1,"page_size":10}`, api.CodeInvalidParam},
		{"spu_id as a float", "application/json", tok, `{"spu_id":7.089053269443496e18,"page_no":1,"page_size":10}`, api.CodeInvalidParam},
		{"missing spu_id", "application/json", tok, `{"page_no":1,"page_size":10}`, api.CodeInvalidParam},
		{"page_no 0", "application/json", tok, `{"spu_id":` + spu + `,"page_no":0,"page_size":10}`, api.CodeInvalidParam},
		{"missing page_no", "application/json", tok, `{"spu_id":` + spu + `,"page_size":10}`, api.CodeInvalidParam},
		{"page_size 0", "application/json", tok, `{"spu_id":` + spu + `,"page_no":1,"page_size":0}`, api.CodeInvalidParam},
		{"page_size 101", "application/json", tok, `{"spu_id":` + spu + `,"page_no":1,"page_size":101}`, api.CodeInvalidParam},
		{"missing page_size", "application/json", tok, `{"spu_id":` + spu + `,"page_no":1}`, api.CodeInvalidParam},
		{"text/plain", "text/plain", tok, `{"spu_id":` + spu + `,"page_no":1,"page_size":10}`, api.CodeInvalidParam},
		{"broken JSON", "application/json", tok, `{"spu_id":`, api.CodeInvalidParam},
		{"unknown SPU", "application/json", tok, `{"spu_id":7089053269443495980,"page_no":1,"page_size":10}`, api.CodeNoPermission},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(t, http.MethodPost, s.url+PlanPath, tc.ctype, tc.token, tc.body)
			if status != 200 {
				t.Fatalf("HTTP %d", status)
			}
			if c := code(t, body); c != tc.code {
				t.Fatalf("error_code %d, want %d: %s", c, tc.code, body)
			}
			if tc.code != 0 && !strings.Contains(body, `"extra":{"description":`) {
				t.Errorf("error answer without extra: %s", body)
			}
		})
	}
	if status, _ := call(t, http.MethodGet, s.url+PlanPath, "", tok, ""); status != 405 {
		t.Errorf("GET answered %d, want 405", status)
	}
}

func TestSandboxTokenLifecycle(t *testing.T) {
	cfg := sandboxConfig(1)
	s := startSandbox(t, cfg)
	spu := SPUs(cfg.Seed, "a")[0]
	probe := func(tok string) int64 { return code(t, s.plans(t, tok, spu, 1, 1)) }
	clock := s.srv.Clock()

	a := s.token(t, sbKeyA, sbSecretA)
	clock.Advance(7199 * time.Second)
	if c := probe(a); c != 0 {
		t.Fatalf("token at 7199 s: %d", c)
	}
	clock.Advance(time.Second)
	if c := probe(a); c != api.CodeTokenExpired {
		t.Fatalf("token at 7200 s: %d, want 2190008", c)
	}

	b := s.token(t, sbKeyA, sbSecretA)
	clock.Advance(time.Minute)
	c := s.token(t, sbKeyA, sbSecretA) // b keeps 5 minutes
	clock.Advance(time.Minute)
	d := s.token(t, sbKeyA, sbSecretA) // b (older than the previous) ends now, c keeps 5 minutes
	if b == c || c == d {
		t.Fatal("re-issued tokens are equal")
	}
	for _, x := range []struct {
		name string
		tok  string
		want int64
	}{{"b", b, api.CodeTokenExpired}, {"c", c, 0}, {"d", d, 0}} {
		if got := probe(x.tok); got != x.want {
			t.Errorf("token %s: %d, want %d", x.name, got, x.want)
		}
	}
	clock.Advance(5*time.Minute - time.Second)
	if got := probe(c); got != 0 {
		t.Errorf("previous token inside its 5-minute buffer: %d", got)
	}
	clock.Advance(time.Second)
	if got, gotD := probe(c), probe(d); got != api.CodeTokenExpired || gotD != 0 {
		t.Errorf("after the buffer: previous %d (want 2190008), newest %d (want 0)", got, gotD)
	}
}

func TestSandboxExpireTokens(t *testing.T) {
	cfg := sandboxConfig(1)
	s := startSandbox(t, cfg)
	spuA, spuB := SPUs(cfg.Seed, "a")[0], SPUs(cfg.Seed, "b")[0]
	ta, tb := s.token(t, sbKeyA, sbSecretA), s.token(t, sbKeyB, sbSecretB)
	if n := s.h.ExpireTokens("a"); n != 1 {
		t.Fatalf("ExpireTokens(a) = %d, want 1", n)
	}
	if ca, cb := code(t, s.plans(t, ta, spuA, 1, 1)), code(t, s.plans(t, tb, spuB, 1, 1)); ca != api.CodeTokenExpired || cb != 0 {
		t.Fatalf("after expiring a: a %d, b %d", ca, cb)
	}
	status, body := call(t, http.MethodPost, s.url+AdminExpirePath, "", "", "")
	if status != 200 || body != `{"expired":1}` {
		t.Fatalf("admin expire: %d %s", status, body)
	}
	if cb := code(t, s.plans(t, tb, spuB, 1, 1)); cb != api.CodeTokenExpired {
		t.Fatalf("after the admin expiry: b %d", cb)
	}
	if _, body := call(t, http.MethodPost, s.url+AdminExpirePath+"?account=a", "", "", ""); body != `{"expired":0}` {
		t.Fatalf("nothing left to expire: %s", body)
	}
}

func TestSandboxAdminSPUs(t *testing.T) {
	cfg := sandboxConfig(3)
	_, base := sandboxtest.Start(t, cfg, NewHandler())
	_, body := call(t, http.MethodGet, base+AdminSPUsPath+"?account=b", "", "", "")
	var got map[string][]string
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, map[string][]string{"b": SPUs(3, "b")}) {
		t.Fatalf("admin SPUs %s", body)
	}
}

func TestSandboxThrottle(t *testing.T) {
	cfg := sandboxConfig(1)
	cfg.Faults = sandbox.Faults{ThrottleRate: 1}
	s := startSandbox(t, cfg)
	_, tokBody := call(t, http.MethodPost, s.url+TokenPath, "application/json", "",
		`{"client_key":"awsandboxkeyA","client_secret":"sandbox-secret-A","grant_type":"client_credential"}`)
	if want := `{"data":{"description":"系统繁忙，此时请开发者稍候再试","error_code":2100004},"message":"error"}`; tokBody != want {
		t.Fatalf("throttled token answer %s", tokBody)
	}
	if c := code(t, s.plans(t, "clt.any", "1", 1, 1)); c != api.CodeBusy {
		t.Fatalf("throttled plan answer %d", c)
	}
	if st := s.srv.Stats(api.Name); st.Throttled != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSandboxPaging(t *testing.T) {
	cfg := sandboxConfig(5)
	s := startSandbox(t, cfg)
	tok := s.token(t, sbKeyA, sbSecretA)
	multi := 0
	for _, spu := range SPUs(cfg.Seed, "a") {
		var ids []uint64
		first, err := api.DecodePage([]byte(s.plans(t, tok, spu, 1, 100)))
		if err != nil {
			t.Fatal(err)
		}
		if first.PageCount > 1 {
			multi++
		}
		for pageNo := int64(1); pageNo <= first.PageCount+1; pageNo++ {
			p, err := api.DecodePage([]byte(s.plans(t, tok, spu, int(pageNo), 100)))
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != first.Total || p.PageCount != first.PageCount {
				t.Fatalf("spu %s page %d: total/page_count changed", spu, pageNo)
			}
			if pageNo > first.PageCount && len(p.Plans) != 0 {
				t.Fatalf("spu %s: page %d past the end has %d plans", spu, pageNo, len(p.Plans))
			}
			for _, pl := range p.Plans {
				id, err := strconv.ParseUint(string(pl.PlanID), 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
		}
		if int64(len(ids)) != first.Total || !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
			t.Fatalf("spu %s: %d plans over the pages, total %d, sorted unique %v", spu, len(ids), first.Total, slices.IsSorted(ids))
		}
	}
	if multi == 0 {
		t.Fatal("no SPU needs more than one page at page_size 100")
	}
	if !strings.Contains(s.plans(t, tok, SPUs(cfg.Seed, "a")[0], 99, 100), `"data":{"data":[],`) {
		t.Error("a page past the end must carry an empty data array")
	}
}

func TestSandboxSPUs(t *testing.T) {
	a1, a2, b, other := SPUs(1, "a"), SPUs(1, "a"), SPUs(1, "b"), SPUs(2, "a")
	if !reflect.DeepEqual(a1, a2) {
		t.Fatal("SPUs is not deterministic")
	}
	if len(a1) != SPUsPerAccount || reflect.DeepEqual(a1, b) || reflect.DeepEqual(a1, other) {
		t.Fatalf("SPUs: %d; accounts or seeds share them", len(a1))
	}
	seen := map[string]bool{}
	for _, id := range append(a1, b...) {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || n < 1<<53 || len(id) != 19 || seen[id] {
			t.Fatalf("SPU %q: %v (must be a unique 19-digit int64 above 2^53)", id, err)
		}
		seen[id] = true
	}
}

func TestSandboxDeterministic(t *testing.T) {
	run := func() string {
		cfg := sandboxConfig(9)
		s := startSandbox(t, cfg)
		var out strings.Builder
		_, tokBody := call(t, http.MethodPost, s.url+TokenPath, "application/json", "",
			`{"client_key":"awsandboxkeyA","client_secret":"sandbox-secret-A","grant_type":"client_credential"}`)
		out.WriteString(tokBody)
		tok, _ := api.DecodeToken([]byte(tokBody))
		for _, spu := range SPUs(cfg.Seed, "a")[:5] {
			out.WriteString(s.plans(t, tok.AccessToken, spu, 1, 37))
		}
		return out.String()
	}
	if a, b := run(), run(); a != b {
		t.Fatal("the same seed and request sequence gave different answers")
	}
}

// walkSandbox polls every SPU of account acct with a fresh private fetcher
// (tokens cached in tokens if given) and returns its normalized events.
func walkSandbox(t *testing.T, s *testSandbox, cfg sandbox.Config, acct, key, secret string, f *api.Fetcher) ([]events.Envelope, *api.Fetcher) {
	t.Helper()
	if f == nil {
		var err error
		f, err = api.NewFetcher(vendors.SourceConfig{
			BaseURL:     s.url,
			Account:     acct,
			Credentials: map[string]string{CredClientKey: key, CredClientSecret: secret},
			Params:      map[string]string{api.ParamSPUIDs: strings.Join(SPUs(cfg.Seed, acct), ",")},
			// no rate limit; nothing in these walks is retried with backoff
			RatePerSecond: 1e6,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var envs []events.Envelope
	err := f.Walk(context.Background(), vendors.Window{}, func(_ context.Context, p vendors.Page) error {
		raw := events.RawPage{Vendor: api.Name, Endpoint: api.Endpoint, Account: acct, Cursor: p.Cursor, HTTPStatus: p.HTTPStatus,
			FetchedAt: time.Now(), Params: p.Params, Body: p.Body}
		e, err := api.Normalize(raw)
		envs = append(envs, e...)
		return err
	})
	if err != nil {
		t.Fatalf("walk %s: %v", acct, err)
	}
	return envs, f
}

func TestSandboxTruthOverTime(t *testing.T) {
	cfg := sandboxConfig(11)
	s := startSandbox(t, cfg)
	var all []events.Envelope
	var fa, fb *api.Fetcher
	var prev summary.Summary
	for step := range 4 {
		var ea, eb []events.Envelope
		ea, fa = walkSandbox(t, s, cfg, "a", sbKeyA, sbSecretA, fa)
		eb, fb = walkSandbox(t, s, cfg, "b", sbKeyB, sbSecretB, fb)
		now := append(ea, eb...)
		got, err := summary.FromEvents(now)
		if err != nil {
			t.Fatal(err)
		}
		want := s.srv.Truth(api.Name).Summary
		if d := summary.Diff(want, got); len(d) > 0 {
			t.Fatalf("step %d: one poll differs from the truth:\n%s", step, strings.Join(d, "\n"))
		}
		// all polls so far: the newest observation of each plan wins
		all = append(all, now...)
		if got, _ = summary.FromEvents(all); len(summary.Diff(want, got)) > 0 {
			t.Fatalf("step %d: the accumulated polls differ from the truth:\n%s", step, strings.Join(summary.Diff(want, got), "\n"))
		}
		if step > 0 && len(summary.Diff(prev, want)) == 0 {
			t.Fatalf("step %d: the truth did not change in 3 days of sandbox time", step)
		}
		prev = want
		s.srv.Clock().Advance(3 * 24 * time.Hour) // also outlives every token
	}
	// the cached tokens were refused after each clock jump and refreshed once
	if n := s.count(TokenPath); n != 2*4 {
		t.Errorf("%d token requests, want 8 (one per account and poll)", n)
	}
}

func TestSandboxTruthVisibility(t *testing.T) {
	cfg := sandboxConfig(2)
	cfg.Clock = time.Date(2023, 6, 1, 0, 0, 0, 0, wire.CST) // many plans not created yet
	s := startSandbox(t, cfg)
	ea, _ := walkSandbox(t, s, cfg, "a", sbKeyA, sbSecretA, nil)
	eb, _ := walkSandbox(t, s, cfg, "b", sbKeyB, sbSecretB, nil)
	got, _ := summary.FromEvents(append(ea, eb...))
	want := s.srv.Truth(api.Name).Summary
	if d := summary.Diff(want, got); len(d) > 0 {
		t.Fatalf("differs from the truth:\n%s", strings.Join(d, "\n"))
	}
	later := s.srv.TruthAt(api.Name, time.Date(2026, 11, 1, 0, 0, 0, 0, wire.CST)).Summary
	count := func(s summary.Summary) (n int64) {
		for _, r := range s.Plans {
			n += r.Plans
		}
		return n
	}
	if count(want) == 0 || count(want) >= count(later) {
		t.Fatalf("plans listed in 2023: %d, in 2026: %d; want some but fewer", count(want), count(later))
	}
}

func TestSandboxTokenRefreshEndToEnd(t *testing.T) {
	cfg := sandboxConfig(4)
	s := startSandbox(t, cfg)
	_, f := walkSandbox(t, s, cfg, "a", sbKeyA, sbSecretA, nil)
	if n := s.count(TokenPath); n != 1 {
		t.Fatalf("%d token requests after one walk", n)
	}
	s.h.ExpireTokens("a")
	plansBefore := s.count(PlanPath)
	envs, _ := walkSandbox(t, s, cfg, "a", sbKeyA, sbSecretA, f)
	if len(envs) == 0 {
		t.Fatal("no events")
	}
	if n := s.count(TokenPath); n != 2 {
		t.Fatalf("%d token requests after an early expiry, want 2", n)
	}
	// one refused request, then every page once
	pages := s.count(PlanPath) - plansBefore
	if pages != plansBefore+1 {
		t.Fatalf("%d plan requests in the second walk, want %d", pages, plansBefore+1)
	}

	// a sandbox that ends every token right after issuing it: the walk
	// refreshes once and then fails with ErrUnauthorized
	s2 := startSandbox(t, cfg)
	s2.after = func(path string) {
		if path == TokenPath {
			s2.h.ExpireTokens("")
		}
	}
	g, err := api.NewFetcher(vendors.SourceConfig{
		BaseURL:     s2.url,
		Credentials: map[string]string{CredClientKey: sbKeyA, CredClientSecret: sbSecretA},
		Params:      map[string]string{api.ParamSPUIDs: SPUs(cfg.Seed, "a")[0]},
		// no rate limit; the refused token is refreshed, not backed off
		RatePerSecond: 1e6,
	})
	if err != nil {
		t.Fatal(err)
	}
	err = g.Walk(context.Background(), vendors.Window{}, func(context.Context, vendors.Page) error {
		t.Fatal("a page was emitted")
		return nil
	})
	if !errors.Is(err, client.ErrUnauthorized) || !strings.Contains(err.Error(), "2190008") {
		t.Fatalf("walk against a sandbox refusing every token: %v", err)
	}
	if n, m := s2.count(TokenPath), s2.count(PlanPath); n != 2 || m != 2 {
		t.Fatalf("%d token and %d plan requests, want 2 and 2 (one refresh, one retry)", n, m)
	}
	for _, tok := range s2.issued() {
		if strings.Contains(err.Error(), tok) {
			t.Fatalf("the error contains a token: %v", err)
		}
	}
}

// TestSandboxValuesReachEvents checks that the sandbox's answer carries the
// generated values and that they reach the events exactly.
func TestSandboxValuesReachEvents(t *testing.T) {
	cfg := sandboxConfig(6)
	s := startSandbox(t, cfg)
	tok := s.token(t, sbKeyA, sbSecretA)
	spu := SPUs(cfg.Seed, "a")[1]
	body := s.plans(t, tok, spu, 1, 100)
	envs, err := api.Normalize(events.RawPage{Account: "a", Params: map[string]string{api.ParamSPUID: spu}, Body: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	now := cfg.Clock.Unix()
	gen := sandboxCatalog(cfg.Seed, "a")[1].visible(now)
	if len(envs) != min(len(gen), 100) {
		t.Fatalf("%d events, %d plans", len(envs), len(gen))
	}
	for i, e := range envs {
		v, _ := events.Decode(e)
		p := v.(*events.CommissionPlan)
		g := gen[i]
		status, rate := g.at(now)
		created := time.Unix(g.created, 0).In(wire.CST).Format(api.DateLayout)
		if p.PlanID != strconv.FormatUint(g.id, 10) || p.ProductID != spu || p.RateBP != rate || p.VendorStatus != status ||
			p.ContentType != g.contentType || p.CreatedDate != created || p.ObservedAt.Unix() != now {
			t.Fatalf("event %d = %+v, generated %+v (status %d rate %d created %s)", i, *p, g, status, rate, created)
		}
	}
	if !bytes.Contains([]byte(body), []byte(`"plan_id":`+strconv.FormatUint(gen[0].id, 10)+`,`)) {
		t.Fatal("plan_id is not a bare number in the answer")
	}
}
