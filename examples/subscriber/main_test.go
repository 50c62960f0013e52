package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/devstack"
	"github.com/yongjin-dev/yongjin/internal/devstack/devstacktest"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/internal/vendorsandbox"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// creatorTotalsSQL is the subscriber's answer computed from yongjin's own
// tables: the latest version of every line (FINAL) joined to the latest
// version of its order for the author. It runs on ClickHouse 18.16 and
// current releases.
const creatorTotalsSQL = `
SELECT platform, author_id, role, currency,
       count() AS lines, sum(estimated_fen) AS estimated_fen, sum(settled_fen) AS settled_fen
FROM
(
    SELECT platform, order_id, role, currency, estimated_fen, settled_fen
    FROM %[1]s.commission_lines FINAL
)
ANY INNER JOIN
(
    SELECT platform, order_id, author_id
    FROM %[1]s.orders FINAL
) USING (platform, order_id)
GROUP BY platform, author_id, role, currency
ORDER BY platform, author_id, role, currency`

// TestSubscriberTotalsMatchClickHouse runs the whole pipeline on the douke
// sandbox — a first poll, then 30 days later the changes (settlements,
// refunds, some after settlement) — once for each event granularity the
// normalizer offers (order.v1 events carrying their commission lines, the
// default; and the same plus one commission.v1 event per line). Each time
// it requires ClickHouse's summary to equal the sandbox's ground truth, the
// subscriber's totals, read from the stream through its own durable
// consumer, to equal the truth per role and the same totals computed from
// ClickHouse per creator. Then it replays the whole stream twice more into
// the same state (two new durables, after a restart from the state file)
// and requires every replayed event to be recognised as a duplicate (the
// version already applied) or stale (an older one) and the totals to stay
// exactly the same.
func TestSubscriberTotalsMatchClickHouse(t *testing.T) {
	for _, tc := range []struct {
		name             string
		commissionEvents bool
	}{
		{"order events carry lines", false},
		{"plus commission.v1 events", true},
	} {
		t.Run(tc.name, func(t *testing.T) { testSubscriberTotals(t, tc.commissionEvents) })
	}
}

func testSubscriberTotals(t *testing.T, commissionEvents bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	accounts := vendorsandbox.DemoAccounts("subscriber")[:1] // douke
	if accounts[0].Vendor != "douke" {
		t.Fatalf("the first demo account is %s, want douke", accounts[0].Vendor)
	}
	pipeline := devstacktest.RunWith(ctx, t, accounts, 11, 1200, func(o *devstack.Config) { o.CommissionEvents = commissionEvents })
	st := pipeline.Stack
	cfg := pipeline.ClickHouse
	addr, db, user, pass := cfg.Addr, cfg.Database, cfg.Username, cfg.Password

	// ClickHouse equals the sandbox's truth, and the stream has the
	// granularity asked for
	truth := st.Sandbox.Truth("douke")
	summ, err := st.Summary(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := summary.Diff(st.Truth(), summ); len(diff) > 0 {
		t.Fatalf("ClickHouse differs from the sandbox truth: %v", diff)
	}
	lineMsgs := subjectCount(t, ctx, st.JS, events.Subject(events.KindCommission, "douke"))
	if orderMsgs := subjectCount(t, ctx, st.JS, events.Subject(events.KindOrder, "douke")); orderMsgs == 0 || (lineMsgs == 0) == commissionEvents {
		t.Fatalf("commission events %v: the stream holds %d order.v1 and %d commission.v1 messages", commissionEvents, orderMsgs, lineMsgs)
	}

	// the subscriber, as main runs it: its own durable, state saved before acks
	statePath := filepath.Join(t.TempDir(), "totals.json")
	totals := NewTotals()
	n := consumeAll(t, ctx, st.JS, "commission-totals", totals, statePath)
	s := totals.Stats()
	if s.Superseded == 0 {
		t.Fatal("no line changed version between the polls; the test would not prove that the latest version wins")
	}
	// with commission.v1 events, each line comes twice at each version: in
	// its order's event and in its own; the second is stale
	if s.Duplicates != 0 || s.Stale != int64(lineMsgs) || totals.Unattributed() != 0 {
		t.Fatalf("first pass: %+v (%d commission.v1 messages), %d lines without their order", s, lineMsgs, totals.Unattributed())
	}
	if got, want := perRole(totals.ByCreator()), truthPerRole(truth); !reflect.DeepEqual(got, want) {
		t.Fatalf("subscriber totals per role %+v, sandbox truth %+v", got, want)
	}
	want := clickHouseTotals(t, ctx, addr, db, user, pass)
	got := totals.ByCreator()
	if !reflect.DeepEqual(got, want) {
		diffTotals(t, got, want)
		t.FailNow()
	}
	creators := map[string]bool{}
	for k := range got {
		creators[k.AuthorID] = true
	}
	var table bytes.Buffer
	if err := totals.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d messages; %d creators, %d (creator, role) totals equal ClickHouse:\n%s", n, len(creators), len(got), table.String())

	// restart from the state file and replay the whole stream twice
	for i, durable := range []string{"commission-totals-replay-1", "commission-totals-replay-2"} {
		loaded, err := LoadTotals(statePath)
		if err != nil {
			t.Fatal(err)
		}
		before := loaded.Stats()
		replayed := consumeAll(t, ctx, st.JS, durable, loaded, statePath)
		after := loaded.Stats()
		// each replayed event is the applied version (a duplicate by ID) or
		// an older one (stale); none changes anything
		skipped := (after.Duplicates - before.Duplicates) + (after.Stale - before.Stale)
		if replayed != n || after.Applied != before.Applied || skipped != int64(n) {
			t.Fatalf("replay %d: %d messages (first pass %d); stats before %+v, after %+v — every replayed event must be skipped", i+1, replayed, n, before, after)
		}
		if !reflect.DeepEqual(loaded.ByCreator(), want) {
			diffTotals(t, loaded.ByCreator(), want)
			t.Fatalf("replay %d changed the totals", i+1)
		}
	}

	// the first durable is caught up: running it again applies nothing
	if again := consumeAll(t, ctx, st.JS, "commission-totals", totals, statePath); again != 0 {
		t.Fatalf("the caught-up durable delivered %d messages again", again)
	}

	// without StopWhenCaughtUp it waits for new events until its context ends
	cons, err := EnsureConsumer(ctx, st.JS, EventsStream, "commission-totals", nil)
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, stop := context.WithTimeout(ctx, 1500*time.Millisecond)
	n2, err := Consume(waitCtx, cons, totals, ConsumeOptions{MaxWait: 500 * time.Millisecond})
	stop()
	if err != nil || n2 != 0 {
		t.Fatalf("following a caught-up durable: %d messages, %v", n2, err)
	}

	// the command itself, over TCP, with a durable and a state file of its own
	var out, errb bytes.Buffer
	args := []string{"--nats-url", st.NATS.ClientURL(), "--durable", "commission-totals-cli", "--state", filepath.Join(t.TempDir(), "cli.json"), "--once"}
	if code := run(ctx, args, &out, &errb); code != 0 {
		t.Fatalf("subscriber %q: exit %d\n%s", args, code, errb.String())
	}
	if out.String() != table.String() {
		t.Fatalf("the command printed\n%s\nwant\n%s", out.String(), table.String())
	}
}

// roleKey is a total per platform and role, over every creator.
type roleKey struct {
	Platform string
	Role     events.Role
}

func perRole(m map[CreatorKey]Amount) map[roleKey]Amount {
	out := map[roleKey]Amount{}
	for k, a := range m {
		r := out[roleKey{k.Platform, k.Role}]
		r.Lines += a.Lines
		r.EstimatedFen += a.EstimatedFen
		r.SettledFen += a.SettledFen
		out[roleKey{k.Platform, k.Role}] = r
	}
	return out
}

// truthPerRole is the sandbox's ground truth of every line, per role.
func truthPerRole(tr sandbox.Truth) map[roleKey]Amount {
	out := map[roleKey]Amount{}
	for _, o := range tr.Orders {
		for _, l := range o.Lines {
			k := roleKey{tr.Vendor, l.Role}
			r := out[k]
			r.Lines++
			r.EstimatedFen += l.EstimatedFen
			r.SettledFen += l.SettledFen
			out[k] = r
		}
	}
	return out
}

// subjectCount is how many messages EVENTS holds on subject.
func subjectCount(t *testing.T, ctx context.Context, js jetstream.JetStream, subject string) int {
	t.Helper()
	s, err := js.Stream(ctx, EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	return int(info.State.Subjects[subject])
}

// consumeAll runs the subscriber's durable until it is caught up and
// returns how many messages it acknowledged.
func consumeAll(t *testing.T, ctx context.Context, js jetstream.JetStream, durable string, tot *Totals, statePath string) int {
	t.Helper()
	cons, err := EnsureConsumer(ctx, js, EventsStream, durable, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := Consume(ctx, cons, tot, ConsumeOptions{
		BatchSize:        300,
		MaxWait:          time.Second,
		StopWhenCaughtUp: true,
		Save:             func(t *Totals) error { return t.Save(statePath) },
	})
	if err != nil {
		t.Fatalf("consume %s: %v", durable, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 0 || info.NumAckPending != 0 {
		t.Fatalf("%s stopped with %d pending and %d unacknowledged", durable, info.NumPending, info.NumAckPending)
	}
	return n
}

// clickHouseTotals runs creatorTotalsSQL on a connection of its own.
func clickHouseTotals(t *testing.T, ctx context.Context, addr, db, user, pass string) map[CreatorKey]Amount {
	t.Helper()
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Auth: ch.Auth{Database: db, Username: user, Password: pass}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(ctx, fmt.Sprintf(creatorTotalsSQL, "`"+db+"`"))
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	defer rows.Close()
	out := map[CreatorKey]Amount{}
	for rows.Next() {
		var k CreatorKey
		var role string
		var lines uint64
		var a Amount
		if err := rows.Scan(&k.Platform, &k.AuthorID, &role, &k.Currency, &lines, &a.EstimatedFen, &a.SettledFen); err != nil {
			t.Fatal(err)
		}
		k.Role, a.Lines = events.Role(role), int64(lines)
		out[k] = a
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("ClickHouse holds no commission lines")
	}
	return out
}

func diffTotals(t *testing.T, got, want map[CreatorKey]Amount) {
	t.Helper()
	keys := map[CreatorKey]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var sorted []CreatorKey
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].less(sorted[j]) })
	shown := 0
	for _, k := range sorted {
		if got[k] != want[k] && shown < 20 {
			shown++
			t.Errorf("%+v: subscriber %+v, ClickHouse %+v", k, got[k], want[k])
		}
	}
}
