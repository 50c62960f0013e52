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
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
)

// Window is one query window of a source: [Start, End] filtered on the vendor
// time named by TimeType ("pay", "update", ...; vendor-specific).
type Window struct {
	Start    time.Time
	End      time.Time
	TimeType string
	// SkipItem, if set, tells a snapshot fetcher to leave an item (an SPU, an
	// author) out of this walk: the poller backs off items that kept failing.
	SkipItem func(item string) bool
}

// ItemError is one item of a snapshot source (an SPU, an author and period)
// whose pages could not be fetched; the walk went on with the other items.
type ItemError struct {
	// Item is the item's ID as the fetcher's SkipItem sees it.
	Item string
	Err  error
}

// Error is the item's error (the fetchers' errors name the item already).
func (e ItemError) Error() string { return e.Err.Error() }

// Unwrap returns the item's error.
func (e ItemError) Unwrap() error { return e.Err }

// ItemErrors is what a snapshot fetcher's Walk returns when some items failed
// on their own while every other item was walked and emitted. errors.Is sees
// each item's error (client.ErrPermanent, ...).
type ItemErrors []ItemError

// Error lists the failed items (the first three in full).
func (e ItemErrors) Error() string {
	if len(e) == 1 {
		return e[0].Error()
	}
	msg := fmt.Sprintf("%d items failed", len(e))
	for i, ie := range e {
		if i == 3 {
			msg += fmt.Sprintf("; and %d more", len(e)-3)
			break
		}
		msg += "; " + ie.Error()
	}
	return msg
}

// Unwrap returns each item's error.
func (e ItemErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, ie := range e {
		out[i] = ie
	}
	return out
}

// ItemFails reports whether err, returned while fetching one item of a
// snapshot source, is that item's own failure (the walk goes on with the next
// item) rather than one every item would hit (unauthorized, rate limited
// beyond the retries, shutdown, a failed publish), which ends the walk.
func ItemFails(ctx context.Context, err error) bool {
	return ctx.Err() == nil && !errors.Is(err, client.ErrUnauthorized) && !errors.Is(err, client.ErrRateLimited) && !errors.Is(err, ErrEmit)
}

// ErrEmit marks an error returned by a Walk's emit callback (the poller could
// not store a page): it ends the walk whatever the source kind.
var ErrEmit = errors.New("emit")

// Page is one vendor response page as fetched: the cursor (or page number)
// that was requested, the HTTP status and the body byte-for-byte.
type Page struct {
	Cursor     string
	HTTPStatus int
	Body       []byte
	// Records is how many records the page held (for progress and metrics).
	Records int
	// Content is the part of Body that carries the data (records and
	// paging), without per-request noise such as request IDs; the poller
	// fingerprints it to skip pages a look-back re-read finds unchanged
	// (nil = the whole Body).
	Content []byte
	// PageSize is the page size the page was requested with (0 = the vendor
	// has no page size parameter); the poller asks again with a smaller one
	// when a page is too large to publish.
	PageSize int
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
// not implement it, or list no time types (a Spec without
// IncrementalTimeTypes), are snapshot sources: each run fetches everything
// once.
type Incremental interface {
	IncrementalTimeTypes() []string
}

// Horizon is implemented by vendors that serve nothing before a fixed time
// (douke: 2021-10-01 CST). The poller skips the part of a range before
// Earliest loudly instead of failing on it; a zero Earliest is no horizon.
type Horizon interface {
	Earliest() time.Time
}

// WalkItems is the Walk of a snapshot source over items (SPUs, authors):
// walk is called for each item in order except those w.SkipItem leaves
// out. An item whose walk fails on its own (ItemFails) is recorded and the
// walk goes on; the failures come back as ItemErrors. An error every item
// would hit ends the walk at once and is returned as it is.
func WalkItems(ctx context.Context, items []string, w Window, walk func(ctx context.Context, item string) error) error {
	var failed ItemErrors
	for _, item := range items {
		if w.SkipItem != nil && w.SkipItem(item) {
			continue
		}
		err := walk(ctx, item)
		if err == nil {
			continue
		}
		if !ItemFails(ctx, err) {
			return err
		}
		failed = append(failed, ItemError{Item: item, Err: err})
	}
	if len(failed) > 0 {
		return failed
	}
	return nil
}
