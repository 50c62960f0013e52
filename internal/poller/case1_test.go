package poller_test

import (
	"context"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
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
	p := poller.New(st.JS, st.Registry, poller.Options{Now: clock.Now, Holder: "case1"})
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
