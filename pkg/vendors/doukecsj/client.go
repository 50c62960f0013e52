package doukecsj

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// DefaultBaseURL is veapi's production base URL (plain HTTP only).
const DefaultBaseURL = douke.DefaultBaseURL

// Path is the csj_ordersearch path, appended to the base URL.
const Path = "/douke/csj_ordersearch"

// MaxPageSize is the largest size csj_ordersearch accepts (and the default).
const MaxPageSize = 50

// CredVekey is the SourceConfig.Credentials key of veapi's API key (required).
const CredVekey = "vekey"

// RefreshLag is how far behind now veapi's order data may be ("updated
// every 10 seconds"): an update-time window ends at least this long before
// now, so an order changed in the last seconds is read by a later poll
// rather than skipped past.
const RefreshLag = 10 * time.Second

// MaxPages bounds the pages of one Walk.
const MaxPages = 50_000

// Fetcher walks the csj_ordersearch cursor pages of one time window for one
// account. It implements vendors.Fetcher; it is immutable after NewFetcher,
// so concurrent Walks are safe.
type Fetcher struct {
	core     *client.Core
	endpoint string
	// base holds the vekey and the validated static parameters.
	base      url.Values
	timeType  string
	unixTimes bool
	size      int
	now       func() time.Time
	maxPages  int
}

// NewFetcher validates cfg and returns a Fetcher.
//
//   - BaseURL: default DefaultBaseURL; Path is appended.
//   - Credentials: "vekey" (required); any other name is rejected.
//   - Params: time_type (pay|update; a Window's TimeType overrides it),
//     order_type (0 all | 1 product | 2 live room | 3 activity), order_ids
//     (1 to 10 comma-separated IDs of [0-9A-Za-z_-]; veapi then ignores the
//     window), time_format (datetime, the default: "2006-01-02 15:04:05"
//     CST, | unix: Unix seconds). Empty values and unknown names are rejected.
//   - PageSize: 0 means MaxPageSize; otherwise 1..MaxPageSize.
//
// Errors name the offending setting but never contain the vekey.
func NewFetcher(cfg vendors.SourceConfig) (*Fetcher, error) { return fetcherWith(cfg, nil) }

// fetcherWith is NewFetcher with test hooks (nil: production); Now is the
// clock of the refresh lag.
func fetcherWith(cfg vendors.SourceConfig, h *client.Hooks) (*Fetcher, error) {
	f := &Fetcher{base: url.Values{}, now: h.Clock(), maxPages: MaxPages}
	creds, secrets, err := client.Credentials(Name, cfg.Credentials, []string{CredVekey}, nil)
	if err != nil {
		return nil, err
	}
	f.base.Set(CredVekey, creds[CredVekey])
	if f.endpoint, err = client.EndpointURL(Name, cfg.BaseURL, DefaultBaseURL, Path, secrets...); err != nil {
		return nil, err
	}
	if f.size, err = client.PageSize(Name, cfg.PageSize, MaxPageSize); err != nil {
		return nil, err
	}
	known := []string{"time_type", "order_type", "order_ids", "time_format"}
	if err := client.Params(Name, cfg.Params, known, f.setParam); err != nil {
		return nil, errors.New(client.Redact(err.Error(), secrets...))
	}
	f.core = h.Core(client.Config{HTTPClient: cfg.HTTPClient, Secrets: secrets, RatePerSecond: cfg.RatePerSecond, OnRetry: cfg.OnRetry})
	return f, nil
}

// setParam validates one configured parameter into f.
func (f *Fetcher) setParam(name, v string) error {
	switch name {
	case "time_type":
		if v != "pay" && v != "update" {
			return fmt.Errorf("%q: want pay or update", v)
		}
		f.timeType = v
	case "order_type":
		if len(v) != 1 || v[0] < '0' || v[0] > '3' {
			return fmt.Errorf("%q: want 0, 1, 2 or 3", wire.Clip(v, 40))
		}
		f.base.Set(name, v)
	case "time_format":
		if v != "datetime" && v != "unix" {
			return fmt.Errorf("%q: want datetime or unix", wire.Clip(v, 40))
		}
		f.unixTimes = v == "unix"
	case "order_ids":
		parts := strings.Split(v, ",")
		if len(parts) > 10 {
			return fmt.Errorf("%d order IDs: at most 10", len(parts))
		}
		for i, p := range parts {
			if parts[i] = strings.TrimSpace(p); !wire.ValidKey(parts[i]) {
				return fmt.Errorf("order ID %d %q: want a non-empty [0-9A-Za-z_-] ID", i+1, wire.Clip(parts[i], 40))
			}
		}
		f.base.Set(name, strings.Join(parts, ","))
	}
	return nil
}

// Walk fetches every page of w in cursor order and calls emit for each page
// whose envelope reported success (empty pages included); only the envelope
// and data.cursor are decoded (douke.DecodeAnswer).
//
// The window is checked first (after truncation to whole seconds): time
// type pay or update (w.TimeType, else the configured time_type, else pay),
// end not before start, at most MaxWindow long; a violation returns an
// error wrapping client.ErrPermanent without any request. An update-time
// window's end is then kept RefreshLag behind now; a window that lies
// wholly within the lag is not requested (nil: nothing is visible yet).
//
// Paging: the first request sends cursor "0", each next one the data.cursor
// of the previous answer, until an answer's cursor is "". A cursor sent
// before (a cycle) or more than MaxPages pages fail with
// client.ErrPermanent. Errors are wrapped as "douke-csj page <cursor>: …"
// and never contain the vekey; veapi's answers are classified by
// douke.Faults.
func (f *Fetcher) Walk(ctx context.Context, w vendors.Window, emit func(context.Context, vendors.Page) error) error {
	q, err := f.windowQuery(w)
	if err != nil || q == nil {
		return err
	}
	cursor := "0"
	sent := map[string]bool{}
	for pages := 1; ; pages++ {
		sent[cursor] = true
		a, resp, err := f.fetch(ctx, q, cursor)
		if err != nil {
			return fmt.Errorf("%s page %s: %w", Name, cursor, err)
		}
		p := vendors.Page{Cursor: cursor, HTTPStatus: resp.Status, Body: resp.Body, Records: a.Records, PageSize: f.size,
			Content: append([]byte(a.Page.Cursor+"\x00"), a.Orders...)}
		if err := emit(ctx, p); err != nil {
			return fmt.Errorf("%s page %s: emit: %w", Name, cursor, err)
		}
		next := strings.TrimSpace(a.Page.Cursor)
		switch {
		case next == "":
			return nil
		case sent[next]:
			return fmt.Errorf("%s page %s: %w: the answer's cursor %q was sent before", Name, cursor, client.ErrPermanent, wire.Clip(next, 40))
		case pages >= f.maxPages:
			return fmt.Errorf("%s page %s: %w: paging did not end after %d pages (split the window)", Name, cursor, client.ErrPermanent, f.maxPages)
		}
		cursor = next
	}
}

// windowQuery validates w and returns the query of its first page without
// cursor, or nil when the window lies within the refresh lag.
func (f *Fetcher) windowQuery(w vendors.Window) (url.Values, error) {
	tt := w.TimeType
	if tt == "" {
		tt = f.timeType
	}
	if tt == "" {
		tt = "pay"
	}
	if tt != "pay" && tt != "update" {
		return nil, fmt.Errorf("%s window: %w: time type %q: want pay or update", Name, client.ErrPermanent, wire.Clip(tt, 40))
	}
	s, e := w.Start.Truncate(time.Second), w.End.Truncate(time.Second)
	show := func(t time.Time) string { return t.In(wire.CST).Format(wire.TimeLayout) }
	if e.Before(s) {
		return nil, fmt.Errorf("%s window: %w: end %s is before start %s", Name, client.ErrPermanent, show(e), show(s))
	}
	if e.Sub(s) > MaxWindow {
		return nil, fmt.Errorf("%s window: %w: %s to %s spans more than %s (split it with vendors.SplitWindow)",
			Name, client.ErrPermanent, show(s), show(e), MaxWindow)
	}
	if latest := f.now().Add(-RefreshLag).Truncate(time.Second); tt == "update" && e.After(latest) {
		if e = latest; e.Before(s) {
			return nil, nil
		}
	}
	q := url.Values{}
	for k, v := range f.base {
		q[k] = append([]string(nil), v...)
	}
	q.Set("size", strconv.Itoa(f.size))
	q.Set("time_type", tt)
	if f.unixTimes {
		q.Set("start_time", strconv.FormatInt(s.Unix(), 10))
		q.Set("end_time", strconv.FormatInt(e.Unix(), 10))
	} else {
		q.Set("start_time", show(s))
		q.Set("end_time", show(e))
	}
	return q, nil
}

// fetch requests one page through the kit's fetch step.
func (f *Fetcher) fetch(ctx context.Context, q url.Values, cursor string) (douke.Answer, client.Response, error) {
	return client.Fetch(ctx, f.core, client.GetQuery(f.endpoint, q, "cursor", cursor), douke.DecodeAnswer, classifyAnswer)
}

// classifyAnswer is the taxonomy csj_ordersearch answers are classified by
// (veapi's, douke.Faults).
func classifyAnswer(err error) error { return douke.Faults.Classify(err) }
