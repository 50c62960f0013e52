package doukecsj

import (
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// Name is the vendor's short name used in subjects, event sources and tables.
const Name = "douke-csj"

// Endpoint is the short name of the polled endpoint (csj_ordersearch).
const Endpoint = "csj_ordersearch"

// MaxWindow is the longest window one csj_ordersearch query may span (90 days).
const MaxWindow = 90 * 24 * time.Hour

// Spec declares the douke-csj vendor: incremental on the update time, which
// moves whenever an order changes.
var Spec = vendors.Spec{
	Name: Name, Endpoint: Endpoint, MaxWindow: MaxWindow, IncrementalTimeTypes: []string{"update"},
	NewFetcher: vendors.FetcherOf(NewFetcher), Normalize: orderPages.Normalize,
	NormalizeRecords: orderPages.Records, NormalizeCarriedRecords: orderPages.CarriedRecords,
}

// declared is the marker whose Spec method returns Spec.
type declared struct{}

// Spec returns the package's Spec.
func (declared) Spec() *vendors.Spec { return &Spec }

// Vendor is the douke-csj vendor (the generic adapter over Spec); the zero
// value is ready to use.
type Vendor = vendors.Adapter[declared]

// New returns the douke-csj vendor.
func New() Vendor { return Vendor{} }
