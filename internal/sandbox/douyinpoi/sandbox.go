// Package douyinpoi is the douyin-poi vendor sandbox: Douyin's POST
// /oauth/client_token/ and POST /poi/plan/list/ served from data generated
// per account (sandbox_data.go). It renders the wire JSON with its own
// structs, independently of pkg/vendors/douyinpoi's decoder, so tests against
// it really test the decoder. Serve it with
// sandbox.NewServer(cfg, douyinpoi.NewHandler()).
package douyinpoi

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/summary"
	api "github.com/yongjin-dev/yongjin/pkg/vendors/douyinpoi"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// Paths the sandbox serves (the platform's real paths) and its admin knobs.
const (
	// TokenPath is the client_token endpoint.
	TokenPath = "/oauth/client_token/"
	// PlanPath is the plan-list endpoint.
	PlanPath = "/poi/plan/list/"
	// AdminExpirePath expires tokens early: POST, optional
	// account=NAME (default: every account); answers {"expired":N}.
	AdminExpirePath = "/_sandbox/douyin-poi/expire-tokens"
	// AdminSPUsPath lists the generated SPU IDs: GET, optional
	// account=NAME; answers {"<account>":["<spu_id>",…],…}.
	AdminSPUsPath = "/_sandbox/douyin-poi/spus"
)

// Credential keys of a sandbox account (sandbox.Account.Credentials).
const (
	CredClientKey    = api.CredClientKey
	CredClientSecret = api.CredClientSecret
)

// Token rules of the sandbox (the platform's documented ones, on the
// sandbox clock).
const (
	// TokenLifetime is a client_token's lifetime (expires_in 7200).
	TokenLifetime = 7200 * time.Second
	// TokenBuffer is how long the previous token keeps working after
	// a new one is issued; older ones stop at once (at most two are live).
	TokenBuffer = 5 * time.Minute
)

// Descriptions of the sandbox's error answers.
const (
	DescParam         = "参数错误"
	DescBadKey        = "client_key 不存在"
	DescBadSecret     = "client_key 或者 client_secret 报错"
	DescBusy          = "系统繁忙，此时请开发者稍候再试"
	DescTokenInvalid  = "access_token无效"
	DescTokenExpired  = "access_token过期,请刷新或重新授权"
	DescInvalidParam  = "参数不合法"
	DescNoPermission  = "无权限操作"
	SubNoPermission   = 110003
	SubDescPermission = "没有发布/修改通用佣金计划的权限"
)

// Handler is the douyin-poi protocol for sandbox.Server. Use a
// pointer (the zero value is ready: &Handler{} or NewHandler());
// it may be mounted on several servers, each keeping its own tokens.
//
// Protocol as served:
//   - POST /oauth/client_token/ with Content-Type application/json and
//     {client_key, client_secret, grant_type:"client_credential"} →
//     {"data":{"access_token":"clt.…","description":"","error_code":0,"expires_in":7200},"message":"success"}.
//     Tokens live 7200 s of sandbox-clock time; issuing a new one ends the
//     previous one TokenBuffer later and any older one at once.
//     Errors ({"data":{"description":…,"error_code":N},"message":"error"}):
//     10002 missing/invalid parameters, non-JSON body or wrong grant_type;
//     10003 unknown client_key; 10013 wrong client_secret.
//   - POST /poi/plan/list/ with headers access-token and Content-Type
//     application/json, body {"spu_id":<int>,"page_no":<int>,"page_size":<int>}
//     (bare JSON integers; strings are rejected). Answers are HTTP 200 in the
//     documented envelope (data{data[],page_count,total,error_code,
//     description}, extra{description,error_code,logid,now,sub_description,
//     sub_error_code}; extra.now in seconds of the sandbox clock):
//     missing or unknown token → 2190002; expired token → 2190008; a body
//     that is not JSON, a non-JSON Content-Type, page_no < 1 or page_size
//     outside 1..100 → 2100005; an SPU the account does not own → 2100007
//     with sub_error_code 110003, exactly like the document's error sample.
//     Plans are sorted by plan_id (bare 19-digit numbers); page_count =
//     ceil(total/page_size); a page past the end has an empty data array.
//     A plan is listed once the clock passes its creation time; create_time
//     is "2006-01-02" (CST) for most plans and a Unix-seconds number for
//     about one in eight (the shape SDKs model). About 30% of plans change
//     status and rate every 6 h, 1 d, 3 d or 7 d of sandbox time.
//   - Faults (sandbox.Faults): injected 502s come from env.Admit; a throttled
//     call is answered 2100004 (system busy) on both endpoints — the
//     platform documents no QPS code, 2190001 (quota) would mean "until
//     tomorrow", and a busy answer keeps a faulted run fast.
//   - Admin: POST AdminExpirePath expires tokens now (see ExpireTokens);
//     GET AdminSPUsPath lists the SPU IDs (see SPUs).
//
// The data is generated from the sandbox seed and the account name only
// (SPUs); Truth sums it directly.
type Handler struct {
	mu     sync.Mutex
	mounts []*sandboxMount
}

var (
	_ sandbox.VendorHandler = (*Handler)(nil)
	_ sandbox.TruthProvider = (*Handler)(nil)
)

// NewHandler returns a ready Handler.
func NewHandler() *Handler { return &Handler{} }

// Name returns "douyin-poi".
func (h *Handler) Name() string { return api.Name }

// Mount serves the token and plan endpoints and the admin knobs on mux.
func (h *Handler) Mount(mux *http.ServeMux, env *sandbox.Env) {
	m := &sandboxMount{env: env, tokens: map[string]*sandboxTokenInfo{}, live: map[string][]string{}, issued: map[string]uint64{}}
	h.mu.Lock()
	h.mounts = append(h.mounts, m)
	h.mu.Unlock()
	mux.HandleFunc(TokenPath+"{$}", m.serveToken)
	mux.HandleFunc(PlanPath+"{$}", m.servePlans)
	mux.HandleFunc("POST "+AdminExpirePath, func(w http.ResponseWriter, r *http.Request) {
		sandbox.WriteJSON(w, http.StatusOK, map[string]int{"expired": m.expire(r.FormValue("account"))})
	})
	mux.HandleFunc("GET "+AdminSPUsPath, func(w http.ResponseWriter, r *http.Request) {
		want := r.FormValue("account")
		out := map[string][]string{}
		for _, a := range env.Accounts() {
			if want == "" || want == a.Name {
				out[a.Name] = SPUs(env.Seed(), a.Name)
			}
		}
		sandbox.WriteJSON(w, http.StatusOK, out)
	})
}

// ExpireTokens ends every live token of account ("" = every account) on
// every server the handler is mounted on, at the server's current clock
// time: the next plan call with one of them is answered 2190008. It returns
// how many tokens it ended (for tests of the token-refresh path).
func (h *Handler) ExpireTokens(account string) int {
	h.mu.Lock()
	mounts := append([]*sandboxMount(nil), h.mounts...)
	h.mu.Unlock()
	n := 0
	for _, m := range mounts {
		n += m.expire(account)
	}
	return n
}

// Truth is the ground truth at clock time at, summed from the generated data
// (not through the wire format or the normalizer): per vendor status the
// number of plans listed at at and the sum of their rates, over every SPU of
// every account.
func (h *Handler) Truth(env *sandbox.Env, at time.Time) summary.Summary {
	t := at.Unix()
	rows := map[int64]*summary.PlanRow{}
	for _, a := range env.Accounts() {
		for _, s := range sandboxCatalog(env.Seed(), a.Name) {
			if env.Faults().ItemFails(strconv.FormatUint(s.id, 10)) {
				continue // a failing (delisted) SPU lists nothing
			}
			for _, p := range s.visible(t) {
				status, rate := p.at(t)
				r := rows[status]
				if r == nil {
					r = &summary.PlanRow{Platform: api.Name, VendorStatus: status}
					rows[status] = r
				}
				r.Plans++
				r.RateBPSum += rate
			}
		}
	}
	var s summary.Summary
	for _, r := range rows {
		s.Plans = append(s.Plans, *r)
	}
	s.Normalize()
	return s
}

// Account is a douyin-poi sandbox account called name whose app
// credentials are clientKey and clientSecret.
func Account(name, clientKey, clientSecret string) sandbox.Account {
	return sandbox.Account{Vendor: api.Name, Name: name, Credentials: map[string]string{
		CredClientKey: clientKey, CredClientSecret: clientSecret,
	}}
}

// sandboxMount is the handler's state on one server.
type sandboxMount struct {
	env *sandbox.Env

	mu     sync.Mutex
	tokens map[string]*sandboxTokenInfo
	live   map[string][]string // account → its last tokens, oldest first
	issued map[string]uint64   // account → tokens issued
}

type sandboxTokenInfo struct {
	account string
	expires time.Time
}

// expire ends the live tokens of account ("" = all) at the clock time.
func (m *sandboxMount) expire(account string) int {
	now := m.env.Clock().Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, info := range m.tokens {
		if (account == "" || info.account == account) && info.expires.After(now) {
			info.expires = now
			n++
		}
	}
	return n
}

// issue creates a token for account at now (see Handler for the rules).
func (m *sandboxMount) issue(account string, now time.Time) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.issued[account]++
	tok := sandboxTokenText(m.env.Seed(), account, m.issued[account])
	live := m.live[account]
	for i, t := range live {
		limit := now
		if i == len(live)-1 {
			limit = now.Add(TokenBuffer)
		}
		if info := m.tokens[t]; info != nil && info.expires.After(limit) {
			info.expires = limit
		}
	}
	if len(live) > 0 {
		live = live[len(live)-1:]
	}
	m.live[account] = append(append([]string(nil), live...), tok)
	m.tokens[tok] = &sandboxTokenInfo{account: account, expires: now.Add(TokenLifetime)}
	if len(m.tokens) > 4096 {
		for t, info := range m.tokens {
			if now.Sub(info.expires) > 24*time.Hour {
				delete(m.tokens, t)
			}
		}
	}
	return tok
}

// check looks a token up: its account, or the error code to answer.
func (m *sandboxMount) check(tok string, now time.Time) (account string, code int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	info := m.tokens[tok]
	switch {
	case tok == "" || info == nil:
		return "", api.CodeTokenInvalid
	case !now.Before(info.expires):
		return "", api.CodeTokenExpired
	}
	return info.account, 0
}

// sandboxTokenText renders token n of account like the platform's
// ("clt." + 32 hex digits + 28 letters and digits), derived from the seed.
func sandboxTokenText(seed int64, account string, n uint64) string {
	const hexd = "0123456789abcdef"
	const b62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	h := fnv.New64a()
	h.Write([]byte(api.Name + "\x00token\x00" + account))
	x := sandbox.Mix64(uint64(seed) ^ h.Sum64() ^ sandbox.Mix64(n))
	b := []byte("clt.")
	for i := 0; i < 32; i++ {
		if i%16 == 0 {
			x = sandbox.Mix64(x)
		}
		b = append(b, hexd[(x>>(4*(i%16)))&0xf])
	}
	for i := 0; i < 28; i++ {
		if i%10 == 0 {
			x = sandbox.Mix64(x)
		}
		b = append(b, b62[x%62])
		x /= 62
	}
	return string(b)
}

// sandboxIsJSON reports whether the request declares a JSON body.
func sandboxIsJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/json"
}

// sandboxOAuthData and sandboxOAuthAnswer are the client_token envelope.
type sandboxOAuthData struct {
	AccessToken string `json:"access_token,omitempty"`
	Description string `json:"description"`
	ErrorCode   int64  `json:"error_code"`
	ExpiresIn   int64  `json:"expires_in,omitempty"`
}

type sandboxOAuthAnswer struct {
	Data    sandboxOAuthData `json:"data"`
	Message string           `json:"message"`
}

// serveToken answers POST /oauth/client_token/.
func (m *sandboxMount) serveToken(w http.ResponseWriter, r *http.Request) {
	call, ok := m.env.AdmitMethod(w, r, http.MethodPost)
	if !ok {
		return
	}
	fail := func(code int64, desc string) {
		sandbox.WriteJSON(w, http.StatusOK, sandboxOAuthAnswer{Data: sandboxOAuthData{Description: desc, ErrorCode: code}, Message: "error"})
	}
	if call.Throttled {
		fail(api.CodeBusy, DescBusy)
		return
	}
	var req struct {
		ClientKey    string `json:"client_key"`
		ClientSecret string `json:"client_secret"`
		GrantType    string `json:"grant_type"`
	}
	if !sandboxIsJSON(r) || json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req) != nil ||
		req.ClientKey == "" || req.ClientSecret == "" || req.GrantType != api.GrantType {
		fail(api.CodeParam, DescParam)
		return
	}
	acct := sandbox.AccountByCredential(m.env.Accounts(), CredClientKey, req.ClientKey)
	switch {
	case acct == nil:
		fail(api.CodeBadClientKey, DescBadKey)
		return
	case !acct.HasCredential(CredClientSecret, req.ClientSecret):
		fail(api.CodeBadClientSecret, DescBadSecret)
		return
	}
	tok := m.issue(acct.Name, call.Now)
	sandbox.WriteJSON(w, http.StatusOK, sandboxOAuthAnswer{
		Data:    sandboxOAuthData{AccessToken: tok, ErrorCode: 0, ExpiresIn: int64(TokenLifetime / time.Second)},
		Message: "success",
	})
}

// Wire structs of the plan endpoint; field order is the document's.
type sandboxPlanJSON struct {
	CommissionRate int64  `json:"commission_rate"`
	ContentType    int64  `json:"content_type"`
	CreateTime     any    `json:"create_time"`
	PlanID         uint64 `json:"plan_id"`
	Status         int64  `json:"status"`
}

type sandboxPageData struct {
	Data        []sandboxPlanJSON `json:"data"`
	PageCount   int64             `json:"page_count"`
	Total       int64             `json:"total"`
	ErrorCode   int64             `json:"error_code"`
	Description string            `json:"description"`
}

type sandboxErrorData struct {
	ErrorCode   int64  `json:"error_code"`
	Description string `json:"description"`
}

type sandboxExtra struct {
	Description    string `json:"description"`
	ErrorCode      int64  `json:"error_code"`
	LogID          string `json:"logid"`
	Now            int64  `json:"now"`
	SubDescription string `json:"sub_description"`
	SubErrorCode   int64  `json:"sub_error_code"`
}

type sandboxAnswer struct {
	Data  any          `json:"data"`
	Extra sandboxExtra `json:"extra"`
}

// sandboxLogID renders a logid like the platform's: the CST time
// (yyyyMMddHHmmss) and 20 upper-case hex digits.
func sandboxLogID(now time.Time, seed int64, seq uint64) string {
	x := sandbox.Mix64(uint64(seed) ^ sandbox.Mix64(seq^0x5eed))
	y := sandbox.Mix64(x)
	return now.In(wire.CST).Format("20060102150405") + strings.ToUpper(fmt.Sprintf("%016x%04x", x, y&0xffff))
}

// sandboxInt reads a bare JSON integer from raw (not a string, no fraction).
func sandboxInt(raw json.RawMessage) (int64, bool) {
	s := strings.TrimSpace(string(raw))
	if s == "" || !(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// servePlans answers POST /poi/plan/list/.
func (m *sandboxMount) servePlans(w http.ResponseWriter, r *http.Request) {
	call, ok := m.env.AdmitMethod(w, r, http.MethodPost)
	if !ok {
		return
	}
	extra := sandboxExtra{LogID: sandboxLogID(call.Now, m.env.Seed(), call.Seq), Now: call.Now.Unix()}
	fail := func(code int64, desc string, sub int64, subDesc string) {
		x := extra
		x.ErrorCode, x.Description, x.SubErrorCode, x.SubDescription = code, desc, sub, subDesc
		sandbox.WriteJSON(w, http.StatusOK, sandboxAnswer{Data: sandboxErrorData{ErrorCode: code, Description: desc}, Extra: x})
	}
	if call.Throttled {
		fail(api.CodeBusy, DescBusy, 0, "")
		return
	}
	account, code := m.check(r.Header.Get("access-token"), call.Now)
	switch code {
	case api.CodeTokenInvalid:
		fail(code, DescTokenInvalid, 0, "")
		return
	case api.CodeTokenExpired:
		fail(code, DescTokenExpired, 0, "")
		return
	}
	var body map[string]json.RawMessage
	if !sandboxIsJSON(r) || json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body) != nil {
		fail(api.CodeInvalidParam, DescInvalidParam, 0, "")
		return
	}
	spu, okSPU := sandboxInt(body["spu_id"])
	pageNo, okNo := sandboxInt(body["page_no"])
	size, okSize := sandboxInt(body["page_size"])
	if !okSPU || spu <= 0 || !okNo || pageNo < 1 || !okSize || size < 1 || size > api.MaxPageSize {
		fail(api.CodeInvalidParam, DescInvalidParam, 0, "")
		return
	}
	var owned *sandboxSPU
	cat := sandboxCatalog(m.env.Seed(), account)
	for i := range cat {
		if cat[i].id == uint64(spu) {
			owned = &cat[i]
			break
		}
	}
	if owned != nil && m.env.Faults().ItemFails(strconv.FormatInt(spu, 10)) {
		// Faults.FailingItems: a delisted SPU answers invalid parameter, every time
		fail(api.CodeInvalidParam, DescInvalidParam, 0, "")
		return
	}
	if owned == nil {
		fail(api.CodeNoPermission, DescNoPermission, SubNoPermission, SubDescPermission)
		return
	}
	t := call.Now.Unix()
	plans := owned.visible(t)
	total := int64(len(plans))
	data := sandboxPageData{Data: []sandboxPlanJSON{}, PageCount: (total + size - 1) / size, Total: total}
	if from := (pageNo - 1) * size; pageNo <= data.PageCount {
		for _, p := range plans[from:min(from+size, total)] {
			status, rate := p.at(t)
			data.Data = append(data.Data, sandboxPlanJSON{
				CommissionRate: rate, ContentType: p.contentType, CreateTime: p.createTime(), PlanID: p.id, Status: status,
			})
		}
	}
	sandbox.WriteJSON(w, http.StatusOK, sandboxAnswer{Data: data, Extra: extra})
}
