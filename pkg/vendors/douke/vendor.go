package douke

import (
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// Name is the vendor's short name used in subjects, event sources and tables.
const Name = "douke"

// Endpoint is the short name of the polled endpoint (kol_OrderAds).
const Endpoint = "kol_orderads"

// MaxWindow is the longest window one kol_OrderAds query may span (90 days).
const MaxWindow = 90 * 24 * time.Hour

// Vendor is the douke kol_OrderAds vendor. It is stateless; the zero value is
// ready to use.
type Vendor struct{}

var _ vendors.Vendor = Vendor{}

// New returns the douke vendor.
func New() Vendor { return Vendor{} }

// Name returns "douke".
func (Vendor) Name() string { return Name }

// Endpoint returns "kol_orderads".
func (Vendor) Endpoint() string { return Endpoint }

// MaxWindow returns 90 days, the longest window veapi accepts.
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
