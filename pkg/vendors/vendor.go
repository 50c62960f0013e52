// Package vendors defines the seam between yongjin and a creator-commerce
// platform: the Vendor interface every platform implements (fetching raw pages
// and mapping them to canonical events) and the registry the services use to
// find a vendor by name. Per-vendor code lives in sub-packages
// (pkg/vendors/douke, ...); the shared HTTP core lives in pkg/vendors/client.
package vendors

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// Window is one query window of a source: [Start, End] filtered on the vendor
// time named by TimeType ("pay", "update", ...; vendor-specific).
type Window struct {
	Start    time.Time
	End      time.Time
	TimeType string
}

// Page is one vendor response page as fetched: the cursor (or page number)
// that was requested, the HTTP status and the body byte-for-byte.
type Page struct {
	Cursor     string
	HTTPStatus int
	Body       []byte
	// Records is how many records the page held (for progress and metrics).
	Records int
	// Params are the non-secret request parameters the body does not repeat
	// but Normalize needs (e.g. spu_id, oAuthorId, period). Never credentials.
	Params map[string]string
}

// SourceConfig is what a vendor client needs to poll one account.
type SourceConfig struct {
	// BaseURL overrides the vendor's production endpoint (the sandbox uses this).
	BaseURL string
	// Account is the account label; it is not a credential and may be logged.
	Account string
	// Credentials are the resolved secrets by name (e.g. "vekey"). They must
	// never appear in logs, errors, raw pages or events.
	Credentials map[string]string
	// Params are vendor-specific query parameters from the config.
	Params map[string]string
	// PageSize is the requested page size; 0 means the vendor maximum.
	PageSize int
	// HTTPClient is used for every request; nil means a client with sane timeouts.
	HTTPClient *http.Client
	// RatePerSecond bounds this source's request rate (0 = the client core's default).
	RatePerSecond float64
	// OnRetry, if set, is told about every retried request (logs, metrics).
	OnRetry func(err error, wait time.Duration)
}

// Fetcher walks the pages of a window for one configured source.
type Fetcher interface {
	// Walk fetches every page of w in order and calls emit for each, stopping
	// at the first error. A page is emitted only after the vendor envelope said
	// it succeeded. Transient failures are retried inside Walk; the returned
	// error wraps client.ErrUnauthorized, client.ErrPermanent or
	// client.ErrRateLimited when the caller must branch on it.
	Walk(ctx context.Context, w Window, emit func(context.Context, Page) error) error
}

// Vendor is one platform endpoint yongjin can poll and normalize.
type Vendor interface {
	// Name is the vendor's short name used in subjects and tables (e.g. "douke").
	Name() string
	// Endpoint is the polled endpoint's short name (e.g. "kol_orderads").
	Endpoint() string
	// MaxWindow is the longest window one query may span (0 = unlimited).
	MaxWindow() time.Duration
	// NewFetcher validates cfg and returns a fetcher for one source.
	NewFetcher(cfg SourceConfig) (Fetcher, error)
	// Normalize maps one raw page to canonical events. It is pure: the same page
	// always gives the same events. Errors wrap ErrMalformedPage or
	// ErrVendorError, both permanent for that page.
	Normalize(p events.RawPage) ([]events.Envelope, error)
}

// OrderNormalizer is implemented by vendors whose records are orders with
// commission lines. NormalizeOrders is Normalize without the per-line
// commission.v1 events: one order.v1 event per order, carrying its lines
// (events.Order.CommissionLines). The normalizer uses it unless it is
// configured to publish commission.v1 events too.
type OrderNormalizer interface {
	NormalizeOrders(p events.RawPage) ([]events.Envelope, error)
}

// ErrMalformedPage means a page could not be decoded; retrying cannot help.
var ErrMalformedPage = errors.New("malformed vendor page")

// ErrVendorError means the page is a vendor error envelope, not data.
var ErrVendorError = errors.New("vendor error response")

// Registry finds vendors by name.
type Registry struct{ byName map[string]Vendor }

// NewRegistry returns a registry holding vs; it panics on a duplicate name.
func NewRegistry(vs ...Vendor) *Registry {
	r := &Registry{byName: map[string]Vendor{}}
	for _, v := range vs {
		if _, dup := r.byName[v.Name()]; dup {
			panic("vendors: duplicate vendor " + v.Name())
		}
		r.byName[v.Name()] = v
	}
	return r
}

// Get returns the vendor called name or an error listing the known ones.
func (r *Registry) Get(name string) (Vendor, error) {
	if v, ok := r.byName[name]; ok {
		return v, nil
	}
	return nil, fmt.Errorf("unknown vendor %q (known: %v)", name, r.Names())
}

// Names lists the registered vendor names, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.byName))
	for n := range r.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// SplitWindow cuts [start, end] into consecutive windows no longer than max
// (max <= 0 returns one window). Consecutive windows share their boundary
// second, so a record exactly on a boundary is fetched twice rather than never.
func SplitWindow(start, end time.Time, max time.Duration, timeType string) []Window {
	if !end.After(start) {
		return nil
	}
	if max <= 0 {
		return []Window{{Start: start, End: end, TimeType: timeType}}
	}
	var out []Window
	for s := start; s.Before(end); s = s.Add(max) {
		e := s.Add(max)
		if e.After(end) {
			e = end
		}
		out = append(out, Window{Start: s, End: e, TimeType: timeType})
	}
	return out
}

// Incremental is implemented by vendors whose records carry times the poller
// can window on. IncrementalTimeTypes lists the time types an incremental
// poll covers, each with its own checkpoint (douke: "update"; Taobao TOP:
// "pay" and "confirm", since it has no update-time filter). Vendors that do
// not implement it are snapshot sources: each run fetches everything once.
type Incremental interface {
	IncrementalTimeTypes() []string
}
