package poller_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/devstack"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
)

// TestCase8LookbackRepollsStoreNothingNew: after everything paid is polled
// once, a live douke part (72 h look-back, 5-minute interval) is run for 24
// simulated hours (288 runs) while the vendor's data does not change. RAW and
// EVENTS must grow by less than 1% of what the first live poll stored. Then
// the vendor's data moves on (orders received, settled, refunded) and one
// more run must bring ClickHouse to the sandbox truth: a changed order still
// arrives within one interval. The test logs the bytes per order each stream
// stores (docs/OPERATIONS.md quotes them).
func TestCase8LookbackRepollsStoreNothingNew(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	const orders = 3000
	st := startStack(t, orders, sandbox.Faults{}, "douke")
	sbClock := st.Sandbox.Clock()
	var mu sync.Mutex
	now := sbClock.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	if _, err := st.PollInitial(ctx, payFrom, now); err != nil {
		t.Fatal(err)
	}
	if err := st.WaitCaughtUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
	raw0, ev0 := streamBytes(t, ctx, st, bus.RawStream), streamBytes(t, ctx, st, bus.EventsStream)
	t.Logf("initial poll of %d orders: RAW %d bytes (%.0f per order), EVENTS %d bytes (%.0f per order)",
		orders, raw0, float64(raw0)/orders, ev0, float64(ev0)/orders)

	cps, err := checkpoint.Open(ctx, st.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := poller.New(st.JS, st.Registry, poller.Config{Now: clock, Holder: "case8"})
	src := stackSource(t, st, "douke")
	src.Start, src.Lookback, src.Interval = "", 72*time.Hour, 5*time.Minute
	parts, err := p.Parts(src)
	if err != nil {
		t.Fatal(err)
	}
	run := func() poller.Stats {
		t.Helper()
		s, err := p.RunPart(ctx, cps, parts[0], "", time.Time{}, time.Time{}, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := run()
	if err := st.WaitCaughtUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
	raw1, ev1 := streamBytes(t, ctx, st, bus.RawStream), streamBytes(t, ctx, st, bus.EventsStream)
	firstRaw, firstEv := raw1-raw0, ev1-ev0
	t.Logf("first live poll: %d windows, %d pages, %d records; RAW +%d bytes, EVENTS +%d bytes", first.Windows, first.Pages, first.Records, firstRaw, firstEv)
	if first.Pages == 0 || firstRaw == 0 {
		t.Fatal("the first live poll stored nothing")
	}

	var total poller.Stats
	for i := 0; i < 24*12; i++ {
		mu.Lock()
		now = now.Add(5 * time.Minute)
		mu.Unlock()
		s := run()
		total.Pages += s.Pages
		total.Unchanged += s.Unchanged
	}
	if err := st.WaitCaughtUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
	raw2, ev2 := streamBytes(t, ctx, st, bus.RawStream), streamBytes(t, ctx, st, bus.EventsStream)
	// RAW against the first live poll; EVENTS against the first poll of
	// everything (the live poll's events were all duplicates of it)
	rawGrowth, evGrowth := float64(raw2-raw1)/float64(firstRaw), float64(ev2-ev1)/float64(ev0)
	t.Logf("288 runs over 24 h: %d pages stored, %d unchanged pages skipped; RAW +%d bytes (%.2f%% of the first live poll), EVENTS +%d bytes (%.2f%% of the first poll)",
		total.Pages, total.Unchanged, raw2-raw1, 100*rawGrowth, ev2-ev1, 100*evGrowth)
	if rawGrowth >= 0.01 || evGrowth >= 0.01 {
		t.Errorf("re-polling unchanged data grew RAW by %.2f%% and EVENTS by %.2f%% of the first poll (want < 1%%)", 100*rawGrowth, 100*evGrowth)
	}

	// the vendor moves on to the poller's clock: the next run brings every change
	sbClock.Set(clock())
	changed := run()
	t.Logf("run after the vendor changed: %d pages stored, %d unchanged", changed.Pages, changed.Unchanged)
	assertMatchesTruth(t, ctx, st)
}

// streamBytes is the stored size of a stream.
func streamBytes(t *testing.T, ctx context.Context, st *devstack.Stack, name string) uint64 {
	t.Helper()
	s, err := st.JS.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Bytes
}
