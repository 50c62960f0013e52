package vendors

import (
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// Spec declares one vendor endpoint: everything that tells it apart from
// the others at the seam. A vendor package declares one Spec and gets its
// vendors.Vendor from Adapter; the package itself then holds only its
// genuine differences (wire model, decoder, error taxonomy, paging, mapping).
type Spec struct {
	// Name is the vendor's short name used in subjects, event sources and
	// tables (the registry key).
	Name string
	// Endpoint is the polled endpoint's short name.
	Endpoint string
	// MaxWindow is the longest window one query may span (0 = unlimited).
	MaxWindow time.Duration
	// IncrementalTimeTypes lists the time types an incremental poll covers,
	// each with its own checkpoint; empty means a snapshot source.
	IncrementalTimeTypes []string
	// Earliest is the vendor's horizon: it serves nothing before it (zero =
	// no horizon).
	Earliest time.Time
	// NewFetcher validates a source's config and returns its fetcher (see
	// FetcherOf for a concrete constructor).
	NewFetcher func(SourceConfig) (Fetcher, error)
	// Normalize maps one raw page to canonical events (see Vendor.Normalize).
	Normalize func(events.RawPage) ([]events.Envelope, error)
	// NormalizeRecords, if set, maps a page record by record (see
	// RecordNormalizer); unset, a page is one record.
	NormalizeRecords func(events.RawPage) ([]Record, error)
	// NormalizeCarriedRecords, if set, is NormalizeRecords without the
	// commission.v1 envelopes of orders that carry their lines (see
	// CarriedRecordNormalizer); unset, it is NormalizeRecords.
	NormalizeCarriedRecords func(events.RawPage) ([]Record, error)
}

// Declared is implemented by a vendor package's (usually empty) marker type
// whose method returns the package's Spec; Adapter is instantiated with it.
type Declared interface {
	Spec() *Spec
}

// Adapter is the one implementation of Vendor (and of Incremental, Horizon,
// RecordNormalizer and CarriedRecordNormalizer) over a declared Spec. Its
// zero value is ready to use: a vendor package writes
//
//	type Vendor = vendors.Adapter[spec]
//
// where spec's Spec method returns the package's Spec.
type Adapter[D Declared] struct{}

var (
	_ Vendor                  = Adapter[Declared]{}
	_ Incremental             = Adapter[Declared]{}
	_ Horizon                 = Adapter[Declared]{}
	_ RecordNormalizer        = Adapter[Declared]{}
	_ CarriedRecordNormalizer = Adapter[Declared]{}
)

func (Adapter[D]) spec() *Spec {
	var d D
	return d.Spec()
}

// Name returns Spec.Name.
func (a Adapter[D]) Name() string { return a.spec().Name }

// Endpoint returns Spec.Endpoint.
func (a Adapter[D]) Endpoint() string { return a.spec().Endpoint }

// MaxWindow returns Spec.MaxWindow.
func (a Adapter[D]) MaxWindow() time.Duration { return a.spec().MaxWindow }

// NewFetcher validates cfg and returns a Fetcher through Spec.NewFetcher.
func (a Adapter[D]) NewFetcher(cfg SourceConfig) (Fetcher, error) { return a.spec().NewFetcher(cfg) }

// Normalize maps one raw page through Spec.Normalize.
func (a Adapter[D]) Normalize(p events.RawPage) ([]events.Envelope, error) {
	return a.spec().Normalize(p)
}

// IncrementalTimeTypes returns a copy of Spec.IncrementalTimeTypes (none for
// a snapshot source).
func (a Adapter[D]) IncrementalTimeTypes() []string {
	return append([]string(nil), a.spec().IncrementalTimeTypes...)
}

// Earliest returns Spec.Earliest (zero: no horizon).
func (a Adapter[D]) Earliest() time.Time { return a.spec().Earliest }

// NormalizeRecords maps p through Spec.NormalizeRecords, or as one record
// holding every event of Normalize (index 0) when it is unset.
func (a Adapter[D]) NormalizeRecords(p events.RawPage) ([]Record, error) {
	s := a.spec()
	if s.NormalizeRecords != nil {
		return s.NormalizeRecords(p)
	}
	envs, err := s.Normalize(p)
	if err != nil {
		return nil, err
	}
	return []Record{{Index: 0, Events: envs}}, nil
}

// NormalizeCarriedRecords maps p through Spec.NormalizeCarriedRecords, or
// as NormalizeRecords when it is unset.
func (a Adapter[D]) NormalizeCarriedRecords(p events.RawPage) ([]Record, error) {
	if s := a.spec(); s.NormalizeCarriedRecords != nil {
		return s.NormalizeCarriedRecords(p)
	}
	return a.NormalizeRecords(p)
}

// FetcherOf adapts a package's concrete constructor to Spec.NewFetcher: an
// error returns a nil Fetcher, never a typed nil inside the interface.
func FetcherOf[F Fetcher](newFetcher func(SourceConfig) (F, error)) func(SourceConfig) (Fetcher, error) {
	return func(cfg SourceConfig) (Fetcher, error) {
		f, err := newFetcher(cfg)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
}
