package events

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
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
	s := scanner{b: body}
	o = new(Order)
	var seen uint16
	ok = s.object(func(key []byte) bool {
		bit, field := envelopeField(key)
		if bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		switch field {
		case "specversion":
			return s.str(&e.SpecVersion)
		case "id":
			return s.str(&e.ID)
		case "type":
			return s.str(&e.Type)
		case "source":
			return s.str(&e.Source)
		case "subject":
			return s.str(&e.Subject)
		case "time":
			return s.time(&e.Time)
		case "datacontenttype":
			return s.str(&e.DataContentType)
		case "dataschema":
			return s.str(&e.DataSchema)
		case "data":
			return s.order(o)
		}
		return false
	})
	if !ok || seen&(1<<8) == 0 || !s.end() {
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
	return s.object(func(key []byte) bool {
		i := orderFieldIndex(key)
		if i < 0 || seen&(1<<i) != 0 {
			return false
		}
		seen |= 1 << i
		switch i {
		case 0:
			return s.str(&o.Platform)
		case 1:
			return s.str(&o.Account)
		case 2:
			return s.str(&o.OrderID)
		case 3:
			return s.str(&o.ParentOrderID)
		case 4:
			return s.str(&o.ProductID)
		case 5:
			return s.str(&o.ProductName)
		case 6:
			return s.str(&o.ShopID)
		case 7:
			return s.str(&o.ShopName)
		case 8:
			return s.str(&o.AuthorID)
		case 9:
			return s.str(&o.AuthorName)
		case 10:
			return s.str(&o.BuyerOpenID)
		case 11:
			return s.str(&o.Channel)
		case 12:
			return s.int(&o.Quantity)
		case 13:
			return s.str(&o.Currency)
		case 14:
			return s.int(&o.PaidFen)
		case 15:
			return s.int(&o.EstimatedBaseFen)
		case 16:
			return s.int(&o.SettledBaseFen)
		case 17:
			return s.int(&o.RefundedFen)
		case 18:
			return s.int(&o.EstimatedTotalCommissionFen)
		case 19:
			return s.str((*string)(&o.Status))
		case 20:
			return s.str(&o.VendorStatus)
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
			return s.int(&o.Version)
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
	s.ws()
	if s.null() {
		*dst = nil
		return true
	}
	if !s.byte('[') {
		return false
	}
	out := make([]OrderLine, 0, 4)
	s.ws()
	if s.byte(']') {
		*dst = out
		return true
	}
	for {
		var l OrderLine
		if !s.line(&l) {
			return false
		}
		out = append(out, l)
		s.ws()
		if s.byte(']') {
			*dst = out
			return true
		}
		if !s.byte(',') {
			return false
		}
	}
}

var lineFields = [...]string{"role", "rate_bp", "currency", "estimated_fen", "settled_fen", "fee_fen"}

// line reads one OrderLine object.
func (s *scanner) line(l *OrderLine) bool {
	var seen uint8
	return s.object(func(key []byte) bool {
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
			return s.str((*string)(&l.Role))
		case 1:
			return s.int(&l.RateBP)
		case 2:
			return s.str(&l.Currency)
		case 3:
			return s.int(&l.EstimatedFen)
		case 4:
			return s.int(&l.SettledFen)
		case 5:
			return s.int(&l.FeeFen)
		}
		return false
	})
}

// scanner reads JSON tokens from b at i; every method returns false on
// anything it does not read exactly.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// byte consumes c if it is next.
func (s *scanner) byte(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// null consumes a null literal if it is next.
func (s *scanner) null() bool {
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// end reports whether only white space is left.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// object reads an object, calling member for each key with the scanner
// placed before the member's value; member must consume the value.
func (s *scanner) object(member func(key []byte) bool) bool {
	s.ws()
	if !s.byte('{') {
		return false
	}
	s.ws()
	if s.byte('}') {
		return true
	}
	for {
		s.ws()
		key, ascii, escaped, ok := s.token()
		if !ok || !ascii || escaped {
			return false
		}
		s.ws()
		if !s.byte(':') || !member(key[1:len(key)-1]) {
			return false
		}
		s.ws()
		if s.byte('}') {
			return true
		}
		if !s.byte(',') {
			return false
		}
	}
}

// token reads a string token, quotes included. ascii is true when it
// holds only printable ASCII, escaped when it holds a backslash.
func (s *scanner) token() (tok []byte, ascii, escaped, ok bool) {
	if !s.byte('"') {
		return nil, false, false, false
	}
	start, ascii := s.i-1, true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start:s.i], ascii, escaped, true
		case c == '\\':
			escaped = true
			s.i += 2
			continue
		case c < 0x20:
			return nil, false, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		s.i++
	}
	return nil, false, false, false
}

// str reads a string value (null leaves dst as it is, as encoding/json
// does). Without escapes, valid UTF-8 is the value as written, as
// encoding/json takes it; anything else is unquoted by encoding/json.
func (s *scanner) str(dst *string) bool {
	s.ws()
	if s.null() {
		return true
	}
	tok, ascii, escaped, ok := s.token()
	if !ok {
		return false
	}
	if content := tok[1 : len(tok)-1]; !escaped && (ascii || utf8.Valid(content)) {
		*dst = string(content)
		return true
	}
	return json.Unmarshal(tok, dst) == nil
}

// int reads an integer written as a plain decimal literal.
func (s *scanner) int(dst *int64) bool {
	s.ws()
	if s.null() {
		return true
	}
	start := s.i
	s.byte('-')
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == digits || (s.b[digits] == '0' && s.i-digits > 1) {
		return false
	}
	if s.i < len(s.b) {
		switch s.b[s.i] {
		case '.', 'e', 'E':
			return false
		}
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	if err != nil {
		return false
	}
	*dst = n
	return true
}

// time reads a time string as time.Time's UnmarshalJSON does.
func (s *scanner) time(dst *time.Time) bool {
	s.ws()
	if s.null() {
		return true
	}
	tok, _, _, ok := s.token()
	return ok && dst.UnmarshalJSON(tok) == nil
}

// timePtr reads a time string or null into a *time.Time.
func (s *scanner) timePtr(dst **time.Time) bool {
	s.ws()
	if s.null() {
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
