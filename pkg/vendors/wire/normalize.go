package wire

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// OrderEnvelopes maps the wire orders of one page to canonical envelopes: for
// each order in vendor order, mapOrder's order.v1 envelope (carrying the
// lines in CommissionLines) followed by its commission.v1 envelopes in the
// order mapOrder returns them. A page without orders gives an empty, non-nil
// slice. (The normalizer publishes the commission.v1 envelopes only when
// configured to; the order event carries the same lines.)
//
// Errors name the order as where[i] ("douke normalize: data.orders[3]: …"): an
// error from mapOrder is wrapped as is; an event that does not encode to its
// envelope returns an error wrapping vendors.ErrMalformedPage. On error no
// envelopes are returned.
func OrderEnvelopes[O any](where string, orders []O, mapOrder func(O) (events.Order, []events.CommissionLine, error)) ([]events.Envelope, error) {
	return orderEnvelopes(where, orders, mapOrder, true)
}

// OrderEvents is OrderEnvelopes without the commission.v1 envelopes: one
// order.v1 envelope per order, carrying its lines in CommissionLines.
func OrderEvents[O any](where string, orders []O, mapOrder func(O) (events.Order, []events.CommissionLine, error)) ([]events.Envelope, error) {
	return orderEnvelopes(where, orders, mapOrder, false)
}

func orderEnvelopes[O any](where string, orders []O, mapOrder func(O) (events.Order, []events.CommissionLine, error), lineEvents bool) ([]events.Envelope, error) {
	var out []events.Envelope
	for i, o := range orders {
		ord, lines, err := mapOrder(o)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", where, i, err)
		}
		if out == nil {
			out = make([]events.Envelope, 0, len(orders)*(1+len(lines)))
		}
		ord.CommissionLines = events.OrderLines(lines)
		env, err := ord.Envelope()
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w: %v", where, i, vendors.ErrMalformedPage, err)
		}
		out = append(out, env)
		if !lineEvents {
			continue
		}
		for _, l := range lines {
			env, err := l.Envelope()
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w: %v", where, i, vendors.ErrMalformedPage, err)
			}
			out = append(out, env)
		}
	}
	if out == nil {
		out = []events.Envelope{}
	}
	return out, nil
}

// Key returns the trimmed value of a record's ID field. An empty one returns
// "<record> without <field>"; one that does not match ValidKey returns
// "<field> "<value>": want only [0-9A-Za-z_-]". Both errors wrap
// vendors.ErrMalformedPage.
func Key(record, field, value string) (string, error) {
	id := strings.TrimSpace(value)
	if id == "" {
		return "", Malformed("%s without %s", record, field)
	}
	if !ValidKey(id) {
		return "", Malformed("%s %q: want only [0-9A-Za-z_-]", field, Clip(id, 40))
	}
	return id, nil
}

// Fields checks the fields of one wire record in order and keeps the first
// problem in Err (which names the field); once Err is set, later checks do
// nothing. Callers check Err after a group of checks.
type Fields struct {
	Err error
}

// Time parses the named field with ParseTime and returns the time in UTC,
// or nil for "not yet" and after an error ("<name>: <reason>").
func (f *Fields) Time(name, value string) *time.Time {
	if f.Err != nil {
		return nil
	}
	t, err := ParseTime(value)
	if err != nil {
		f.Err = fmt.Errorf("%s: %v", name, err)
	}
	return t
}

// NonNegative records "<name> is negative (<v>)" when v < 0.
func (f *Fields) NonNegative(name string, v int64) {
	if f.Err == nil && v < 0 {
		f.Err = fmt.Errorf("%s is negative (%d)", name, v)
	}
}

// DecodeRaw checks the account label of a raw page (see CheckAccount), then
// decodes its body with decode: the first step of every Normalize.
func DecodeRaw[P any](p events.RawPage, decode func(body []byte) (P, error)) (P, error) {
	if err := CheckAccount(p.Account); err != nil {
		var zero P
		return zero, err
	}
	return decode(p.Body)
}

// CheckAccount rejects a raw page's account label that cannot appear in an
// event source: an empty one, or one with control characters. The error
// wraps vendors.ErrMalformedPage.
func CheckAccount(account string) error {
	if account == "" {
		return Malformed("raw page has no account label")
	}
	if strings.ContainsFunc(account, unicode.IsControl) {
		return Malformed("account label %q contains control characters", Clip(account, 40))
	}
	return nil
}

// ValidKey reports whether s matches the event schemas' ID pattern
// [0-9A-Za-z_-]+ (non-empty, ASCII letters, digits, "_" and "-" only).
func ValidKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
