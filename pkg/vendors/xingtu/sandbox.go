package xingtu

// The xingtu vendor sandbox: JustOneAPI's GET
// /api/douyin-xingtu/gw/api/aggregator/get_author_order_experience/v1 with
// deterministic order-experience data. It renders the wire JSON with its own
// structs and knows which leaves are indicators by construction, so tests
// against it really test the decoder and the indicator extraction. Every
// identifier here starts with Sandbox/sandbox.

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// SandboxPath is where the sandbox serves the endpoint (JustOneAPI's real path).
const SandboxPath = Path

// SandboxCredential is the Account.Credentials key holding an account's token.
const SandboxCredential = "token"

// SandboxAuthorsPerAccount is how many authors each sandbox account knows.
const SandboxAuthorsPerAccount = 25

// SandboxPeriods are the periods the sandbox serves, in the order Truth sums them.
var SandboxPeriods = []string{Period30, Period90}

// Messages of the sandbox's error envelopes (JustOneAPI documents the codes,
// not the messages).
const (
	// SandboxMsgToken answers a missing or unknown token (code 100, HTTP 401).
	SandboxMsgToken = "Invalid or inactive token"
	// SandboxMsgThrottle answers an injected throttle (code 302, HTTP 429).
	SandboxMsgThrottle = "Rate limited"
	// SandboxMsgAuthorRequired answers a missing oAuthorId (code 400, HTTP 400).
	SandboxMsgAuthorRequired = "oAuthorId is required"
	// SandboxMsgPeriod answers a period other than DAY_30/DAY_90 (code 400, HTTP 400).
	SandboxMsgPeriod = "period must be one of DAY_30, DAY_90"
	// SandboxMsgAuthorNotFound answers an author the account does not know (code 400, HTTP 400).
	SandboxMsgAuthorNotFound = "Author not found"
)

// SandboxHandler is the JustOneAPI Xingtu order-experience protocol for
// sandbox.Server. The zero value is ready: register it with
// (*sandbox.Server).Register. It implements sandbox.TruthProvider.
//
// Protocol as served (the vendor's documentation leaves the details open;
// these are the sandbox's decisions):
//   - GET (or HEAD) only; other methods get HTTP 405. Every answer is the
//     envelope {"code":…,"message":…,"data":…,"recordTime":…,"requestId":…}
//     with recordTime the sandbox clock as "2006-01-02 15:04:05" (CST).
//   - token (query) selects the account (Account.Credentials["token"]);
//     missing or unknown → HTTP 401, code 100 "Invalid or inactive token"
//     (the OpenAPI spec declares 401 with the same body).
//   - oAuthorId missing → HTTP 400, code 400; period other than DAY_30
//     (default) or DAY_90 → HTTP 400, code 400; an author the account does
//     not know (see SandboxAuthors) → HTTP 400, code 400 "Author not found"
//     (answering code 0 with data null for an unknown author would be
//     unrealistic for a marketplace lookup).
//   - success → HTTP 200, code 0, message null, data the author's
//     order-experience object for the period as of the clock's CST day (see
//     sandboxExperience): it is a pure function of the seed, the author, the
//     period and that day, so it changes from day to day and not within one.
//   - Faults (sandbox.Faults): 502 with an nginx HTML body; throttle → HTTP
//     429 with code 302 "Rate limited"; slow → the answer is delayed.
type SandboxHandler struct{}

var (
	_ sandbox.VendorHandler = SandboxHandler{}
	_ sandbox.TruthProvider = SandboxHandler{}
)

// Name returns "xingtu".
func (SandboxHandler) Name() string { return Name }

// Mount serves SandboxPath.
func (SandboxHandler) Mount(mux *http.ServeMux, env *sandbox.Env) {
	mux.Handle(SandboxPath, &sandboxEndpoint{env: env})
}

// SandboxAccount is a xingtu sandbox account called name accepting token.
func SandboxAccount(name, token string) sandbox.Account {
	return sandbox.Account{Vendor: Name, Name: name, Credentials: map[string]string{SandboxCredential: token}}
}

// SandboxServer builds a sandbox server for cfg with the xingtu handler
// registered (cfg.Accounts should hold xingtu accounts, see SandboxAccount).
func SandboxServer(cfg sandbox.Config) (*sandbox.Server, error) {
	s, err := sandbox.NewServer(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.Register(SandboxHandler{}); err != nil {
		return nil, err
	}
	return s, nil
}

// SandboxAuthors lists the oAuthorId values the sandbox account called
// account knows under seed: SandboxAuthorsPerAccount distinct 19-digit
// decimal IDs (Xingtu-like, above 2^53), always the same for the same seed
// and account. Poll them with the author_ids param.
func SandboxAuthors(seed int64, account string) []string {
	r := sandboxRand(seed, "authors", account)
	out := make([]string, 0, SandboxAuthorsPerAccount)
	seen := map[uint64]bool{}
	for len(out) < SandboxAuthorsPerAccount {
		id := 6_800_000_000_000_000_000 + r.Uint64N(400_000_000_000_000_000)
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, strconv.FormatUint(id, 10))
	}
	return out
}

// Truth is the sandbox's ground truth at clock time at: per period one
// snapshot for every author of every account that has a token (one poll of
// every author and period on at's CST day), with the count of indicators the sandbox put into
// the data and the sum of their values rounded to thousandths. The values
// come from the generator itself, never through the normalizer.
func (SandboxHandler) Truth(env *sandbox.Env, at time.Time) summary.Summary {
	rows := make([]summary.SnapshotRow, len(SandboxPeriods))
	for i, p := range SandboxPeriods {
		rows[i] = summary.SnapshotRow{Platform: Name, Period: p}
	}
	for _, acct := range env.Accounts() {
		if acct.Credentials[SandboxCredential] == "" {
			continue // no token: the account cannot be polled
		}
		for _, author := range SandboxAuthors(env.Seed(), acct.Name) {
			if env.Faults().ItemFails(author) {
				continue
			}
			for i, p := range SandboxPeriods {
				x := sandboxGenerate(env.Seed(), author, p, at)
				rows[i].Snapshots++
				rows[i].Indicators += int64(len(x.indicators))
				for _, in := range x.indicators {
					rows[i].IndicatorMilliSum += summary.MilliRound(in.value)
				}
			}
		}
	}
	s := summary.Summary{Snapshots: rows}
	s.Normalize()
	return s
}

// sandboxRand is a PCG seeded from the sandbox seed and a label. The FNV
// hash of labels that differ only in their last bytes differs in few bits,
// so both PCG seeds go through a SplitMix64 finalizer first (otherwise the
// first draws of neighbouring streams correlate).
func sandboxRand(seed int64, parts ...string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte("xingtu"))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	k := h.Sum64()
	return rand.New(rand.NewPCG(sandboxMix(uint64(seed)^sandboxMix(k)), sandboxMix(k^0x6a09e667f3bcc908)))
}

// sandboxMix is the SplitMix64 finalizer.
func sandboxMix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// sandboxExperience is the data object the sandbox answers with. JustOneAPI
// documents no shape (a pass-through of Xingtu's own JSON is likely), so
// this is a plausible design that exercises every indicator rule:
// top-level counts and rates, a money total as a numeric string, a nested
// object, an array of objects, a boolean, non-numeric strings, a root string
// ID (o_author_id, skipped by key and digits), a nested numeric ID
// (industry_list[i].industry_id, skipped by key) and a bare 19-digit ID
// above 2^53 (latest_order.order_id). Field order is the wire order.
type sandboxExperience struct {
	OAuthorID         string                 `json:"o_author_id"`
	Period            string                 `json:"period"`
	OrderCnt          int64                  `json:"order_cnt"`
	FinishedOrderCnt  int64                  `json:"finished_order_cnt"`
	CancelledOrderCnt int64                  `json:"cancelled_order_cnt"`
	FinishRate        float64                `json:"finish_rate"`
	AvgOrderPrice     float64                `json:"avg_order_price"`
	TotalOrderAmount  string                 `json:"total_order_amount"`
	ExpectedCPM       float64                `json:"expected_cpm"`
	ExpectedCPE       float64                `json:"expected_cpe"`
	PlayMid           int64                  `json:"play_mid"`
	IsStarRecommended bool                   `json:"is_star_recommended"`
	PriceLevel        string                 `json:"price_level"`
	IndustryList      []sandboxIndustry      `json:"industry_list"`
	LatestOrder       *sandboxLatestOrder    `json:"latest_order"`
	UpdateDate        string                 `json:"update_date"`
	indicators        []sandboxIndicatorTrue // by construction, not rendered
}

type sandboxIndustry struct {
	IndustryID   int64   `json:"industry_id"`
	IndustryName string  `json:"industry_name"`
	OrderCnt     int64   `json:"order_cnt"`
	OrderRatio   float64 `json:"order_ratio"`
}

type sandboxLatestOrder struct {
	OrderID    uint64 `json:"order_id"`
	OrderPrice int64  `json:"order_price"`
	FinishTime string `json:"finish_time"`
}

// sandboxIndicatorTrue is one indicator the sandbox put into the data.
type sandboxIndicatorTrue struct {
	name  string
	value float64
}

var sandboxIndustries = []struct {
	id   int64
	name string
}{
	{1901, "美妆"}, {1902, "食品饮料"}, {1903, "3C数码"}, {1904, "服饰鞋包"},
	{1905, "母婴"}, {1906, "游戏"}, {1907, "汽车"}, {1908, "家居家装"},
}

// sandboxGenerate builds the data of (author, period) as of at's CST day
// (seed fixed). An author's traits (industries, price, reach) come from the
// seed and the author; the period's counts and the day's jitter from the
// seed, the author, the period and the day.
func sandboxGenerate(seed int64, author, period string, at time.Time) *sandboxExperience {
	day := at.In(wire.CST)
	date := day.Format(DateLayout)
	pr := sandboxRand(seed, "profile", author)
	k := 1 + pr.IntN(4)
	industries := pr.Perm(len(sandboxIndustries))[:k]
	baseOrders := 1 + int64(pr.IntN(12)) // per 30 days; 0 for one author in six
	if pr.IntN(6) == 0 {
		baseOrders = 0
	}
	priceCents := 200_000 + pr.Int64N(11_800_000) // 2 000 … 120 000 yuan per order
	cpmCents := 800 + pr.Int64N(7200)
	cpeCents := 5 + pr.Int64N(296)
	playMid := 5_000 + pr.Int64N(1_995_000)
	star := pr.IntN(3) == 0

	dr := sandboxRand(seed, "day", author, period, date)
	factor := int64(1)
	if period == Period90 {
		factor = 3
	}
	orders := baseOrders*factor + int64(dr.IntN(3))
	if baseOrders == 0 {
		orders = 0
	}
	x := &sandboxExperience{
		OAuthorID:         author,
		Period:            period,
		OrderCnt:          orders,
		ExpectedCPM:       float64(cpmCents*int64(95+dr.IntN(11))/100) / 100,
		ExpectedCPE:       float64(cpeCents*int64(95+dr.IntN(11))/100) / 100,
		PlayMid:           playMid * int64(90+dr.IntN(21)) / 100,
		IsStarRecommended: star,
		IndustryList:      []sandboxIndustry{},
		UpdateDate:        date,
	}
	var totalCents, avgCents int64
	if orders > 0 {
		x.FinishedOrderCnt = orders - int64(dr.IntN(int(min(orders, 3))+1))
		x.CancelledOrderCnt = int64(dr.IntN(int(orders-x.FinishedOrderCnt) + 1))
		x.FinishRate = float64(x.FinishedOrderCnt*10000/orders) / 10000
		totalCents = orders * priceCents * int64(900+dr.IntN(201)) / 1000
		avgCents = totalCents / orders
		counts := make([]int64, k)
		for range orders {
			counts[dr.IntN(k)]++
		}
		for i, idx := range industries {
			if counts[i] == 0 {
				continue
			}
			ind := sandboxIndustries[idx]
			x.IndustryList = append(x.IndustryList, sandboxIndustry{
				IndustryID: ind.id, IndustryName: ind.name, OrderCnt: counts[i],
				OrderRatio: float64(counts[i]*10000/orders) / 10000,
			})
		}
		// the latest order is the same whatever the period
		lr := sandboxRand(seed, "latest", author, date)
		midnight := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, wire.CST)
		finished := midnight.AddDate(0, 0, -1-lr.IntN(29)).Add(time.Duration(lr.IntN(24)) * time.Hour)
		x.LatestOrder = &sandboxLatestOrder{
			OrderID:    7_100_000_000_000_000_000 + lr.Uint64N(900_000_000_000_000_000),
			OrderPrice: priceCents * int64(90+lr.IntN(21)) / 100 / 100,
			FinishTime: finished.In(wire.CST).Format(sandbox.WallLayout),
		}
	}
	x.AvgOrderPrice = float64(avgCents) / 100
	x.TotalOrderAmount = fmt.Sprintf("%d.%02d", totalCents/100, totalCents%100)
	switch {
	case avgCents == 0:
		x.PriceLevel = "无"
	case avgCents < 1_000_000:
		x.PriceLevel = "低"
	case avgCents < 5_000_000:
		x.PriceLevel = "中"
	default:
		x.PriceLevel = "高"
	}

	add := func(name string, v float64) {
		x.indicators = append(x.indicators, sandboxIndicatorTrue{name, v})
	}
	add("order_cnt", float64(x.OrderCnt))
	add("finished_order_cnt", float64(x.FinishedOrderCnt))
	add("cancelled_order_cnt", float64(x.CancelledOrderCnt))
	add("finish_rate", x.FinishRate)
	add("avg_order_price", x.AvgOrderPrice)
	add("total_order_amount", float64(totalCents)/100) // the numeric string's value
	add("expected_cpm", x.ExpectedCPM)
	add("expected_cpe", x.ExpectedCPE)
	add("play_mid", float64(x.PlayMid))
	for i, ind := range x.IndustryList {
		p := "industry_list[" + strconv.Itoa(i) + "]."
		add(p+"order_cnt", float64(ind.OrderCnt))
		add(p+"order_ratio", ind.OrderRatio)
	}
	if x.LatestOrder != nil {
		add("latest_order.order_price", float64(x.LatestOrder.OrderPrice))
	}
	return x
}

type sandboxEndpoint struct{ env *sandbox.Env }

// sandboxEnvelope is JustOneAPI's envelope; field order is the wire order.
type sandboxEnvelope struct {
	Code       int     `json:"code"`
	Message    *string `json:"message"`
	Data       any     `json:"data"`
	RecordTime string  `json:"recordTime"`
	RequestID  string  `json:"requestId"`
}

// ServeHTTP answers one request (see SandboxHandler).
func (h *sandboxEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	call, ok := h.env.Admit(w, r)
	if !ok {
		return
	}
	recordTime := call.Now.In(wire.CST).Format(sandbox.WallLayout)
	fail := func(status, code int, msg string) {
		sandboxWrite(w, status, sandboxEnvelope{Code: code, Message: &msg, RecordTime: recordTime, RequestID: call.RequestID})
	}
	if call.Throttled {
		fail(http.StatusTooManyRequests, CodeRateLimited, SandboxMsgThrottle)
		return
	}
	q := r.URL.Query()
	var acct *sandbox.Account
	if tok := q.Get("token"); tok != "" {
		accts := h.env.Accounts()
		for i := range accts {
			if k := accts[i].Credentials[SandboxCredential]; k != "" && subtle.ConstantTimeCompare([]byte(k), []byte(tok)) == 1 {
				acct = &accts[i]
				break
			}
		}
	}
	if acct == nil {
		fail(http.StatusUnauthorized, CodeInvalidToken, SandboxMsgToken)
		return
	}
	author := strings.TrimSpace(q.Get(ParamAuthor))
	if author == "" {
		fail(http.StatusBadRequest, CodeValidation, SandboxMsgAuthorRequired)
		return
	}
	period := strings.TrimSpace(q.Get(ParamPeriod))
	if period == "" {
		period = Period30
	}
	if period != Period30 && period != Period90 {
		fail(http.StatusBadRequest, CodeValidation, SandboxMsgPeriod)
		return
	}
	known := false
	for _, a := range SandboxAuthors(h.env.Seed(), acct.Name) {
		known = known || a == author
	}
	if !known || h.env.Faults().ItemFails(author) { // Faults.FailingItems: an author the vendor no longer knows
		fail(http.StatusBadRequest, CodeValidation, SandboxMsgAuthorNotFound)
		return
	}
	data := sandboxGenerate(h.env.Seed(), author, period, call.Now)
	sandboxWrite(w, http.StatusOK, sandboxEnvelope{Code: CodeOK, Data: data, RecordTime: recordTime, RequestID: call.RequestID})
}

// sandboxWrite answers status with v as JSON (no HTML escaping).
func sandboxWrite(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}
