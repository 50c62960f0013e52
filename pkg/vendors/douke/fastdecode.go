package douke

import (
	"slices"
	"strings"

	"github.com/yongjin-dev/yongjin/pkg/internal/jsonscan"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// decodePageFast is DecodePage for the common page, read in one pass
// without reflection (the normalizer's hot path: encoding/json's
// reflection over the order's tolerant fields was most of its CPU). It
// reads the page as encoding/json would and ok is false for anything it
// does not read exactly so: invalid JSON, a vendor error, a repeated or
// case-folded key, an escaped key, an order or scalar of an unusual shape,
// any value the wire types would reject. The caller then decodes with the
// reference path, which gives the same Page (FuzzDecodePageFast compares
// the two) and the precise errors. body has no byte-order mark.
//
// The Page's strings are substrings of one copy of body.
func decodePageFast(body []byte) (page *Page, ok bool) {
	r := pageReader{s: jsonscan.Scanner{B: body, Text: string(body)}}
	p := &Page{Error: "0"}
	if !r.envelope(p, func() bool { return r.data(p) }) {
		return nil, false
	}
	if len(p.Orders) == 0 {
		p.Orders = nil
	}
	return p, true
}

// envelope reads a kol_OrderAds response: its error code, which must be
// "0", msg and request_id into p, and data with readData; every member at
// most once, nothing after the object.
func (r *pageReader) envelope(p *Page, readData func() bool) bool {
	var seen uint8
	var code string
	ok := r.s.Object(func(key []byte) bool {
		var bit uint8
		switch string(key) {
		case "error":
			bit = 1
		case "msg":
			bit = 2
		case "data":
			bit = 4
		case "request_id":
			bit = 8
		default:
			return r.unknown(key, envelopeKeys)
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch bit {
		case 1:
			start, end, ok := r.s.Skip()
			if !ok {
				return false
			}
			c, err := errorCode(r.s.B[start:end])
			code = c
			return err == nil
		case 2:
			return r.flexString((*FlexString)(&p.Msg))
		case 4:
			return readData()
		default:
			return r.flexString((*FlexString)(&p.RequestID))
		}
	})
	return ok && seen&1 != 0 && code == "0" && r.s.End()
}

// Known keys of the small objects, for unknown (an order's are those
// Order.field knows).
var (
	envelopeKeys = []string{"error", "msg", "data", "request_id"}
	dataKeys     = []string{"cursor", "orders"}
	pidKeys      = []string{"pid", "external_info", "media_type_name"}
)

// isOrderKey reports whether name (lower case) is an order field.
func isOrderKey(name string) bool {
	var probe Order
	i, _, _ := probe.field(name)
	return i >= 0
}

// pageReader reads one page.
type pageReader struct{ s jsonscan.Scanner }

// unknown skips the value of a key that names no field, as encoding/json
// ignores it, unless encoding/json would match it to one of known
// case-insensitively (keys reach here as ASCII, so folding is lower-casing).
func (r *pageReader) unknown(key []byte, known []string) bool {
	return r.unknownBy(key, func(name string) bool { return slices.Contains(known, name) })
}

// unknownBy is unknown with the known names given by a lookup.
func (r *pageReader) unknownBy(key []byte, known func(name string) bool) bool {
	if known(strings.ToLower(string(key))) {
		return false
	}
	_, _, ok := r.s.Skip()
	return ok
}

// data reads the data member: null, or an object with cursor and orders.
func (r *pageReader) data(p *Page) bool {
	if r.s.Peek() == 'n' {
		return r.s.Null()
	}
	var seen uint8
	return r.s.Object(func(key []byte) bool {
		switch string(key) {
		case "cursor":
			if seen&1 != 0 {
				return false
			}
			seen |= 1
			return r.flexString((*FlexString)(&p.Cursor))
		case "orders":
			if seen&2 != 0 {
				return false
			}
			seen |= 2
			return r.orders(p)
		}
		return r.unknown(key, dataKeys)
	})
}

// orders reads data.orders: null, or an array of orders (null elements are
// zero Orders).
func (r *pageReader) orders(p *Page) bool {
	if r.s.Peek() == 'n' {
		return r.s.Null()
	}
	p.Orders = make([]Order, 0, 20)
	return r.s.Array(func() bool {
		p.Orders = append(p.Orders, Order{})
		o := &p.Orders[len(p.Orders)-1]
		if r.s.Peek() == 'n' {
			return r.s.Null()
		}
		return r.order(o)
	})
}

// order reads one order object.
func (r *pageReader) order(o *Order) bool {
	var seen uint64
	return r.s.Object(func(key []byte) bool {
		i, str, num := o.field(string(key))
		if i < 0 {
			return r.unknownBy(key, isOrderKey)
		}
		if seen&(1<<i) != 0 {
			return false
		}
		seen |= 1 << i
		switch {
		case str != nil:
			return r.flexString(str)
		case num != nil:
			return r.flexInt(num)
		}
		return r.pidInfo(&o.PIDInfo)
	})
}

// field returns the index of the order field named key (-1 for none) and
// where it goes: a string, an integer, or (both nil) pid_info.
func (o *Order) field(key string) (int, *FlexString, *FlexInt) {
	switch key {
	case "order_id":
		return 0, &o.OrderID, nil
	case "product_id":
		return 1, &o.ProductID, nil
	case "product_name":
		return 2, &o.ProductName, nil
	case "product_img":
		return 3, &o.ProductImg, nil
	case "author_account":
		return 4, &o.AuthorAccount, nil
	case "author_openid":
		return 5, &o.AuthorOpenID, nil
	case "author_short_id":
		return 6, &o.AuthorShortID, nil
	case "author_buyin_id":
		return 7, &o.AuthorBuyinID, nil
	case "shop_name":
		return 8, &o.ShopName, nil
	case "shop_id":
		return 9, &o.ShopID, nil
	case "total_pay_amount":
		return 10, nil, &o.TotalPayAmount
	case "pay_goods_amount":
		return 11, nil, &o.PayGoodsAmount
	case "settled_goods_amount":
		return 12, nil, &o.SettledGoodsAmount
	case "commission_rate":
		return 13, nil, &o.CommissionRate
	case "estimated_commission":
		return 14, nil, &o.EstimatedCommission
	case "real_commission":
		return 15, nil, &o.RealCommission
	case "flow_point":
		return 16, &o.FlowPoint, nil
	case "app":
		return 17, &o.App, nil
	case "buyer_openid":
		return 18, &o.BuyerOpenID, nil
	case "update_time":
		return 19, &o.UpdateTime, nil
	case "pay_success_time":
		return 20, &o.PaySuccessTime, nil
	case "settle_time":
		return 21, &o.SettleTime, nil
	case "confirm_time":
		return 22, &o.ConfirmTime, nil
	case "refund_time":
		return 23, &o.RefundTime, nil
	case "shop_estimated_commission":
		return 24, nil, &o.ShopEstimatedCommission
	case "shop_real_commission":
		return 25, nil, &o.ShopRealCommission
	case "estimated_tech_service_fee":
		return 26, nil, &o.EstimatedTechServiceFee
	case "settled_tech_service_fee":
		return 27, nil, &o.SettledTechServiceFee
	case "pid_info":
		return 28, nil, nil
	case "item_num":
		return 29, nil, &o.ItemNum
	case "estimated_total_commission":
		return 30, nil, &o.EstimatedTotalCommission
	case "pick_source_client_key":
		return 31, &o.PickSourceClientKey, nil
	case "ads_split_rate":
		return 32, nil, &o.AdsSplitRate
	case "ads_estimated_commission":
		return 33, nil, &o.AdsEstimatedCommission
	case "ads_real_commission":
		return 34, nil, &o.AdsRealCommission
	case "ads_promotion_rate":
		return 35, nil, &o.AdsPromotionRate
	case "media_type":
		return 36, &o.MediaType, nil
	case "live_ads_type":
		return 37, &o.LiveAdsType, nil
	case "ads_activity_id":
		return 38, &o.AdsActivityID, nil
	case "ads_estimated_tech_service_fee":
		return 39, nil, &o.AdsEstimatedTechServiceFee
	case "product_activity_id":
		return 40, &o.ProductActivityID, nil
	case "ads_fans_type":
		return 41, &o.AdsFansType, nil
	case "material_id":
		return 42, &o.MaterialID, nil
	}
	return -1, nil, nil
}

// pidInfo reads pid_info: an object of plain members is read here; any
// other shape (a string holding an object, null, an empty value) goes to
// PIDInfo's own decoding.
func (r *pageReader) pidInfo(p *PIDInfo) bool {
	if r.s.Peek() != '{' {
		start, end, ok := r.s.Skip()
		return ok && p.UnmarshalJSON(r.s.B[start:end]) == nil
	}
	var seen uint8
	return r.s.Object(func(key []byte) bool {
		var dst *FlexString
		var bit uint8
		switch string(key) {
		case "pid":
			dst, bit = &p.PID, 1
		case "external_info":
			dst, bit = &p.ExternalInfo, 2
		case "media_type_name":
			dst, bit = &p.MediaTypeName, 4
		default:
			return r.unknown(key, pidKeys)
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		return r.flexString(dst)
	})
}

// flexString reads a FlexString value: a plain string (as a substring of
// the page) or a number literal here, anything else through
// FlexString.UnmarshalJSON.
func (r *pageReader) flexString(dst *FlexString) bool {
	switch c := r.s.Peek(); {
	case c == '"':
		start, end, plain, _, ok := r.s.String()
		if !ok {
			return false
		}
		if plain {
			*dst = FlexString(r.s.Substring(start+1, end-1))
			return true
		}
		return dst.UnmarshalJSON(r.s.B[start:end]) == nil
	case c == '-' || (c >= '0' && c <= '9'):
		start, end, _, ok := r.s.Number()
		if ok {
			*dst = FlexString(r.s.Substring(start, end))
		}
		return ok
	}
	start, end, ok := r.s.Skip()
	return ok && dst.UnmarshalJSON(r.s.B[start:end]) == nil
}

// flexInt reads a FlexInt value: an integer literal here, anything else
// through FlexInt.UnmarshalJSON.
func (r *pageReader) flexInt(dst *FlexInt) bool {
	if c := r.s.Peek(); c == '-' || (c >= '0' && c <= '9') {
		start, end, integer, ok := r.s.Number()
		if !ok {
			return false
		}
		if integer {
			n, ok := jsonscan.ParseInt(r.s.B[start:end])
			*dst = FlexInt(n)
			return ok
		}
		return dst.UnmarshalJSON(r.s.B[start:end]) == nil
	}
	start, end, ok := r.s.Skip()
	return ok && dst.UnmarshalJSON(r.s.B[start:end]) == nil
}

// decodePagingFast is DecodePaging for the common answer, read in one pass
// without reflection (the poller's hot path): the envelope, data.cursor and
// the span of data.orders, validated but not decoded. ok is false wherever
// it might differ from the reference (as for decodePageFast, and for a
// vendor error), and the caller then runs the reference, which gives the
// same page and list (FuzzDecodePagingFast) or the precise error. orders
// is a slice of body and n the number of its elements. body has no
// byte-order mark.
func decodePagingFast(body []byte) (page *Page, orders []byte, n int, ok bool) {
	// No Text: the few strings are copied, so a kept cursor does not keep
	// the whole body alive (the poller keeps cursors).
	r := pageReader{s: jsonscan.Scanner{B: body}}
	p := &Page{Error: "0"}
	ok = r.envelope(p, func() bool {
		if r.s.Peek() != '{' {
			start, end, ok := r.s.Skip()
			return ok && wire.IsEmpty(body[start:end])
		}
		return r.pagingData(p, &orders, &n)
	})
	if !ok {
		return nil, nil, 0, false
	}
	return p, orders, n, true
}

// pagingData reads the data object for decodePagingFast: the cursor, and
// data.orders as a span (nil when it is empty, null or absent) with the
// number of its elements.
func (r *pageReader) pagingData(p *Page, list *[]byte, n *int) bool {
	var seen uint8
	return r.s.Object(func(key []byte) bool {
		switch string(key) {
		case "cursor":
			if seen&1 != 0 {
				return false
			}
			seen |= 1
			return r.flexString((*FlexString)(&p.Cursor))
		case "orders":
			if seen&2 != 0 {
				return false
			}
			seen |= 2
			*list, *n = nil, 0
			if r.s.Peek() == '[' {
				start, count := r.s.I, 0
				if !r.s.Array(func() bool { count++; _, _, ok := r.s.Skip(); return ok }) {
					return false
				}
				if count > 0 {
					*list, *n = r.s.B[start:r.s.I], count
				}
				return true
			}
			start, end, ok := r.s.Skip()
			return ok && wire.IsEmpty(r.s.B[start:end])
		}
		return r.unknown(key, dataKeys)
	})
}
