package poller_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
)

// TestCase6OversizePage: douke records padded so that a page of 20 is above
// the NATS max payload (1 MiB) but a page of 10 is not. The poller must walk
// such a window again with a smaller page size, and ClickHouse must equal
// the truth. With records so large that even one does not fit, the window
// must fail at once with a permanent error naming the size and the limit, and
// nothing of it may be published.
func TestCase6OversizePage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		padding int
		fits    bool
	}{
		{"smaller pages fit", 60_000, true},
		{"one record is too large", 1_100_000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			st := startStack(t, 200, sandbox.Faults{RecordPadding: tc.padding}, "douke")
			clock := st.Sandbox.Clock()
			cps, err := checkpoint.Open(ctx, st.JS, 1)
			if err != nil {
				t.Fatal(err)
			}
			p := poller.New(st.JS, st.Registry, poller.Config{Now: clock.Now, Holder: "case6"})
			src := stackSource(t, st, "douke")
			parts, err := p.Parts(src)
			if err != nil {
				t.Fatal(err)
			}
			stats, err := p.RunPart(ctx, cps, parts[0], "", payFrom, time.Time{}, true, nil)
			if !tc.fits {
				limit := strconv.FormatInt(st.JS.Conn().MaxPayload(), 10)
				if !errors.Is(err, poller.ErrPageTooLarge) || !errors.Is(err, client.ErrPermanent) ||
					!strings.Contains(err.Error(), "max payload of "+limit+" bytes") || !strings.Contains(err.Error(), "page size 1") {
					t.Fatalf("err %v: want a permanent page-too-large error naming the limit %s at page size 1", err, limit)
				}
				if stats.Pages != 0 || streamBytes(t, ctx, st, "YONGJIN_RAW") != 0 {
					t.Fatalf("%d pages published", stats.Pages)
				}
				cp, _ := cps.Get(ctx, parts[0].Key())
				if !strings.Contains(cp.LastError, "max payload") {
					t.Fatalf("last error %q", cp.LastError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			assertMatchesTruth(t, ctx, st)
		})
	}
}
