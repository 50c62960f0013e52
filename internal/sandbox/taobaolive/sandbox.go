// Package taobaolive is the Taobao Live vendor sandbox: TOP's /router/rest
// answering alibaba.matrix.tcp.outer.querypredictorderlist from the
// internal/sandbox model. It renders the wire JSON with its own structs,
// independently of pkg/vendors/taobaolive's decoder, so tests against it
// really test the decoder. Serve it with
// sandbox.NewServer(cfg, taobaolive.Handler{}).
package taobaolive

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/pkg/events"
	api "github.com/yongjin-dev/yongjin/pkg/vendors/taobaolive"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// Path is where the sandbox serves the TOP router (TOP's real path).
const Path = "/router/rest"

// MaxSkew is the largest difference between a request's timestamp and
// the sandbox clock that the sandbox accepts (TOP documents 10 minutes).
const MaxSkew = 10 * time.Minute

// TCPType is the only tcp_type with orders; any other is answered
// with an empty page.
const TCPType = 16

// ReceiptLookback is how far before a confirm-receipt-time window a
// date_type=1 query looks for pay times. The sandbox generator confirms
// receipt at most 7 days after payment; 30 days leaves room (a test checks
// every generated order against it).
const ReceiptLookback = 30 * 24 * time.Hour

// ServiceProviderRatio is the outerAdUserDivRatio the sandbox renders
// in extend_info: the model's platform fee is a tenth (1000/10000) of the
// creator commission and the sandbox reuses that line as the service
// provider's fee (out_ad_user_fee).
const ServiceProviderRatio = 1000

// ThrottleSubMsg is the sub_msg of the sandbox's throttle answer.
const ThrottleSubMsg = "This ban will last for 1 more seconds"

// Handler is the TOP querypredictorderlist protocol for
// sandbox.Server. The zero value is ready: register it with
// (*sandbox.Server).Register. It also implements sandbox.TruthProvider: the
// ground truth uses TOP's semantics (see Truth).
//
// Protocol as served:
//   - GET with a query string or POST with a form body (both are read) at
//     Path; other methods get HTTP 405. Every answer is HTTP 200 JSON
//     (except injected 502s) with a Date header showing the sandbox clock.
//   - Checks, in order, each failing with TOP's error_response
//     {"error_response":{"code":…,"msg":…,"sub_code":…,"sub_msg":…,"request_id":…}}:
//     format must be json (23 Invalid Format); method (21 missing / 22
//     invalid); app_key (28 missing / 29 unknown); timestamp "2006-01-02
//     15:04:05" GMT+8 within MaxSkew of the sandbox clock (30 missing /
//     31 invalid); v=2.0 (32 missing / 33 unsupported); sign_method md5,
//     hmac or hmac-sha256 (40 / 41 with sub_code isv.missing-parameter /
//     isv.invalid-parameter); sign recomputed with the account's app secret
//     over every other parameter (24 missing / 25 Invalid Signature); session
//     (26 missing / 27 Invalid Session with sub_code invalid-sessionkey);
//     query_predict_order_request present (40) and a JSON object (41).
//   - The struct's fields are checked by the "service": a violation answers
//     result.success=false, msg_code "参数错误" and an explaining msg_info:
//     tcp_type, start_time, end_time, page_size, page_no required; page_size
//     1..20; page_no ≥ 1; times "2006-01-02 15:04:05" (CST) with end not
//     before start; date_type 0|1; order_status -1|2|3|4|5; item_id, rid and
//     biz_order_id integers (numbers or numeric strings). No window limit.
//   - Data: the account's orders visible at the sandbox clock in their state
//     at the clock; date_type 0 filters on the pay time, 1 on the
//     confirm-receipt time (orders never received do not match), both ends
//     inclusive; order_status, item_id, rid, biz_order_id and ad_user_nick
//     filter exactly; tcp_type other than 16 matches nothing. Sorted by pay
//     time then ID (date_type 0) or receipt time then ID (date_type 1), paged
//     by page_no/page_size with total_count.
//   - Shape: the wrapped shape by default (elements as
//     {"tcp_predict_order_v_o":[…]}, omitted when empty); simplify=true gives
//     {"result":…,"request_id":…} with elements a bare array ([] when empty).
//   - Faults (sandbox.Faults): 502 with an HTML body; throttle → error_response
//     code 7 "App Call Limited", sub_code accesscontrol.limited-by-api-access-count,
//     sub_msg ThrottleSubMsg; slow → the answer is delayed; malformed
//     (the first MalformedPages non-empty pages) → the page's first order
//     has order_paid_time "".
//
// Rendering from the model state (internal/sandbox State.Lines): order_amount
// paid fen, order_commission_amount EstimatedBaseFen, predict_amount the
// creator line, predict_total_amount creator + live_channel, out_ad_user_fee
// the platform_fee line (reused as the service provider's fee),
// partner_predict_amount the creator rate as a percentage, refund_amount the
// paid amount once refunded else "0", all as yuan strings with two decimals.
// Status: paid → 2, received and settled → 3 (TOP reports no settlement),
// refunded before receipt → 4, refunded after receipt (also after
// settlement) → 5; rendered as the numeric code for about half of the orders
// and as the Chinese label for the others (settled orders sometimes as
// "已结束"), deterministically per order. end_time is the receipt time for
// 3 and 5 and the refund time for 4; refund_end_time the refund time for 5;
// absent times are "" or omitted; modify_time is the state's update time.
type Handler struct{}

var (
	_ sandbox.VendorHandler = Handler{}
	_ sandbox.TruthProvider = Handler{}
)

// Name returns "taobao-live".
func (Handler) Name() string { return api.Name }

// Mount serves Path for GET and POST; other methods get 405.
func (Handler) Mount(mux *http.ServeMux, env *sandbox.Env) {
	mux.Handle(Path, &sandboxEndpoint{env: env})
}

// Account is a Taobao Live sandbox account called name whose requests
// must carry appKey and session and be signed with appSecret. Its
// Credentials use the Fetcher's credential names, so they can be passed to
// SourceConfig.Credentials as they are.
func Account(name, appKey, appSecret, session string) sandbox.Account {
	return sandbox.Account{Vendor: api.Name, Name: name, Credentials: map[string]string{
		api.CredAppKey: appKey, api.CredAppSecret: appSecret, api.CredSession: session,
	}}
}

// The TOP order_status codes as the sandbox renders them and their labels.
var sandboxLabels = map[int]string{2: "订单已支付", 3: "订单已确认收货", 4: "订单售中退款关闭", 5: "订单有退款"}

// sandboxTruthStatus is the common status of each TOP code (the ground truth).
var sandboxTruthStatus = map[int]events.Status{
	2: events.StatusPaid, 3: events.StatusReceived, 4: events.StatusCancelled, 5: events.StatusRefunded,
}

// sandboxStatusCode is the TOP code of a model state.
func sandboxStatusCode(s *sandbox.State) int {
	switch s.Status {
	case events.StatusPaid:
		return 2
	case events.StatusReceived, events.StatusSettled:
		return 3
	case events.StatusRefunded:
		if s.ReceivedAt.IsZero() {
			return 4
		}
		return 5
	}
	return 0
}

// Truth is the ground truth with TOP's semantics, summed straight from the
// model (not through the rendering or the normalizer): every order of the
// vendor's books visible at at, its status by sandboxStatusCode (paid,
// received — settled orders included —, cancelled, refunded) and paid fen,
// and two lines per order: creator (the model's creator EstimatedFen) and
// service_provider (the model's platform_fee EstimatedFen), SettledFen 0.
func (Handler) Truth(env *sandbox.Env, at time.Time) summary.Summary {
	return sandbox.Summarize(sandboxOrderTruths(env.Books(), at))
}

func sandboxOrderTruths(books []*sandbox.Book, at time.Time) []sandbox.OrderTruth {
	var out []sandbox.OrderTruth
	for _, b := range books {
		for i := 0; i < b.Len(); i++ {
			o := b.Order(i)
			if o.PaidAt().After(at) {
				break // IDs follow pay times
			}
			s, ok := o.At(at)
			if !ok {
				continue
			}
			out = append(out, sandbox.OrderTruth{
				Vendor: api.Name, Account: b.Account.Name, OrderID: o.IDString(),
				Status: sandboxTruthStatus[sandboxStatusCode(&s)], PaidFen: o.PaidFen, PaidAt: o.PaidAt(), UpdatedAt: s.UpdatedAt,
				Lines: []sandbox.LineTruth{
					{Role: events.RoleCreator, EstimatedFen: s.Line(events.RoleCreator).EstimatedFen},
					{Role: events.RoleServiceProvider, EstimatedFen: s.Line(events.RolePlatformFee).EstimatedFen},
				},
			})
		}
	}
	return out
}

// contentType is TOP's Content-Type (not sandbox.ContentTypeJSON's spelling).
const contentType = "application/json;charset=UTF-8"

type sandboxEndpoint struct{ env *sandbox.Env }

// sandboxWireOrder is one TcpPredictOrderVO as the sandbox sends it, in the
// documented field order. item_id and buy_amount are JSON numbers (documented
// Number), everything else strings; absent times are "" or omitted.
type sandboxWireOrder struct {
	BizOrderID            string      `json:"biz_order_id"`
	ItemID                json.Number `json:"item_id"`
	ItemTitle             string      `json:"item_title"`
	OrderStatus           string      `json:"order_status"`
	OrderPaidTime         string      `json:"order_paid_time"`
	OrderAmount           string      `json:"order_amount"`
	OrderCommissionAmount string      `json:"order_commission_amount"`
	PredictAmount         string      `json:"predict_amount"`
	Remark                string      `json:"remark"`
	RefundAmount          string      `json:"refund_amount"`
	PredictTotalAmount    string      `json:"predict_total_amount"`
	OutAdUserFee          string      `json:"out_ad_user_fee"`
	OutAdUserType         string      `json:"out_ad_user_type"`
	RID                   string      `json:"rid"`
	ParentOrderID         string      `json:"parent_order_id"`
	OutAdUserRatio        string      `json:"out_ad_user_ratio"`
	SellerCommissionRatio string      `json:"seller_commission_ratio"`
	EndTime               *string     `json:"end_time,omitempty"`
	Picture               string      `json:"picture"`
	RefundEndTime         *string     `json:"refund_end_time,omitempty"`
	PartnerPredictAmount  string      `json:"partner_predict_amount"`
	ModifyTime            string      `json:"modify_time"`
	ExtendInfo            *string     `json:"extend_info,omitempty"`
	AdUserNick            string      `json:"ad_user_nick"`
	BuyAmount             int64       `json:"buy_amount"`
}

type sandboxModel struct {
	TotalCount int64 `json:"total_count"`
	PageSize   int64 `json:"page_size"`
	PageNo     int64 `json:"page_no"`
	Elements   any   `json:"elements,omitempty"`
}

type sandboxWrappedElements struct {
	List []sandboxWireOrder `json:"tcp_predict_order_v_o"`
}

type sandboxResult struct {
	Model   *sandboxModel `json:"model,omitempty"`
	Success bool          `json:"success"`
	MsgCode string        `json:"msg_code"`
	MsgInfo string        `json:"msg_info"`
}

type sandboxResponse struct {
	Result    sandboxResult `json:"result"`
	RequestID string        `json:"request_id"`
}

type sandboxErrorBody struct {
	Code      int    `json:"code"`
	Msg       string `json:"msg"`
	SubCode   string `json:"sub_code,omitempty"`
	SubMsg    string `json:"sub_msg,omitempty"`
	RequestID string `json:"request_id"`
}

// sandboxBits extracts n bits of an order's variant at offset off.
func sandboxBits(o *sandbox.Order, off, n uint) uint64 { return (o.Variant >> off) & (1<<n - 1) }

// RID is the rid (outside promoter ID) the sandbox renders for an
// order: a 12-digit number derived from the order's PID.
func RID(o *sandbox.Order) string {
	h := fnv.New64a()
	h.Write([]byte(o.PID))
	return strconv.FormatUint(100_000_000_000+h.Sum64()%900_000_000_000, 10)
}

// sandboxTime renders an event time: the wall clock once it happened, else
// "" or absent (bit chooses, so both shapes occur).
func sandboxTime(t time.Time, bit uint64) *string {
	if !t.IsZero() {
		s := t.In(wire.CST).Format(sandbox.WallLayout)
		return &s
	}
	if bit == 0 {
		return nil
	}
	s := ""
	return &s
}

// sandboxRender renders one order in its state as TOP sends it.
func sandboxRender(v *sandbox.View) sandboxWireOrder {
	o, s := v.Order, &v.State
	creator, live, fee := s.Line(events.RoleCreator), s.Line(events.RoleLiveChannel), s.Line(events.RolePlatformFee)
	code := sandboxStatusCode(s)
	status := strconv.Itoa(code)
	if sandboxBits(o, 50, 1) == 1 {
		status = sandboxLabels[code]
		if s.Status == events.StatusSettled && sandboxBits(o, 51, 1) == 1 {
			status = "已结束"
		}
	}
	refund := "0"
	if s.Status == events.StatusRefunded {
		refund = api.FormatYuan(o.PaidFen)
	}
	var end, refundEnd time.Time
	switch code {
	case 3:
		end = s.ReceivedAt
	case 4:
		end = s.RefundedAt
	case 5:
		end, refundEnd = s.ReceivedAt, s.RefundedAt
	}
	parent := o.IDString()
	if sandboxBits(o, 52, 1) == 1 {
		parent = strconv.FormatUint(o.ID-1-sandboxBits(o, 53, 8), 10)
	}
	var ext *string
	switch sandboxBits(o, 56, 2) {
	case 0:
		e := fmt.Sprintf(`{ "outerPartnerDivRatio": %d, "outerAdUserDivRatio": %d }`, o.CreatorRateBP, ServiceProviderRatio)
		ext = &e
	case 1:
		e := fmt.Sprintf(`{"outerAdUserDivRatio":%d,"outerPartnerDivRatio":%d}`, ServiceProviderRatio, o.CreatorRateBP)
		ext = &e
	case 2:
		e := "-"
		ext = &e
	}
	return sandboxWireOrder{
		BizOrderID:            o.IDString(),
		ItemID:                json.Number(o.Product.ID),
		ItemTitle:             o.Product.Name,
		OrderStatus:           status,
		OrderPaidTime:         o.PaidAt().Format(sandbox.WallLayout),
		OrderAmount:           api.FormatYuan(o.PaidFen),
		OrderCommissionAmount: api.FormatYuan(s.EstimatedBaseFen),
		PredictAmount:         api.FormatYuan(creator.EstimatedFen),
		RefundAmount:          refund,
		PredictTotalAmount:    api.FormatYuan(creator.EstimatedFen + live.EstimatedFen),
		OutAdUserFee:          api.FormatYuan(fee.EstimatedFen),
		OutAdUserType:         "1",
		RID:                   RID(o),
		ParentOrderID:         parent,
		OutAdUserRatio:        "-",
		SellerCommissionRatio: "-",
		EndTime:               sandboxTime(end, sandboxBits(o, 58, 1)),
		Picture:               o.Product.Img,
		RefundEndTime:         sandboxTime(refundEnd, sandboxBits(o, 59, 1)),
		PartnerPredictAmount:  api.FormatPercent(creator.RateBP),
		ModifyTime:            s.UpdatedAt.In(wire.CST).Format(sandbox.WallLayout),
		ExtendInfo:            ext,
		AdUserNick:            o.Author.Nickname,
		BuyAmount:             o.Quantity,
	}
}

// sandboxAPIError is a gateway refusal answered with error_response.
type sandboxAPIError struct {
	code    int
	msg     string
	subCode string
	subMsg  string
}

func (e *sandboxAPIError) Error() string { return e.msg }

func sandboxMissing(name string) *sandboxAPIError {
	return &sandboxAPIError{40, "Missing Required Arguments", "isv.missing-parameter:" + name, "缺少必选参数 " + name + " (missing required argument " + name + ")"}
}

// sandboxRequest is a validated query_predict_order_request.
type sandboxRequest struct {
	tcpType     int64
	start, end  time.Time
	pageSize    int64
	pageNo      int64
	dateType    int64
	orderStatus int64
	itemID      string
	rid         string
	bizOrderID  uint64
	hasBizOrder bool
	adUserNick  string
	hasNick     bool
}

// sandboxBizError is a service-level refusal (result.success=false).
type sandboxBizError string

func (e sandboxBizError) Error() string { return string(e) }

// sandboxParseRequest validates the struct parameter's fields.
func sandboxParseRequest(m map[string]any) (*sandboxRequest, error) {
	num := func(k string) (int64, bool, error) {
		v, ok := m[k]
		if !ok || v == nil {
			return 0, false, nil
		}
		var text string
		switch x := v.(type) {
		case json.Number:
			text = x.String()
		case string:
			text = strings.TrimSpace(x)
			if text == "" {
				return 0, false, nil
			}
		default:
			return 0, false, sandboxBizError(k + "格式错误 (" + k + " must be a number)")
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return 0, false, sandboxBizError(k + "格式错误 (" + k + " must be an integer)")
		}
		return n, true, nil
	}
	wall := func(k string) (time.Time, error) {
		s, ok := m[k].(string)
		if !ok || strings.TrimSpace(s) == "" {
			return time.Time{}, sandboxBizError(k + "不能为空 (" + k + " is required)")
		}
		t, err := time.ParseInLocation(sandbox.WallLayout, strings.TrimSpace(s), wire.CST)
		if err != nil {
			return time.Time{}, sandboxBizError(k + "格式错误,应为yyyy-MM-dd HH:mm:ss (" + k + " must look like 2006-01-02 15:04:05)")
		}
		return t, nil
	}
	req := &sandboxRequest{orderStatus: -1}
	var err error
	for _, f := range []struct {
		key      string
		dst      *int64
		required bool
	}{
		{"tcp_type", &req.tcpType, true},
		{"page_size", &req.pageSize, true},
		{"page_no", &req.pageNo, true},
		{"date_type", &req.dateType, false},
		{"order_status", &req.orderStatus, false},
	} {
		n, ok, err := num(f.key)
		if err != nil {
			return nil, err
		}
		if !ok {
			if f.required {
				return nil, sandboxBizError(f.key + "不能为空 (" + f.key + " is required)")
			}
			continue
		}
		*f.dst = n
	}
	if req.start, err = wall("start_time"); err != nil {
		return nil, err
	}
	if req.end, err = wall("end_time"); err != nil {
		return nil, err
	}
	switch {
	case req.end.Before(req.start):
		return nil, sandboxBizError("结束时间不能早于开始时间 (end_time must not be before start_time)")
	case req.pageSize < 1 || req.pageSize > api.MaxPageSize:
		return nil, sandboxBizError("page_size取值为1到20 (page_size must be between 1 and 20)")
	case req.pageNo < 1:
		return nil, sandboxBizError("page_no从1开始 (page_no starts at 1)")
	case req.dateType != 0 && req.dateType != 1:
		return nil, sandboxBizError("date_type取值为0或1 (date_type must be 0 (pay time) or 1 (confirm-receipt time))")
	}
	if _, ok := sandboxLabels[int(req.orderStatus)]; !ok && req.orderStatus != -1 {
		return nil, sandboxBizError("order_status取值为-1、2、3、4或5 (order_status must be -1, 2, 3, 4 or 5)")
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"item_id", &req.itemID}, {"rid", &req.rid}} {
		n, ok, err := num(f.key)
		if err != nil {
			return nil, err
		}
		if ok {
			*f.dst = strconv.FormatInt(n, 10)
		}
	}
	n, ok, err := num("biz_order_id")
	if err != nil {
		return nil, err
	}
	if ok {
		if n <= 0 {
			return nil, sandboxBizError("biz_order_id格式错误 (biz_order_id must be a positive integer)")
		}
		req.bizOrderID, req.hasBizOrder = uint64(n), true
	}
	if v, ok := m["ad_user_nick"]; ok && v != nil {
		s, isStr := v.(string)
		if !isStr {
			return nil, sandboxBizError("ad_user_nick格式错误 (ad_user_nick must be a string)")
		}
		req.adUserNick, req.hasNick = s, s != ""
	}
	return req, nil
}

// sandboxQuery selects the matching views of book, sorted.
func sandboxQuery(book *sandbox.Book, req *sandboxRequest, now time.Time) []sandbox.View {
	if req.tcpType != TCPType {
		return nil
	}
	q := sandbox.Query{At: now, Field: sandbox.ByPayTime, From: req.start, To: req.end}
	if req.hasBizOrder {
		q.IDs = []uint64{req.bizOrderID}
	}
	startU, endU := req.start.Unix(), req.end.Unix()
	if req.dateType == 1 {
		q.From = req.start.Add(-ReceiptLookback)
	}
	q.Filter = func(v *sandbox.View) bool {
		s := &v.State
		if req.dateType == 1 {
			if s.ReceivedAt.IsZero() {
				return false
			}
			if r := s.ReceivedAt.Unix(); r < startU || r > endU {
				return false
			}
		}
		if req.orderStatus != -1 && int64(sandboxStatusCode(s)) != req.orderStatus {
			return false
		}
		if req.itemID != "" && v.Order.Product.ID != req.itemID {
			return false
		}
		if req.rid != "" && RID(v.Order) != req.rid {
			return false
		}
		if req.hasNick && v.Order.Author.Nickname != req.adUserNick {
			return false
		}
		return true
	}
	views := book.Page(q) // ID descending
	slices.Reverse(views)
	if req.dateType == 1 {
		slices.SortStableFunc(views, func(a, b sandbox.View) int {
			return a.State.ReceivedAt.Compare(b.State.ReceivedAt)
		})
	}
	return views
}

// ServeHTTP answers one router request (see Handler).
func (h *sandboxEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	call, ok := h.env.AdmitMethod(w, r, http.MethodGet, http.MethodPost)
	if !ok {
		return
	}
	w.Header().Set("Date", call.Now.UTC().Format(http.TimeFormat))
	w.Header().Set("Content-Type", contentType)
	fail := func(e *sandboxAPIError) {
		sandbox.WriteJSON(w, http.StatusOK, map[string]sandboxErrorBody{"error_response": {
			Code: e.code, Msg: e.msg, SubCode: e.subCode, SubMsg: e.subMsg, RequestID: call.RequestID,
		}})
	}
	if call.Throttled {
		fail(&sandboxAPIError{7, "App Call Limited", "accesscontrol.limited-by-api-access-count", ThrottleSubMsg})
		return
	}
	if err := r.ParseForm(); err != nil {
		fail(&sandboxAPIError{41, "Invalid Arguments", "isv.invalid-parameter", "请求参数无法解析 (the request parameters could not be parsed)"})
		return
	}
	book, req, err := h.authorize(r, call.Now)
	if err != nil {
		fail(err)
		return
	}
	simplify := strings.EqualFold(r.Form.Get("simplify"), "true")
	respond := func(res sandboxResult) {
		resp := sandboxResponse{Result: res, RequestID: call.RequestID}
		if simplify {
			sandbox.WriteJSON(w, http.StatusOK, resp)
			return
		}
		sandbox.WriteJSON(w, http.StatusOK, map[string]sandboxResponse{api.ResponseKey: resp})
	}
	q, perr := sandboxParseRequest(req)
	if perr != nil {
		respond(sandboxResult{Success: false, MsgCode: "参数错误", MsgInfo: perr.Error()})
		return
	}
	views := sandboxQuery(book, q, call.Now)
	total := int64(len(views))
	var list []sandboxWireOrder
	if q.pageNo-1 < (total+q.pageSize-1)/q.pageSize {
		from := (q.pageNo - 1) * q.pageSize
		to := min(from+q.pageSize, total)
		list = make([]sandboxWireOrder, 0, to-from)
		for i := from; i < to; i++ {
			list = append(list, sandboxRender(&views[i]))
		}
	}
	// The malformed-page fault (sandbox.Faults.MalformedPages): the first
	// order loses its pay time; the envelope and the paging stay valid,
	// yongjin's normalizer must refuse the page.
	if len(list) > 0 && h.env.Malform(call, "query_predict_order_request="+r.Form.Get("query_predict_order_request"), list[0].BizOrderID, MalformedReason) {
		list[0].OrderPaidTime = ""
	}
	model := &sandboxModel{TotalCount: total, PageSize: q.pageSize, PageNo: q.pageNo}
	switch {
	case simplify && list == nil:
		model.Elements = []sandboxWireOrder{}
	case simplify:
		model.Elements = list
	case len(list) > 0:
		model.Elements = sandboxWrappedElements{List: list}
	}
	respond(sandboxResult{Model: model, Success: true})
}

// authorize runs the gateway checks and returns the account's book and the
// decoded struct parameter.
func (h *sandboxEndpoint) authorize(r *http.Request, now time.Time) (*sandbox.Book, map[string]any, *sandboxAPIError) {
	get := r.Form.Get
	if f := get("format"); f != "json" {
		return nil, nil, &sandboxAPIError{23, "Invalid Format", "", "the sandbox only speaks format=json (got " + strconv.Quote(wire.Clip(f, 20)) + ")"}
	}
	switch m := get("method"); {
	case m == "":
		return nil, nil, &sandboxAPIError{21, "Missing Method", "", ""}
	case m != api.Method:
		return nil, nil, &sandboxAPIError{22, "Invalid Method", "", "不存在的方法名 (unknown method)"}
	}
	appKey := get("app_key")
	if appKey == "" {
		return nil, nil, &sandboxAPIError{28, "Missing App Key", "", ""}
	}
	var book, first *sandbox.Book
	session := get("session")
	for _, b := range h.env.Books() {
		if !b.Account.HasCredential(api.CredAppKey, appKey) {
			continue
		}
		if first == nil {
			first = b
		}
		if book == nil && b.Account.HasCredential(api.CredSession, session) {
			book = b
		}
	}
	if first == nil {
		return nil, nil, &sandboxAPIError{29, "Invalid App Key", "", ""}
	}
	ts := get("timestamp")
	if ts == "" {
		return nil, nil, &sandboxAPIError{30, "Missing Timestamp", "", ""}
	}
	t, err := time.ParseInLocation(sandbox.WallLayout, ts, wire.CST)
	if err != nil {
		return nil, nil, &sandboxAPIError{31, "Invalid Timestamp", "", "时间戳格式应为yyyy-MM-dd HH:mm:ss (timestamp must look like 2006-01-02 15:04:05, GMT+8)"}
	}
	if d := t.Sub(now); d > MaxSkew || d < -MaxSkew {
		return nil, nil, &sandboxAPIError{31, "Invalid Timestamp", "", "时间戳与服务器时间相差超过10分钟 (timestamp differs from the server time by more than 10 minutes)"}
	}
	switch v := get("v"); {
	case v == "":
		return nil, nil, &sandboxAPIError{32, "Missing Version", "", ""}
	case v != api.APIVersion:
		return nil, nil, &sandboxAPIError{33, "Unsupported Version", "", "only v=2.0 is supported"}
	}
	method := get("sign_method")
	switch method {
	case "":
		return nil, nil, sandboxMissing("sign_method")
	case api.SignMD5, api.SignHMAC, api.SignHMACSHA256:
	default:
		return nil, nil, &sandboxAPIError{41, "Invalid Arguments", "isv.invalid-parameter:sign_method", "sign_method取值为md5、hmac或hmac-sha256 (sign_method must be md5, hmac or hmac-sha256)"}
	}
	sent := get("sign")
	if sent == "" {
		return nil, nil, &sandboxAPIError{24, "Missing Signature", "", ""}
	}
	signer := first
	if book != nil {
		signer = book
	}
	params := make(map[string]string, len(r.Form))
	for k, vs := range r.Form {
		if len(vs) > 0 {
			params[k] = vs[0]
		}
	}
	want, err := api.Sign(params, signer.Account.Credentials[api.CredAppSecret], method)
	if err != nil || subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToUpper(sent))) != 1 {
		return nil, nil, &sandboxAPIError{25, "Invalid Signature", "", "签名校验失败 (the signature does not match)"}
	}
	switch {
	case session == "":
		return nil, nil, &sandboxAPIError{26, "Missing Session", "", ""}
	case book == nil:
		return nil, nil, &sandboxAPIError{27, "Invalid Session", "invalid-sessionkey", "SessionKey非法 (the session key is invalid or expired)"}
	}
	raw := get("query_predict_order_request")
	if strings.TrimSpace(raw) == "" {
		return nil, nil, sandboxMissing("query_predict_order_request")
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil || dec.More() {
		return nil, nil, &sandboxAPIError{41, "Invalid Arguments", "isv.invalid-parameter:query_predict_order_request",
			"query_predict_order_request应为JSON对象 (query_predict_order_request must be a JSON object)"}
	}
	return book, m, nil
}

// MalformedReason is what the normalizer says about a page the
// malformed-page fault corrupted (its first order has an empty
// order_paid_time).
const MalformedReason = "missing order_paid_time"
