package douke

import (
	"errors"
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// TimeLayout is the layout of every veapi time value (China Standard Time,
// wire.CST).
const TimeLayout = wire.TimeLayout

// Normalize maps one raw kol_OrderAds page to canonical events: for each order
// in vendor order, its order.v1 envelope followed by its four commission.v1
// envelopes (creator, live_channel, shop, platform_fee). It is pure: the same
// page always yields the same envelopes. A vendor error envelope returns an
// error wrapping vendors.ErrVendorError; an undecodable page, an order MapOrder
// rejects or a raw page without an account label returns an error wrapping
// vendors.ErrMalformedPage (naming the order's index and the reason).
func Normalize(p events.RawPage) ([]events.Envelope, error) { return orderPages.Normalize(p) }

// orderPages decodes pages and maps their orders (see wire.OrderPages); it
// is the Spec's normalizer, record by record and with carried lines too.
var orderPages = wire.OrderPages[*Page, Order]{Vendor: Name, List: "data.orders", Decode: DecodePage, Map: MapOrder,
	Orders: func(p *Page) []Order { return p.Orders }}

// MapOrder maps one wire order of account to its canonical Order and its four
// CommissionLines, always in the order creator, live_channel, shop,
// platform_fee (a role the vendor gives no amount for gets a zero line, so a
// line's existence never depends on the order's state).
//
// Rules: flow_point PAY_SUCC/CONFIRM/SETTLE/REFUND → paid/received/settled/
// refunded, anything else → unknown (VendorStatus keeps it verbatim). Times are
// parsed as China Standard Time and stored in UTC; null, "" or
// "0000-00-00 00:00:00" means "not yet" (nil). UpdatedAt is the latest of all
// the order's times, update_time included (see wire.RecordVersion: the
// version never goes backwards whether or not the vendor sent update_time);
// Version is UpdatedAt in Unix milliseconds. AuthorID is author_openid, else
// author_buyin_id, else author_short_id. Rates (×10000) are basis points as
// they are. Money (fen as sent): PaidFen total_pay_amount, EstimatedBaseFen
// pay_goods_amount, SettledBaseFen settled_goods_amount,
// EstimatedTotalCommissionFen estimated_total_commission, RefundedFen
// total_pay_amount once refunded (veapi has no refund amount; a refund is
// whole); the live_channel line's FeeFen is ads_estimated_tech_service_fee
// (docs/EVENTS.md has the table).
//
// It returns an error wrapping vendors.ErrMalformedPage when account is empty,
// order_id is missing or not [0-9A-Za-z_-]+, pay_success_time is missing, a
// time does not parse, lies before 1970 or after wire.NotAfter(fetchedAt)
// (the fetch time plus a day; a zero fetchedAt bounds times by storage
// only), or a quantity, base amount or rate is negative.
func MapOrder(account string, o Order, fetchedAt time.Time) (events.Order, []events.CommissionLine, error) {
	id, bad, err := wire.OrderID(account, "order_id", string(o.OrderID))
	if err != nil {
		return events.Order{}, nil, err
	}

	f := wire.Fields{NotAfter: wire.NotAfter(fetchedAt)}
	t, err := ReadTimes(&f, o.PaySuccessTime, o.UpdateTime, o.ConfirmTime, o.SettleTime, o.RefundTime)
	if err != nil {
		return events.Order{}, nil, bad("%v", err)
	}
	paid, updated, received, settled, refunded := &t.Paid, &t.Updated, t.Received, t.Settled, t.Refunded

	f.NonNegative("item_num", int64(o.ItemNum))
	f.NonNegative("total_pay_amount", int64(o.TotalPayAmount))
	f.NonNegative("pay_goods_amount", int64(o.PayGoodsAmount))
	f.NonNegative("settled_goods_amount", int64(o.SettledGoodsAmount))
	f.NonNegative("commission_rate", int64(o.CommissionRate))
	f.NonNegative("ads_promotion_rate", int64(o.AdsPromotionRate))
	if f.Err != nil {
		return events.Order{}, nil, bad("%v", f.Err)
	}

	status := MapStatus(string(o.FlowPoint))
	version := updated.UnixMilli()
	ord := events.Order{
		Platform:         Name,
		Account:          account,
		OrderID:          id,
		ProductID:        string(o.ProductID),
		ProductName:      string(o.ProductName),
		ShopID:           string(o.ShopID),
		ShopName:         string(o.ShopName),
		AuthorID:         firstNonEmpty(string(o.AuthorOpenID), string(o.AuthorBuyinID), string(o.AuthorShortID)),
		AuthorName:       string(o.AuthorAccount),
		BuyerOpenID:      string(o.BuyerOpenID),
		Channel:          string(o.PIDInfo.MediaTypeName),
		Quantity:         int64(o.ItemNum),
		Currency:         events.CurrencyCNY,
		PaidFen:          int64(o.TotalPayAmount),
		EstimatedBaseFen: int64(o.PayGoodsAmount),
		SettledBaseFen:   int64(o.SettledGoodsAmount),
		// douke reports no refund amount: a refund returns the whole payment
		RefundedFen:                 refundedFen(status, int64(o.TotalPayAmount)),
		EstimatedTotalCommissionFen: int64(o.EstimatedTotalCommission),
		Status:                      status,
		VendorStatus:                string(o.FlowPoint),
		PaidAt:                      *paid,
		UpdatedAt:                   *updated,
		ReceivedAt:                  received,
		SettledAt:                   settled,
		RefundedAt:                  refunded,
		Version:                     version,
	}
	line := func(role events.Role, rate, est, settled, fee FlexInt) events.CommissionLine {
		return wire.Line(ord, role, int64(rate), int64(est), int64(settled), int64(fee))
	}
	lines := []events.CommissionLine{
		line(events.RoleCreator, o.CommissionRate, o.EstimatedCommission, o.RealCommission, 0),
		line(events.RoleLiveChannel, o.AdsPromotionRate, o.AdsEstimatedCommission, o.AdsRealCommission, o.AdsEstimatedTechServiceFee),
		line(events.RoleShop, 0, o.ShopEstimatedCommission, o.ShopRealCommission, 0),
		line(events.RolePlatformFee, 0, o.EstimatedTechServiceFee, o.SettledTechServiceFee, 0),
	}
	return ord, lines, nil
}

// Times are a veapi order's life-cycle times (kol_OrderAds and
// csj_ordersearch send the same five), in UTC: Updated is the order's
// version time, the latest of them all (wire.RecordVersion); the pointers
// are nil until the event happened.
type Times struct {
	Paid, Updated               time.Time
	Received, Settled, Refunded *time.Time
}

// ReadTimes reads pay_success_time (required), update_time, confirm_time,
// settle_time and refund_time with f's rules (CST wall clock; "", null or
// "0000-00-00 00:00:00" is not yet). The error is f's first, naming the
// field, or "missing pay_success_time".
func ReadTimes(f *wire.Fields, pay, update, confirm, settle, refund FlexString) (Times, error) {
	paid := f.Time("pay_success_time", string(pay))
	updated := f.Time("update_time", string(update))
	t := Times{Received: f.Time("confirm_time", string(confirm)), Settled: f.Time("settle_time", string(settle)), Refunded: f.Time("refund_time", string(refund))}
	if f.Err != nil {
		return Times{}, f.Err
	}
	if paid == nil {
		return Times{}, errors.New("missing pay_success_time")
	}
	t.Paid, t.Updated = *paid, wire.RecordVersion(*paid, updated, t.Received, t.Settled, t.Refunded)
	return t, nil
}

// MapStatus maps a veapi flow_point (kol_OrderAds and csj_ordersearch alike)
// to the common life cycle: PAY_SUCC paid, CONFIRM received, SETTLE settled,
// REFUND refunded (case and spaces ignored), anything else unknown.
func MapStatus(flowPoint string) events.Status {
	switch strings.ToUpper(strings.TrimSpace(flowPoint)) {
	case "PAY_SUCC":
		return events.StatusPaid
	case "CONFIRM":
		return events.StatusReceived
	case "SETTLE":
		return events.StatusSettled
	case "REFUND":
		return events.StatusRefunded
	}
	return events.StatusUnknown
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// refundedFen is a douke order's refunded amount: veapi reports no refund
// amount, and a douke refund (flow_point REFUND) returns the whole payment.
func refundedFen(s events.Status, paidFen int64) int64 {
	if s == events.StatusRefunded {
		return paidFen
	}
	return 0
}
