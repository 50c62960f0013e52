package normalizer_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/normalizer"
	"github.com/yongjin-dev/yongjin/internal/stagetest"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
)

// TestCase11ReplayIsBounded replays a RAW page into an EVENTS subject whose
// publishes are never acknowledged (no stream captures it; a plain
// subscriber swallows every message, so each ack is lost). The replay must
// come back with an error, bounded by the per-page publish bound (80% of the
// ack wait) or by ReplayTimeout, whichever is shorter. On main it waited for
// the lost acks for ever.
func TestCase11ReplayIsBounded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), stagetest.Timeout)
	defer cancel()
	page := firstPage(t, ctx, 1)
	tests := []struct {
		name          string
		cfg           normalizer.Config
		overallBound  bool
		wantPagesRead int
	}{
		{"page bound", normalizer.Config{AckWait: 5 * time.Second}, false, 1},
		{"overall bound", normalizer.Config{AckWait: time.Minute, ReplayTimeout: 3 * time.Second}, true, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := stagetest.NewBus(t, nil)
			if err := b.PublishRaw(ctx, page); err != nil {
				t.Fatal(err)
			}
			if err := b.JS.DeleteStream(ctx, bus.EventsStream); err != nil {
				t.Fatal(err)
			}
			nc, err := b.Conn("ack-eater")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := nc.Subscribe("yongjin.events.>", func(*nats.Msg) {}); err != nil {
				t.Fatal(err)
			}
			if err := nc.Flush(); err != nil {
				t.Fatal(err)
			}
			svc, err := normalizer.New(tc.cfg, all.Registry(), b.JS)
			if err != nil {
				t.Fatal(err)
			}
			type result struct {
				st  normalizer.ReplayStats
				err error
			}
			done := make(chan result, 1)
			go func() {
				st, err := svc.Replay(context.Background(), douke.Name, time.Now().Add(-time.Hour), nil)
				done <- result{st, err}
			}()
			select {
			case r := <-done:
				if r.err == nil || r.st.Pages != tc.wantPagesRead || r.st.Events != 0 {
					t.Fatalf("Replay = %+v, %v; want an error after reading the page, no events", r.st, r.err)
				}
				if got := errors.Is(r.err, normalizer.ErrReplayTimeout); got != tc.overallBound {
					t.Fatalf("Replay error %v: ErrReplayTimeout %v, want %v", r.err, got, tc.overallBound)
				}
			case <-ctx.Done():
				t.Fatal("Replay did not return: a lost ack hangs it")
			}
		})
	}
}

// TestCase11RedeliveryDelayHasJitter: the normalizer's redelivery delay
// spreads failed pages out: for every delivery count the waits differ, lie
// within the upper half of the exponential delay, and never exceed its cap.
// On main the delay was exactly 2^(n-1) s for every page.
func TestCase11RedeliveryDelayHasJitter(t *testing.T) {
	d := normalizer.DefaultRedeliveryDelay
	for n := uint64(1); n <= 12; n++ {
		full := d.ExpDelay.WaitTime(n)
		seen := map[time.Duration]bool{}
		for i := 0; i < 200; i++ {
			w := d.WaitTime(n)
			if w > full || w <= full/2 || w > time.Minute {
				t.Fatalf("delivery %d: wait %s outside (%s, %s]", n, w, full/2, full)
			}
			seen[w] = true
		}
		if len(seen) < 50 {
			t.Fatalf("delivery %d: only %d distinct waits in 200: no jitter", n, len(seen))
		}
	}
	fixed := normalizer.RedeliveryDelay{ExpDelay: d.ExpDelay, Jitter: 0.5, Rand: func() float64 { return 0.5 }}
	if got := fixed.WaitTime(3); got != 3*time.Second {
		t.Fatalf("WaitTime(3) with rand 0.5 = %s, want 3s (4s × (1 − 0.5×0.5))", got)
	}
}
