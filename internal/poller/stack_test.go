package poller_test

import (
	"context"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/devstack"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/internal/vendorsandbox"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	payFrom = time.Date(2026, 10, 1, 0, 0, 0, 0, wire.CST)
	payTo   = time.Date(2026, 11, 1, 0, 0, 0, 0, wire.CST)
	clock1  = time.Date(2026, 10, 20, 0, 0, 0, 0, wire.CST)
)

// startStack runs the whole pipeline (embedded NATS, sandbox, normalizer,
// sink, a fresh ClickHouse database) with n orders per account of the given
// vendors (all when none) and the sandbox clock at clock1.
func startStack(t *testing.T, n int, faults sandbox.Faults, vendors ...string) *devstack.Stack {
	t.Helper()
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	user, pass := testenv.ClickHouseCredentials()
	sc := sandbox.DefaultConfig()
	sc.Seed, sc.Orders, sc.From, sc.To, sc.Clock, sc.Faults = 7, n, payFrom, payTo, clock1, faults
	for _, a := range vendorsandbox.DemoAccounts("case") {
		for _, v := range vendors {
			if a.Vendor == v {
				sc.Accounts = append(sc.Accounts, a)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := devstack.Start(ctx, devstack.Config{
		DataDir:    t.TempDir(),
		ClickHouse: clickhouse.Config{Addr: addr, Database: db, Username: user, Password: pass},
		Sandbox:    sc,
	})
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(st.Close)
	return st
}

// stackSource returns the stack's source of vendor.
func stackSource(t *testing.T, st *devstack.Stack, vendor string) poller.Source {
	t.Helper()
	for _, s := range st.Sources {
		if s.Vendor == vendor {
			return s
		}
	}
	t.Fatalf("no %s source", vendor)
	return poller.Source{}
}

// runScheduler runs the scheduler over srcs until the test ends.
func runScheduler(t *testing.T, st *devstack.Stack, p *poller.Poller, cps *checkpoint.Store, srcs []poller.Source) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&poller.Scheduler{P: p, Checkpoints: cps}).Run(ctx, srcs) }()
	t.Cleanup(func() { stop(); <-done })
}

// waitCheckpoint returns the checkpoint of key once its position is at least
// at and a run of the part has succeeded since (when wantSuccess).
func waitCheckpoint(t *testing.T, ctx context.Context, cps *checkpoint.Store, key string, at time.Time, wantSuccess bool) checkpoint.Checkpoint {
	t.Helper()
	for {
		cp, err := cps.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if !cp.Position.Before(at) && (!wantSuccess || !cp.LastSuccess.IsZero()) {
			return cp
		}
		select {
		case <-ctx.Done():
			t.Fatalf("checkpoint %s stuck at %s (want %s); last error %q", key, cp.Position, at, cp.LastError)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// assertMatchesTruth requires ClickHouse to equal the sandbox truth.
func assertMatchesTruth(t *testing.T, ctx context.Context, st *devstack.Stack) {
	t.Helper()
	if err := st.WaitCaughtUp(ctx, nil); err != nil {
		t.Fatalf("wait for the pipeline: %v", err)
	}
	want := st.Truth()
	got, err := st.Summary(ctx, "")
	if err != nil {
		t.Fatalf("clickhouse summary: %v", err)
	}
	if diff := summary.Diff(want, got); len(diff) > 0 {
		for _, d := range diff {
			t.Errorf("at %s: %s", st.Sandbox.Clock().Now().Format(time.DateTime), d)
		}
		t.FailNow()
	}
}
