// Package xingtu is the xingtu vendor sandbox: JustOneAPI's GET
// /api/douyin-xingtu/gw/api/aggregator/get_author_order_experience/v1 with
// deterministic order-experience data. It renders the wire JSON with its own
// structs and knows which leaves are indicators by construction, so tests
// against it really test pkg/vendors/xingtu's decoder and indicator
// extraction. Serve it with sandbox.NewServer(cfg, xingtu.Handler{}).
package xingtu

import (
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
	api "github.com/yongjin-dev/yongjin/pkg/vendors/xingtu"
)

// Path is where the sandbox serves the endpoint (JustOneAPI's real path).
const Path = api.Path

// Credential is the Account.Credentials key holding an account's token.
const Credential = "token"

// AuthorsPerAccount is how many authors each sandbox account knows.
const AuthorsPerAccount = 25

// Periods are the periods the sandbox serves, in the order Truth sums them.
var Periods = []string{api.Period30, api.Period90}

// Messages of the sandbox's error envelopes (JustOneAPI documents the codes,
// not the messages).
const (
	// MsgToken answers a missing or unknown token (code 100, HTTP 401).
	MsgToken = "Invalid or inactive token"
	// MsgThrottle answers an injected throttle (code 302, HTTP 429).
	MsgThrottle = "Rate limited"
	// MsgAuthorRequired answers a missing oAuthorId (code 400, HTTP 400).
	MsgAuthorRequired = "oAuthorId is required"
	// MsgPeriod answers a period other than DAY_30/DAY_90 (code 400, HTTP 400).
	MsgPeriod = "period must be one of DAY_30, DAY_90"
	// MsgAuthorNotFound answers an author the account does not know (code 400, HTTP 400).
	MsgAuthorNotFound = "Author not found"
)

// Handler is the JustOneAPI Xingtu order-experience protocol for
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
//     not know (see Authors) → HTTP 400, code 400 "Author not found"
//     (answering code 0 with data null for an unknown author would be
//     unrealistic for a marketplace lookup).
//   - success → HTTP 200, code 0, message null, data the author's
//     order-experience object for the period as of the clock's CST day (see
//     sandboxExperience): it is a pure function of the seed, the author, the
//     period and that day, so it changes from day to day and not within one.
//   - Faults (sandbox.Faults): 502 with an nginx HTML body; throttle → HTTP
//     429 with code 302 "Rate limited"; slow → the answer is delayed.
type Handler struct{}

var (
	_ sandbox.VendorHandler = Handler{}
	_ sandbox.TruthProvider = Handler{}
)

// Name returns "xingtu".
func (Handler) Name() string { return api.Name }

// Mount serves Path.
func (Handler) Mount(mux *http.ServeMux, env *sandbox.Env) {
	mux.Handle(Path, &sandboxEndpoint{env: env})
}

// Account is a xingtu sandbox account called name accepting token.
func Account(name, token string) sandbox.Account {
	return sandbox.Account{Vendor: api.Name, Name: name, Credentials: map[string]string{Credential: token}}
}

// Authors lists the oAuthorId values the sandbox account called
// account knows under seed: AuthorsPerAccount distinct 19-digit
// decimal IDs (Xingtu-like, above 2^53), always the same for the same seed
// and account. Poll them with the author_ids param.
func Authors(seed int64, account string) []string {
	r := sandboxRand(seed, "authors", account)
	out := make([]string, 0, AuthorsPerAccount)
	seen := map[uint64]bool{}
	for len(out) < AuthorsPerAccount {
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
func (Handler) Truth(env *sandbox.Env, at time.Time) summary.Summary {
	rows := make([]summary.SnapshotRow, len(Periods))
	for i, p := range Periods {
		rows[i] = summary.SnapshotRow{Platform: api.Name, Period: p}
	}
	for _, acct := range env.Accounts() {
		if acct.Credentials[Credential] == "" {
			continue // no token: the account cannot be polled
		}
		for _, author := range Authors(env.Seed(), acct.Name) {
			if env.Faults().ItemFails(author) {
				continue
			}
			for i, p := range Periods {
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
	return rand.New(rand.NewPCG(sandbox.Mix64(uint64(seed)^sandbox.Mix64(k)), sandbox.Mix64(k^0x6a09e667f3bcc908)))
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
	date := day.Format(api.DateLayout)
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
	if period == api.Period90 {
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

// ServeHTTP answers one request (see Handler).
func (h *sandboxEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call, ok := h.env.AdmitMethod(w, r, http.MethodGet, http.MethodHead)
	if !ok {
		return
	}
	recordTime := call.Now.In(wire.CST).Format(sandbox.WallLayout)
	fail := func(status, code int, msg string) {
		sandbox.WriteJSON(w, status, sandboxEnvelope{Code: code, Message: &msg, RecordTime: recordTime, RequestID: call.RequestID})
	}
	if call.Throttled {
		fail(http.StatusTooManyRequests, api.CodeRateLimited, MsgThrottle)
		return
	}
	q := r.URL.Query()
	acct := sandbox.AccountByCredential(h.env.Accounts(), Credential, q.Get("token"))
	if acct == nil {
		fail(http.StatusUnauthorized, api.CodeInvalidToken, MsgToken)
		return
	}
	author := strings.TrimSpace(q.Get(api.ParamAuthor))
	if author == "" {
		fail(http.StatusBadRequest, api.CodeValidation, MsgAuthorRequired)
		return
	}
	period := strings.TrimSpace(q.Get(api.ParamPeriod))
	if period == "" {
		period = api.Period30
	}
	if period != api.Period30 && period != api.Period90 {
		fail(http.StatusBadRequest, api.CodeValidation, MsgPeriod)
		return
	}
	known := false
	for _, a := range Authors(h.env.Seed(), acct.Name) {
		known = known || a == author
	}
	if !known || h.env.Faults().ItemFails(author) { // Faults.FailingItems: an author the vendor no longer knows
		fail(http.StatusBadRequest, api.CodeValidation, MsgAuthorNotFound)
		return
	}
	data := sandboxGenerate(h.env.Seed(), author, period, call.Now)
	sandbox.WriteJSON(w, http.StatusOK, sandboxEnvelope{Code: api.CodeOK, Data: data, RecordTime: recordTime, RequestID: call.RequestID})
}
