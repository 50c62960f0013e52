// Package poller is the first stage: it walks every page of a source's time
// windows through the source's vendor client and publishes each page, body
// byte-for-byte, to the RAW stream, retrying vendor calls and publishes with
// bounded jittered backoff. A window counts as done only when JetStream has
// acknowledged every one of its pages.
package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
)

// Config configures a Poller. New fills each zero field from DefaultConfig.
type Config struct {
	// Streams tunes the RAW stream this service owns.
	Streams    bus.StreamOptions
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// HTTPClient is shared by vendor clients (nil = 30 s timeout client).
	HTTPClient *http.Client
	// Now is the clock used for rolling windows and checkpoints (nil = time.Now).
	Now func() time.Time
	// Holder names this replica in checkpoints and leases (default the host name).
	Holder string
}

// DefaultConfig is the configuration of a Poller with every default value
// set: the wall clock, the host name as holder and slog.Default() (at the
// time it is called) as logger.
func DefaultConfig() Config {
	holder, _ := os.Hostname()
	return Config{Logger: slog.Default(), Now: time.Now, Holder: holder}
}

type metrics struct {
	pages, records *prometheus.CounterVec
	errors         *prometheus.CounterVec
	retries        prometheus.Counter
	lastSuccess    *prometheus.GaugeVec
	checkpointAge  *prometheus.GaugeVec
	skipped        *prometheus.CounterVec
	itemErrors     *prometheus.CounterVec
	unchanged      *prometheus.CounterVec
	oversize       *prometheus.CounterVec
}

func newMetrics(r prometheus.Registerer) *metrics {
	m := &metrics{
		pages:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_poller_pages_published_total", Help: "Raw pages acknowledged by JetStream, by source."}, []string{"source"}),
		records:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_poller_records_total", Help: "Vendor records in published pages, by source."}, []string{"source"}),
		errors:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_poller_poll_errors_total", Help: "Failed polls, by source."}, []string{"source"}),
		retries:     prometheus.NewCounter(prometheus.CounterOpts{Name: "yongjin_poller_retries_total", Help: "Retried vendor calls and RAW publishes."}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "yongjin_poller_last_success_timestamp_seconds", Help: "When each source last completed a poll."}, []string{"source"}),
		checkpointAge: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "yongjin_poller_checkpoint_age_seconds",
			Help: "How far each part's checkpoint lags behind the poller's clock after its last window."}, []string{"part"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_poller_skipped_seconds_total",
			Help: "Seconds of a part's range skipped because the vendor no longer serves them (see poller sources)."}, []string{"part"}),
		itemErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_poller_item_errors_total",
			Help: "Failed items of snapshot sources (an SPU, an author), by source and item; the other items flow."}, []string{"source", "item"}),
		unchanged: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_poller_pages_unchanged_total",
			Help: "Pages a look-back re-read found unchanged and did not store again, by source."}, []string{"source"}),
		oversize: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_poller_pages_too_large_total",
			Help: "Vendor pages above the NATS max payload, by source (retried with a smaller page size where the vendor has one)."}, []string{"source"}),
	}
	if r != nil {
		r.MustRegister(m.pages, m.records, m.errors, m.retries, m.lastSuccess, m.checkpointAge, m.skipped, m.itemErrors, m.unchanged, m.oversize)
	}
	return m
}

// ErrPageTooLarge is matched (errors.Is) by every *PageTooLargeError.
var ErrPageTooLarge = errors.New("raw page too large for NATS")

// PageTooLargeError is a vendor page whose RAW message would exceed the NATS
// max payload. The poller first walks the window again with half the page
// size; when the vendor has no page size or even one record is too large, the
// window fails with it. It is permanent (errors.Is client.ErrPermanent): the
// same page never fits; nothing is dropped silently.
type PageTooLargeError struct {
	// Size is the message size (body and headers), Limit the server's max payload, in bytes.
	Size, Limit int64
	// PageSize is the page size the page was requested with (0 = none).
	PageSize int
	Cursor   string
}

func (e *PageTooLargeError) Error() string {
	return fmt.Sprintf("%v: page %s is %d bytes, above the NATS max payload of %d bytes (page size %d; raise max_payload or lower page_size)",
		client.ErrPermanent, e.Cursor, e.Size, e.Limit, e.PageSize)
}

// Is matches ErrPageTooLarge and client.ErrPermanent.
func (e *PageTooLargeError) Is(target error) bool {
	return target == ErrPageTooLarge || target == client.ErrPermanent
}

// msgSize is the size msg takes against the NATS max payload: its data and
// its encoded headers, the de-duplication ID included.
func msgSize(msg *nats.Msg, msgID string) int64 {
	n := len(msg.Data) + len("NATS/1.0\r\n\r\n") + len(nats.MsgIdHdr) + len(msgID) + 4
	for k, vs := range msg.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return int64(n)
}

// Poller publishes vendor pages to RAW.
type Poller struct {
	js  jetstream.JetStream
	reg *vendors.Registry
	o   Config
	m   *metrics

	mu      sync.Mutex
	clients map[string]*http.Client // per vendor account: the shared rate budget
	items   map[string]*itemBackoff // per source and item: failing snapshot items
}

// itemBackoff is a failing snapshot item's state: it is left out of runs
// until next, which doubles away (up to maxItemBackoff) with every failure.
type itemBackoff struct {
	fails int
	next  time.Time
}

// maxItemBackoff caps how long a failing snapshot item is left out.
const maxItemBackoff = 24 * time.Hour

// New returns a Poller publishing through js.
func New(js jetstream.JetStream, reg *vendors.Registry, o Config) *Poller {
	d := DefaultConfig()
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Holder == "" {
		o.Holder = d.Holder
	}
	return &Poller{js: js, reg: reg, o: o, m: newMetrics(o.Registerer), clients: map[string]*http.Client{}, items: map[string]*itemBackoff{}}
}

// Provision creates or updates the RAW stream.
func (p *Poller) Provision(ctx context.Context) error {
	_, err := bus.EnsureStream(ctx, p.js, bus.RawStreamConfig(p.o.Streams))
	return err
}

// Stats counts what one poll published.
type Stats struct {
	Windows, Pages, Records int
	// Unchanged counts the pages a live part fetched but did not store again:
	// their fingerprint equals the one of a page JetStream acknowledged before.
	Unchanged int
}

// Poll polls src over [from, to] on the given vendor time type ("" = the
// source's configured one), split into windows the vendor accepts, and returns
// once every page is stored in RAW.
func (p *Poller) Poll(ctx context.Context, src Source, from, to time.Time, timeType string) (Stats, error) {
	return p.poll(ctx, src, from, to, timeType, nil)
}

// pageSkip lets a live part skip pages it stored before: partKey prefixes
// the page fingerprint keys in cps.
type pageSkip struct {
	cps     *checkpoint.Store
	partKey string
}

func (p *Poller) poll(ctx context.Context, src Source, from, to time.Time, timeType string, skip *pageSkip) (Stats, error) {
	var st Stats
	v, err := p.reg.Get(src.Vendor)
	if err != nil {
		return st, err
	}
	creds, err := src.ResolveCredentials()
	if err != nil {
		return st, err
	}
	httpClient, rps := p.o.HTTPClient, src.RatePerSecond
	if src.httpClient != nil {
		// the account's shared budget limits requests; the client core adds none
		httpClient, rps = src.httpClient, 1e9
	}
	newFetcher := func(pageSize int) (vendors.Fetcher, error) {
		f, err := v.NewFetcher(vendors.SourceConfig{
			BaseURL: src.BaseURL, Account: src.Account, Credentials: creds, Params: src.Params,
			PageSize: pageSize, HTTPClient: httpClient, RatePerSecond: rps,
			OnRetry: func(err error, wait time.Duration) {
				p.m.retries.Inc()
				p.o.Logger.Warn("vendor call failed, retrying", "source", src.Name, "retry_in", wait.String(), "err", err)
			},
		})
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src.Name, err)
		}
		return f, nil
	}
	f, err := newFetcher(src.PageSize)
	if err != nil {
		return st, err
	}
	limit := int64(-1)
	if nc := p.js.Conn(); nc != nil {
		limit = nc.MaxPayload()
	}
	if timeType == "" {
		timeType = src.Params["time_type"]
	}
	log := p.o.Logger.With("source", src.Name, "vendor", src.Vendor)
	for _, w := range vendors.SplitWindow(from, to, v.MaxWindow(), timeType) {
		tried := map[string]bool{}
		w.SkipItem = p.skipItem(src, tried)
		index := 0
		walk := func(ctx context.Context, pg vendors.Page) error {
			raw := events.RawPage{
				SourceID: src.Name, Vendor: v.Name(), Endpoint: v.Endpoint(), Account: src.Account,
				WindowStart: w.Start, WindowEnd: w.End, TimeType: w.TimeType, Cursor: pg.Cursor,
				HTTPStatus: pg.HTTPStatus, FetchedAt: p.o.Now().UTC(), Params: pg.Params, Body: pg.Body,
			}
			var fpKey, fp string
			if skip != nil {
				content := pg.Content
				if content == nil {
					content = pg.Body
				}
				fpKey, fp = checkpoint.PageKey(skip.partKey, w.Start, pg.PageSize, index), raw.Fingerprint(content)
				index++
				old, err := skip.cps.PageFingerprint(ctx, fpKey)
				if err != nil {
					log.Warn("page fingerprint unreadable; storing the page again", "err", err)
				}
				if old == fp {
					st.Unchanged++
					p.m.unchanged.WithLabelValues(src.Name).Inc()
					return nil
				}
			}
			msg := nats.NewMsg(raw.Subject())
			for k, val := range raw.Headers() {
				msg.Header.Set(k, val)
			}
			msg.Data = raw.Body
			if size := msgSize(msg, raw.MsgID()); limit > 0 && size > limit {
				return &PageTooLargeError{Size: size, Limit: limit, PageSize: pg.PageSize, Cursor: pg.Cursor}
			}
			if err := bus.PublishSync(ctx, p.js, msg, raw.MsgID(), func(error) { p.m.retries.Inc() }); err != nil {
				return fmt.Errorf("publish raw page %s: %w", pg.Cursor, err)
			}
			if fpKey != "" {
				// only now, after JetStream's ack: a crash before this line
				// stores the page again on the next run, never loses it
				if err := skip.cps.SetPageFingerprint(ctx, fpKey, fp); err != nil {
					log.Warn("page fingerprint not saved; the next run stores the page again", "err", err)
				}
			}
			st.Pages++
			st.Records += pg.Records
			p.m.pages.WithLabelValues(src.Name).Inc()
			p.m.records.WithLabelValues(src.Name).Add(float64(pg.Records))
			return nil
		}
		err := f.Walk(ctx, w, walk)
		// A page above the NATS payload limit: walk the window again with
		// half the page size while the vendor takes a smaller one.
		for tl := (*PageTooLargeError)(nil); errors.As(err, &tl) && tl.PageSize > 1; {
			smaller := tl.PageSize / 2
			log.Warn("raw page too large for NATS; walking the window again with a smaller page size",
				"from", w.Start, "to", w.End, "cursor", tl.Cursor, "bytes", tl.Size, "limit", tl.Limit, "page_size", smaller)
			p.m.oversize.WithLabelValues(src.Name).Inc()
			if f, err = newFetcher(smaller); err != nil {
				break
			}
			index, tried = 0, map[string]bool{}
			w.SkipItem = p.skipItem(src, tried)
			err = f.Walk(ctx, w, walk)
		}
		var items vendors.ItemErrors
		if errors.As(err, &items) || err == nil {
			p.itemsFailed(src, tried, items, log)
		}
		if err != nil {
			p.m.errors.WithLabelValues(src.Name).Inc()
			return st, fmt.Errorf("source %s window %s..%s: %w", src.Name, w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339), err)
		}
		st.Windows++
		log.Info("window polled", "from", w.Start, "to", w.End, "time_type", w.TimeType, "pages", st.Pages, "records", st.Records, "unchanged", st.Unchanged)
	}
	p.m.lastSuccess.WithLabelValues(src.Name).SetToCurrentTime()
	return st, nil
}

// skipItem says which items of src's snapshot walk are backing off; it
// records in tried the items it let through.
func (p *Poller) skipItem(src Source, tried map[string]bool) func(string) bool {
	now := time.Now()
	return func(item string) bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		b := p.items[src.Name+"\x00"+item]
		if b != nil && now.Before(b.next) {
			return true
		}
		tried[item] = true
		return false
	}
}

// itemsFailed records the failed items of a snapshot walk: each is logged,
// counted, and left out of later runs for interval × 2^(failures-1) (at most
// maxItemBackoff), then tried again. Items not named here that were tried
// are healthy again.
func (p *Poller) itemsFailed(src Source, tried map[string]bool, items vendors.ItemErrors, log *slog.Logger) {
	interval := src.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	failed := map[string]bool{}
	for _, ie := range items {
		failed[ie.Item] = true
	}
	for item := range tried {
		if !failed[item] {
			delete(p.items, src.Name+"\x00"+item)
		}
	}
	for _, ie := range items {
		k := src.Name + "\x00" + ie.Item
		b := p.items[k]
		if b == nil {
			b = &itemBackoff{}
			p.items[k] = b
		}
		b.fails++
		wait := interval << min(b.fails-1, 20)
		if wait > maxItemBackoff || wait <= 0 {
			wait = maxItemBackoff
		}
		b.next = time.Now().Add(wait)
		p.m.itemErrors.WithLabelValues(src.Name, ie.Item).Inc()
		log.Error("item failed; the source's other items flow", "item", ie.Item, "failures", b.fails, "retry_after", wait.String(), "err", ie.Err)
	}
}

// Range is the range a source polls now: its fixed window, or the rolling
// [now-Lookback, now].
func (p *Poller) Range(src Source) (time.Time, time.Time, error) {
	if src.Window != nil {
		return src.Window.Range()
	}
	now := p.o.Now().UTC().Truncate(time.Second)
	return now.Add(-src.Lookback), now, nil
}

// RunOnce polls every source once over its range, concurrently, and returns
// the joined errors.
func (p *Poller) RunOnce(ctx context.Context, srcs []Source) error {
	var wg sync.WaitGroup
	errs := make([]error, len(srcs))
	for i, src := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from, to, err := p.Range(src)
			if err == nil {
				var st Stats
				st, err = p.Poll(ctx, src, from, to, "")
				p.o.Logger.Info("source polled", "source", src.Name, "windows", st.Windows, "pages", st.Pages, "records", st.Records, "ok", err == nil)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
