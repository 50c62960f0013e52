package taobaolive

import (
	"time"

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

// Spec declares the Taobao Live vendor. TOP cannot filter on the
// modification time, so incremental polls scan pay-time ("pay", date_type 0)
// and confirm-receipt-time ("confirm", date_type 1) windows, each with its
// own checkpoint; modify_time orders the states found.
var Spec = vendors.Spec{
	Name: Name, Endpoint: Endpoint, MaxWindow: MaxWindow,
	IncrementalTimeTypes: []string{"pay", "confirm"},
	NewFetcher:           vendors.FetcherOf(NewFetcher), Normalize: Normalize,
	NormalizeRecords: orderPages.Records, NormalizeCarriedRecords: orderPages.CarriedRecords,
}

// declared is the marker whose Spec method returns Spec.
type declared struct{}

// Spec returns the package's Spec.
func (declared) Spec() *vendors.Spec { return &Spec }

// Vendor is the Taobao Live querypredictorderlist vendor (the generic
// adapter over Spec). It is stateless; the zero value is ready to use.
type Vendor = vendors.Adapter[declared]

// New returns the Taobao Live vendor.
func New() Vendor { return Vendor{} }
