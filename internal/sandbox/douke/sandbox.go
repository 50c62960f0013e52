// Package douke is the douke vendor sandbox: veapi's GET/POST
// /douke/kol_OrderAds served from the internal/sandbox model. It renders the
// wire JSON with its own structs, independently of pkg/vendors/douke's
// decoder, so tests against it really test the decoder. Serve it with
// sandbox.NewServer(cfg, douke.Handler{}).
package douke

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// Path is where the sandbox serves kol_OrderAds (veapi's real path).
const Path = "/douke/kol_OrderAds"

// Credential is the Account.Credentials key holding an account's vekey.
const Credential = "vekey"

// Error codes and messages of the sandbox's veapi envelopes. veapi documents
// none of them; the messages are chosen so a client can classify them:
// 40001 is unauthorized, 40002 a permanent parameter error, 40029 a throttle.
const (
	// CodeOK is the success code.
	CodeOK = "0"
	// CodeVekey answers a missing or wrong vekey.
	CodeVekey = "40001"
	// CodeParam answers an invalid parameter.
	CodeParam = "40002"
	// CodeThrottle answers an (injected) rate limit.
	CodeThrottle = "40029"
	// MsgOK is the success message.
	MsgOK = "查询成功!"
	// MsgVekey is the message of CodeVekey.
	MsgVekey = "vekey错误或已失效"
	// MsgThrottle is the message of CodeThrottle.
	MsgThrottle = "请求过于频繁,请稍后再试"
)

// Parameter limits of kol_OrderAds.
const (
	// MaxSize is the largest (and default) page size.
	MaxSize = 20
	// MaxOrderIDs is the most order_ids one request may name.
	MaxOrderIDs = 10
	// MaxWindowDays is the longest start_time..end_time window in days.
	MaxWindowDays = 90
)

// Earliest is the earliest start_time veapi accepts (2021-10-01 CST).
var Earliest = time.Date(2021, 10, 1, 0, 0, 0, 0, wire.CST)

// Handler is the douke kol_OrderAds protocol for sandbox.Server. The
// zero value is ready: register it with (*sandbox.Server).Register.
//
// Protocol as served (the vendor document leaves the details open; these are
// the sandbox's decisions):
//   - GET with a query string or POST with a form body (both are read); other
//     methods get HTTP 405. Every vendor answer is HTTP 200 JSON except
//     injected 502s.
//   - vekey selects the account (Account.Credentials["vekey"]); missing or
//     unknown → {"error":"40001","msg":"vekey错误或已失效","data":null,"request_id":…}.
//     access_token is accepted and ignored.
//   - Invalid parameters → error "40002", data null, a Chinese + English msg:
//     size outside 1..20 or not an integer (default 20); cursor not "0"/an ID;
//     time_type other than pay (default) / update; start_time/end_time not
//     "2006-01-02 15:04:05" (CST), start before 2021-10-01 00:00:00, end
//     before start or after start+90 days; more than 10 order_ids or a
//     non-numeric one; distribution_type other than Live, ProductDetail,
//     Activity, Mix; query_order_type other than 0/1.
//   - Window defaults: none given and no order_ids → the 90 days up to the
//     sandbox clock; only start → start+90 days; only end → 90 days before it
//     (not before 2021-10-01). order_ids without times are not time-filtered.
//     Both ends are inclusive. time_type=update filters on the update_time of
//     the order's state at the clock.
//   - Orders paid after the clock are invisible; the rest show their state at
//     the clock. Pages are sorted by order_id descending; data.cursor is the
//     last order's ID and the next page holds IDs below it; a page shorter
//     than size is the last; an empty page echoes the sent cursor ("0" on a
//     first page). query_order_type=1 (price comparison) is always empty.
//   - Faults (sandbox.Faults): 502 with an nginx-like HTML body; throttle →
//     exactly {"error":"40029","msg":"请求过于频繁,请稍后再试","data":null};
//     slow → the answer is delayed; malformed (the first MalformedPages
//     non-empty pages) → the page's first order has pay_success_time "".
type Handler struct{}

var _ sandbox.VendorHandler = Handler{}

// Name returns "douke".
func (Handler) Name() string { return "douke" }

// Mount serves Path for GET (query string) and POST (form body and/or
// query string); other methods get 405.
func (Handler) Mount(mux *http.ServeMux, env *sandbox.Env) {
	mux.Handle(Path, &sandboxEndpoint{env: env})
}

// Account is a douke sandbox account called name accepting vekey.
func Account(name, vekey string) sandbox.Account {
	return sandbox.Account{Vendor: "douke", Name: name, Credentials: map[string]string{Credential: vekey}}
}

type sandboxEndpoint struct{ env *sandbox.Env }

type sandboxPIDInfo struct {
	ExternalInfo  string `json:"external_info"`
	MediaTypeName string `json:"media_type_name"`
	PID           string `json:"pid"`
}

// sandboxWireOrder is one order as veapi sends it: keys in alphabetical order
// like the documented sample, with the documented type drift reproduced (any
// fields are null, "" or a value; ads_estimated_tech_service_fee is a number
// although documented as String; shop_id is a number).
type sandboxWireOrder struct {
	AdsActivityID              int64          `json:"ads_activity_id"`
	AdsEstimatedCommission     int64          `json:"ads_estimated_commission"`
	AdsEstimatedTechServiceFee int64          `json:"ads_estimated_tech_service_fee"`
	AdsFansType                any            `json:"ads_fans_type"`
	AdsPromotionRate           int64          `json:"ads_promotion_rate"`
	AdsRealCommission          int64          `json:"ads_real_commission"`
	AdsSplitRate               int64          `json:"ads_split_rate"`
	App                        string         `json:"app"`
	AuthorAccount              string         `json:"author_account"`
	AuthorBuyinID              any            `json:"author_buyin_id"`
	AuthorOpenID               string         `json:"author_openid"`
	AuthorShortID              string         `json:"author_short_id"`
	BuyerOpenID                string         `json:"buyer_openid"`
	CommissionRate             int64          `json:"commission_rate"`
	ConfirmTime                any            `json:"confirm_time"`
	EstimatedCommission        int64          `json:"estimated_commission"`
	EstimatedTechServiceFee    int64          `json:"estimated_tech_service_fee"`
	EstimatedTotalCommission   int64          `json:"estimated_total_commission"`
	FlowPoint                  string         `json:"flow_point"`
	ItemNum                    any            `json:"item_num"` // int64; 12.5 when drifted (Faults.DriftedRecords)
	LiveAdsType                string         `json:"live_ads_type"`
	MaterialID                 any            `json:"material_id"`
	MediaType                  any            `json:"media_type"`
	OrderID                    string         `json:"order_id"`
	PayGoodsAmount             int64          `json:"pay_goods_amount"`
	PaySuccessTime             string         `json:"pay_success_time"`
	PickSourceClientKey        string         `json:"pick_source_client_key"`
	PIDInfo                    sandboxPIDInfo `json:"pid_info"`
	ProductActivityID          string         `json:"product_activity_id"`
	ProductID                  string         `json:"product_id"`
	ProductImg                 string         `json:"product_img"`
	ProductName                string         `json:"product_name"`
	RealCommission             int64          `json:"real_commission"`
	RefundTime                 any            `json:"refund_time"`
	SettleTime                 any            `json:"settle_time"`
	SettledGoodsAmount         int64          `json:"settled_goods_amount"`
	SettledTechServiceFee      int64          `json:"settled_tech_service_fee"`
	ShopEstimatedCommission    int64          `json:"shop_estimated_commission"`
	ShopID                     int64          `json:"shop_id"`
	ShopName                   string         `json:"shop_name"`
	ShopRealCommission         int64          `json:"shop_real_commission"`
	TotalPayAmount             int64          `json:"total_pay_amount"`
	UpdateTime                 string         `json:"update_time"`
	// Padding is Faults.RecordPadding bytes of filler (absent without the fault).
	Padding string `json:"sandbox_padding,omitempty"`
}

var sandboxFlowPoints = map[string]string{
	"paid": "PAY_SUCC", "received": "CONFIRM", "settled": "SETTLE", "refunded": "REFUND",
}

// sandboxBits extracts n bits of an order's variant at offset off.
func sandboxBits(o *sandbox.Order, off, n uint) uint64 { return (o.Variant >> off) & (1<<n - 1) }

// sandboxTime renders an event time: the wall-clock string once it happened,
// before that null or "" (bit chooses, so both shapes occur).
func sandboxTime(t time.Time, bit uint64) any {
	if !t.IsZero() {
		return t.In(wire.CST).Format(sandbox.WallLayout)
	}
	if bit == 0 {
		return nil
	}
	return ""
}

// sandboxRender renders one order in its state as veapi sends it. The
// amounts follow the sandbox model (internal/sandbox State.Lines): creator →
// estimated/real_commission, live_channel → ads_*_commission, shop →
// shop_*_commission, platform_fee → *_tech_service_fee.
func sandboxRender(v *sandbox.View) sandboxWireOrder {
	o, s := v.Order, &v.State
	creator, live, shop, fee := s.Lines[0], s.Lines[1], s.Lines[2], s.Lines[3]
	w := sandboxWireOrder{
		AdsEstimatedCommission:     live.EstimatedFen,
		AdsEstimatedTechServiceFee: live.EstimatedFen / 10,
		AdsPromotionRate:           o.LiveRateBP,
		AdsRealCommission:          live.SettledFen,
		App:                        "抖音",
		AuthorAccount:              o.Author.Nickname,
		AuthorOpenID:               o.Author.OpenID,
		AuthorShortID:              o.Author.ShortID,
		BuyerOpenID:                o.BuyerOpenID(),
		CommissionRate:             o.CreatorRateBP,
		ConfirmTime:                sandboxTime(s.ReceivedAt, sandboxBits(o, 1, 1)),
		EstimatedCommission:        creator.EstimatedFen,
		EstimatedTechServiceFee:    fee.EstimatedFen,
		EstimatedTotalCommission:   creator.EstimatedFen + live.EstimatedFen,
		FlowPoint:                  sandboxFlowPoints[string(s.Status)],
		ItemNum:                    o.Quantity,
		OrderID:                    o.IDString(),
		PayGoodsAmount:             s.EstimatedBaseFen,
		PaySuccessTime:             o.PaidAt().Format(sandbox.WallLayout),
		PIDInfo: sandboxPIDInfo{
			ExternalInfo:  "m23_" + strconv.FormatUint(1e10+sandboxBits(o, 20, 32), 10) + "_" + o.PaidAt().Format("20060102150405"),
			MediaTypeName: string(o.Channel),
			PID:           o.PID,
		},
		ProductActivityID:       "0",
		ProductID:               o.Product.ID,
		ProductImg:              o.Product.Img,
		ProductName:             o.Product.Name,
		RealCommission:          creator.SettledFen,
		RefundTime:              sandboxTime(s.RefundedAt, sandboxBits(o, 2, 1)),
		SettleTime:              sandboxTime(s.SettledAt, sandboxBits(o, 0, 1)),
		SettledGoodsAmount:      s.SettledBaseFen,
		SettledTechServiceFee:   fee.SettledFen,
		ShopEstimatedCommission: shop.EstimatedFen,
		ShopID:                  o.Product.Shop.ID,
		ShopName:                o.Product.Shop.Name,
		ShopRealCommission:      shop.SettledFen,
		TotalPayAmount:          o.PaidFen,
		UpdateTime:              s.UpdatedAt.In(wire.CST).Format(sandbox.WallLayout),
	}
	if sandboxBits(o, 9, 4) == 0 {
		w.App = "火山"
	}
	if sandboxBits(o, 5, 1) == 1 {
		w.AuthorBuyinID = o.Author.BuyinID
	}
	switch o.Channel {
	case sandbox.ChannelLive:
		w.MediaType = "live"
		w.AdsSplitRate = int64(1+sandboxBits(o, 13, 2)) * 1000
		w.LiveAdsType = "Self"
		if sandboxBits(o, 15, 1) == 1 {
			w.LiveAdsType = "Purchase"
		}
		switch sandboxBits(o, 3, 2) {
		case 1, 3:
			w.AdsFansType = "old"
		case 2:
			w.AdsFansType = "new"
		}
	default:
		switch sandboxBits(o, 7, 2) {
		case 1:
			w.MediaType = "shop_list"
		case 2:
			w.MediaType = "video"
			w.MaterialID = strconv.FormatUint(7_000_000_000_000_000_000+sandboxBits(o, 20, 40), 10)
		case 3:
			w.MediaType = "others"
		}
		switch o.Channel {
		case sandbox.ChannelActivity:
			w.AdsActivityID = 1000 + int64(sandboxBits(o, 16, 1))
			w.ProductActivityID = "1"
		case sandbox.ChannelMix:
			w.AdsActivityID = 2_000_000 + int64(sandboxBits(o, 17, 10))
		}
	}
	return w
}

// sandboxRequest is a validated kol_OrderAds request.
type sandboxRequest struct {
	size       int
	cursor     uint64
	cursorText string
	query      sandbox.Query
	empty      bool // query_order_type=1: the sandbox has no price-comparison orders
}

// sandboxParamError is a parameter error answered with code 40002.
type sandboxParamError string

// Error returns the message.
func (e sandboxParamError) Error() string { return string(e) }

// sandboxParse validates the parameters (see the package tests and the
// vendor document). Messages say what is wrong in Chinese and English.
func sandboxParse(f map[string][]string, now time.Time) (*sandboxRequest, error) {
	get := func(k string) string {
		if v := f[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	req := &sandboxRequest{size: MaxSize, cursorText: "0"}
	if v := get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxSize {
			return nil, sandboxParamError("size取值区间为[1, 20] (size must be an integer between 1 and 20)")
		}
		req.size = n
	}
	if v := get("cursor"); v != "" && v != "0" {
		c, err := strconv.ParseUint(v, 10, 64)
		if err != nil || c == 0 {
			return nil, sandboxParamError("cursor参数错误,第一页传0,之后传返回的data.cursor (cursor must be \"0\" or a returned data.cursor)")
		}
		req.cursor, req.cursorText = c, v
	}
	q := &req.query
	q.At = now
	q.Before = req.cursor
	q.Limit = req.size
	switch get("time_type") {
	case "", "pay":
		q.Field = sandbox.ByPayTime
	case "update":
		q.Field = sandbox.ByUpdateTime
	default:
		return nil, sandboxParamError("time_type取值为pay或update (time_type must be pay or update)")
	}

	if v := get("order_ids"); v != "" {
		q.IDs = []uint64{}
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			id, err := strconv.ParseUint(p, 10, 64)
			if err != nil {
				return nil, sandboxParamError("order_ids格式错误,多个订单号用英文逗号分隔 (order_ids must be comma-separated numeric order IDs)")
			}
			q.IDs = append(q.IDs, id)
		}
		if len(q.IDs) > MaxOrderIDs {
			return nil, sandboxParamError("order_ids最多支持10个订单号 (at most 10 order_ids)")
		}
	}

	parse := func(name, v string) (time.Time, error) {
		t, err := time.ParseInLocation(sandbox.WallLayout, v, wire.CST)
		if err != nil {
			return time.Time{}, sandboxParamError(name + "格式错误,应为yyyy-MM-dd HH:mm:ss (" + name + " must look like 2006-01-02 15:04:05)")
		}
		return t, nil
	}
	maxWindow := MaxWindowDays * 24 * time.Hour
	sv, ev := get("start_time"), get("end_time")
	if sv != "" || ev != "" || q.IDs == nil {
		var start, end time.Time
		var err error
		if sv != "" {
			if start, err = parse("start_time", sv); err != nil {
				return nil, err
			}
		}
		if ev != "" {
			if end, err = parse("end_time", ev); err != nil {
				return nil, err
			}
		}
		switch {
		case sv == "" && ev == "":
			end = now.Truncate(time.Second)
			start = end.Add(-maxWindow)
			if start.Before(Earliest) {
				start = Earliest
			}
		case sv == "":
			start = end.Add(-maxWindow)
			if start.Before(Earliest) {
				start = Earliest
			}
		case ev == "":
			end = start.Add(maxWindow)
		}
		if start.Before(Earliest) {
			return nil, sandboxParamError("start_time最早支持2021年10月01日 (start_time must not be before 2021-10-01 00:00:00)")
		}
		if end.Before(start) {
			return nil, sandboxParamError("end_time不能早于start_time (end_time must not be before start_time)")
		}
		if end.After(start.Add(maxWindow)) {
			return nil, sandboxParamError("end_time不能超过start_time+90天 (the window must not exceed 90 days: end_time <= start_time + 90 days)")
		}
		q.From, q.To = start, end
	}

	var filters []func(v *sandbox.View) bool
	if v := get("distribution_type"); v != "" {
		ch := sandbox.Channel(v)
		ok := false
		for _, c := range sandbox.Channels {
			ok = ok || c == ch
		}
		if !ok {
			return nil, sandboxParamError("distribution_type取值为Live、ProductDetail、Activity或Mix (distribution_type must be Live, ProductDetail, Activity or Mix)")
		}
		filters = append(filters, func(v *sandbox.View) bool { return v.Order.Channel == ch })
	}
	if pid := get("pid"); pid != "" {
		filters = append(filters, func(v *sandbox.View) bool { return v.Order.PID == pid })
	}
	if oid := get("open_id"); oid != "" {
		filters = append(filters, func(v *sandbox.View) bool { return v.Order.BuyerOpenID() == oid })
	}
	if len(filters) > 0 {
		q.Filter = func(v *sandbox.View) bool {
			for _, f := range filters {
				if !f(v) {
					return false
				}
			}
			return true
		}
	}
	switch get("query_order_type") {
	case "", "0":
	case "1":
		req.empty = true
	default:
		return nil, sandboxParamError("query_order_type取值为0或1 (query_order_type must be 0 or 1)")
	}
	return req, nil
}

// ServeHTTP answers one kol_OrderAds request (see Handler).
func (h *sandboxEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call, book, fail, ok := Admit(h.env, w, r)
	if !ok {
		return
	}
	req, err := sandboxParse(r.Form, call.Now)
	if err != nil {
		fail(CodeParam, err.Error())
		return
	}
	var views []sandbox.View
	if !req.empty {
		views = book.Page(req.query)
	}
	data := &Data[sandboxWireOrder]{Cursor: req.cursorText, Orders: make([]sandboxWireOrder, len(views))}
	pad := ""
	if n := h.env.Faults().RecordPadding; n > 0 {
		pad = strings.Repeat("x", n)
	}
	for i := range views {
		data.Orders[i] = sandboxRender(&views[i])
		data.Orders[i].Padding = pad
		// The drifted-record fault (sandbox.Faults.DriftedRecords): an integer
		// field carries a fraction, every time this order is served.
		if h.env.Drift(data.Orders[i].OrderID) {
			data.Orders[i].ItemNum = 12.5
		}
	}
	if len(views) > 0 {
		data.Cursor = data.Orders[len(views)-1].OrderID
		// The malformed-page fault (sandbox.Faults.MalformedPages): the first
		// order loses its pay time; the envelope and the paging stay valid,
		// yongjin's normalizer must refuse the page.
		if o := &data.Orders[0]; h.env.Malform(call, Describe(r.Form), o.OrderID, MalformedReason) {
			o.PaySuccessTime = ""
		}
	}
	sandbox.WriteJSON(w, http.StatusOK, Envelope[sandboxWireOrder]{Error: CodeOK, Msg: MsgOK, Data: data, RequestID: call.RequestID})
}

// MalformedReason is what the normalizer says about a page the
// malformed-page fault corrupted (its first order has an empty
// pay_success_time).
const MalformedReason = "missing pay_success_time"

// DriftedReason is what the normalizer's dead letter says about an
// order the drifted-record fault served (item_num 12.5 in an integer field).
const DriftedReason = "field item_num: not an integer"
