package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/devstack"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

var (
	payFrom = time.Date(2026, 10, 1, 0, 0, 0, 0, wire.CST)
	payTo   = time.Date(2026, 11, 1, 0, 0, 0, 0, wire.CST)
)

// stackForProcesses runs normalizer and sink in-process behind a NATS server
// that listens on loopback TCP, for poller processes to connect to.
func stackForProcesses(t *testing.T, orders int, clock time.Time) *devstack.Stack {
	t.Helper()
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	user, pass := testenv.ClickHouseCredentials()
	sc := sandbox.DefaultConfig()
	sc.Seed, sc.Orders, sc.From, sc.To, sc.Clock = 11, orders, payFrom, payTo, clock
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := devstack.Start(ctx, devstack.Config{DataDir: t.TempDir(), NATSListen: true, Sandbox: sc,
		ClickHouse: clickhouse.Config{Addr: addr, Database: db, Username: user, Password: pass}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func writeSources(t *testing.T, srcs []poller.Source) string {
	t.Helper()
	b, err := yaml.Marshal(poller.SourcesFile{Sources: srcs})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sources.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// assertTruth requires ClickHouse to equal the sandbox truth of the given
// platforms (none: every platform).
func assertTruth(t *testing.T, ctx context.Context, st *devstack.Stack, platforms ...string) {
	t.Helper()
	if err := st.WaitCaughtUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
	want := st.Truth()
	got, err := st.Summary(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(platforms) > 0 {
		var ws, gs []summary.Summary
		for _, p := range platforms {
			ws = append(ws, st.Sandbox.Truth(p).Summary)
			g, err := st.Summary(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			gs = append(gs, g)
		}
		want, got = summary.Merge(ws...), summary.Merge(gs...)
	}
	if diff := summary.Diff(want, got); len(diff) > 0 {
		t.Fatalf("ClickHouse differs from the sandbox truth:\n%s", strings.Join(diff, "\n"))
	}
}

// TestReplicaKilledSourcesTakenOver runs two poller replicas on the same
// sources, SIGKILLs one while it polls, and requires every source to keep
// being polled (the survivor takes the dead replica's leases over once they
// expire) and ClickHouse to equal the truth at the end.
func TestReplicaKilledSourcesTakenOver(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	bin := buildBinaries(t, "poller")
	st := stackForProcesses(t, 1500, payFrom.Add(48*time.Hour))
	var srcs []poller.Source
	for _, s := range st.Sources {
		s.Start = payFrom.Format(time.RFC3339)
		s.Lookback, s.WindowSize, s.Interval, s.RatePerSecond = 2*time.Hour, 2*24*time.Hour, 200*time.Millisecond, 50
		if s.Vendor == "taobao-live" {
			s.Lookback = 60 * 24 * time.Hour // the after-sale refund horizon (no update-time filter)
		}
		srcs = append(srcs, s)
	}
	cfg := writeSources(t, srcs)
	clockURL := st.SandboxURL + "/_sandbox/clock"
	replica := func(name string) *proc {
		return start(t, filepath.Join(bin, "poller"), nil, "run", "--config", cfg, "--nats-url", st.NATS.ClientURL(),
			"--metrics-addr", "", "--lease-ttl", "3s", "--replica", name, "--sandbox-clock", clockURL)
	}
	a, b := replica("replica-a"), replica("replica-b")
	defer b.stop(t)
	cps, err := checkpoint.Open(ctx, st.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	leases, err := checkpoint.OpenLeases(ctx, st.JS, 3*time.Second, "observer", 1)
	if err != nil {
		t.Fatal(err)
	}
	p := poller.New(st.JS, st.Registry, poller.Config{})
	var parts []poller.Part
	for _, s := range srcs {
		ps, _ := p.Parts(s)
		parts = append(parts, ps...)
	}
	clock := st.Sandbox.Clock()
	killed := false
	for step := 0; clock.Now().Before(payTo.Add(20 * 24 * time.Hour)); step++ {
		if killed {
			waitPositions(t, ctx, cps, parts, clock.Now(), b)
		} else {
			waitPositions(t, ctx, cps, parts, clock.Now(), a, b)
		}
		if step == 2 {
			// make sure the victim holds something, then kill it mid-run
			held := ""
			for _, part := range parts {
				if h, _ := leases.Holder(ctx, part.Key()); h == "replica-a" {
					held = part.Key()
				}
			}
			clock.Advance(6 * 24 * time.Hour)
			if held == "" {
				t.Log("replica-a held no lease at the kill; killing it anyway")
			}
			if _, err := a.kill(); err != nil {
				t.Fatal(err)
			}
			killed = true
			continue
		}
		clock.Advance(6 * 24 * time.Hour)
	}
	waitPositions(t, ctx, cps, parts, clock.Now())
	if !killed {
		t.Fatal("the replica was never killed")
	}
	for _, part := range parts {
		if h, _ := leases.Holder(ctx, part.Key()); h != "replica-b" {
			t.Fatalf("part %s is held by %q after the kill; want the survivor", part.Key(), h)
		}
	}
	assertTruth(t, ctx, st)
}

func waitPositions(t *testing.T, ctx context.Context, cps *checkpoint.Store, parts []poller.Part, at time.Time, alive ...*proc) {
	t.Helper()
	for _, p := range alive {
		select {
		case <-p.exited():
			err := p.exitError()
			t.Fatalf("%s exited (%v):\n%s", p.name, err, tail(p.stderr.String(), 20))
		default:
		}
	}
	for _, part := range parts {
		for {
			cp, err := cps.Get(ctx, part.Key())
			if err != nil {
				t.Fatal(err)
			}
			if !cp.Position.Before(at) {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("checkpoint %s stuck at %s (want %s), holder %q, last error %q", part.Key(), cp.Position, at, cp.Holder, cp.LastError)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}

// TestBackfillKilledAndResumed SIGKILLs `poller backfill` three times at
// different points, resumes it, and requires the final ClickHouse state to
// equal the truth (which a clean backfill of the range also gives).
func TestBackfillKilledAndResumed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	bin := buildBinaries(t, "poller")
	st := stackForProcesses(t, 2500, payTo.Add(30*24*time.Hour))
	var srcs []poller.Source
	for _, s := range st.Sources {
		s.WindowSize, s.RatePerSecond = 24*time.Hour, 40
		srcs = append(srcs, s)
	}
	cfg := writeSources(t, srcs)
	p := poller.New(st.JS, st.Registry, poller.Config{})
	var backfilled []string
	for _, src := range srcs {
		if parts, _ := p.Parts(src); parts[0].Snapshot {
			continue // snapshot sources have no history to walk
		}
		backfilled = append(backfilled, src.Vendor)
		args := []string{"backfill", "--config", cfg, "--nats-url", st.NATS.ClientURL(), "--source", src.Name,
			"--from", payFrom.Format(time.RFC3339), "--to", payTo.Format(time.RFC3339)}
		// kill after 3, then 2, then 2 more windows of progress (each run resumes)
		kills := 0
		for _, after := range []int{3, 2, 2} {
			p := startPiped(t, filepath.Join(bin, "poller"), args...)
			if !p.waitLines(after) {
				t.Fatalf("backfill of %s finished before kill %d; slow it down so the kills land mid-range\n%s", src.Name, kills+1, p.stderr.String())
			}
			_, _ = p.kill() // it may have ended on its own meanwhile
			kills++
			if kills > 1 && !strings.Contains(p.stderr.String(), "resuming at") {
				t.Fatalf("run %d did not resume from the checkpoint:\n%s", kills, p.stderr.String())
			}
		}
		final := startPiped(t, filepath.Join(bin, "poller"), args...)
		final.waitLines(1 << 30)
		<-final.exited()
		if err := final.exitError(); err != nil {
			t.Fatalf("backfill of %s after the kills: %v\n%s", src.Name, err, final.stderr.String())
		}
		if !strings.Contains(final.stderr.String(), "resuming at") || !strings.Contains(final.stdout.String(), "done") {
			t.Fatalf("the last run did not resume and finish:\n%s\n%s", final.stderr.String(), final.stdout.String())
		}
		t.Logf("%s: killed %d times, resumed, finished: %s", src.Name, kills, strings.TrimSpace(final.stdout.String()))
	}
	assertTruth(t, ctx, st, backfilled...)
}

// waitLines returns true once n progress lines were printed, false if the
// process ended first.
func (p *proc) waitLines(n int) bool {
	seen := 0
	for l := range p.lines {
		if strings.HasPrefix(l, "backfill ") && strings.Contains(l, "window ") {
			seen++
			if seen >= n {
				return true
			}
		}
	}
	return false
}
