package wire

import (
	"fmt"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// OrderPages is the normalizer of an order endpoint whose page holds a
// list of independent orders, each mapping to one order.v1 event and its
// commission lines: a vendor declares how to decode a page, where its
// orders are and how one maps, and gets Normalize, Records and
// CarriedRecords (vendors.Spec's Normalize, NormalizeRecords and
// NormalizeCarriedRecords).
type OrderPages[P, O any] struct {
	// Vendor names the vendor in errors ("douke normalize: …").
	Vendor string
	// List names the page's order list in record errors ("data.orders").
	List string
	// Decode decodes a page body; a *ListError of O for orders that do not
	// decode keeps the others.
	Decode func(body []byte) (P, error)
	// Orders returns the orders of a page Decode returned without error.
	Orders func(P) []O
	// Map maps one order of account fetched at fetchedAt (see MapOrder in
	// the vendor packages).
	Map func(account string, o O, fetchedAt time.Time) (events.Order, []events.CommissionLine, error)
}

// Normalize maps one raw page to canonical events: for each order in
// vendor order, its order.v1 envelope followed by its commission.v1
// envelopes; the first failing record fails the page (vendors.PageEvents).
func (n OrderPages[P, O]) Normalize(p events.RawPage) ([]events.Envelope, error) {
	recs, err := n.Records(p)
	if err != nil {
		return nil, err
	}
	return vendors.PageEvents(recs)
}

// Records maps one raw page order by order (see vendors.RecordNormalizer):
// one vendors.Record per element of the list, each with its envelopes or,
// for an order that does not decode or that Map rejects, its error. The page
// fails as a whole only for a vendor error, an undecodable envelope or a
// missing account label.
func (n OrderPages[P, O]) Records(p events.RawPage) ([]vendors.Record, error) {
	return n.records(p, OrderRecords[O])
}

// CarriedRecords is Records without the commission.v1 envelopes, which it
// does not build (see vendors.CarriedRecordNormalizer): each good record
// holds only its order.v1 envelope, which carries the order's lines.
func (n OrderPages[P, O]) CarriedRecords(p events.RawPage) ([]vendors.Record, error) {
	return n.records(p, CarriedOrderRecords[O])
}

func (n OrderPages[P, O]) records(p events.RawPage, records func(string, []O, func(int) error, func(O) (events.Order, []events.CommissionLine, error)) []vendors.Record) ([]vendors.Record, error) {
	page, err := DecodeRaw(p, n.Decode)
	var list []O
	if err == nil {
		list = n.Orders(page)
	}
	orders, badAt, err := RecordList(list, err)
	if err != nil {
		return nil, fmt.Errorf("%s normalize: %w", n.Vendor, err)
	}
	return records(n.Vendor+" normalize: "+n.List, orders, badAt, func(o O) (events.Order, []events.CommissionLine, error) {
		return n.Map(p.Account, o, p.FetchedAt)
	}), nil
}

// Line is one commission line of order o: role's rate (basis points) and
// amounts (fen), with the order's platform, account, ID, currency, status,
// times and version, so a line always agrees with its order.
func Line(o events.Order, role events.Role, rateBP, estimatedFen, settledFen, feeFen int64) events.CommissionLine {
	return events.CommissionLine{
		Platform:     o.Platform,
		Account:      o.Account,
		OrderID:      o.OrderID,
		Role:         role,
		RateBP:       rateBP,
		Currency:     o.Currency,
		EstimatedFen: estimatedFen,
		SettledFen:   settledFen,
		FeeFen:       feeFen,
		OrderStatus:  o.Status,
		PaidAt:       o.PaidAt,
		UpdatedAt:    o.UpdatedAt,
		Version:      o.Version,
	}
}

// OrderID checks account and reads a record's order ID field (see
// CheckAccount and Key), returning with it bad, which builds an error
// wrapping vendors.ErrMalformedPage naming the order.
func OrderID(account, field, value string) (string, func(format string, args ...any) error, error) {
	if err := CheckAccount(account); err != nil {
		return "", nil, err
	}
	id, err := Key("order", field, value)
	if err != nil {
		return "", nil, err
	}
	return id, func(format string, args ...any) error {
		return Malformed("order %s: %s", id, fmt.Sprintf(format, args...))
	}, nil
}
