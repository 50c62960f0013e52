package douyinpoi

import (
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// Name is the vendor's short name used in subjects, event sources and tables
// (also the events' Platform).
const Name = "douyin-poi"

// Endpoint is the short name of the polled endpoint (POST /poi/plan/list/).
const Endpoint = "poi_plan_list"

// MaxWindow is 0: plans are reference data and the window is ignored.
const MaxWindow time.Duration = 0

// Spec declares the douyin-poi vendor: a snapshot source (plans are
// reference data; the window is ignored) mapped plan by plan.
var Spec = vendors.Spec{
	Name: Name, Endpoint: Endpoint, MaxWindow: MaxWindow,
	NewFetcher: vendors.FetcherOf(NewFetcher), Normalize: Normalize, NormalizeRecords: NormalizeRecords,
}

// declared is the marker whose Spec method returns Spec.
type declared struct{}

// Spec returns the package's Spec.
func (declared) Spec() *vendors.Spec { return &Spec }

// Vendor is the Douyin POI plan-list vendor (the generic adapter over Spec).
// It is stateless (token caches live in the fetchers); the zero value is
// ready to use.
type Vendor = vendors.Adapter[declared]

// New returns the douyin-poi vendor.
func New() Vendor { return Vendor{} }
