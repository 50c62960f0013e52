package poller_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	douyinpoisandbox "github.com/yongjin-dev/yongjin/internal/sandbox/douyinpoi"
	xingtusandbox "github.com/yongjin-dev/yongjin/internal/sandbox/xingtu"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
)

// TestCase4SnapshotItemsFailAlone: the first Douyin SPU is delisted and the
// first Xingtu author unknown (both answer the vendor's permanent error,
// every time). Every other SPU's plans and every other author's snapshots
// must reach ClickHouse (the truth leaves the failing items out); each
// failing item is named in the part's last error and counted per item, and
// the next run leaves it out while it backs off.
func TestCase4SnapshotItemsFailAlone(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	spu := douyinpoisandbox.SPUs(7, "demo")[0]
	author := xingtusandbox.Authors(7, "demo")[0]
	st := startStack(t, 10, sandbox.Faults{FailingItems: spu + "," + author}, "douyin-poi", "xingtu")
	clock := st.Sandbox.Clock()
	cps, err := checkpoint.Open(ctx, st.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	p := poller.New(st.JS, st.Registry, poller.Config{Now: clock.Now, Holder: "case4", Registerer: reg})
	for _, c := range []struct{ vendor, item string }{{"douyin-poi", spu}, {"xingtu", author}} {
		src := stackSource(t, st, c.vendor)
		src.Interval = time.Hour
		parts, err := p.Parts(src)
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.RunPart(ctx, cps, parts[0], "", time.Time{}, time.Time{}, true, nil)
		var items vendors.ItemErrors
		if !errors.As(err, &items) || len(items) != 1 || items[0].Item != c.item || !errors.Is(err, client.ErrPermanent) {
			t.Fatalf("%s: run error %v, want one permanent item error for %s", c.vendor, err, c.item)
		}
		cp, err := cps.Get(ctx, parts[0].Key())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(cp.LastError, c.item) {
			t.Errorf("%s: last error %q does not name %s", c.vendor, cp.LastError, c.item)
		}
		// backing off: the next run leaves the item out and succeeds
		before := st.Sandbox.Stats(c.vendor).Requests
		if _, err := p.RunPart(ctx, cps, parts[0], "", time.Time{}, time.Time{}, true, nil); err != nil {
			t.Errorf("%s: second run (item backing off): %v", c.vendor, err)
		}
		if st.Sandbox.Stats(c.vendor).Requests == before {
			t.Errorf("%s: the second run requested nothing", c.vendor)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counted := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() == "yongjin_poller_item_errors_total" {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "item" {
						counted[l.GetValue()] = m.GetCounter().GetValue()
					}
				}
			}
		}
	}
	if counted[spu] != 1 || counted[author] != 1 || len(counted) != 2 {
		t.Errorf("item error counts %v, want 1 for %s and %s", counted, spu, author)
	}
	assertMatchesTruth(t, ctx, st)
}

// TestCase4FailedItemIsRetriedAfterItsBackoff: a failing SPU is left out of
// the runs that follow its failure only while it backs off (interval ×
// 2^(failures−1)); a later run tries it again, and it fails alone again.
func TestCase4FailedItemIsRetriedAfterItsBackoff(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	spu := douyinpoisandbox.SPUs(7, "demo")[0]
	st := startStack(t, 10, sandbox.Faults{FailingItems: spu}, "douyin-poi")
	cps, err := checkpoint.Open(ctx, st.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := poller.New(st.JS, st.Registry, poller.Config{Now: st.Sandbox.Clock().Now, Holder: "case4-retry"})
	src := stackSource(t, st, "douyin-poi")
	src.Interval = 300 * time.Millisecond // the first backoff
	parts, err := p.Parts(src)
	if err != nil {
		t.Fatal(err)
	}
	itemFailed := func(err error) bool {
		var items vendors.ItemErrors
		return errors.As(err, &items) && len(items) == 1 && items[0].Item == spu
	}
	began := time.Now()
	if _, err := p.RunPart(ctx, cps, parts[0], "", time.Time{}, time.Time{}, true, nil); !itemFailed(err) {
		t.Fatalf("first run: %v, want the item error of %s", err, spu)
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for runs := 1; ; runs++ {
		select {
		case <-ctx.Done():
			t.Fatalf("after %d runs in %s %s was never tried again", runs, time.Since(began).Round(time.Millisecond), spu)
		case <-tick.C:
		}
		_, err := p.RunPart(ctx, cps, parts[0], "", time.Time{}, time.Time{}, true, nil)
		if err == nil {
			continue // still backing off; the other SPUs flowed
		}
		if !itemFailed(err) {
			t.Fatalf("run %d: %v, want only the item error of %s", runs+1, err, spu)
		}
		if d := time.Since(began); d < src.Interval {
			t.Fatalf("%s was tried again after %s, before its backoff of %s", spu, d, src.Interval)
		}
		t.Logf("%s tried again on run %d, %s after the first failure", spu, runs+1, time.Since(began).Round(time.Millisecond))
		break
	}
	assertMatchesTruth(t, ctx, st)
}
