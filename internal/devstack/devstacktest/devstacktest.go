// Package devstacktest runs a whole pipeline for tests of downstream consumers.
package devstacktest

import (
	"context"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/devstack"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// TestRun is a finished pipeline run for tests of downstream consumers: the
// stack (NATS listening on loopback TCP) and the ClickHouse database its sink
// filled.
type TestRun struct {
	*devstack.Stack
	// ClickHouse is the sink's database (a fresh one per run).
	ClickHouse clickhouse.Config
}

// Run starts a stack on the test's ClickHouse (testenv) with the
// sandbox accounts given (seed, orders), polls everything paid in October
// 2026 as of 20 October, advances the sandbox clock 30 days, polls the
// changes (settlements, refunds, some after settlement) and waits until the
// sink has acknowledged every event. The stack is closed when the test ends;
// any failure fails the test.
func Run(ctx context.Context, t testing.TB, accounts []sandbox.Account, seed int64, orders int) *TestRun {
	t.Helper()
	return RunWith(ctx, t, accounts, seed, orders, nil)
}

// RunWith is Run with configure (if not nil) applied to the stack's options
// before it starts (e.g. to set CommissionEvents).
func RunWith(ctx context.Context, t testing.TB, accounts []sandbox.Account, seed int64, orders int, configure func(*devstack.Config)) *TestRun {
	t.Helper()
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	user, pass := testenv.ClickHouseCredentials()
	payFrom := time.Date(2026, 10, 1, 0, 0, 0, 0, wire.CST)
	clock1 := time.Date(2026, 10, 20, 0, 0, 0, 0, wire.CST)
	sc := sandbox.DefaultConfig()
	sc.Seed, sc.Orders, sc.From, sc.To, sc.Clock = seed, orders, payFrom, time.Date(2026, 11, 1, 0, 0, 0, 0, wire.CST), clock1
	sc.Accounts = accounts
	cfg := clickhouse.Config{Addr: addr, Database: db, Username: user, Password: pass}
	o := devstack.Config{DataDir: t.TempDir(), NATSListen: true, ClickHouse: cfg, Sandbox: sc}
	if configure != nil {
		configure(&o)
	}
	st, err := devstack.Start(ctx, o)
	if err != nil {
		t.Fatalf("start stack: %v", err)
	}
	t.Cleanup(st.Close)
	if _, err := st.PollInitial(ctx, payFrom, clock1); err != nil {
		t.Fatal(err)
	}
	if err := st.WaitCaughtUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
	clock2 := st.Sandbox.Clock().Advance(30 * 24 * time.Hour)
	if _, err := st.PollChanges(ctx, payFrom, clock1, clock2); err != nil {
		t.Fatal(err)
	}
	if err := st.WaitCaughtUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return &TestRun{Stack: st, ClickHouse: cfg}
}
