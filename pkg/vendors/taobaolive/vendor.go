package taobaolive

import (
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// Name is the vendor's short name used in subjects, event sources and tables.
const Name = "taobao-live"

// Endpoint is the short name of the polled endpoint
// (alibaba.matrix.tcp.outer.querypredictorderlist).
const Endpoint = "querypredictorderlist"

// MaxWindow is the longest window one query may span. TOP documents no limit;
// seven days is yongjin's choice: a week of a busy account stays within a
// few hundred pages, and a shorter window keeps offset paging (which can
// shift while orders arrive) short-lived.
const MaxWindow = 7 * 24 * time.Hour

// Vendor is the Taobao Live querypredictorderlist vendor. It is stateless;
// the zero value is ready to use.
type Vendor struct{}

var (
	_ vendors.Vendor      = Vendor{}
	_ vendors.Incremental = Vendor{}
)

// New returns the Taobao Live vendor.
func New() Vendor { return Vendor{} }

// Name returns "taobao-live".
func (Vendor) Name() string { return Name }

// Endpoint returns "querypredictorderlist".
func (Vendor) Endpoint() string { return Endpoint }

// MaxWindow returns seven days (see the MaxWindow constant).
func (Vendor) MaxWindow() time.Duration { return MaxWindow }

// NewFetcher validates cfg and returns a Fetcher for one account (see
// NewFetcher in client.go for the rules).
func (Vendor) NewFetcher(cfg vendors.SourceConfig) (vendors.Fetcher, error) {
	f, err := NewFetcher(cfg)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return f, nil
}

// Normalize maps one raw page to canonical events (see the package-level
// Normalize).
func (Vendor) Normalize(p events.RawPage) ([]events.Envelope, error) { return Normalize(p) }

// IncrementalTimeTypes implements vendors.Incremental: TOP cannot filter on
// the modification time, so incremental polls scan pay-time ("pay",
// date_type 0) and confirm-receipt-time ("confirm", date_type 1) windows,
// each with its own checkpoint; modify_time orders the states found.
func (Vendor) IncrementalTimeTypes() []string { return []string{"pay", "confirm"} }
