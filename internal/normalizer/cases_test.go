package normalizer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/internal/normalizer"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	doukesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/douke"
	"github.com/yongjin-dev/yongjin/internal/sink"
	"github.com/yongjin-dev/yongjin/internal/stagetest"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

var (
	payFrom = time.Date(2026, 10, 1, 0, 0, 0, 0, wire.CST)
	payTo   = time.Date(2026, 11, 1, 0, 0, 0, 0, wire.CST)
	clock   = time.Date(2026, 10, 20, 0, 0, 0, 0, wire.CST)
)

// sandboxPages serves a sandbox of n orders for one account of vendor and
// returns its pages of everything paid up to the clock, fetched by the
// vendor's real client with pageSize.
func sandboxPages(t *testing.T, ctx context.Context, account sandbox.Account, n, pageSize int) []events.RawPage {
	t.Helper()
	cfg := sandbox.DefaultConfig()
	cfg.Seed, cfg.Orders, cfg.From, cfg.To, cfg.Clock = 11, n, payFrom, payTo, clock
	cfg.Accounts = []sandbox.Account{account}
	srv, url := stagetest.Sandbox(t, cfg)
	pages, err := stagetest.Pages(ctx, srv, url, account, vendors.Window{Start: payFrom, End: clock, TimeType: "pay"}, pageSize)
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// editRecord returns body with fn applied to the i-th order of a douke page
// (the envelope is re-encoded; numbers keep their literal text).
func editRecord(t *testing.T, body []byte, i int, fn func(o map[string]any)) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var env map[string]any
	if err := d.Decode(&env); err != nil {
		t.Fatal(err)
	}
	orders := env["data"].(map[string]any)["orders"].([]any)
	fn(orders[i].(map[string]any))
	return encode(t, env)
}

// encode writes v as JSON the way a vendor would: "<", ">" and "&" as they
// are (Go's encoder escapes them by default).
func encode(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// unixTimes is the normalizer fix of TestCase3: it reads pay_success_time
// sent as Unix seconds (the drift the bad record has), by rewriting such
// values to the documented layout before the shipped douke mapping runs.
type unixTimes struct{ vendors.Vendor }

func (u unixTimes) fix(p events.RawPage) events.RawPage {
	d := json.NewDecoder(bytes.NewReader(p.Body))
	d.UseNumber()
	var env map[string]any
	if d.Decode(&env) != nil {
		return p
	}
	data, _ := env["data"].(map[string]any)
	orders, _ := data["orders"].([]any)
	for _, o := range orders {
		m, _ := o.(map[string]any)
		if n, ok := m["pay_success_time"].(json.Number); ok {
			sec, _ := n.Int64()
			m["pay_success_time"] = time.Unix(sec, 0).In(wire.CST).Format(wire.TimeLayout)
		}
	}
	p.Body, _ = json.Marshal(env)
	return p
}

func (u unixTimes) Normalize(p events.RawPage) ([]events.Envelope, error) {
	return u.Vendor.Normalize(u.fix(p))
}

func (u unixTimes) NormalizeRecords(p events.RawPage) ([]vendors.Record, error) {
	return vendors.NormalizeRecords(u.Vendor, u.fix(p))
}

// TestCase3OneBadRecordCostsOnlyItself: a douke page of 20 orders from the
// sandbox, one of which has its pay time as Unix seconds (a drift today's
// mapping refuses), goes through RAW, the normalizer and the sink: the 19
// good orders are in ClickHouse, the bad one alone is in the DLQ with the
// page's RAW sequence, its index and the reason (dlq show says so), and
// after a normalizer that understands the drift is deployed, dlq redrive
// makes ClickHouse hold all 20, with nothing left in the DLQ and no order
// twice.
func TestCase3OneBadRecordCostsOnlyItself(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), stagetest.Timeout)
	defer cancel()
	const bad = 7
	pages := sandboxPages(t, ctx, doukesandbox.Account("a", "vekey-case3"), 200, 20)
	var page events.RawPage
	for _, p := range pages {
		if dp, err := douke.DecodePage(p.Body); err == nil && len(dp.Orders) == 20 {
			page = p
			break
		}
	}
	if page.Body == nil {
		t.Fatal("the sandbox served no page of 20 orders")
	}
	var badID string
	page.Body = editRecord(t, page.Body, bad, func(o map[string]any) {
		badID = fmt.Sprint(o["order_id"])
		paid, err := wire.ParseTime(fmt.Sprint(o["pay_success_time"]))
		if err != nil || paid == nil {
			t.Fatalf("order %s: pay_success_time %v: %v", badID, o["pay_success_time"], err)
		}
		o["pay_success_time"] = json.Number(strconv.FormatInt(paid.Unix(), 10))
	})

	b := stagetest.NewBus(t, nil)
	chs := stagetest.NewClickHouse(t)
	sk := b.Sink(sink.Config{}, chs.Store)
	_, norm := b.Normalizer(normalizer.Config{}, nil)
	if err := b.PublishRaw(ctx, page); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitPipeline(ctx, sk, norm); err != nil {
		t.Fatal(err)
	}
	if n, err := chs.Store.CountOrders(ctx); err != nil || n != 19 {
		t.Fatalf("ClickHouse holds %d orders (%v); want the page's 19 good ones", n, err)
	}
	if n, err := chs.Count(ctx, "SELECT count() FROM commission_lines FINAL"); err != nil || n != 19*4 {
		t.Fatalf("ClickHouse holds %d commission lines (%v); want 19×4", n, err)
	}
	q := dlq.New(b.JS, normalizer.Stage)
	letters, err := q.List(ctx, dlq.Filter{})
	if err != nil || len(letters) != 1 {
		t.Fatalf("DLQ = %d letters (%v); want 1: the bad record", len(letters), err)
	}
	l, err := q.Show(ctx, letters[0].Seq)
	if err != nil {
		t.Fatal(err)
	}
	var shown strings.Builder
	dlq.PrintLetter(&shown, l)
	for _, want := range []string{"record: 7", "original seq: 1", badID, "pay_success_time", "data.orders[7]"} {
		if !strings.Contains(shown.String(), want) {
			t.Errorf("dlq show lacks %q:\n%s", want, shown.String())
		}
	}
	if l.Header.Get("Yongjin-Dlq-Record") != strconv.Itoa(bad) || l.Header.Get(dlq.HdrOriginalSeq) != "1" || !bytes.Equal(l.Data, page.Body) {
		t.Fatalf("letter headers %v, body of %d bytes; want record %d of RAW seq 1 and the page byte for byte", l.Header, len(l.Data), bad)
	}

	// The fix is deployed: a normalizer that reads Unix-second pay times.
	if err := norm.Stop(); err != nil {
		t.Fatal(err)
	}
	d, _ := all.Registry().Get(douke.Name)
	_, fixed := b.Normalizer(normalizer.Config{}, vendors.NewRegistry(unixTimes{d}))
	if n, err := q.Redrive(ctx, dlq.Filter{}); err != nil || n != 1 {
		t.Fatalf("redrive = %d, %v; want 1", n, err)
	}
	if err := b.WaitPipeline(ctx, sk, fixed); err != nil {
		t.Fatal(err)
	}
	if n, err := chs.Store.CountOrders(ctx); err != nil || n != 20 {
		t.Fatalf("after the redrive ClickHouse holds %d orders (%v); want 20", n, err)
	}
	if n, err := chs.Count(ctx, "SELECT count() FROM orders FINAL WHERE order_id = '"+badID+"'"); err != nil || n != 1 {
		t.Fatalf("the fixed order %s is stored %d times (%v)", badID, n, err)
	}
	if left, err := q.List(ctx, dlq.Filter{}); err != nil || len(left) != 0 {
		t.Fatalf("DLQ after the redrive = %d letters (%v); want none", len(left), err)
	}
}

// withOrders returns a douke page body like body whose data.orders are
// orders: each is the page's first order with the given fields changed
// (nil deletes a field).
func withOrders(t *testing.T, body []byte, orders ...map[string]any) []byte {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var env map[string]any
	if err := d.Decode(&env); err != nil {
		t.Fatal(err)
	}
	data := env["data"].(map[string]any)
	first := data["orders"].([]any)[0].(map[string]any)
	list := make([]any, len(orders))
	for i, changes := range orders {
		o := map[string]any{}
		for k, v := range first {
			o[k] = v
		}
		for k, v := range changes {
			if v == nil {
				delete(o, k)
			} else {
				o[k] = v
			}
		}
		list[i] = o
	}
	data["orders"] = list
	return encode(t, env)
}

// firstPage is the first sandbox douke page with at least n orders.
func firstPage(t *testing.T, ctx context.Context, n int) events.RawPage {
	t.Helper()
	for _, p := range sandboxPages(t, ctx, doukesandbox.Account("a", "vekey-cases"), 200, 20) {
		if dp, err := douke.DecodePage(p.Body); err == nil && len(dp.Orders) >= n {
			return p
		}
	}
	t.Fatalf("the sandbox served no page of %d orders", n)
	return events.RawPage{}
}

// TestCase5UnstorableTimeStopsAtTheNormalizer: a record with a vendor
// placeholder time (settle_time 9999-12-31 23:59:59), in a page without a
// fetch time (so only storage bounds it), is dead-lettered by the
// normalizer with the reason; it never reaches the sink, whose DLQ stays
// empty, and the page's other 19 orders are stored. On main the event went
// to EVENTS and the sink had to dead-letter it.
func TestCase5UnstorableTimeStopsAtTheNormalizer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), stagetest.Timeout)
	defer cancel()
	page := firstPage(t, ctx, 20)
	page.FetchedAt = time.Time{}
	page.Body = editRecord(t, page.Body, 3, func(o map[string]any) {
		o["settle_time"], o["flow_point"] = "9999-12-31 23:59:59", "SETTLE"
	})
	b := stagetest.NewBus(t, nil)
	chs := stagetest.NewClickHouse(t)
	sk := b.Sink(sink.Config{}, chs.Store)
	_, norm := b.Normalizer(normalizer.Config{}, nil)
	if err := b.PublishRaw(ctx, page); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitPipeline(ctx, sk, norm); err != nil {
		t.Fatal(err)
	}
	if n, err := chs.Store.CountOrders(ctx); err != nil || n != 19 {
		t.Fatalf("ClickHouse holds %d orders (%v); want 19", n, err)
	}
	if l, err := dlq.New(b.JS, sink.Stage).List(ctx, dlq.Filter{}); err != nil || len(l) != 0 {
		t.Fatalf("sink DLQ = %d letters (%v); want none: the event must not reach the sink", len(l), err)
	}
	letters, err := dlq.New(b.JS, normalizer.Stage).List(ctx, dlq.Filter{})
	if err != nil || len(letters) != 1 || !strings.Contains(letters[0].Reason, "settle_time") || !strings.Contains(letters[0].Reason, "latest time storage holds") {
		t.Fatalf("normalizer DLQ = %+v (%v); want one letter naming settle_time and the storage limit", letters, err)
	}
}

// TestCase7PlaceholderTimeIsMalformed: a record whose refund_time lies 40
// days after its page's fetch time (a placeholder, not a time) is
// dead-lettered alone: without it its version would be that future time
// and every later real update of the order would lose against it. On main
// the order was stored with the future version.
func TestCase7PlaceholderTimeIsMalformed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), stagetest.Timeout)
	defer cancel()
	page := firstPage(t, ctx, 20)
	future := page.FetchedAt.Add(40 * 24 * time.Hour).In(wire.CST).Format(wire.TimeLayout)
	page.Body = editRecord(t, page.Body, 5, func(o map[string]any) {
		o["refund_time"], o["update_time"] = future, ""
	})
	b := stagetest.NewBus(t, nil)
	chs := stagetest.NewClickHouse(t)
	sk := b.Sink(sink.Config{}, chs.Store)
	_, norm := b.Normalizer(normalizer.Config{}, nil)
	if err := b.PublishRaw(ctx, page); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitPipeline(ctx, sk, norm); err != nil {
		t.Fatal(err)
	}
	if n, err := chs.Store.CountOrders(ctx); err != nil || n != 19 {
		t.Fatalf("ClickHouse holds %d orders (%v); want 19", n, err)
	}
	letters, err := dlq.New(b.JS, normalizer.Stage).List(ctx, dlq.Filter{})
	if err != nil || len(letters) != 1 || !strings.Contains(letters[0].Reason, "refund_time") || !strings.Contains(letters[0].Reason, "later than") {
		t.Fatalf("normalizer DLQ = %+v (%v); want one letter naming refund_time as later than the fetch time", letters, err)
	}
	if letters[0].Header.Get("Yongjin-Dlq-Record") != "5" {
		t.Fatalf("letter record = %q; want 5", letters[0].Header.Get("Yongjin-Dlq-Record"))
	}
}

// TestCase7VersionNeverGoesBackwards: one douke order observed twice, once
// with update_time and once without, in both orders of observation and
// both orders of delivery. The newer observation is the settlement; its
// vendor update_time (when sent) is stale, older than the order's confirm
// time. ClickHouse must end with the settlement every time. On main the
// observation "without update_time, then with a stale one" went backwards:
// the settlement got the stale update_time as version and lost.
func TestCase7VersionNeverGoesBackwards(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), stagetest.Timeout)
	defer cancel()
	page := firstPage(t, ctx, 1)
	dp, err := douke.DecodePage(page.Body)
	if err != nil {
		t.Fatal(err)
	}
	paid, err := wire.ParseTime(string(dp.Orders[0].PaySuccessTime))
	if err != nil || paid == nil {
		t.Fatalf("pay time %q: %v", dp.Orders[0].PaySuccessTime, err)
	}
	at := func(d time.Duration) string { return paid.Add(d).In(wire.CST).Format(wire.TimeLayout) }
	confirmed := map[string]any{"flow_point": "CONFIRM", "confirm_time": at(3 * time.Hour), "settle_time": "", "refund_time": ""}
	settled := map[string]any{"flow_point": "SETTLE", "confirm_time": at(3 * time.Hour), "settle_time": at(6 * time.Hour), "refund_time": ""}
	with := func(obs map[string]any, id, update string) map[string]any {
		o := map[string]any{"order_id": id, "update_time": update}
		for k, v := range obs {
			o[k] = v
		}
		return o
	}
	// Order IDs: [first observation carries update_time?][delivered newest first?].
	type tc struct {
		id                 string
		firstHasUpdate     bool
		newestDeliveredFst bool
	}
	cases := []tc{{"81", false, false}, {"82", false, true}, {"83", true, false}, {"84", true, true}}
	var early, late []map[string]any // pages delivered first and second
	for _, c := range cases {
		older, newer := with(confirmed, c.id, ""), with(settled, c.id, at(2*time.Hour))
		if c.firstHasUpdate {
			older, newer = with(confirmed, c.id, at(2*time.Hour)), with(settled, c.id, "")
		}
		if c.newestDeliveredFst {
			older, newer = newer, older
		}
		early, late = append(early, older), append(late, newer)
	}
	p1, p2 := page, page
	p1.Cursor, p1.Body = "case7-1", withOrders(t, page.Body, early...)
	p2.Cursor, p2.Body = "case7-2", withOrders(t, page.Body, late...)

	b := stagetest.NewBus(t, nil)
	chs := stagetest.NewClickHouse(t)
	sk := b.Sink(sink.Config{}, chs.Store)
	_, norm := b.Normalizer(normalizer.Config{}, nil)
	for _, p := range []events.RawPage{p1, p2} { // one after the other: delivery order is the test
		if err := b.PublishRaw(ctx, p); err != nil {
			t.Fatal(err)
		}
		if err := b.WaitPipeline(ctx, sk, norm); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cases {
		var status string
		var version uint64
		if err := chs.Conn.QueryRow(ctx, "SELECT status, version FROM orders FINAL WHERE order_id = ?", c.id).Scan(&status, &version); err != nil {
			t.Fatalf("order %s: %v", c.id, err)
		}
		if want := paid.Add(6 * time.Hour).UnixMilli(); status != string(events.StatusSettled) || version != uint64(want) {
			t.Errorf("order %s (first observation with update_time: %v, newest delivered first: %v): status %s version %d; want settled at version %d (the settle time)",
				c.id, c.firstHasUpdate, c.newestDeliveredFst, status, version, want)
		}
	}
	if n, err := b.JS.Stream(ctx, bus.DLQStream); err == nil {
		if info, err := n.Info(ctx); err != nil || info.State.Msgs != 0 {
			t.Fatalf("DLQ holds %d letters (%v); want none", info.State.Msgs, err)
		}
	}
}

// TestCase6OversizeMessagesArePermanent runs the pipeline on a NATS server
// whose max payload is 64 KiB. Page A holds a record whose order event
// would exceed it (a product name of 20,000 "<", which JSON escapes to six
// bytes each); page B fits in RAW, but its dead letter (the page plus the
// reason) would not. Both are classed as permanent, with errors naming the
// size and the limit: A's record is dead-lettered alone, B's bad record is
// dead-lettered without the body, which stays in RAW, and dlq redrive reads
// it from there. Nothing loops, nothing is dropped: every other order is in
// ClickHouse. On main both pages were retried as transient, and B looped
// for ever.
func TestCase6OversizeMessagesArePermanent(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), stagetest.Timeout)
	defer cancel()
	const limit = 64 << 10
	b := stagetest.NewBus(t, func(o *server.Options) { o.MaxPayload = limit })
	pages := sandboxPages(t, ctx, doukesandbox.Account("a", "vekey-case6"), 200, 20)
	var full []events.RawPage
	for _, p := range pages {
		if dp, err := douke.DecodePage(p.Body); err == nil && len(dp.Orders) == 20 {
			full = append(full, p)
		}
	}
	if len(full) < 2 {
		t.Fatalf("the sandbox served %d full pages; want 2", len(full))
	}
	a, pb := full[0], full[1]
	a.Body = editRecord(t, a.Body, 2, func(o map[string]any) { o["product_name"] = strings.Repeat("<", 20000) })
	rawSize := func(p events.RawPage) int {
		m := nats.NewMsg(p.Subject())
		for k, v := range p.Headers() {
			m.Header.Set(k, v)
		}
		m.Header.Set(nats.MsgIdHdr, p.MsgID())
		m.Data = p.Body
		return dlq.MsgSize(m)
	}
	pb.Body = editRecord(t, pb.Body, 4, func(o map[string]any) { o["pay_success_time"] = "" })
	pad := limit - 100 - rawSize(pb)
	pb.Body = editRecord(t, pb.Body, 0, func(o map[string]any) { o["shop_name"] = fmt.Sprint(o["shop_name"]) + strings.Repeat("x", pad) })
	if n := rawSize(pb); n > limit || n < limit-200 {
		t.Fatalf("page B is %d bytes in RAW; want just under %d", n, limit)
	}

	chs := stagetest.NewClickHouse(t)
	sk := b.Sink(sink.Config{}, chs.Store)
	_, norm := b.Normalizer(normalizer.Config{}, nil)
	if err := b.PublishRaw(ctx, a, pb); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitPipeline(ctx, sk, norm); err != nil {
		t.Fatal(err)
	}
	if n, err := chs.Store.CountOrders(ctx); err != nil || n != 38 {
		t.Fatalf("ClickHouse holds %d orders (%v); want 2×19", n, err)
	}
	q := dlq.New(b.JS, normalizer.Stage)
	letters, err := q.List(ctx, dlq.Filter{})
	if err != nil || len(letters) != 2 {
		t.Fatalf("DLQ = %d letters (%v); want 2", len(letters), err)
	}
	byRecord := map[int]dlq.Letter{}
	for _, l := range letters {
		byRecord[l.Record] = l
	}
	la, lb := byRecord[2], byRecord[4]
	if la.Seq == 0 || la.OriginalSeq != 1 || la.BodyOmitted || !strings.Contains(la.Reason, "exceeds the server's max payload") || !strings.Contains(la.Reason, fmt.Sprintf("the limit is %d bytes", limit)) {
		t.Errorf("page A's letter: seq %d, RAW seq %d, body omitted %v, reason %q; want record 2 of RAW seq 1 with the event's size and the limit", la.Seq, la.OriginalSeq, la.BodyOmitted, la.Reason)
	}
	if lb.Seq == 0 || !lb.BodyOmitted || len(lb.Data) != 0 || lb.OriginalStream != bus.RawStream || lb.OriginalSeq != 2 ||
		!strings.Contains(lb.Reason, "pay_success_time") || !strings.Contains(lb.Reason, "bytes omitted") || !strings.Contains(lb.Reason, fmt.Sprintf("the limit is %d bytes", limit)) {
		t.Errorf("page B's letter: seq %d, body omitted %v (%d bytes), original %s seq %d, reason %q; want record 4 without body, naming RAW seq 2, the reason, the sizes and the limit",
			lb.Seq, lb.BodyOmitted, len(lb.Data), lb.OriginalStream, lb.OriginalSeq, lb.Reason)
	}
	if n, err := q.Redrive(ctx, dlq.Filter{Seqs: []uint64{lb.Seq}}); err != nil || n != 1 {
		t.Fatalf("redrive of the body-less letter = %d, %v", n, err)
	}
	if err := b.WaitPipeline(ctx, sk, norm); err != nil {
		t.Fatal(err)
	}
	raw, err := b.JS.Stream(ctx, bus.RawStream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := raw.GetMsg(ctx, 3)
	if err != nil || !bytes.Equal(m.Data, pb.Body) || m.Header.Get(dlq.HdrRedriveRecords) != "4" {
		t.Fatalf("RAW message 3 (the redriven page): %v, %d bytes (page B has %d), %s %q; want page B byte for byte, for record 4",
			err, len(m.Data), len(pb.Body), dlq.HdrRedriveRecords, m.Header.Get(dlq.HdrRedriveRecords))
	}
	letters, err = q.List(ctx, dlq.Filter{})
	if err != nil || len(letters) != 2 {
		t.Fatalf("DLQ after the redrive = %d letters (%v); want A's letter and B's record 4 again", len(letters), err)
	}
	if l := letters[1]; l.Record != 4 || l.OriginalSeq != 3 || !l.BodyOmitted {
		t.Fatalf("new letter: record %d of RAW seq %d, body omitted %v; want record 4 of RAW seq 3 (the redriven page), without body", l.Record, l.OriginalSeq, l.BodyOmitted)
	}
}

// TestCase10SameOrderUnderTwoAccounts polls one sandbox douke account under
// two account labels (two sources with the same credentials: every order
// is seen by both) and requires: JetStream keeps both accounts' events
// (their IDs differ by account), each account keeps its own commission
// lines, and an order, with what its buyer paid, counts once. On main the
// second account's events had the same IDs and JetStream dropped them.
func TestCase10SameOrderUnderTwoAccounts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), stagetest.Timeout)
	defer cancel()
	a := doukesandbox.Account("a", "vekey-case10")
	cfg := sandbox.DefaultConfig()
	cfg.Seed, cfg.Orders, cfg.From, cfg.To, cfg.Clock = 11, 120, payFrom, payTo, clock
	cfg.Accounts = []sandbox.Account{a}
	srv, url := stagetest.Sandbox(t, cfg)
	w := vendors.Window{Start: payFrom, End: clock, TimeType: "pay"}
	pagesA, err := stagetest.Pages(ctx, srv, url, a, w, 20)
	if err != nil {
		t.Fatal(err)
	}
	b := a
	b.Name = "b"
	pagesB, err := stagetest.Pages(ctx, srv, url, b, w, 20)
	if err != nil {
		t.Fatal(err)
	}
	var envs []events.Envelope
	for _, p := range pagesA {
		e, err := douke.Normalize(p)
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, e...)
	}
	var orders, paid, estimated int64
	for _, e := range envs {
		v, err := events.Decode(e)
		if err != nil {
			t.Fatal(err)
		}
		switch x := v.(type) {
		case *events.Order:
			orders++
			paid += x.PaidFen
		case *events.CommissionLine:
			estimated += x.EstimatedFen
		}
	}
	if orders == 0 || estimated == 0 {
		t.Fatalf("the sandbox served %d orders, %d fen of commission", orders, estimated)
	}

	bs := stagetest.NewBus(t, nil)
	chs := stagetest.NewClickHouse(t)
	sk := bs.Sink(sink.Config{}, chs.Store)
	// every event of both accounts, per-line commission.v1 events included
	_, norm := bs.Normalizer(normalizer.Config{CommissionEvents: true}, nil)
	if err := bs.PublishRaw(ctx, append(pagesA, pagesB...)...); err != nil {
		t.Fatal(err)
	}
	if err := bs.WaitPipeline(ctx, sk, norm); err != nil {
		t.Fatal(err)
	}
	evs, err := bs.JS.Stream(ctx, bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := evs.Info(ctx)
	if err != nil || info.State.Msgs != uint64(2*len(envs)) {
		t.Fatalf("EVENTS holds %d events (%v); want both accounts' %d", info.State.Msgs, err, 2*len(envs))
	}
	count := func(q string) int64 {
		t.Helper()
		var n int64
		if err := chs.Conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n, p := count("SELECT toInt64(count()) FROM orders FINAL"), count("SELECT sum(paid_fen) FROM orders FINAL"); n != orders || p != paid {
		t.Errorf("orders: %d, paid %d fen; want each order once: %d, %d fen", n, p, orders, paid)
	}
	for _, acct := range []string{"a", "b"} {
		lines := count("SELECT toInt64(count()) FROM commission_lines_by_account FINAL WHERE account = '" + acct + "'")
		est := count("SELECT sum(estimated_fen) FROM commission_lines_by_account FINAL WHERE account = '" + acct + "'")
		if lines != 4*orders || est != estimated {
			t.Errorf("account %s: %d commission lines, %d fen estimated; want its own %d lines, %d fen", acct, lines, est, 4*orders, estimated)
		}
	}
	sum, err := chs.Store.Summary(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var gotOrders, gotPaid, gotEst int64
	for _, o := range sum.Orders {
		gotOrders, gotPaid = gotOrders+o.Orders, gotPaid+o.PaidFen
	}
	for _, c := range sum.Commissions {
		gotEst += c.EstimatedFen
	}
	if gotOrders != orders || gotPaid != paid || gotEst != 2*estimated {
		t.Errorf("shipped summary: %d orders, %d fen paid, %d fen commission; want %d, %d (once) and %d (each account's)", gotOrders, gotPaid, gotEst, orders, paid, 2*estimated)
	}
}
