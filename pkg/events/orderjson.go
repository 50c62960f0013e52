package events

import (
	"encoding/json"
	"reflect"
	"strconv"
	"time"
)

// appendJSON appends o's JSON encoding to dst: the same bytes json.Marshal(o)
// gives (field order, omitempty, HTML-safe strings, times as their
// MarshalJSON writes them), without reflection, for the normalizer's hot
// path (FuzzOrderAppendJSON compares the two).
func (o *Order) appendJSON(dst []byte) ([]byte, error) {
	str := func(key, v string) {
		dst = append(dst, key...)
		dst = appendString(dst, v)
	}
	num := func(key string, v int64) {
		dst = append(dst, key...)
		dst = strconv.AppendInt(dst, v, 10)
	}
	var terr error
	tm := func(key string, t *time.Time, ptr bool) {
		dst = append(dst, key...)
		if t == nil {
			dst = append(dst, "null"...)
			return
		}
		b, err := t.MarshalJSON()
		if err != nil && terr == nil {
			// the error json.Marshal returns, naming the field's type
			typ := reflect.TypeFor[time.Time]()
			if ptr {
				typ = reflect.TypeFor[*time.Time]()
			}
			terr = &json.MarshalerError{Type: typ, Err: err}
		}
		dst = append(dst, b...)
	}
	str(`{"platform":`, o.Platform)
	str(`,"account":`, o.Account)
	str(`,"order_id":`, o.OrderID)
	if o.ParentOrderID != "" {
		str(`,"parent_order_id":`, o.ParentOrderID)
	}
	str(`,"product_id":`, o.ProductID)
	str(`,"product_name":`, o.ProductName)
	str(`,"shop_id":`, o.ShopID)
	str(`,"shop_name":`, o.ShopName)
	str(`,"author_id":`, o.AuthorID)
	str(`,"author_name":`, o.AuthorName)
	str(`,"buyer_open_id":`, o.BuyerOpenID)
	str(`,"channel":`, o.Channel)
	num(`,"quantity":`, o.Quantity)
	str(`,"currency":`, o.Currency)
	num(`,"paid_fen":`, o.PaidFen)
	num(`,"estimated_base_fen":`, o.EstimatedBaseFen)
	num(`,"settled_base_fen":`, o.SettledBaseFen)
	num(`,"refunded_fen":`, o.RefundedFen)
	num(`,"estimated_total_commission_fen":`, o.EstimatedTotalCommissionFen)
	str(`,"status":`, string(o.Status))
	str(`,"vendor_status":`, o.VendorStatus)
	tm(`,"paid_at":`, &o.PaidAt, false)
	tm(`,"updated_at":`, &o.UpdatedAt, false)
	tm(`,"received_at":`, o.ReceivedAt, true)
	tm(`,"settled_at":`, o.SettledAt, true)
	tm(`,"refunded_at":`, o.RefundedAt, true)
	num(`,"version":`, o.Version)
	if len(o.CommissionLines) > 0 {
		dst = append(dst, `,"commission_lines":[`...)
		for i, l := range o.CommissionLines {
			if i > 0 {
				dst = append(dst, ',')
			}
			str(`{"role":`, string(l.Role))
			num(`,"rate_bp":`, l.RateBP)
			str(`,"currency":`, l.Currency)
			num(`,"estimated_fen":`, l.EstimatedFen)
			num(`,"settled_fen":`, l.SettledFen)
			num(`,"fee_fen":`, l.FeeFen)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if terr != nil {
		return nil, terr
	}
	return append(dst, '}'), nil
}
