package events

import (
	"time"

	"github.com/yongjin-dev/yongjin/pkg/internal/jsonscan"
)

// decodeOrderFast decodes an order.v1 message body (envelope and Order)
// without reflection, for the sink's hot path. It reads a strict subset of
// JSON exactly as encoding/json would: every key written as the field's
// JSON name, each at most once, no unknown keys, integers as plain decimal
// literals, times as encoding/json parses them; strings with escapes or
// non-ASCII bytes are unquoted by encoding/json itself. ok is false for
// anything outside that subset (a malformed body included), and the caller
// then decodes with encoding/json, whose result is the reference
// (FuzzDecodeMessage compares the two).
func decodeOrderFast(body []byte) (e Envelope, o *Order, ok bool) {
	s := scanner{jsonscan.Scanner{B: body}}
	o = new(Order)
	var seen uint16
	ok = s.Object(func(key []byte) bool {
		bit, field := envelopeField(key)
		if bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		switch field {
		case "specversion":
			return s.Str(&e.SpecVersion)
		case "id":
			return s.Str(&e.ID)
		case "type":
			return s.Str(&e.Type)
		case "source":
			return s.Str(&e.Source)
		case "subject":
			return s.Str(&e.Subject)
		case "time":
			return s.time(&e.Time)
		case "datacontenttype":
			return s.Str(&e.DataContentType)
		case "dataschema":
			return s.Str(&e.DataSchema)
		case "data":
			return s.order(o)
		}
		return false
	})
	if !ok || seen&(1<<8) == 0 || !s.End() {
		return Envelope{}, nil, false
	}
	return e, o, true
}

var envelopeFields = [...]string{"specversion", "id", "type", "source", "subject", "time", "datacontenttype", "dataschema", "data"}

// envelopeField is the bit and name of an envelope key (0 for none).
func envelopeField(key []byte) (uint16, string) {
	for i, f := range envelopeFields {
		if string(key) == f {
			return 1 << i, f
		}
	}
	return 0, ""
}

// order reads an Order object into o.
func (s *scanner) order(o *Order) bool {
	var seen uint32
	return s.Object(func(key []byte) bool {
		i := orderFieldIndex(key)
		if i < 0 || seen&(1<<i) != 0 {
			return false
		}
		seen |= 1 << i
		switch i {
		case 0:
			return s.Str(&o.Platform)
		case 1:
			return s.Str(&o.Account)
		case 2:
			return s.Str(&o.OrderID)
		case 3:
			return s.Str(&o.ParentOrderID)
		case 4:
			return s.Str(&o.ProductID)
		case 5:
			return s.Str(&o.ProductName)
		case 6:
			return s.Str(&o.ShopID)
		case 7:
			return s.Str(&o.ShopName)
		case 8:
			return s.Str(&o.AuthorID)
		case 9:
			return s.Str(&o.AuthorName)
		case 10:
			return s.Str(&o.BuyerOpenID)
		case 11:
			return s.Str(&o.Channel)
		case 12:
			return s.Int(&o.Quantity)
		case 13:
			return s.Str(&o.Currency)
		case 14:
			return s.Int(&o.PaidFen)
		case 15:
			return s.Int(&o.EstimatedBaseFen)
		case 16:
			return s.Int(&o.SettledBaseFen)
		case 17:
			return s.Int(&o.RefundedFen)
		case 18:
			return s.Int(&o.EstimatedTotalCommissionFen)
		case 19:
			return s.Str((*string)(&o.Status))
		case 20:
			return s.Str(&o.VendorStatus)
		case 21:
			return s.time(&o.PaidAt)
		case 22:
			return s.time(&o.UpdatedAt)
		case 23:
			return s.timePtr(&o.ReceivedAt)
		case 24:
			return s.timePtr(&o.SettledAt)
		case 25:
			return s.timePtr(&o.RefundedAt)
		case 26:
			return s.Int(&o.Version)
		case 27:
			return s.lines(&o.CommissionLines)
		}
		return false
	})
}

var orderFields = [...]string{
	"platform", "account", "order_id", "parent_order_id", "product_id", "product_name", "shop_id", "shop_name",
	"author_id", "author_name", "buyer_open_id", "channel", "quantity", "currency", "paid_fen",
	"estimated_base_fen", "settled_base_fen", "refunded_fen", "estimated_total_commission_fen", "status",
	"vendor_status", "paid_at", "updated_at", "received_at", "settled_at", "refunded_at", "version",
	"commission_lines",
}

func orderFieldIndex(key []byte) int {
	for i, f := range orderFields {
		if string(key) == f {
			return i
		}
	}
	return -1
}

// lines reads commission_lines: null, or an array of OrderLine objects.
func (s *scanner) lines(dst *[]OrderLine) bool {
	s.WS()
	if s.Null() {
		*dst = nil
		return true
	}
	if !s.Byte('[') {
		return false
	}
	out := make([]OrderLine, 0, 4)
	s.WS()
	if s.Byte(']') {
		*dst = out
		return true
	}
	for {
		var l OrderLine
		if !s.line(&l) {
			return false
		}
		out = append(out, l)
		s.WS()
		if s.Byte(']') {
			*dst = out
			return true
		}
		if !s.Byte(',') {
			return false
		}
	}
}

var lineFields = [...]string{"role", "rate_bp", "currency", "estimated_fen", "settled_fen", "fee_fen"}

// line reads one OrderLine object.
func (s *scanner) line(l *OrderLine) bool {
	var seen uint8
	return s.Object(func(key []byte) bool {
		i := -1
		for j, f := range lineFields {
			if string(key) == f {
				i = j
				break
			}
		}
		if i < 0 || seen&(1<<i) != 0 {
			return false
		}
		seen |= 1 << i
		switch i {
		case 0:
			return s.Str((*string)(&l.Role))
		case 1:
			return s.Int(&l.RateBP)
		case 2:
			return s.Str(&l.Currency)
		case 3:
			return s.Int(&l.EstimatedFen)
		case 4:
			return s.Int(&l.SettledFen)
		case 5:
			return s.Int(&l.FeeFen)
		}
		return false
	})
}

// scanner is the shared jsonscan reader plus the time fields of events.
type scanner struct{ jsonscan.Scanner }

// time reads a time string as time.Time's UnmarshalJSON does.
func (s *scanner) time(dst *time.Time) bool {
	s.WS()
	if s.Null() {
		return true
	}
	start, end, _, _, ok := s.String()
	return ok && dst.UnmarshalJSON(s.B[start:end]) == nil
}

// timePtr reads a time string or null into a *time.Time.
func (s *scanner) timePtr(dst **time.Time) bool {
	s.WS()
	if s.Null() {
		*dst = nil
		return true
	}
	t := new(time.Time)
	if !s.time(t) {
		return false
	}
	*dst = t
	return true
}
