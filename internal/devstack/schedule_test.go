package devstack_test

import (
	"context"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/poller"
)

// TestSchedulerFollowsTheClock runs the poller scheduler (checkpoints, look-
// back, leases) while the sandbox clock moves in steps: between polls orders
// are created, received, settled and refunded (some after settlement), plans
// and creator indicators change. After each step, once every part's
// checkpoint has reached the clock, ClickHouse must equal the ground truth.
func TestSchedulerFollowsTheClock(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	st := startStack(t, 1500)
	clock := st.Sandbox.Clock()
	clock.Set(payFrom.Add(36 * time.Hour))
	cps, err := checkpoint.Open(ctx, st.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	leases, err := checkpoint.OpenLeases(ctx, st.JS, 5*time.Second, "test-replica", 1)
	if err != nil {
		t.Fatal(err)
	}
	p := poller.New(st.JS, st.Registry, poller.Config{Now: clock.Now, Holder: "test-replica"})
	var srcs []poller.Source
	for _, s := range st.Sources {
		s.Start = payFrom.Format(time.RFC3339)
		s.Lookback = 2 * time.Hour
		s.WindowSize = 3 * 24 * time.Hour
		s.Interval = 100 * time.Millisecond
		if s.Vendor == "taobao-live" {
			// TOP cannot filter on update time: after-sale refunds are only
			// seen by re-reading the pay range for the whole refund horizon
			s.Lookback = 60 * 24 * time.Hour
		}
		srcs = append(srcs, s)
	}
	var parts []poller.Part
	for _, s := range srcs {
		ps, err := p.Parts(s)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, ps...)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- (&poller.Scheduler{P: p, Checkpoints: cps, Leases: leases}).Run(runCtx, srcs)
	}()
	defer func() { stop(); <-done }()

	steps := 0
	for clock.Now().Before(payTo.Add(25 * 24 * time.Hour)) {
		now := clock.Now()
		waitCheckpoints(t, ctx, cps, parts, now)
		if err := st.WaitCaughtUp(ctx, nil); err != nil {
			t.Fatal(err)
		}
		assertMatchesTruth(t, ctx, st)
		clock.Advance(5*24*time.Hour + 7*time.Hour)
		steps++
	}
	if steps < 6 {
		t.Fatalf("only %d steps", steps)
	}
}

// waitCheckpoints returns when every part's checkpoint position is at least at.
func waitCheckpoints(t *testing.T, ctx context.Context, cps *checkpoint.Store, parts []poller.Part, at time.Time) {
	t.Helper()
	for _, part := range parts {
		for {
			cp, err := cps.Get(ctx, part.Key())
			if err != nil {
				t.Fatal(err)
			}
			if !cp.Position.Before(at) && !cp.LastSuccess.IsZero() {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("checkpoint %s stuck at %s (want %s); last error %q", part.Key(), cp.Position, at, cp.LastError)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}
