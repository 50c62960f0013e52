package wire

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// OrderEnvelopes maps the wire orders of one page to canonical envelopes: for
// each order in vendor order, mapOrder's order.v1 envelope followed by its
// commission.v1 envelopes in the order mapOrder returns them. A page without
// orders gives an empty, non-nil slice.
//
// Errors name the order as where[i] ("douke normalize: data.orders[3]: …"): an
// error from mapOrder is wrapped as is; an event that does not encode to its
// envelope returns an error wrapping vendors.ErrMalformedPage. On error no
// envelopes are returned.
func OrderEnvelopes[O any](where string, orders []O, mapOrder func(O) (events.Order, []events.CommissionLine, error)) ([]events.Envelope, error) {
	return vendors.PageEvents(OrderRecords(where, orders, nil, mapOrder))
}

// OrderRecords maps the wire orders of one page record by record, as
// OrderEnvelopes does, but one order's failure does not touch the others:
// one vendors.Record per order, each with its envelopes or its error (named
// where[i], as in OrderEnvelopes). badAt (may be nil) reports orders that
// did not even decode (see RecordList); they are not passed to mapOrder.
func OrderRecords[O any](where string, orders []O, badAt func(int) error, mapOrder func(O) (events.Order, []events.CommissionLine, error)) []vendors.Record {
	return orderRecords(where, orders, badAt, mapOrder, true)
}

// CarriedOrderRecords is OrderRecords without the commission.v1 envelopes
// of the orders that carry their lines (every order with lines does): the
// same records, indexes and errors, each record holding only its order.v1
// envelope, which is what the default event granularity publishes (see
// vendors.CarriedRecordNormalizer). The lines' envelopes are never encoded:
// a line encodes whenever its order does (it holds the order's times), so
// no record's outcome depends on them.
func CarriedOrderRecords[O any](where string, orders []O, badAt func(int) error, mapOrder func(O) (events.Order, []events.CommissionLine, error)) []vendors.Record {
	return orderRecords(where, orders, badAt, mapOrder, false)
}

func orderRecords[O any](where string, orders []O, badAt func(int) error, mapOrder func(O) (events.Order, []events.CommissionLine, error), lineEvents bool) []vendors.Record {
	out := make([]vendors.Record, len(orders))
	for i, o := range orders {
		out[i] = vendors.Record{Index: i}
		if badAt != nil {
			if err := badAt(i); err != nil {
				out[i].Err = decodeErr(where, err)
				continue
			}
		}
		envs, err := orderEvents(o, mapOrder, lineEvents)
		if err != nil {
			out[i].Err = fmt.Errorf("%s[%d]: %w", where, i, err)
			continue
		}
		out[i].Events = envs
	}
	return out
}

// decodeErr names a record that did not decode: its error already reads
// "<list>[<i>]: …", so only the part of where before the list name
// ("douke normalize" of "douke normalize: data.orders") is put in front.
func decodeErr(where string, err error) error {
	i := strings.LastIndex(where, ": ")
	if i < 0 {
		return err
	}
	return fmt.Errorf("%s: %w", where[:i], err)
}

// orderEvents maps one order to its order.v1 envelope (carrying its lines)
// and, with lineEvents or when it has no lines to carry, its commission.v1
// envelopes.
func orderEvents[O any](o O, mapOrder func(O) (events.Order, []events.CommissionLine, error), lineEvents bool) ([]events.Envelope, error) {
	ord, lines, err := mapOrder(o)
	if err != nil {
		return nil, err
	}
	ord.CommissionLines = events.OrderLines(lines)
	if !lineEvents && len(ord.CommissionLines) > 0 {
		lines = nil
	}
	out := make([]events.Envelope, 0, 1+len(lines))
	env, err := ord.Envelope()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", vendors.ErrMalformedPage, err)
	}
	out = append(out, env)
	for _, l := range lines {
		env, err := l.Envelope()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", vendors.ErrMalformedPage, err)
		}
		out = append(out, env)
	}
	return out, nil
}

// RecordList reads what a page decoder returned when the record list is the
// last part it decodes (DecodeList/DecodeEach): when err is a *ListError[T]
// (some records did not decode, the rest of the page did), it returns the
// list's values and badAt reporting the bad ones; any other error is a page
// error, returned as pageErr; without error it returns list as is.
func RecordList[T any](list []T, err error) (values []T, badAt func(int) error, pageErr error) {
	if err == nil {
		return list, nil, nil
	}
	var le *ListError[T]
	if errors.As(err, &le) {
		return le.Values, le.BadAt, nil
	}
	return nil, nil, err
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
	// NotAfter, when set, is the latest time a time field may hold (see
	// NotAfter: the page's fetch time plus FutureSkew); a later one is a
	// placeholder that would freeze the record's version, and is an error.
	NotAfter time.Time
	Err      error
}

// Time parses the named field with ParseTime and returns the time in UTC,
// or nil for "not yet" and after an error ("<name>: <reason>"). A time after
// f.NotAfter is an error too: `<name>: "<text>" is later than <NotAfter>
// (the fetch time plus 24h): a placeholder, not a time`.
func (f *Fields) Time(name, value string) *time.Time {
	if f.Err != nil {
		return nil
	}
	t, err := ParseTime(value)
	if err != nil {
		f.Err = fmt.Errorf("%s: %v", name, err)
		return nil
	}
	if t != nil && !f.NotAfter.IsZero() && t.After(f.NotAfter) {
		f.Err = fmt.Errorf("%s: %q is later than %s (the fetch time plus %s): a placeholder, not a time",
			name, strings.TrimSpace(value), f.NotAfter.Format(time.RFC3339), FutureSkew)
		return nil
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
