package xingtu

import (
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// Name is the vendor's short name used in subjects, event sources and tables.
const Name = "xingtu"

// Endpoint is the short name of the polled endpoint.
const Endpoint = "author_order_experience"

// Vendor is the Xingtu author-order-experience vendor (through JustOneAPI).
// It is stateless; the zero value is ready to use.
type Vendor struct{}

var _ vendors.Vendor = Vendor{}

// New returns the xingtu vendor.
func New() Vendor { return Vendor{} }

// Name returns "xingtu".
func (Vendor) Name() string { return Name }

// Endpoint returns "author_order_experience".
func (Vendor) Endpoint() string { return Endpoint }

// MaxWindow returns 0: the endpoint has no time window (each request reports
// a trailing period as of the request), so windows are never split.
func (Vendor) MaxWindow() time.Duration { return 0 }

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
