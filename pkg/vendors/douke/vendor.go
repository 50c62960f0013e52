package douke

import (
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// Name is the vendor's short name used in subjects, event sources and tables.
const Name = "douke"

// Endpoint is the short name of the polled endpoint (kol_OrderAds).
const Endpoint = "kol_orderads"

// MaxWindow is the longest window one kol_OrderAds query may span (90 days).
const MaxWindow = 90 * 24 * time.Hour

// Spec declares the douke kol_OrderAds vendor: veapi filters on the
// alliance-side update time, which moves whenever an order changes
// (incremental time type "update"), and serves nothing before 2021-10-01
// 00:00:00 CST.
var Spec = vendors.Spec{
	Name: Name, Endpoint: Endpoint, MaxWindow: MaxWindow,
	IncrementalTimeTypes: []string{"update"}, Earliest: earliest,
	NewFetcher: vendors.FetcherOf(NewFetcher), Normalize: Normalize,
	NormalizeRecords: orderPages.Records, NormalizeCarriedRecords: orderPages.CarriedRecords,
}

// declared is the marker whose Spec method returns Spec.
type declared struct{}

// Spec returns the package's Spec.
func (declared) Spec() *vendors.Spec { return &Spec }

// Vendor is the douke kol_OrderAds vendor (the generic adapter over Spec).
// It is stateless; the zero value is ready to use.
type Vendor = vendors.Adapter[declared]

// New returns the douke vendor.
func New() Vendor { return Vendor{} }
