package vendors

import (
	"github.com/yongjin-dev/yongjin/pkg/events"
)

// Record is what one record of a page maps to: its events, or the reason it
// cannot be mapped. Records map independently, so one bad record never
// costs its neighbours.
type Record struct {
	// Index is the record's position in the page's record list (from 0).
	Index int
	// Events are the record's envelopes, in emission order (nil when Err is set).
	Events []events.Envelope
	// Err says why the record cannot be mapped, naming the record ("douke
	// normalize: data.orders[3]: …"); it wraps ErrMalformedPage and is
	// permanent for that record.
	Err error
}

// RecordNormalizer is implemented by vendors whose pages hold a list of
// independent records (orders, plans). The normalizer uses it to publish the
// good records of a page and dead-letter only the bad ones.
type RecordNormalizer interface {
	// NormalizeRecords maps one raw page record by record: one Record per
	// element of the page's record list, in vendor order. It returns an error
	// only for what concerns the whole page (a vendor error envelope, an
	// undecodable envelope or record list, a missing account label), wrapping
	// ErrVendorError or ErrMalformedPage as Normalize does. It is pure, and
	// Normalize(p) equals the concatenation of the records' events when no
	// record has an error.
	NormalizeRecords(p events.RawPage) ([]Record, error)
}

// CarriedRecordNormalizer is implemented by order vendors whose order.v1
// events carry their commission lines (events.Order.CommissionLines).
type CarriedRecordNormalizer interface {
	// NormalizeCarriedRecords is NormalizeRecords without the commission.v1
	// envelopes of the orders that carry their lines, which it does not
	// build: the same records with the same indexes and errors, each
	// record's events being NormalizeRecords' minus those commission.v1
	// events. It is pure, as NormalizeRecords is.
	NormalizeCarriedRecords(p events.RawPage) ([]Record, error)
}

// NormalizeCarriedRecords maps p with v record by record for a stream whose
// order.v1 events carry their lines: through CarriedRecordNormalizer when v
// implements it, else as NormalizeRecords (whose commission.v1 events the
// caller then filters itself).
func NormalizeCarriedRecords(v Vendor, p events.RawPage) ([]Record, error) {
	if cn, ok := v.(CarriedRecordNormalizer); ok {
		return cn.NormalizeCarriedRecords(p)
	}
	return NormalizeRecords(v, p)
}

// NormalizeRecords maps p with v record by record: through
// RecordNormalizer when v implements it, else as one record (index 0)
// holding every event of the page, with Normalize's error as a page error.
func NormalizeRecords(v Vendor, p events.RawPage) ([]Record, error) {
	if rn, ok := v.(RecordNormalizer); ok {
		return rn.NormalizeRecords(p)
	}
	envs, err := v.Normalize(p)
	if err != nil {
		return nil, err
	}
	return []Record{{Index: 0, Events: envs}}, nil
}

// PageEvents is the strict, page-level reading of records: every record's
// events in order (an empty, non-nil slice for none), or the first record's
// error as it is (the whole page fails).
func PageEvents(recs []Record) ([]events.Envelope, error) {
	n := 0
	for _, r := range recs {
		if r.Err != nil {
			return nil, r.Err
		}
		n += len(r.Events)
	}
	out := make([]events.Envelope, 0, n)
	for _, r := range recs {
		out = append(out, r.Events...)
	}
	return out, nil
}
