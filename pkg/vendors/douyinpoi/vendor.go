package douyinpoi

import (
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// Name is the vendor's short name used in subjects, event sources and tables
// (also the events' Platform).
const Name = "douyin-poi"

// Endpoint is the short name of the polled endpoint (POST /poi/plan/list/).
const Endpoint = "poi_plan_list"

// MaxWindow is 0: plans are reference data and the window is ignored.
const MaxWindow time.Duration = 0

// Vendor is the Douyin POI plan-list vendor. It is stateless (token caches
// live in the fetchers); the zero value is ready to use.
type Vendor struct{}

var _ vendors.Vendor = Vendor{}

// New returns the douyin-poi vendor.
func New() Vendor { return Vendor{} }

// Name returns "douyin-poi".
func (Vendor) Name() string { return Name }

// Endpoint returns "poi_plan_list".
func (Vendor) Endpoint() string { return Endpoint }

// MaxWindow returns 0 (unlimited: the window is ignored).
func (Vendor) MaxWindow() time.Duration { return MaxWindow }

// NewFetcher validates cfg and returns a Fetcher for one app (see NewFetcher
// in client.go for the rules).
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
