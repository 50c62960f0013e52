package devstack_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/devstack"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/internal/normalizer"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/sink"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/internal/vendorsandbox"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	payFrom = time.Date(2026, 10, 1, 0, 0, 0, 0, wire.CST)
	payTo   = time.Date(2026, 11, 1, 0, 0, 0, 0, wire.CST)
	clock1  = time.Date(2026, 10, 20, 0, 0, 0, 0, wire.CST) // mid-range: many orders still paid
)

// startStack runs the whole pipeline against a fresh ClickHouse database and
// a sandbox of n orders per account (every vendor) with its clock at clock1,
// injecting faults if given.
func startStack(t *testing.T, n int, faults ...sandbox.Faults) *devstack.Stack {
	t.Helper()
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	user, pass := testenv.ClickHouseCredentials()
	sc := sandbox.DefaultConfig()
	sc.Seed, sc.Orders, sc.From, sc.To, sc.Clock = 7, n, payFrom, payTo, clock1
	if len(faults) > 0 {
		sc.Faults = faults[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
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

// poll polls every source: everything paid since payFrom when since is
// zero, else what changed since since.
func poll(t *testing.T, ctx context.Context, st *devstack.Stack, since, now time.Time) {
	t.Helper()
	var stats poller.Stats
	var err error
	if since.IsZero() {
		stats, err = st.PollInitial(ctx, payFrom, now)
	} else {
		stats, err = st.PollChanges(ctx, payFrom, since, now)
	}
	if err != nil {
		t.Fatalf("poll %s..%s: %v", since, now, err)
	}
	if stats.Pages == 0 {
		t.Fatalf("poll %s..%s published no pages", since, now)
	}
	if err := st.WaitCaughtUp(ctx, nil); err != nil {
		t.Fatalf("wait for the pipeline: %v", err)
	}
}

// assertMatchesTruth requires ClickHouse's shipped queries to equal the
// sandbox's ground truth of every vendor at the sandbox clock.
func assertMatchesTruth(t *testing.T, ctx context.Context, st *devstack.Stack) summary.Summary {
	t.Helper()
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
	if n, err := st.Store.CountOrders(ctx); err != nil || n != want.TotalOrders() {
		t.Fatalf("CountOrders = %d, %v; sandbox has %d orders", n, err, want.TotalOrders())
	}
	return got
}

// TestPipelineMatchesSandboxTruth polls all four vendors of the sandbox while
// it injects server errors and throttle answers, lets its clock move so
// orders are received, settled and refunded (some after settlement) and plans
// and creator indicators change, polls the changes, and requires ClickHouse to
// equal the sandbox's ground truth for every data set exactly after each
// poll. Every event on EVENTS must validate against the published JSON
// Schemas and nothing may be dead-lettered.
func TestPipelineMatchesSandboxTruth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	st := startStack(t, 2000, sandbox.Faults{ErrorRate5xx: 0.08, ThrottleRate: 0.02})

	poll(t, ctx, st, time.Time{}, clock1)
	truth1 := st.Sandbox.Truth("douke")
	if len(truth1.Orders) == 0 {
		t.Fatal("sandbox shows no orders at the first poll")
	}
	assertMatchesTruth(t, ctx, st)

	clock2 := st.Sandbox.Clock().Advance(30 * 24 * time.Hour)
	truth2 := st.Sandbox.Truth("douke")
	if len(summary.Diff(truth1.Summary, truth2.Summary)) == 0 {
		t.Fatal("no order changed between the polls; the test would prove nothing")
	}
	changed, refundedAfterSettle := statusChanges(truth1, truth2)
	if changed == 0 || refundedAfterSettle == 0 {
		t.Fatalf("want orders changing status and refunds after settlement between polls, got %d changed, %d settled→refunded", changed, refundedAfterSettle)
	}
	// new orders paid after clock1 and changes of old ones
	poll(t, ctx, st, clock1, clock2)
	assertMatchesTruth(t, ctx, st)

	if n, err := st.DeadLetters(ctx); err != nil || n != 0 {
		t.Fatalf("dead letters = %d, %v; want 0", n, err)
	}
	for _, v := range []string{"douke", "taobao-live", "douyin-poi", "xingtu", "douke-csj"} {
		if s := st.Sandbox.Stats(v); s.Errors5xx == 0 || s.Requests == 0 {
			t.Fatalf("%s: no fault was injected (%+v); the test would not prove retries", v, s)
		}
	}
	validated := validateAllEvents(t, ctx, st.JS)
	t.Logf("%d orders (%d changed status between polls, %d refunded after settlement), %d events validated", len(truth2.Orders), changed, refundedAfterSettle, validated)
}

func statusChanges(a, b sandbox.Truth) (changed, refundedAfterSettle int) {
	before := map[string]events.Status{}
	for _, o := range a.Orders {
		before[o.OrderID] = o.Status
	}
	for _, o := range b.Orders {
		if s, ok := before[o.OrderID]; ok && s != o.Status {
			changed++
			if s == events.StatusSettled && o.Status == events.StatusRefunded {
				refundedAfterSettle++
			}
		}
	}
	return changed, refundedAfterSettle
}

// validateAllEvents reads the whole EVENTS stream with an ordered consumer and
// validates every event against the JSON Schemas.
func validateAllEvents(t *testing.T, ctx context.Context, js jetstream.JetStream) int {
	t.Helper()
	stream, err := js.Stream(ctx, bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := int(info.State.Msgs)
	oc, err := js.OrderedConsumer(ctx, bus.EventsStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for n < total {
		batch, err := oc.Fetch(min(1000, total-n), jetstream.FetchMaxWait(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			n++
			if err := events.Validate(m.Data()); err != nil {
				t.Fatalf("event on %s fails its schema: %v\n%s", m.Subject(), err, m.Data())
			}
			if m.Headers().Get("Nats-Msg-Id") == "" {
				t.Fatalf("event on %s has no Nats-Msg-Id", m.Subject())
			}
		}
		if got == 0 {
			t.Fatalf("read %d of %d events, then nothing", n, total)
		}
	}
	if total == 0 {
		t.Fatal("EVENTS is empty")
	}
	return n
}

// TestRedeliveryAndReplayDoNotDoubleCount delivers every record several more
// times — a re-poll of the same windows, a replay of RAW through a second
// normalizer consumer, a replay of all EVENTS through a second sink into the
// same tables, and a sink whose first insert succeeds but reports failure —
// and requires the shipped query's answer to stay exactly the sandbox's truth.
func TestRedeliveryAndReplayDoNotDoubleCount(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	st := startStack(t, 1500)
	clock := st.Sandbox.Clock().Advance(15 * 24 * time.Hour)
	poll(t, ctx, st, time.Time{}, clock)
	assertMatchesTruth(t, ctx, st)
	eventsBefore := streamMsgs(t, ctx, st.JS, bus.EventsStream)

	// 1. re-poll: new raw pages, same records → same event IDs → de-duplicated
	poll(t, ctx, st, time.Time{}, clock)
	if got := streamMsgs(t, ctx, st.JS, bus.EventsStream); got != eventsBefore {
		t.Fatalf("re-poll grew EVENTS from %d to %d messages; deterministic IDs should de-duplicate", eventsBefore, got)
	}
	assertMatchesTruth(t, ctx, st)

	// 2. replay RAW through a second durable normalizer
	norm, err := normalizer.New(normalizer.Config{Durable: "normalizer-replay"}, st.Registry, st.JS)
	if err != nil {
		t.Fatal(err)
	}
	if err := norm.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	subConn, err := bus.Connect(bus.ConnConfig{Name: "test-replay", InProcess: st.NATS})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 2)
	go func() { done <- norm.Run(runCtx, subConn) }()
	if err := st.WaitConsumer(ctx, bus.RawStream, "normalizer-replay", nil); err != nil {
		t.Fatal(err)
	}
	if got := streamMsgs(t, ctx, st.JS, bus.EventsStream); got != eventsBefore {
		t.Fatalf("RAW replay grew EVENTS from %d to %d messages", eventsBefore, got)
	}

	// 3. replay every event into ClickHouse again, through a sink whose first
	// insert is written but reported as failed (so that batch lands twice)
	flaky := &insertThenFail{store: st.Store}
	sk, err := sink.New(sink.Config{Durable: "sink-replay", BatchSize: 700, FlushInterval: 50 * time.Millisecond,
		IsBadEvent: func(err error) bool { return errors.Is(err, clickhouse.ErrBadEvent) }}, st.JS, flaky)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := sk.Provision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	go func() { done <- sk.Run(runCtx, cons) }()
	if err := st.WaitConsumer(ctx, bus.EventsStream, "sink-replay", nil); err != nil {
		t.Fatal(err)
	}
	stop()
	<-done
	<-done
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.AckFloor.Stream < uint64(eventsBefore) || flaky.calls < 2 || !flaky.failedOnce {
		t.Fatalf("replay sink acked up to %d of %d events in %d inserts (failed once: %v); the replay did not happen", info.AckFloor.Stream, eventsBefore, flaky.calls, flaky.failedOnce)
	}
	assertMatchesTruth(t, ctx, st)
	if n, err := st.DeadLetters(ctx); err != nil || n != 0 {
		t.Fatalf("dead letters = %d, %v; want 0", n, err)
	}
}

func streamMsgs(t *testing.T, ctx context.Context, js jetstream.JetStream, name string) int {
	t.Helper()
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return int(info.State.Msgs)
}

// insertThenFail writes its first batch to ClickHouse and then reports a
// failure, as a connection lost after the server accepted the insert would.
type insertThenFail struct {
	store      *clickhouse.Store
	calls      int
	failedOnce bool
}

func (s *insertThenFail) Insert(ctx context.Context, envs []events.Envelope) error {
	s.calls++
	if err := s.store.Insert(ctx, envs); err != nil {
		return err
	}
	if !s.failedOnce {
		s.failedOnce = true
		return fmt.Errorf("connection reset after the insert was accepted")
	}
	return nil
}

// TestMalformedPageIsDeadLettered publishes a page the normalizer cannot
// read: it must land in the DLQ with its reason and original headers, be
// acknowledged on RAW, and not stop the pages behind it.
func TestMalformedPageIsDeadLettered(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st := startStack(t, 200)
	bad := events.RawPage{SourceID: "douke-demo", Vendor: "douke", Endpoint: "kol_orderads", Account: vendorsandbox.DemoAccount,
		Cursor: "0", HTTPStatus: 200, FetchedAt: time.Now(), Body: []byte(`{"error":"0","msg":"ok","data":{"orders":[{"order_id":"1"}]}}`)}
	msg := nats.NewMsg(bad.Subject())
	for k, v := range bad.Headers() {
		msg.Header.Set(k, v)
	}
	msg.Data = bad.Body
	if _, err := st.JS.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	poll(t, ctx, st, time.Time{}, clock1) // good pages behind the bad one
	assertMatchesTruth(t, ctx, st)
	dlqStream, err := st.JS.Stream(ctx, bus.DLQStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := dlqStream.Info(ctx)
	if err != nil || info.State.Msgs != 1 {
		t.Fatalf("DLQ holds %d messages (%v); want exactly the malformed page", info.State.Msgs, err)
	}
	m, err := dlqStream.GetLastMsgForSubject(ctx, dlq.Subject("normalizer", "douke"))
	if err != nil {
		t.Fatal(err)
	}
	if reason := m.Header.Get(dlq.HdrReason); !strings.Contains(reason, "missing pay_success_time") {
		t.Fatalf("DLQ reason %q does not say what was wrong", reason)
	}
	if string(m.Data) != string(bad.Body) || m.Header.Get(events.HdrCursor) != "0" || m.Header.Get(dlq.HdrStage) != "normalizer" {
		t.Fatalf("DLQ message lost the original body or headers: %v %q", m.Header, m.Data)
	}
}
