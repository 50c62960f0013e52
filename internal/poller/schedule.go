package poller

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/cli"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// Part is one independently checkpointed stream of windows of a source: a
// vendor time type ("update", "pay", "confirm"), or "" for snapshot sources.
type Part struct {
	Source   Source
	TimeType string
	// Snapshot parts fetch everything once per run, without windows.
	Snapshot bool
}

// Key is the part's checkpoint and lease key.
func (p Part) Key() string { return checkpoint.Key(p.Source.Name, p.TimeType) }

// Parts lists the checkpointed parts of src: one per incremental time type
// of its vendor (a configured params.time_type narrows it to that one), or a
// single snapshot part.
func (p *Poller) Parts(src Source) ([]Part, error) {
	v, err := p.reg.Get(src.Vendor)
	if err != nil {
		return nil, err
	}
	inc, ok := v.(vendors.Incremental)
	if !ok || len(inc.IncrementalTimeTypes()) == 0 {
		return []Part{{Source: src, Snapshot: true}}, nil
	}
	if tt := src.Params["time_type"]; tt != "" {
		return []Part{{Source: src, TimeType: tt}}, nil
	}
	var out []Part
	for _, tt := range inc.IncrementalTimeTypes() {
		out = append(out, Part{Source: src, TimeType: tt})
	}
	return out, nil
}

// windowSize is the longest window of one query for src.
func (p *Poller) windowSize(src Source) time.Duration {
	max := 7 * 24 * time.Hour
	if v, err := p.reg.Get(src.Vendor); err == nil && v.MaxWindow() > 0 {
		max = v.MaxWindow()
	}
	if src.WindowSize > 0 && src.WindowSize < max {
		return src.WindowSize
	}
	return max
}

// accountClient returns the HTTP client shared by every source of one
// vendor account: its transport waits on the account's rate budget (the
// smallest rate_per_second among the account's sources), so sources of one
// account never exceed it together.
func (p *Poller) accountClient(src Source, all []Source) *http.Client {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := src.Vendor + "/" + src.Account
	if c, ok := p.clients[key]; ok {
		return c
	}
	r := src.RatePerSecond
	for _, s := range all {
		if s.Vendor == src.Vendor && s.Account == src.Account && s.RatePerSecond > 0 && s.RatePerSecond < r {
			r = s.RatePerSecond
		}
	}
	base := p.o.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: 30 * time.Second}
	}
	transport := base.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	c := &http.Client{Timeout: base.Timeout, Transport: &budgetTransport{base: transport, limiter: rate.NewLimiter(rate.Limit(r), 1)}}
	p.clients[key] = c
	return c
}

type budgetTransport struct {
	base    http.RoundTripper
	limiter *rate.Limiter
}

func (t *budgetTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := t.limiter.Wait(r.Context()); err != nil {
		return nil, err
	}
	return t.base.RoundTrip(r)
}

// Progress is reported after every window of a part.
type Progress struct {
	Part           Part
	WindowsDone    int
	WindowsTotal   int
	Pages, Records int
	Position       time.Time
	Started, Now   time.Time
}

// RunPart polls one part from its checkpoint (minus the look-back when
// lookback is set) to now, window by window, however old the checkpoint is,
// advancing the checkpoint with compare-and-swap after each window whose
// pages JetStream acknowledged. Without a checkpoint the part starts at start,
// or at now minus the look-back when start is zero; a non-zero start also
// bounds an older checkpoint from below. A range the vendor no longer serves
// (vendors.Horizon) is skipped loudly: an error log naming it, the
// yongjin_poller_skipped_seconds_total metric and the checkpoint's Skipped
// field (`poller sources`). key overrides the checkpoint key (backfills keep
// their own); to zero means now. report may be nil.
func (p *Poller) RunPart(ctx context.Context, cps *checkpoint.Store, part Part, key string, start, to time.Time, lookback bool, report func(Progress)) (Stats, error) {
	var st Stats
	if key == "" {
		key = part.Key()
	}
	cp, err := cps.Get(ctx, key)
	if err != nil {
		return st, err
	}
	save := func(mut func(*checkpoint.Checkpoint)) error {
		for attempt := 0; ; attempt++ {
			mut(&cp)
			cp.Holder = p.o.Holder
			saved, err := cps.Save(ctx, key, cp)
			if err == nil {
				cp = saved
				return nil
			}
			if !errors.Is(err, checkpoint.ErrConflict) || attempt > 3 {
				return err
			}
			// someone else wrote it (an operator, a previous holder): re-read and
			// never move the position backwards
			fresh, gerr := cps.Get(ctx, key)
			if gerr != nil {
				return gerr
			}
			pos := cp.Position
			cp = fresh
			if pos.After(cp.Position) {
				cp.Position = pos
			}
		}
	}
	now := p.o.Now().UTC().Truncate(time.Second)
	if to.IsZero() || to.After(now) {
		to = now
	}
	// A part resumes from its checkpoint (minus the look-back) however old it
	// is: clamping to now-lookback would silently skip what an outage longer
	// than the look-back missed. start only bounds a part from below when it
	// was given (a configured start, a backfill's range).
	from := start
	if !cp.Position.IsZero() {
		from = cp.Position
		if lookback {
			from = from.Add(-part.Source.Lookback)
		}
		if !start.IsZero() && from.Before(start) {
			from = start
		}
	}
	if from.IsZero() {
		from = now.Add(-part.Source.Lookback)
	}
	if lag := now.Sub(from); !part.Snapshot && lookback && lag > part.Source.Lookback+max(2*part.Source.Interval, time.Hour) {
		p.o.Logger.Warn("part resumes behind its look-back: catching up window by window",
			"part", key, "from", from.Format(time.RFC3339), "to", to.Format(time.RFC3339), "behind", lag.Round(time.Second).String())
	}
	var skipped string
	floor := start // never below a given start or the vendor's horizon
	if h := p.horizon(part); h.After(floor) {
		floor = h
	}
	if from, skipped = p.clampToHorizon(part, key, from, to); skipped != "" {
		if err := save(func(c *checkpoint.Checkpoint) { c.Skipped, c.SkippedAt = skipped, time.Now().UTC() }); err != nil {
			return st, err
		}
	}
	var windows []vendors.Window
	var skip *pageSkip
	switch {
	case part.Snapshot:
		windows = []vendors.Window{{Start: from, End: to}}
	case lookback:
		// A live part re-reads its look-back every run: windows on a fixed
		// grid give every page the same window start each time, so a page
		// whose content did not change is recognised by its fingerprint and
		// not stored again.
		// What lies before the look-back (a catch-up after an outage) is
		// read once: it is walked in the vendor's largest windows.
		grid := min(p.windowSize(part.Source), max(liveGrid, part.Source.Lookback/8))
		split := gridFloor(to.Add(-part.Source.Lookback-grid), grid)
		if split.After(from) {
			windows = vendors.SplitWindow(from, split, p.windowSize(part.Source), part.TimeType)
			from, floor = split, split
		}
		windows = append(windows, alignedWindows(from, to, floor, grid, part.TimeType)...)
		skip = &pageSkip{cps: cps, partKey: key}
	default:
		windows = vendors.SplitWindow(from, to, p.windowSize(part.Source), part.TimeType)
	}
	started := time.Now()
	for i, w := range windows {
		ws, err := p.poll(ctx, part.Source, w.Start, w.End, part.TimeType, skip)
		st.Windows += ws.Windows
		st.Pages += ws.Pages
		st.Records += ws.Records
		st.Unchanged += ws.Unchanged
		if err != nil {
			_ = save(func(c *checkpoint.Checkpoint) { c.LastError, c.LastErrorAt = err.Error(), time.Now().UTC() })
			return st, err
		}
		if err := save(func(c *checkpoint.Checkpoint) {
			if w.End.After(c.Position) {
				c.Position = w.End
			}
		}); err != nil {
			return st, err
		}
		p.m.checkpointAge.WithLabelValues(key).Set(p.o.Now().Sub(cp.Position).Seconds())
		if report != nil {
			report(Progress{Part: part, WindowsDone: i + 1, WindowsTotal: len(windows), Pages: st.Pages, Records: st.Records,
				Position: w.End, Started: started, Now: time.Now()})
		}
	}
	err = save(func(c *checkpoint.Checkpoint) {
		c.LastSuccess, c.LastError, c.LastErrorAt = time.Now().UTC(), "", time.Time{}
		c.NextRun = time.Now().UTC().Add(part.Source.Interval)
		if part.Snapshot && to.After(c.Position) {
			c.Position = to
		}
	})
	return st, err
}

// liveGrid is the shortest grid step of a live part: its windows lie on a
// grid of step min(window size, max(liveGrid, lookback/8)), counted from the
// Unix epoch, so a 72 h look-back is read in daily windows and a long one
// (Taobao's refund horizon) in about eight, as many requests as before.
const liveGrid = 24 * time.Hour

// gridFloor is the multiple of step (counted from the Unix epoch) at or
// before t.
func gridFloor(t time.Time, step time.Duration) time.Time {
	epoch := time.Unix(0, 0).UTC()
	d := t.UTC().Sub(epoch)
	q := d / step * step
	if q > d {
		q -= step
	}
	return epoch.Add(q)
}

// alignedWindows cuts [from, to] at the multiples of step (from the Unix
// epoch): the first window starts at the grid line at or before from (but
// not before floor, a fixed lower bound such as a configured start or the
// vendor's horizon), so a range that moves on by a few minutes per run keeps
// its window starts.
func alignedWindows(from, to, floor time.Time, step time.Duration, timeType string) []vendors.Window {
	if !to.After(from) || step <= 0 {
		return nil
	}
	start := gridFloor(from, step)
	if start.Before(floor) {
		start = floor
	}
	var out []vendors.Window
	for s := start; s.Before(to); s = s.Add(step) {
		e := s.Add(step)
		if e.After(to) {
			e = to
		}
		out = append(out, vendors.Window{Start: s, End: e, TimeType: timeType})
	}
	return out
}

// horizon is the earliest time part's vendor serves (zero when unlimited).
func (p *Poller) horizon(part Part) time.Time {
	v, err := p.reg.Get(part.Source.Vendor)
	if err != nil {
		return time.Time{}
	}
	if h, ok := v.(vendors.Horizon); ok {
		return h.Earliest().UTC()
	}
	return time.Time{}
}

// clampToHorizon moves from up to the vendor's horizon when the vendor
// serves nothing before it, and reports the skipped range ("" when none).
func (p *Poller) clampToHorizon(part Part, key string, from, to time.Time) (time.Time, string) {
	earliest := p.horizon(part)
	if !from.Before(earliest) {
		return from, ""
	}
	v, _ := p.reg.Get(part.Source.Vendor)
	end := earliest
	if to.Before(end) {
		end = to
	}
	skipped := fmt.Sprintf("%s..%s (%s serves nothing before %s)", from.UTC().Format(time.RFC3339), end.Format(time.RFC3339),
		v.Name(), earliest.Format(time.RFC3339))
	p.o.Logger.Error("range skipped: the vendor no longer serves it", "part", key, "from", from.UTC().Format(time.RFC3339),
		"to", end.Format(time.RFC3339), "vendor", v.Name())
	p.m.skipped.WithLabelValues(key).Add(end.Sub(from).Seconds())
	return end, skipped
}

// Scheduler runs every part of every source at its interval, holding a lease
// per part so that of several replicas exactly one polls it at a time.
type Scheduler struct {
	P           *Poller
	Checkpoints *checkpoint.Store
	// Leases may be nil (a single replica).
	Leases *checkpoint.Leases
	// OnPoll, if set, is told about every finished run of a part.
	OnPoll func(Part, Stats, error)
}

// Run polls until ctx ends; then it releases its leases and returns.
func (s *Scheduler) Run(ctx context.Context, srcs []Source) error {
	var parts []Part
	for _, src := range srcs {
		ps, err := s.P.Parts(src)
		if err != nil {
			return err
		}
		parts = append(parts, ps...)
	}
	var wg sync.WaitGroup
	for _, part := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.loop(ctx, part, srcs)
		}()
	}
	wg.Wait()
	return nil
}

func (s *Scheduler) loop(ctx context.Context, part Part, all []Source) {
	log := s.P.o.Logger.With("source", part.Source.Name, "part", part.TimeType)
	src := part.Source
	src.httpClient = s.P.accountClient(src, all)
	part.Source = src
	for ctx.Err() == nil {
		var lease *checkpoint.Lease
		if s.Leases != nil {
			l, err := s.Leases.Acquire(ctx, part.Key())
			if err != nil {
				if !errors.Is(err, checkpoint.ErrConflict) {
					log.Warn("lease", "err", err)
				}
				sleepCtx(ctx, s.Leases.TTL()/3)
				continue
			}
			lease = l
			log.Info("lease acquired")
		}
		s.holdAndPoll(ctx, part, lease)
	}
}

// holdAndPoll polls part at its interval while the lease (if any) is held.
func (s *Scheduler) holdAndPoll(ctx context.Context, part Part, lease *checkpoint.Lease) {
	log := s.P.o.Logger.With("source", part.Source.Name, "part", part.TimeType)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	renewed := make(chan struct{})
	if lease != nil {
		go func() {
			defer close(renewed)
			t := time.NewTicker(s.Leases.TTL() / 3)
			defer t.Stop()
			for {
				select {
				case <-pctx.Done():
					rctx, rc := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
					_ = s.Leases.Release(rctx, lease)
					rc()
					return
				case <-t.C:
					if err := s.Leases.Renew(pctx, lease); err != nil && pctx.Err() == nil {
						log.Warn("lease lost; stopping this part", "err", err)
						cancel()
						return
					}
				}
			}
		}()
	} else {
		close(renewed)
	}
	// Without a configured start, RunPart starts a part that has no
	// checkpoint at now-lookback and never clamps an existing checkpoint.
	start := time.Time{}
	if part.Source.Start != "" {
		start, _ = cli.ParseOperatorTime(part.Source.Start)
	}
	for pctx.Err() == nil {
		st, err := s.P.RunPart(pctx, s.Checkpoints, part, "", start, time.Time{}, true, nil)
		if s.OnPoll != nil {
			s.OnPoll(part, st, err)
		}
		if err != nil && pctx.Err() == nil {
			log.Error("poll failed", "err", err)
		}
		jitter := time.Duration((rand.Float64()*0.2 - 0.1) * float64(part.Source.Interval))
		sleepCtx(pctx, part.Source.Interval+jitter)
	}
	cancel()
	<-renewed
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// BackfillKey is the checkpoint key of a backfill of part over [from, to]:
// its own, so a backfill never moves the live checkpoint, and the same
// command resumes where it stopped.
func BackfillKey(part Part, from, to time.Time) string {
	return checkpoint.Key("backfill-"+part.Source.Name, fmt.Sprintf("%s-%d-%d", part.TimeType, from.Unix(), to.Unix()))
}
