// Package doukecsj is the sandbox of veapi's douke csj_ordersearch (穿山甲
// order search, vendor douke-csj): its exact wire format served from the
// internal/sandbox order model, with kol_OrderAds' fault repertoire. It
// renders the wire JSON with its own structs, independently of the vendor
// package's decoder, so tests against it really test the decoder.
package doukecsj

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	doukesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/douke"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// Vendor is the vendor name the sandbox serves (pkg/vendors/doukecsj.Name).
const Vendor = "douke-csj"

// Path is where the sandbox serves csj_ordersearch (veapi's real path).
const Path = "/douke/csj_ordersearch"

// Credential is the Account.Credentials key holding an account's vekey.
const Credential = "vekey"

// Envelope codes and messages: veapi's, exactly as the kol_OrderAds
// sandbox sends them (the same gateway).
const (
	CodeOK       = doukesandbox.CodeOK
	CodeVekey    = doukesandbox.CodeVekey
	CodeParam    = doukesandbox.CodeParam
	CodeThrottle = doukesandbox.CodeThrottle
	MsgOK        = doukesandbox.MsgOK
	MsgVekey     = doukesandbox.MsgVekey
	MsgThrottle  = doukesandbox.MsgThrottle
)

// MalformedReason and DriftedReason are what the normalizer says about an
// order the malformed-page fault (an empty pay_success_time) or the
// drifted-record fault (item_num 12.5) served: as on kol_OrderAds.
const (
	MalformedReason = doukesandbox.MalformedReason
	DriftedReason   = doukesandbox.DriftedReason
)

// Limits of csj_ordersearch.
const (
	// MaxSize is the largest size; DefaultSize is used when none is sent.
	MaxSize, DefaultSize = 50, 20
	// MaxOrderIDs is the most order_ids one request may name.
	MaxOrderIDs = 10
	// MaxWindow is the longest start_time..end_time window.
	MaxWindow = 90 * 24 * time.Hour
	// RefreshLag is how far veapi's order data trails the clock ("updated
	// every 10 seconds"): every answer, and the ground truth, is the model
	// as of the clock minus RefreshLag.
	RefreshLag = 10 * time.Second
)

// Handler is the csj_ordersearch protocol for sandbox.Server; the zero
// value is ready. It also implements sandbox.TruthProvider (two lines per
// order, the model as of RefreshLag ago).
//
// Protocol as served:
//   - GET with a query string or POST with a form body; other methods 405.
//     Every vendor answer is HTTP 200 JSON except injected 502s.
//   - vekey selects the account; missing or unknown → error 40001.
//   - Scroll mode: size 1..50 (default 20), cursor "0"/absent or a returned
//     cursor, start_time and end_time (both required) as "2006-01-02
//     15:04:05" CST or 10-digit Unix seconds, start ≤ end ≤ start+90 days,
//     time_type pay (default) or update, order_type 0 all (default), 1
//     product (ProductDetail), 2 live room (Live), 3 activity (Activity,
//     Mix). Violations → error 40002 with a Chinese + English msg.
//   - order_ids mode (1 to 10 numeric IDs): every other paging and time
//     parameter is ignored; the named orders come back, cursor "".
//   - Orders by order_id descending; data.cursor is the last order's ID
//     while more orders follow, "" on the last page.
//   - Faults (sandbox.Faults): 502 with an HTML body; throttle → exactly
//     {"error":"40029","msg":"请求过于频繁,请稍后再试","data":null}; slow;
//     malformed (the first MalformedPages non-empty pages) → the first
//     order's pay_success_time is ""; drifted records → item_num 12.5;
//     record padding → a sandbox_padding member.
type Handler struct{}

var (
	_ sandbox.VendorHandler = Handler{}
	_ sandbox.TruthProvider = Handler{}
)

// Name returns "douke-csj".
func (Handler) Name() string { return Vendor }

// Mount serves Path for GET and POST.
func (Handler) Mount(mux *http.ServeMux, env *sandbox.Env) { mux.Handle(Path, &endpoint{env: env}) }

// Account is a douke-csj sandbox account called name accepting vekey.
func Account(name, vekey string) sandbox.Account {
	return sandbox.Account{Vendor: Vendor, Name: name, Credentials: map[string]string{Credential: vekey}}
}

// Truth is the ground truth as csj_ordersearch reports it, summed straight
// from the model as of at minus RefreshLag (not through the rendering or the
// normalizer): every visible order with its status and paid fen and two
// lines, creator (the model's creator estimated and settled fen) and
// platform_fee (the model's platform-fee estimated fen, settled 0). Orders
// served drifted now are left out, as Server.TruthAt does for the model.
func (Handler) Truth(env *sandbox.Env, at time.Time) summary.Summary {
	at = at.Add(-RefreshLag)
	var drifted []string
	if st := env.Stats(); env.Faults().DriftedRecords > 0 && st.DriftedRecords != nil {
		drifted = *st.DriftedRecords
	}
	var out []sandbox.OrderTruth
	for _, b := range env.Books() {
		for i := 0; i < b.Len(); i++ {
			o := b.Order(i)
			if o.PaidAt().After(at) {
				break // IDs follow pay times
			}
			s, ok := o.At(at)
			if !ok || slices.Contains(drifted, o.IDString()) {
				continue
			}
			creator, fee := s.Line(events.RoleCreator), s.Line(events.RolePlatformFee)
			out = append(out, sandbox.OrderTruth{
				Vendor: Vendor, Account: b.Account.Name, OrderID: o.IDString(),
				Status: s.Status, PaidFen: o.PaidFen, PaidAt: o.PaidAt(), UpdatedAt: s.UpdatedAt,
				Lines: []sandbox.LineTruth{
					{Role: events.RoleCreator, EstimatedFen: creator.EstimatedFen, SettledFen: creator.SettledFen},
					{Role: events.RolePlatformFee, EstimatedFen: fee.EstimatedFen},
				},
			})
		}
	}
	return sandbox.Summarize(out)
}

type endpoint struct{ env *sandbox.Env }

type colonel struct {
	ActivityID      int64  `json:"activity_id"`
	InstitutionID   int64  `json:"institution_id"`
	InstitutionName string `json:"institution_name"`
}

// wireOrder is one order as the CSJ order search sends it: shop_id and
// material_id JSON numbers, times "" until they happen.
type wireOrder struct {
	OrderID                 string  `json:"order_id"`
	ProductID               string  `json:"product_id"`
	ProductName             string  `json:"product_name"`
	ProductImg              string  `json:"product_img"`
	AuthorAccount           string  `json:"author_account"`
	AdsAttribution          string  `json:"ads_attribution"`
	TotalPayAmount          int64   `json:"total_pay_amount"`
	PayGoodsAmount          int64   `json:"pay_goods_amount"`
	EstimatedCommission     int64   `json:"estimated_commission"`
	AdsRealCommission       int64   `json:"ads_real_commission"`
	EstimatedTechServiceFee int64   `json:"estimated_tech_service_fee"`
	SplitRate               int64   `json:"split_rate"`
	FlowPoint               string  `json:"flow_point"`
	AfterSalesStatus        int64   `json:"after_sales_status"`
	PaySuccessTime          string  `json:"pay_success_time"`
	RefundTime              string  `json:"refund_time"`
	ConfirmTime             string  `json:"confirm_time"`
	SettleTime              string  `json:"settle_time"`
	UpdateTime              string  `json:"update_time"`
	ExternalInfo            string  `json:"external_info"`
	MediaTypeName           string  `json:"media_type_name"`
	ShopID                  int64   `json:"shop_id"`
	ShopName                string  `json:"shop_name"`
	ItemNum                 any     `json:"item_num"` // int64; 12.5 when drifted
	MaterialID              int64   `json:"material_id"`
	ColonelOrderInfo        colonel `json:"colonel_order_info"`
	// Padding is Faults.RecordPadding bytes of filler (absent without the fault).
	Padding string `json:"sandbox_padding,omitempty"`
}

var flowPoints = map[events.Status]string{
	events.StatusPaid: "PAY_SUCC", events.StatusReceived: "CONFIRM", events.StatusSettled: "SETTLE", events.StatusRefunded: "REFUND",
}

func wall(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(wire.CST).Format(sandbox.WallLayout)
}

// render renders one order in its state as csj_ordersearch sends it.
func render(v *sandbox.View) wireOrder {
	o, s := v.Order, &v.State
	creator, fee := s.Line(events.RoleCreator), s.Line(events.RolePlatformFee)
	bits := func(off, n uint) uint64 { return (o.Variant >> off) & (1<<n - 1) }
	w := wireOrder{
		OrderID: o.IDString(), ProductID: o.Product.ID, ProductName: o.Product.Name, ProductImg: o.Product.Img,
		TotalPayAmount: o.PaidFen, PayGoodsAmount: s.EstimatedBaseFen,
		EstimatedCommission: creator.EstimatedFen, AdsRealCommission: creator.SettledFen,
		EstimatedTechServiceFee: fee.EstimatedFen, SplitRate: o.CreatorRateBP,
		FlowPoint: flowPoints[s.Status], PaySuccessTime: wall(o.PaidAt()), RefundTime: wall(s.RefundedAt),
		ConfirmTime: wall(s.ReceivedAt), SettleTime: wall(s.SettledAt), UpdateTime: wall(s.UpdatedAt),
		ExternalInfo: "sub_" + strconv.FormatUint(bits(20, 16), 10), MediaTypeName: string(o.Channel),
		ShopID: o.Product.Shop.ID, ShopName: o.Product.Shop.Name, ItemNum: o.Quantity,
	}
	if bits(5, 1) == 1 {
		w.AuthorAccount = o.Author.Nickname
	}
	if bits(6, 1) == 1 {
		w.AdsAttribution = "link"
	}
	if s.Status == events.StatusRefunded {
		w.AfterSalesStatus = 2
	}
	if o.Channel == sandbox.ChannelActivity || o.Channel == sandbox.ChannelMix {
		w.ColonelOrderInfo = colonel{ActivityID: 3000 + int64(bits(16, 4)), InstitutionID: 90000 + int64(bits(8, 8)), InstitutionName: "团长机构"}
	}
	if bits(7, 2) == 2 {
		w.MaterialID = 7_000_000_000_000_000_000 + int64(bits(20, 40))
	}
	return w
}

// request is a validated csj_ordersearch request.
type request struct {
	query  sandbox.Query
	byIDs  bool
	cursor string
}

// paramError is a parameter error answered with code 40002.
type paramError string

func (e paramError) Error() string { return string(e) }

// parseTime reads a date string (CST) or 10-digit Unix seconds.
func parseTime(name, v string) (time.Time, error) {
	if len(v) == 10 && strings.Trim(v, "0123456789") == "" {
		n, _ := strconv.ParseInt(v, 10, 64)
		return time.Unix(n, 0).In(wire.CST), nil
	}
	t, err := time.ParseInLocation(sandbox.WallLayout, v, wire.CST)
	if err != nil {
		return time.Time{}, paramError(name + "格式错误,应为yyyy-MM-dd HH:mm:ss或10位时间戳 (" + name + " must be 2006-01-02 15:04:05 or 10-digit Unix seconds)")
	}
	return t, nil
}

// parse validates the parameters of one request answered at now.
func parse(f url.Values, now time.Time) (*request, error) {
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	req := &request{}
	q := &req.query
	q.At = now.Add(-RefreshLag)
	if v := get("order_ids"); v != "" {
		q.IDs = []uint64{}
		for _, p := range strings.Split(v, ",") {
			id, err := strconv.ParseUint(strings.TrimSpace(p), 10, 64)
			if err != nil {
				return nil, paramError("order_ids格式错误 (order_ids must be comma-separated numeric order IDs)")
			}
			q.IDs = append(q.IDs, id)
		}
		if len(q.IDs) > MaxOrderIDs {
			return nil, paramError("order_ids最多支持10个订单号 (at most 10 order_ids)")
		}
		req.byIDs = true
		return req, nil
	}
	q.Limit = DefaultSize
	if v := get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxSize {
			return nil, paramError("size取值区间为[1, 50] (size must be an integer between 1 and 50)")
		}
		q.Limit = n
	}
	if v := get("cursor"); v != "" && v != "0" {
		c, err := strconv.ParseUint(v, 10, 64)
		if err != nil || c == 0 {
			return nil, paramError("cursor参数错误 (cursor must be \"0\" or a returned data.cursor)")
		}
		q.Before = c
	}
	switch get("time_type") {
	case "", "pay":
		q.Field = sandbox.ByPayTime
	case "update":
		q.Field = sandbox.ByUpdateTime
	default:
		return nil, paramError("time_type取值为pay或update (time_type must be pay or update)")
	}
	sv, ev := get("start_time"), get("end_time")
	if sv == "" || ev == "" {
		return nil, paramError("start_time和end_time必填 (start_time and end_time are required)")
	}
	start, err := parseTime("start_time", sv)
	if err != nil {
		return nil, err
	}
	end, err := parseTime("end_time", ev)
	if err != nil {
		return nil, err
	}
	if end.Before(start) {
		return nil, paramError("end_time不能早于start_time (end_time must not be before start_time)")
	}
	if end.After(start.Add(MaxWindow)) {
		return nil, paramError("时间跨度不能超过90天 (the window must not exceed 90 days)")
	}
	q.From, q.To = start, end
	var channels []sandbox.Channel
	switch get("order_type") {
	case "", "0":
	case "1":
		channels = []sandbox.Channel{sandbox.ChannelProductDetail}
	case "2":
		channels = []sandbox.Channel{sandbox.ChannelLive}
	case "3":
		channels = []sandbox.Channel{sandbox.ChannelActivity, sandbox.ChannelMix}
	default:
		return nil, paramError("order_type取值为0、1、2或3 (order_type must be 0, 1, 2 or 3)")
	}
	if channels != nil {
		q.Filter = func(v *sandbox.View) bool { return slices.Contains(channels, v.Order.Channel) }
	}
	return req, nil
}

// ServeHTTP answers one csj_ordersearch request (see Handler).
func (h *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call, book, fail, ok := doukesandbox.Admit(h.env, w, r)
	if !ok {
		return
	}
	req, err := parse(r.Form, call.Now)
	if err != nil {
		fail(CodeParam, err.Error())
		return
	}
	size := req.query.Limit
	if !req.byIDs {
		req.query.Limit = size + 1 // one more tells whether another page follows
	}
	views := book.Page(req.query)
	more := !req.byIDs && len(views) > size
	if more {
		views = views[:size]
	}
	d := &doukesandbox.Data[wireOrder]{Orders: make([]wireOrder, len(views))}
	pad := strings.Repeat("x", h.env.Faults().RecordPadding)
	for i := range views {
		d.Orders[i] = render(&views[i])
		d.Orders[i].Padding = pad
		if h.env.Drift(d.Orders[i].OrderID) {
			d.Orders[i].ItemNum = 12.5
		}
	}
	if more {
		d.Cursor = d.Orders[len(views)-1].OrderID
	}
	if len(views) > 0 {
		if o := &d.Orders[0]; h.env.Malform(call, doukesandbox.Describe(r.Form), o.OrderID, MalformedReason) {
			o.PaySuccessTime = ""
		}
	}
	sandbox.WriteJSON(w, http.StatusOK, doukesandbox.Envelope[wireOrder]{Error: CodeOK, Msg: MsgOK, Data: d, RequestID: call.RequestID})
}
