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

	"github.com/yongjin-dev/yongjin/internal/devstack/devstacktest"
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
// refunds, some after settlement) — and requires the subscriber's totals,
// read from the stream through its own durable consumer, to equal the same
// totals computed from ClickHouse. Then it replays the whole stream twice
// more into the same state (two new durables, after a restart from the
// state file) and requires every replayed event to be recognised as a
// duplicate (the version already applied) or stale (an older one) and the
// totals to stay exactly the same.
func TestSubscriberTotalsMatchClickHouse(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	accounts := vendorsandbox.DemoAccounts("subscriber")[:1] // douke
	if accounts[0].Vendor != "douke" {
		t.Fatalf("the first demo account is %s, want douke", accounts[0].Vendor)
	}
	pipeline := devstacktest.Run(ctx, t, accounts, 11, 1200)
	st := pipeline.Stack
	cfg := pipeline.ClickHouse
	addr, db, user, pass := cfg.Addr, cfg.Database, cfg.Username, cfg.Password

	// the subscriber, as main runs it: its own durable, state saved before acks
	statePath := filepath.Join(t.TempDir(), "totals.json")
	totals := NewTotals()
	n := consumeAll(t, ctx, st.JS, "commission-totals", totals, statePath)
	s := totals.Stats()
	if s.Superseded == 0 {
		t.Fatal("no line changed version between the polls; the test would not prove that the latest version wins")
	}
	if s.Duplicates != 0 || s.Stale != 0 || totals.Unattributed() != 0 {
		t.Fatalf("first pass: %+v, %d lines without their order", s, totals.Unattributed())
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
		if replayed != n || after.Applied != before.Applied || skipped != int64(n) || after.Stale-before.Stale != s.Superseded {
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
