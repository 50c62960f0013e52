package taobaolive

import (
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// TimeLayout is the layout of every TOP time value (China Standard Time,
// wire.CST).
const TimeLayout = wire.TimeLayout

// Channel is the canonical Order.Channel of every order: the endpoint only
// reports Taobao Live orders.
const Channel = "live"

// The TOP order_status codes (request enum; the response sends the code or a label).
const (
	statusNone        = 0
	statusPaid        = 2 // PAID_DONE 订单已支付
	statusReceived    = 3 // FINISH_SETTLE 订单已确认收货 (receipt confirmed, despite the name)
	statusRefundClose = 4 // REFUND_CLOSE 订单售中退款关闭 (closed by an in-sale refund)
	statusRefunded    = 5 // CANCEL 订单有退款 (has an after-sale refund, despite the name)
)

// statusCodes maps every known order_status spelling to its code: the
// numeric code, the documented label, the label without "订单", the enum
// name, and "已结束" ("finished", the response sample's value), read as
// receipt confirmed.
var statusCodes = map[string]int{
	"2": statusPaid, "订单已支付": statusPaid, "已支付": statusPaid, "PAID_DONE": statusPaid,
	"3": statusReceived, "订单已确认收货": statusReceived, "已确认收货": statusReceived, "FINISH_SETTLE": statusReceived, "已结束": statusReceived,
	"4": statusRefundClose, "订单售中退款关闭": statusRefundClose, "售中退款关闭": statusRefundClose, "REFUND_CLOSE": statusRefundClose,
	"5": statusRefunded, "订单有退款": statusRefunded, "有退款": statusRefunded, "CANCEL": statusRefunded,
}

var commonStatus = map[int]events.Status{
	statusPaid:        events.StatusPaid,
	statusReceived:    events.StatusReceived,
	statusRefundClose: events.StatusCancelled,
	statusRefunded:    events.StatusRefunded,
}

// statusCode returns the TOP code of an order_status value (0 if unknown).
func statusCode(v string) int { return statusCodes[strings.TrimSpace(v)] }

// MapStatus maps a response order_status (code or label) to the common life
// cycle: 2/订单已支付 → paid, 3/订单已确认收货/已结束 → received,
// 4/订单售中退款关闭 → cancelled, 5/订单有退款 → refunded, anything else →
// unknown. TOP reports no settlement, so "settled" never occurs.
func MapStatus(v string) events.Status {
	if s, ok := commonStatus[statusCode(v)]; ok {
		return s
	}
	return events.StatusUnknown
}

// Normalize maps one raw querypredictorderlist page to canonical events: for
// each order in vendor order, its order.v1 envelope followed by its two
// commission.v1 envelopes (creator, service_provider). It is pure: the same
// page always yields the same envelopes. A vendor error (error_response or
// result.success=false) returns an error wrapping vendors.ErrVendorError; an
// undecodable page, an order MapOrder rejects or a raw page without an
// account label returns an error wrapping vendors.ErrMalformedPage (naming
// the element's index and the reason).
func Normalize(p events.RawPage) ([]events.Envelope, error) { return orderPages.Normalize(p) }

// orderPages decodes pages and maps their orders (see wire.OrderPages); it
// is the Spec's normalizer, record by record and with carried lines too.
var orderPages = wire.OrderPages[*Page, Order]{Vendor: Name, List: "elements", Decode: DecodePage, Map: MapOrder,
	Orders: func(p *Page) []Order { return p.Orders }}

// MapOrder maps one wire order of account to its canonical Order and its two
// CommissionLines, always creator then service_provider (zero amounts
// included, so a line's existence never depends on the order's state).
//
// Order: OrderID biz_order_id, ParentOrderID parent_order_id, ProductID
// item_id, ProductName item_title, AuthorID and AuthorName ad_user_nick (TOP
// gives no creator ID), ShopID/ShopName/BuyerOpenID empty, Channel "live",
// Quantity buy_amount, PaidFen order_amount, EstimatedBaseFen
// order_commission_amount, SettledBaseFen 0 (TOP reports no settlement),
// RefundedFen refund_amount (partial refunds included),
// EstimatedTotalCommissionFen predict_total_amount.
// Status: see MapStatus; VendorStatus is order_status verbatim. Times are
// parsed as China Standard Time and stored in UTC; null, "" or
// "0000-00-00 00:00:00" means "not yet": PaidAt order_paid_time; ReceivedAt
// end_time for status 3 (and 已结束) and 5; RefundedAt end_time for status 4,
// refund_end_time for status 5; SettledAt nil. UpdatedAt is the latest of
// modify_time, order_paid_time, end_time and refund_end_time (see
// wire.RecordVersion: the version never goes backwards whether or not TOP
// sent modify_time); Version is UpdatedAt in Unix milliseconds.
//
// Lines: creator RateBP partner_predict_amount (basis points), EstimatedFen
// predict_amount; service_provider RateBP extend_info.outerAdUserDivRatio
// (0 when absent or extend_info is not JSON), EstimatedFen out_ad_user_fee.
// SettledFen is 0 on both: TOP reports predicted commission only.
//
// It returns an error wrapping vendors.ErrMalformedPage when account is
// empty, biz_order_id is missing or not [0-9A-Za-z_-]+, order_paid_time is
// missing, a time does not parse, lies before 1970 or after
// wire.NotAfter(fetchedAt) (the fetch time plus a day; a zero fetchedAt
// bounds times by storage only), or buy_amount, order_amount,
// order_commission_amount or refund_amount is negative.
func MapOrder(account string, o Order, fetchedAt time.Time) (events.Order, []events.CommissionLine, error) {
	id, bad, err := wire.OrderID(account, "biz_order_id", string(o.BizOrderID))
	if err != nil {
		return events.Order{}, nil, err
	}
	f := wire.Fields{NotAfter: wire.NotAfter(fetchedAt)}
	paid := f.Time("order_paid_time", string(o.OrderPaidTime))
	updated := f.Time("modify_time", string(o.ModifyTime))
	end := f.Time("end_time", string(o.EndTime))
	refundEnd := f.Time("refund_end_time", string(o.RefundEndTime))
	if f.Err != nil {
		return events.Order{}, nil, bad("%v", f.Err)
	}
	if paid == nil {
		return events.Order{}, nil, bad("missing order_paid_time")
	}
	latest := wire.RecordVersion(*paid, updated, end, refundEnd)
	updated = &latest
	f.NonNegative("buy_amount", int64(o.BuyAmount))
	f.NonNegative("order_amount", int64(o.OrderAmount))
	f.NonNegative("order_commission_amount", int64(o.OrderCommissionAmount))
	f.NonNegative("refund_amount", int64(o.RefundAmount))
	if f.Err != nil {
		return events.Order{}, nil, bad("%v", f.Err)
	}

	code := statusCode(string(o.OrderStatus))
	status := MapStatus(string(o.OrderStatus))
	var received, refunded *time.Time
	switch code {
	case statusReceived:
		received = end
	case statusRefundClose:
		refunded = end
	case statusRefunded:
		received, refunded = end, refundEnd
	}
	version := updated.UnixMilli()
	ord := events.Order{
		Platform:                    Name,
		Account:                     account,
		OrderID:                     id,
		ParentOrderID:               strings.TrimSpace(string(o.ParentOrderID)),
		ProductID:                   strings.TrimSpace(string(o.ItemID)),
		ProductName:                 string(o.ItemTitle),
		AuthorID:                    strings.TrimSpace(string(o.AdUserNick)),
		AuthorName:                  string(o.AdUserNick),
		Channel:                     Channel,
		Quantity:                    int64(o.BuyAmount),
		Currency:                    events.CurrencyCNY,
		PaidFen:                     int64(o.OrderAmount),
		EstimatedBaseFen:            int64(o.OrderCommissionAmount),
		RefundedFen:                 int64(o.RefundAmount),
		EstimatedTotalCommissionFen: int64(o.PredictTotalAmount),
		Status:                      status,
		VendorStatus:                string(o.OrderStatus),
		PaidAt:                      *paid,
		UpdatedAt:                   *updated,
		ReceivedAt:                  received,
		RefundedAt:                  refunded,
		Version:                     version,
	}
	line := func(role events.Role, rate, est int64) events.CommissionLine {
		return wire.Line(ord, role, rate, est, 0, 0)
	}
	var spRate int64
	if o.ExtendInfo.HasOuterAdUserDivRatio {
		spRate = o.ExtendInfo.OuterAdUserDivRatio
	}
	lines := []events.CommissionLine{
		line(events.RoleCreator, int64(o.PartnerPredictAmount), int64(o.PredictAmount)),
		line(events.RoleServiceProvider, spRate, int64(o.OutAdUserFee)),
	}
	return ord, lines, nil
}
