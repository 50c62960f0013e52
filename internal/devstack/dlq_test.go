package devstack_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/internal/normalizer"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// TestDLQRedriveIsIdempotent dead-letters valid douke pages (as if an older
// normalizer had refused them), lists and shows them, redrives them into the
// running pipeline, and requires ClickHouse to hold exactly what those pages
// map to — also after the same letters are dead-lettered and redriven again.
func TestDLQRedriveIsIdempotent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st := startStack(t, 400)
	var src = st.Sources[0]
	if src.Vendor != "douke" {
		t.Fatalf("first source is %s", src.Vendor)
	}
	creds, err := src.ResolveCredentials()
	if err != nil {
		t.Fatal(err)
	}
	v, _ := st.Registry.Get("douke")
	f, err := v.NewFetcher(vendors.SourceConfig{BaseURL: st.SandboxURL, Account: src.Account, Credentials: creds, RatePerSecond: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var pages []events.RawPage
	w := vendors.Window{Start: payFrom, End: clock1, TimeType: "pay"}
	if err := f.Walk(ctx, w, func(_ context.Context, p vendors.Page) error {
		pages = append(pages, events.RawPage{SourceID: src.Name, Vendor: "douke", Endpoint: v.Endpoint(), Account: src.Account,
			WindowStart: w.Start, WindowEnd: w.End, TimeType: "pay", Cursor: p.Cursor, HTTPStatus: p.HTTPStatus, FetchedAt: time.Now(), Body: p.Body})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var want []events.Envelope
	for _, p := range pages {
		envs, err := v.Normalize(p)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, envs...)
	}
	wantSummary, _ := summary.FromEvents(want)

	deadLetter := func() {
		for _, p := range pages {
			m := nats.NewMsg(dlq.Subject("normalizer", "douke"))
			for k, val := range p.Headers() {
				m.Header.Set(k, val)
			}
			m.Header.Set(dlq.HdrStage, "normalizer")
			m.Header.Set(dlq.HdrReason, "unknown vendor \"douke\" (test)")
			m.Header.Set(dlq.HdrOriginalSubject, p.Subject())
			m.Data = p.Body
			if _, err := st.JS.PublishMsg(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	deadLetter()
	q := dlq.New(st.JS, "normalizer")
	letters, err := q.List(ctx, dlq.Filter{Vendor: "douke", ReasonContains: "unknown vendor"})
	if err != nil || len(letters) != len(pages) {
		t.Fatalf("List = %d letters, %v; want %d", len(letters), err, len(pages))
	}
	if other, _ := dlq.New(st.JS, "sink").List(ctx, dlq.Filter{}); len(other) != 0 {
		t.Fatalf("the sink's DLQ shows %d of the normalizer's letters", len(other))
	}
	one, err := q.Show(ctx, letters[0].Seq)
	if err != nil || string(one.Data) != string(pages[0].Body) || one.OriginalSubject != pages[0].Subject() {
		t.Fatalf("Show = %+v, %v", one, err)
	}
	var b strings.Builder
	dlq.PrintList(&b, letters)
	if !strings.Contains(b.String(), "unknown vendor") {
		t.Fatalf("list output lacks the reason:\n%s", b.String())
	}

	for round := 1; round <= 2; round++ {
		n, err := q.Redrive(ctx, dlq.Filter{Vendor: "douke"})
		if err != nil || n != len(pages) {
			t.Fatalf("round %d: redrove %d, %v; want %d", round, n, err, len(pages))
		}
		if left, _ := q.List(ctx, dlq.Filter{}); len(left) != 0 {
			t.Fatalf("round %d: %d letters left after redrive", round, len(left))
		}
		if n, _ := q.Redrive(ctx, dlq.Filter{}); n != 0 {
			t.Fatalf("round %d: a second redrive found %d letters", round, n)
		}
		if err := st.WaitCaughtUp(ctx, nil); err != nil {
			t.Fatal(err)
		}
		got, err := st.Summary(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if diff := summary.Diff(wantSummary, got); len(diff) > 0 {
			t.Fatalf("round %d: ClickHouse after redrive differs from the pages' events:\n%s", round, strings.Join(diff, "\n"))
		}
		deadLetter() // the same pages dead-lettered again: redriving them must change nothing
	}
}

// TestReplayFromRaw re-derives every event from RAW (as after a normalizer
// fix) and requires ClickHouse to stay equal to the truth: the replayed events
// really went through EVENTS and the sink, and counted once.
func TestReplayFromRaw(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st := startStack(t, 500)
	poll(t, ctx, st, time.Time{}, clock1)
	assertMatchesTruth(t, ctx, st)
	before := streamMsgs(t, ctx, st.JS, bus.EventsStream)
	norm, err := normalizer.New(normalizer.Config{}, st.Registry, st.JS)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := norm.Replay(ctx, "douke", time.Now().Add(-time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Pages == 0 || rs.Events == 0 || rs.DeadLettered != 0 {
		t.Fatalf("replay = %+v", rs)
	}
	if after := streamMsgs(t, ctx, st.JS, bus.EventsStream); after != before+rs.Events {
		t.Fatalf("EVENTS grew from %d to %d; want +%d replayed events", before, after, rs.Events)
	}
	if err := st.WaitCaughtUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
	assertMatchesTruth(t, ctx, st)
}
