package douke

import (
	"fmt"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// The Flex types are the vendor's own named types over the shared wire types
// (rather than aliases) so that the package's API and the decoder's error
// texts, which name Go types, stay what they were.

// FlexInt is veapi's integer wire scalar with the wire.LaxInt rules: it decodes
// from null, "", [] or {} (all 0, the last two how PHP encodes an empty value),
// a JSON integer or a string holding one, exactly (never via float64).
type FlexInt wire.LaxInt

// UnmarshalJSON implements the wire.LaxInt decoding rules.
func (v *FlexInt) UnmarshalJSON(b []byte) error { return (*wire.LaxInt)(v).UnmarshalJSON(b) }

// FlexString is veapi's text wire scalar with the wire.LaxString rules: it
// decodes from null, "", [] or {} (all ""), a JSON string (verbatim), a number
// (its literal text exactly, so 19-digit IDs sent as bare numbers survive) or a
// boolean.
type FlexString wire.LaxString

// UnmarshalJSON implements the wire.LaxString decoding rules.
func (v *FlexString) UnmarshalJSON(b []byte) error { return (*wire.LaxString)(v).UnmarshalJSON(b) }

// PIDInfo is the wire pid_info struct: the distribution parameters of an order.
// null, "", [] and {} all decode to the zero PIDInfo.
type PIDInfo struct {
	// PID is the promotion ID, e.g. "dy_1234_33_455".
	PID FlexString `json:"pid"`
	// ExternalInfo is the caller's external parameter.
	ExternalInfo FlexString `json:"external_info"`
	// MediaTypeName is the distribution type: Live, ProductDetail, Activity or Mix.
	MediaTypeName FlexString `json:"media_type_name"`
}

// Order is one element of data.orders as veapi documents it (every field of
// the response table plus material_id, which the sample carries). Missing
// fields decode to their zero value. Amounts are integer fen; rates are the
// real rate ×10000; times are "2006-01-02 15:04:05" China Standard Time or
// empty/null until the event happened. ID-like fields are FlexString even where
// the document says Int64 (shop_id, ads_activity_id) so that any width
// survives exactly.
type Order struct {
	OrderID       FlexString `json:"order_id"`        // order ID (dedup key; may exceed 2^53)
	ProductID     FlexString `json:"product_id"`      // product ID
	ProductName   FlexString `json:"product_name"`    // product name
	ProductImg    FlexString `json:"product_img"`     // product image URL
	AuthorAccount FlexString `json:"author_account"`  // author's nickname (Douyin/Huoshan)
	AuthorOpenID  FlexString `json:"author_openid"`   // author's Doudian open_id
	AuthorShortID FlexString `json:"author_short_id"` // author's Douyin ID
	AuthorBuyinID FlexString `json:"author_buyin_id"` // author's Buyin ID
	ShopName      FlexString `json:"shop_name"`       // shop name
	ShopID        FlexString `json:"shop_id"`         // shop ID (documented Int64, kept as text)

	TotalPayAmount      FlexInt `json:"total_pay_amount"`     // amount paid, fen
	PayGoodsAmount      FlexInt `json:"pay_goods_amount"`     // estimated commission base, fen
	SettledGoodsAmount  FlexInt `json:"settled_goods_amount"` // settled commission base, fen
	CommissionRate      FlexInt `json:"commission_rate"`      // creator rate ×10000 (= basis points)
	EstimatedCommission FlexInt `json:"estimated_commission"` // creator's estimated commission, fen
	RealCommission      FlexInt `json:"real_commission"`      // creator's settled commission, fen

	FlowPoint   FlexString `json:"flow_point"`   // status: PAY_SUCC, CONFIRM, SETTLE or REFUND
	App         FlexString `json:"app"`          // app name (抖音, 火山)
	BuyerOpenID FlexString `json:"buyer_openid"` // buyer's Doudian open_id

	UpdateTime     FlexString `json:"update_time"`      // alliance-side update time (the version)
	PaySuccessTime FlexString `json:"pay_success_time"` // payment time
	SettleTime     FlexString `json:"settle_time"`      // settlement time, empty before settlement
	ConfirmTime    FlexString `json:"confirm_time"`     // receipt-confirmed time, empty before
	RefundTime     FlexString `json:"refund_time"`      // refund time, empty unless refunded

	ShopEstimatedCommission FlexInt `json:"shop_estimated_commission"`  // shop's estimated commission expense, fen
	ShopRealCommission      FlexInt `json:"shop_real_commission"`       // shop's settled commission expense, fen
	EstimatedTechServiceFee FlexInt `json:"estimated_tech_service_fee"` // estimated platform tech-service fee, fen
	SettledTechServiceFee   FlexInt `json:"settled_tech_service_fee"`   // settled platform tech-service fee, fen

	PIDInfo PIDInfo `json:"pid_info"` // distribution parameters
	ItemNum FlexInt `json:"item_num"` // quantity

	EstimatedTotalCommission   FlexInt    `json:"estimated_total_commission"`     // estimated total commission, fen
	PickSourceClientKey        FlexString `json:"pick_source_client_key"`         // deprecated (废弃) by veapi
	AdsSplitRate               FlexInt    `json:"ads_split_rate"`                 // split ratio given to the live-room channel
	AdsEstimatedCommission     FlexInt    `json:"ads_estimated_commission"`       // live-room channel's (or activity) estimated income, fen
	AdsRealCommission          FlexInt    `json:"ads_real_commission"`            // live-room channel's (or activity) settled income, fen
	AdsPromotionRate           FlexInt    `json:"ads_promotion_rate"`             // live-room channel promotion rate ×10000
	MediaType                  FlexString `json:"media_type"`                     // content type: shop_list, video, live, others
	LiveAdsType                FlexString `json:"live_ads_type"`                  // live-room distribution mode: Self or Purchase
	AdsActivityID              FlexString `json:"ads_activity_id"`                // activity ID (documented Int64, kept as text)
	AdsEstimatedTechServiceFee FlexInt    `json:"ads_estimated_tech_service_fee"` // promotion tech-service fee, fen (documented String, sent as a number)
	ProductActivityID          FlexString `json:"product_activity_id"`            // product activity ID (0 = none)
	AdsFansType                FlexString `json:"ads_fans_type"`                  // live-room distribution: new or old fan
	MaterialID                 FlexString `json:"material_id"`                    // material ID (in the sample, not in the table)
}

// Page is one decoded kol_OrderAds response that reported success.
type Page struct {
	// Error is the envelope's error code: always "0" on a decoded Page.
	Error string
	// Msg is the envelope's message, e.g. "查询成功!".
	Msg string
	// RequestID is veapi's request ID.
	RequestID string
	// Cursor is data.cursor: the cursor to send for the next page.
	Cursor string
	// Orders are data.orders in vendor order (nil when there are none).
	Orders []Order
}

// APIError is a veapi error envelope: a response whose error code is not "0".
// It unwraps to vendors.ErrVendorError.
type APIError struct {
	// Code is the envelope's error value as text (e.g. "10001").
	Code string
	// Msg is the envelope's msg, verbatim.
	Msg string
	// RequestID is veapi's request_id, if any.
	RequestID string
}

// Error reports the vendor code and message (clipped to 300 bytes).
func (e *APIError) Error() string {
	return fmt.Sprintf("%v: error %q: %s", vendors.ErrVendorError, e.Code, wire.Clip(e.Msg, 300))
}

// Unwrap makes errors.Is(err, vendors.ErrVendorError) true.
func (e *APIError) Unwrap() error { return vendors.ErrVendorError }
