package sink_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/internal/normalizer"
	"github.com/yongjin-dev/yongjin/internal/sink"
	"github.com/yongjin-dev/yongjin/internal/stagetest"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// countingStore is the real ClickHouse store, recording every Insert call:
// how many events it was given and whether ClickHouse took them.
type countingStore struct {
	*clickhouse.Store
	mu    sync.Mutex
	calls []insertCall
}

type insertCall struct {
	events int
	err    error
}

func (c *countingStore) Insert(ctx context.Context, envs []events.Envelope) error {
	err := c.Store.Insert(ctx, envs)
	c.mu.Lock()
	c.calls = append(c.calls, insertCall{len(envs), err})
	c.mu.Unlock()
	return err
}

func (c *countingStore) Calls() []insertCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]insertCall(nil), c.calls...)
}

// orderEvents are n distinct douke order events; the one at index bad has
// a settle time no DateTime column holds (a vendor placeholder that got
// past an older normalizer).
func orderEvents(t *testing.T, n, bad int) []events.Envelope {
	t.Helper()
	paid := time.Date(2026, 10, 5, 2, 0, 0, 0, time.UTC)
	placeholder := time.Date(9999, 12, 31, 15, 59, 59, 0, time.UTC)
	out := make([]events.Envelope, n)
	for i := range out {
		o := events.Order{Platform: "douke", Account: "a", OrderID: fmt.Sprintf("9%018d", i), Currency: events.CurrencyCNY,
			PaidFen: 100, Status: events.StatusPaid, VendorStatus: "PAY_SUCC", PaidAt: paid, UpdatedAt: paid, Version: paid.UnixMilli()}
		if i == bad {
			o.Status, o.SettledAt = events.StatusSettled, &placeholder
		}
		env, err := o.Envelope()
		if err != nil {
			t.Fatal(err)
		}
		out[i] = env
	}
	return out
}

// TestCase5BadEventIsolationFinishes: a batch of 5000 events, one of which
// ClickHouse cannot store, ends with that one event in the sink's DLQ,
// the 4999 others in ClickHouse, and exactly one insert that sent rows (the
// one refused before sending anything, then the rest in one batch). On main
// the sink re-inserted the batch one row at a time: 5001 inserts.
func TestCase5BadEventIsolationFinishes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), stagetest.Timeout)
	defer cancel()
	const n, bad = 5000, 2500
	b := stagetest.NewBus(t, nil)
	chs := stagetest.NewClickHouse(t)
	envs := orderEvents(t, n, bad)
	msgs, err := normalizer.EventMessages("douke", envs)
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.PublishAll(ctx, b.JS, msgs, nil); err != nil {
		t.Fatal(err)
	}
	store := &countingStore{Store: chs.Store}
	// Every event is in EVENTS before the sink starts, and a partial batch
	// would wait 20 s: the sink fetches the 5000 as one batch.
	sk := b.Sink(sink.Config{BatchSize: n, FlushInterval: 20 * time.Second}, store)
	if err := b.WaitDrained(ctx, bus.EventsStream, "sink", sk); err != nil {
		t.Fatal(err)
	}
	if got, err := chs.Store.CountOrders(ctx); err != nil || got != n-1 {
		t.Fatalf("ClickHouse holds %d orders (%v); want %d", got, err, n-1)
	}
	letters, err := dlq.New(b.JS, sink.Stage).List(ctx, dlq.Filter{})
	if err != nil || len(letters) != 1 {
		t.Fatalf("sink DLQ = %d letters (%v); want 1", len(letters), err)
	}
	if l := letters[0]; !strings.Contains(l.Reason, envs[bad].ID) || !strings.Contains(l.Reason, "settled_at") || l.OriginalSeq != bad+1 {
		t.Fatalf("letter = seq %d of EVENTS, reason %q; want event %s (EVENTS seq %d) and its settled_at", l.OriginalSeq, l.Reason, envs[bad].ID, bad+1)
	}
	calls := store.Calls()
	sent := 0
	for _, c := range calls {
		if c.err == nil {
			sent++
			if c.events != n-1 {
				t.Errorf("an insert wrote %d events; want the %d good ones in one", c.events, n-1)
			}
		} else if !errors.Is(c.err, clickhouse.ErrBadEvent) {
			t.Errorf("insert failed: %v", c.err)
		}
	}
	if sent != 1 || len(calls) != 2 {
		t.Fatalf("%d inserts, %d of them written; want 2 (the refused batch, then the rest once)", len(calls), sent)
	}
}
