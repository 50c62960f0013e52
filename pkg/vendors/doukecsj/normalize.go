package doukecsj

import (
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// orderPages decodes csj_ordersearch pages and maps their orders (see
// wire.OrderPages): the Spec's normalizer, whole pages, record by record
// and with carried lines.
var orderPages = wire.OrderPages[*Page, Order]{Vendor: Name, List: "data.orders", Decode: DecodePage, Map: MapOrder,
	Orders: func(p *Page) []Order { return p.Orders }}

// Normalize maps one raw csj_ordersearch page to canonical events: for each
// order in vendor order, its order.v1 envelope followed by its two
// commission.v1 envelopes (creator, platform_fee). It is pure. A vendor
// error envelope returns an error wrapping vendors.ErrVendorError; an
// undecodable page, an order MapOrder rejects or a raw page without an
// account label returns an error wrapping vendors.ErrMalformedPage.
func Normalize(p events.RawPage) ([]events.Envelope, error) { return orderPages.Normalize(p) }

// MapOrder maps one wire order of account to its canonical Order and its
// two CommissionLines, creator then platform_fee (zero amounts included).
//
// Order: OrderID order_id, ProductID product_id, ProductName product_name,
// ShopID shop_id (a JSON number or string, kept as its text), ShopName
// shop_name, AuthorID and AuthorName author_account (CSJ gives no creator
// ID), Channel media_type_name, Quantity item_num, PaidFen
// total_pay_amount, EstimatedBaseFen pay_goods_amount, SettledBaseFen
// pay_goods_amount once settled (CSJ reports one base), RefundedFen
// total_pay_amount once refunded (a refund is whole, as on kol_OrderAds),
// EstimatedTotalCommissionFen estimated_commission. Status by flow_point
// (douke.MapStatus); VendorStatus is flow_point verbatim. Times as on
// kol_OrderAds: CST on the wire, UTC here, "" not yet; UpdatedAt is the
// latest of the order's times (wire.RecordVersion), Version its Unix
// milliseconds.
//
// Lines: creator — RateBP split_rate, EstimatedFen estimated_commission,
// SettledFen ads_real_commission; platform_fee — EstimatedFen
// estimated_tech_service_fee, SettledFen 0 (CSJ reports no settled fee).
//
// It returns an error wrapping vendors.ErrMalformedPage when account is
// empty, order_id is missing or not [0-9A-Za-z_-]+, pay_success_time is
// missing, a time does not parse or lies outside [1970, wire.NotAfter(
// fetchedAt)], or a quantity, amount or rate is negative.
func MapOrder(account string, o Order, fetchedAt time.Time) (events.Order, []events.CommissionLine, error) {
	id, bad, err := wire.OrderID(account, "order_id", string(o.OrderID))
	if err != nil {
		return events.Order{}, nil, err
	}
	f := wire.Fields{NotAfter: wire.NotAfter(fetchedAt)}
	t, err := douke.ReadTimes(&f, o.PaySuccessTime, o.UpdateTime, o.ConfirmTime, o.SettleTime, o.RefundTime)
	if err != nil {
		return events.Order{}, nil, bad("%v", err)
	}
	for _, n := range []struct {
		field string
		v     FlexInt
	}{{"item_num", o.ItemNum}, {"total_pay_amount", o.TotalPayAmount}, {"pay_goods_amount", o.PayGoodsAmount}, {"split_rate", o.SplitRate}} {
		f.NonNegative(n.field, int64(n.v))
	}
	if f.Err != nil {
		return events.Order{}, nil, bad("%v", f.Err)
	}
	status := douke.MapStatus(string(o.FlowPoint))
	ord := events.Order{
		Platform: Name, Account: account, OrderID: id,
		ProductID: strings.TrimSpace(string(o.ProductID)), ProductName: string(o.ProductName),
		ShopID: strings.TrimSpace(string(o.ShopID)), ShopName: string(o.ShopName),
		AuthorID: strings.TrimSpace(string(o.AuthorAccount)), AuthorName: string(o.AuthorAccount),
		Channel: string(o.MediaTypeName), Quantity: int64(o.ItemNum), Currency: events.CurrencyCNY,
		PaidFen: int64(o.TotalPayAmount), EstimatedBaseFen: int64(o.PayGoodsAmount),
		EstimatedTotalCommissionFen: int64(o.EstimatedCommission),
		Status:                      status, VendorStatus: string(o.FlowPoint),
		PaidAt: t.Paid, UpdatedAt: t.Updated, ReceivedAt: t.Received, SettledAt: t.Settled, RefundedAt: t.Refunded,
	}
	ord.Version = ord.UpdatedAt.UnixMilli()
	if status == events.StatusSettled {
		ord.SettledBaseFen = int64(o.PayGoodsAmount)
	}
	if status == events.StatusRefunded {
		ord.RefundedFen = ord.PaidFen
	}
	return ord, []events.CommissionLine{
		wire.Line(ord, events.RoleCreator, int64(o.SplitRate), int64(o.EstimatedCommission), int64(o.AdsRealCommission), 0),
		wire.Line(ord, events.RolePlatformFee, 0, int64(o.EstimatedTechServiceFee), 0, 0),
	}, nil
}
