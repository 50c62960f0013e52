package taobaolive

import (
	"fmt"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// The Flex types are the vendor's own named types over the shared wire types
// (rather than aliases) so that the package's API and the decoder's error
// texts, which name Go types, stay what they were.

// FlexInt is TOP's integer wire scalar with the wire.LaxInt rules: it decodes
// from null, "", [] or {} (all 0), a JSON integer or a string holding one,
// exactly (never via float64).
type FlexInt wire.LaxInt

// UnmarshalJSON implements the wire.LaxInt decoding rules.
func (v *FlexInt) UnmarshalJSON(b []byte) error { return (*wire.LaxInt)(v).UnmarshalJSON(b) }

// FlexString is TOP's text wire scalar with the wire.LaxString rules: it
// decodes from null, "", [] or {} (all ""), a JSON string (verbatim), a number
// (its literal text exactly, so 19-digit IDs sent as bare numbers survive) or a
// boolean.
type FlexString wire.LaxString

// UnmarshalJSON implements the wire.LaxString decoding rules.
func (v *FlexString) UnmarshalJSON(b []byte) error { return (*wire.LaxString)(v).UnmarshalJSON(b) }

// Yuan is a money amount that TOP sends as a decimal yuan string ("100",
// "12.5", "0.07"), held as integer fen. It decodes from null, "", "-" (all 0),
// a JSON number or a string holding a plain decimal number with an optional
// leading sign and at most two significant decimals ("12.500" is 1250 fen; a
// third non-zero decimal cannot be represented in fen and is a decode error,
// as are exponents, grouping separators and other text). Parsing is exact
// (never via float64). It encodes as a JSON string with two decimals.
type Yuan int64

// Percent is a rate that TOP sends as a percentage string ("10%", "10.5%"),
// held in basis points (10% = 1000). It decodes from null, "", "-" (all 0), a
// JSON number or a string of a non-negative decimal with at most two
// significant decimals, optionally followed by "%" (a bare number is read as
// a percentage too). It encodes as a JSON string such as "10.5%".
type Percent int64

// ExtendInfo is the extend_info field: a JSON object sent as a string, e.g.
// `{ "outerPartnerDivRatio": 200, "outerAdUserDivRatio": 1000 }`
// (outerAdUserDivRatio: the service provider's share in the plan,
// outerPartnerDivRatio: the live-streamer's share; TOP does not document the
// units). It never fails to decode: text that is not a JSON object, and
// ratios that are not non-negative integers, are kept in Raw but not parsed.
type ExtendInfo struct {
	// Raw is the field as sent (a string verbatim, an object as its JSON text).
	Raw string
	// Parsed reports whether Raw is a JSON object.
	Parsed bool
	// OuterPartnerDivRatio is outerPartnerDivRatio when HasOuterPartnerDivRatio.
	OuterPartnerDivRatio    int64
	HasOuterPartnerDivRatio bool
	// OuterAdUserDivRatio is outerAdUserDivRatio when HasOuterAdUserDivRatio.
	OuterAdUserDivRatio    int64
	HasOuterAdUserDivRatio bool
}

// Order is one TcpPredictOrderVO element of result.model.elements, with every
// field of the documented response table. Missing fields decode to their
// zero value. Money fields are Yuan (fen), partner_predict_amount is a
// Percent (basis points), times are "2006-01-02 15:04:05" China Standard Time
// or empty. IDs (biz_order_id, parent_order_id, item_id, rid) are FlexString
// so that any width survives exactly, whether sent as strings or numbers.
type Order struct {
	BizOrderID            FlexString `json:"biz_order_id"`            // child order ID (the dedup key)
	ItemID                FlexString `json:"item_id"`                 // item ID (documented Number)
	ItemTitle             FlexString `json:"item_title"`              // item title
	OrderStatus           FlexString `json:"order_status"`            // status: a code ("2") or a label ("订单已支付", "已结束")
	OrderPaidTime         FlexString `json:"order_paid_time"`         // pay time
	OrderAmount           Yuan       `json:"order_amount"`            // order amount
	OrderCommissionAmount Yuan       `json:"order_commission_amount"` // commission base
	PredictAmount         Yuan       `json:"predict_amount"`          // predicted actual commission income
	Remark                FlexString `json:"remark"`                  // remark
	RefundAmount          Yuan       `json:"refund_amount"`           // refund amount
	PredictTotalAmount    Yuan       `json:"predict_total_amount"`    // predicted total income
	OutAdUserFee          Yuan       `json:"out_ad_user_fee"`         // outside service provider's share
	OutAdUserType         FlexString `json:"out_ad_user_type"`        // outside service provider type
	RID                   FlexString `json:"rid"`                     // outside promoter ID
	ParentOrderID         FlexString `json:"parent_order_id"`         // parent order ID
	OutAdUserRatio        FlexString `json:"out_ad_user_ratio"`       // "不展示,请忽略" (not shown, ignore)
	SellerCommissionRatio FlexString `json:"seller_commission_ratio"` // "不展示,请忽略" (not shown, ignore)
	EndTime               FlexString `json:"end_time"`                // receipt time (status 3, 5) or in-sale refund time (status 4)
	Picture               FlexString `json:"picture"`                 // item picture URL
	RefundEndTime         FlexString `json:"refund_end_time"`         // after-sale refund time (status 5 only)
	PartnerPredictAmount  Percent    `json:"partner_predict_amount"`  // live-streamer's share, "10%"
	ModifyTime            FlexString `json:"modify_time"`             // last modification time (the version)
	ExtendInfo            ExtendInfo `json:"extend_info"`             // JSON string with the division ratios
	AdUserNick            FlexString `json:"ad_user_nick"`            // creator nickname
	BuyAmount             FlexInt    `json:"buy_amount"`              // quantity
}

// Shape names the response layouts DecodePage accepts.
type Shape string

// The response shapes.
const (
	// ShapeWrapped is the documented layout: the <method>_response wrapper
	// and elements wrapped as {"tcp_predict_order_v_o": [...]}.
	ShapeWrapped Shape = "wrapped"
	// ShapeSimplified is the layout without the _response wrapper
	// ({"result": ..., "request_id": ...}, or the result object itself).
	ShapeSimplified Shape = "simplified"
)

// Page is one decoded querypredictorderlist response that reported success.
type Page struct {
	// Shape is the layout the body used.
	Shape Shape
	// RequestID is TOP's request_id ("" when absent).
	RequestID string
	// MsgCode and MsgInfo are result.msg_code and result.msg_info verbatim
	// (TOP may fill them even on success, as its sample does).
	MsgCode string
	MsgInfo string
	// TotalCount is model.total_count; HasTotalCount is false when it was
	// absent, null or "".
	TotalCount    int64
	HasTotalCount bool
	// PageSize and PageNo are model.page_size and model.page_no (0 if absent).
	PageSize int64
	PageNo   int64
	// Orders are the elements in vendor order (nil when there are none).
	Orders []Order
}

// APIError is TOP's platform error envelope:
//
//	{"error_response":{"code":15,"msg":"Remote service error","sub_code":"isv.invalid-parameter","sub_msg":"非法参数","request_id":"…"}}
//
// It unwraps to vendors.ErrVendorError.
type APIError struct {
	// Code is the platform code as text (e.g. "27").
	Code string
	// Msg is the platform message, e.g. "Invalid session".
	Msg string
	// SubCode is the detailed code, e.g. "isv.invalid-parameter".
	SubCode string
	// SubMsg is the detailed message.
	SubMsg string
	// RequestID is TOP's request_id, if any.
	RequestID string
}

// Error reports code, msg, sub_code and sub_msg (clipped).
func (e *APIError) Error() string {
	s := fmt.Sprintf("%v: code %s (%s)", vendors.ErrVendorError, e.Code, wire.Clip(e.Msg, 120))
	if e.SubCode != "" || e.SubMsg != "" {
		s += fmt.Sprintf(" sub_code %q: %s", wire.Clip(e.SubCode, 120), wire.Clip(e.SubMsg, 300))
	}
	return s
}

// Unwrap makes errors.Is(err, vendors.ErrVendorError) true.
func (e *APIError) Unwrap() error { return vendors.ErrVendorError }

// BusinessError is a response whose result says success=false (or that has
// no model and an error message): the call reached the service, which
// refused it. It unwraps to vendors.ErrVendorError.
type BusinessError struct {
	// MsgCode and MsgInfo are result.msg_code and result.msg_info verbatim.
	MsgCode string
	MsgInfo string
	// RequestID is TOP's request_id, if any.
	RequestID string
}

// Error reports msg_code and msg_info (clipped).
func (e *BusinessError) Error() string {
	return fmt.Sprintf("%v: result.success=false msg_code %q: %s", vendors.ErrVendorError, wire.Clip(e.MsgCode, 120), wire.Clip(e.MsgInfo, 300))
}

// Unwrap makes errors.Is(err, vendors.ErrVendorError) true.
func (e *BusinessError) Unwrap() error { return vendors.ErrVendorError }
