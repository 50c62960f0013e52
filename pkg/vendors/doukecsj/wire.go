package doukecsj

import (
	"bytes"
	"fmt"

	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// FlexInt and FlexString are veapi's tolerant scalars (douke.FlexInt,
// douke.FlexString): shop_id arrives as a JSON number here and as a string
// elsewhere, and both decode.
type (
	FlexInt    = douke.FlexInt
	FlexString = douke.FlexString
)

// ColonelOrderInfo is the wire colonel_order_info object: the 团长 (colonel)
// activity of an order, zeros when none. null, "", [] and {} decode to the
// zero value.
type ColonelOrderInfo struct {
	ActivityID      FlexString `json:"activity_id"`
	InstitutionID   FlexString `json:"institution_id"`
	InstitutionName FlexString `json:"institution_name"`
}

// UnmarshalJSON decodes colonel_order_info from an object or an empty value.
func (c *ColonelOrderInfo) UnmarshalJSON(b []byte) error {
	type plain ColonelOrderInfo
	var q plain
	var err error
	if !wire.IsEmpty(bytes.TrimSpace(b)) {
		if q, err = wire.DecodeObject[plain](b); err != nil {
			return fmt.Errorf("colonel_order_info: %v", err)
		}
	}
	*c = ColonelOrderInfo(q)
	return nil
}

// Order is one element of data.orders (fields as the CSJ order search
// sends them). Amounts are integer fen, split_rate the rate ×10000, times
// "2006-01-02 15:04:05" CST or "" until the event happened.
type Order struct {
	OrderID                 FlexString       `json:"order_id"`
	ProductID               FlexString       `json:"product_id"`
	ProductName             FlexString       `json:"product_name"`
	ProductImg              FlexString       `json:"product_img"`
	AuthorAccount           FlexString       `json:"author_account"`
	AdsAttribution          FlexString       `json:"ads_attribution"`
	TotalPayAmount          FlexInt          `json:"total_pay_amount"`
	PayGoodsAmount          FlexInt          `json:"pay_goods_amount"`
	EstimatedCommission     FlexInt          `json:"estimated_commission"`
	AdsRealCommission       FlexInt          `json:"ads_real_commission"`
	EstimatedTechServiceFee FlexInt          `json:"estimated_tech_service_fee"`
	SplitRate               FlexInt          `json:"split_rate"`
	FlowPoint               FlexString       `json:"flow_point"`
	AfterSalesStatus        FlexString       `json:"after_sales_status"`
	PaySuccessTime          FlexString       `json:"pay_success_time"`
	RefundTime              FlexString       `json:"refund_time"`
	ConfirmTime             FlexString       `json:"confirm_time"`
	SettleTime              FlexString       `json:"settle_time"`
	UpdateTime              FlexString       `json:"update_time"`
	ExternalInfo            FlexString       `json:"external_info"`
	MediaTypeName           FlexString       `json:"media_type_name"`
	ShopID                  FlexString       `json:"shop_id"`
	ShopName                FlexString       `json:"shop_name"`
	ItemNum                 FlexInt          `json:"item_num"`
	MaterialID              FlexString       `json:"material_id"`
	ColonelOrderInfo        ColonelOrderInfo `json:"colonel_order_info"`
}

// Page is one decoded csj_ordersearch answer that reported success.
type Page struct {
	// Msg and RequestID are the envelope's.
	Msg, RequestID string
	// Cursor is data.cursor: the next page's cursor, "" after the last page.
	Cursor string
	// Orders are data.orders in vendor order.
	Orders []Order
}
