package poller_test

import (
	"strings"

	"context"
	"github.com/prometheus/client_golang/prometheus"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// TestCase1GapAfterLongOutage: everything paid is polled once and the douke
// update checkpoint set to that moment; then the poller is down for 5 days
// (the sandbox clock moves on: orders are received, settled, refunded) with a
// 72 h look-back and no configured start. When it comes back, the part must
// resume from its checkpoint minus the look-back, however old, so ClickHouse
// equals the sandbox truth for the whole 5 days.
func TestCase1GapAfterLongOutage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st := startStack(t, 1500, sandbox.Faults{}, "douke")
	clock := st.Sandbox.Clock()
	if _, err := st.PollInitial(ctx, payFrom, clock.Now()); err != nil {
		t.Fatal(err)
	}
	cps, err := checkpoint.Open(ctx, st.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	src := stackSource(t, st, "douke")
	src.Start, src.Lookback, src.Interval, src.WindowSize = "", 72*time.Hour, 50*time.Millisecond, 24*time.Hour
	p := poller.New(st.JS, st.Registry, poller.Config{Now: clock.Now, Holder: "case1"})
	parts, err := p.Parts(src)
	if err != nil || len(parts) != 1 {
		t.Fatalf("parts %v, %v", parts, err)
	}
	key := parts[0].Key()
	if _, err := cps.Save(ctx, key, checkpoint.Checkpoint{Position: clock.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	assertMatchesTruth(t, ctx, st)

	clock.Advance(5 * 24 * time.Hour) // every replica down for 5 days
	now := clock.Now()
	runScheduler(t, st, p, cps, []poller.Source{src})
	cp := waitCheckpoint(t, ctx, cps, key, now, true)
	if cp.LastError != "" {
		t.Fatalf("last error %q", cp.LastError)
	}
	assertMatchesTruth(t, ctx, st)
}

// TestCase1SkipsOnlyWhatTheVendorNoLongerServes: a checkpoint older than
// douke's horizon (nothing before 2021-10-01 CST) is walked from the horizon
// on in windows veapi accepts; the range before it is skipped loudly: the
// checkpoint names it (`poller sources` shows it) and a metric counts it.
func TestCase1SkipsOnlyWhatTheVendorNoLongerServes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st := startStack(t, 300, sandbox.Faults{}, "douke")
	clock := st.Sandbox.Clock()
	cps, err := checkpoint.Open(ctx, st.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	p := poller.New(st.JS, st.Registry, poller.Config{Now: clock.Now, Holder: "case1", Registerer: reg})
	src := stackSource(t, st, "douke")
	src.Start, src.Lookback = "", 72*time.Hour
	parts, err := p.Parts(src)
	if err != nil {
		t.Fatal(err)
	}
	key := parts[0].Key()
	old := time.Date(2021, 9, 20, 0, 0, 0, 0, time.UTC)
	if _, err := cps.Save(ctx, key, checkpoint.Checkpoint{Position: old}); err != nil {
		t.Fatal(err)
	}
	stats, err := p.RunPart(ctx, cps, parts[0], "", time.Time{}, time.Time{}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	horizon := time.Date(2021, 10, 1, 0, 0, 0, 0, wire.CST)
	// 90-day windows from the horizon up to the look-back, daily ones in it
	if most := int(clock.Now().Sub(horizon)/(90*24*time.Hour)) + 1 + 5; stats.Windows > most {
		t.Errorf("%d windows, want at most %d (90-day windows from the horizon to the look-back)", stats.Windows, most)
	}
	cp, err := cps.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	wantSkip := old.Add(-72*time.Hour).Format(time.RFC3339) + ".." + horizon.UTC().Format(time.RFC3339)
	if !strings.HasPrefix(cp.Skipped, wantSkip) || cp.LastError != "" || !cp.Position.Equal(clock.Now().UTC()) {
		t.Errorf("checkpoint %+v: want skipped %s..., position %s, no error", cp, wantSkip, clock.Now().UTC())
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var skipped float64
	for _, mf := range mfs {
		if mf.GetName() == "yongjin_poller_skipped_seconds_total" {
			skipped = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if want := horizon.Sub(old.Add(-72 * time.Hour)).Seconds(); skipped != want {
		t.Errorf("skipped metric %v, want %v", skipped, want)
	}
	assertMatchesTruth(t, ctx, st)
}
