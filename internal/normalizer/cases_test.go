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

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/internal/normalizer"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/sink"
	"github.com/yongjin-dev/yongjin/internal/stagetest"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	payFrom = time.Date(2026, 10, 1, 0, 0, 0, 0, sandbox.CST)
	payTo   = time.Date(2026, 11, 1, 0, 0, 0, 0, sandbox.CST)
	clock   = time.Date(2026, 10, 20, 0, 0, 0, 0, sandbox.CST)
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
	out, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return out
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
	pages := sandboxPages(t, ctx, douke.SandboxAccount("a", "vekey-case3"), 200, 20)
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
	if l.Header.Get("Yongjin-Dlq-Record") != strconv.Itoa(bad) || l.Header.Get(bus.HdrDLQStreamSeq) != "1" || !bytes.Equal(l.Data, page.Body) {
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
