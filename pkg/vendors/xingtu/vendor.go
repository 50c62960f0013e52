package xingtu

import (
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// Name is the vendor's short name used in subjects, event sources and tables.
const Name = "xingtu"

// Endpoint is the short name of the polled endpoint.
const Endpoint = "author_order_experience"

// Spec declares the xingtu vendor: a snapshot source whose endpoint has no
// time window (each request reports a trailing period as of the request),
// so windows are never split (MaxWindow 0).
var Spec = vendors.Spec{
	Name: Name, Endpoint: Endpoint,
	NewFetcher: vendors.FetcherOf(NewFetcher), Normalize: Normalize,
}

// declared is the marker whose Spec method returns Spec.
type declared struct{}

// Spec returns the package's Spec.
func (declared) Spec() *vendors.Spec { return &Spec }

// Vendor is the Xingtu author-order-experience vendor (through JustOneAPI;
// the generic adapter over Spec). It is stateless; the zero value is ready
// to use.
type Vendor = vendors.Adapter[declared]

// New returns the xingtu vendor.
func New() Vendor { return Vendor{} }
