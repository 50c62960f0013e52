package poller_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/devstack"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/internal/normalizer"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	doukesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/douke"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
)

// TestCase2UndecodableRecordDoesNotBlockItsSource: the sandbox serves one
// douke order with a type-drifted field (item_num 12.5 in an integer field),
// every time it is served. The poller must publish that page byte for byte
// like any other (RAW is the replay log), every later window must flow (the
// checkpoint reaches now without an error), and the normalizer dead-letters
// that one record alone (case 3): ClickHouse holds every order of the truth
// (which leaves the drifting order out, see sandbox.Server.TruthAt), its page
// neighbours included, and the DLQ holds exactly one letter, the drifted
// record's, with its index in the page and the reason.
func TestCase2UndecodableRecordDoesNotBlockItsSource(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st := startStack(t, 1000, sandbox.Faults{DriftedRecords: 1}, "douke")
	clock := st.Sandbox.Clock()
	cps, err := checkpoint.Open(ctx, st.JS, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := poller.New(st.JS, st.Registry, poller.Config{Now: clock.Now, Holder: "case2"})
	src := stackSource(t, st, "douke")
	src.WindowSize = 2 * 24 * time.Hour
	parts, err := p.Parts(src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.RunPart(ctx, cps, parts[0], "", payFrom, time.Time{}, true, nil); err != nil {
		t.Fatalf("the part stopped at the drifted record: %v", err)
	}
	cp := waitCheckpoint(t, ctx, cps, parts[0].Key(), clock.Now(), true)
	if cp.LastError != "" {
		t.Fatalf("last error %q", cp.LastError)
	}
	drifted := st.Sandbox.Stats("douke").DriftedRecords
	if drifted == nil || len(*drifted) != 1 {
		t.Fatalf("the sandbox drifted %v records, want 1", drifted)
	}
	bad := (*drifted)[0]
	if err := st.WaitCaughtUp(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// the drifted page is in RAW byte for byte, once
	var page []string
	for _, body := range rawBodies(t, ctx, st) {
		if !strings.Contains(string(body), `"order_id":"`+bad+`"`) {
			continue
		}
		if !strings.Contains(string(body), `"item_num":12.5`) {
			t.Fatalf("the RAW page of %s is not the vendor's body", bad)
		}
		if page != nil {
			t.Fatalf("the drifted order %s is on two RAW pages", bad)
		}
		page = pageOrderIDs(t, body)
	}
	if len(page) < 2 {
		t.Fatalf("the drifted order %s is on %d RAW pages of %d orders, want one page with neighbours", bad, len(page), len(page))
	}
	// every good order in ClickHouse, the drifted one not
	stored := clickhouseOrderIDs(t, ctx, st)
	truth := st.Sandbox.Truth("douke").Orders
	for _, o := range truth {
		if o.OrderID == bad {
			t.Fatalf("the truth holds the drifting order %s", bad)
		}
		if !stored[o.OrderID] {
			t.Errorf("order %s is missing from ClickHouse", o.OrderID)
		}
	}
	if stored[bad] {
		t.Errorf("the drifted order %s is in ClickHouse", bad)
	}
	if len(stored) != len(truth) {
		t.Errorf("ClickHouse holds %d orders, the truth %d", len(stored), len(truth))
	}
	// exactly one dead letter: the drifted record, with its index and reason
	letters, err := dlq.New(st.JS, normalizer.Stage).List(ctx, dlq.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(letters) != 1 {
		t.Fatalf("the DLQ holds %d letters, want exactly 1 (the drifted record)", len(letters))
	}
	l := letters[0]
	if l.Record < 0 || l.Record >= len(page) || page[l.Record] != bad {
		t.Errorf("the letter names record %d of the page, want the drifted order %s (page %v)", l.Record, bad, page)
	}
	if !strings.Contains(l.Reason, doukesandbox.DriftedReason) {
		t.Errorf("the letter's reason %q does not say %q", l.Reason, doukesandbox.DriftedReason)
	}
	t.Logf("%d orders in the truth and in ClickHouse; the drifted order %s (record %d of its page of %d) dead-lettered: %s",
		len(truth), bad, l.Record, len(page), l.Reason)
}

// rawBodies returns the body of every message in RAW.
func rawBodies(t *testing.T, ctx context.Context, st *devstack.Stack) [][]byte {
	t.Helper()
	c, err := st.JS.OrderedConsumer(ctx, bus.RawStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.JS.Stream(ctx, bus.RawStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for uint64(len(out)) < info.State.Msgs {
		// ask for no more than RAW holds: a Fetch of more waits its whole MaxWait
		batch, err := c.Fetch(int(min(500, info.State.Msgs-uint64(len(out)))), jetstream.FetchMaxWait(30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			out = append(out, m.Data())
		}
		if err := batch.Error(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// pageOrderIDs lists the order IDs of a douke page without decoding the
// orders' other fields.
func pageOrderIDs(t *testing.T, body []byte) []string {
	t.Helper()
	_, orders, err := douke.DecodePaging(body)
	if err != nil {
		t.Fatal(err)
	}
	var ids []struct {
		OrderID string `json:"order_id"`
	}
	if err := json.Unmarshal(orders, &ids); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(ids))
	for i, x := range ids {
		out[i] = x.OrderID
	}
	return out
}

// clickhouseOrderIDs returns the IDs of every order the sink stored.
func clickhouseOrderIDs(t *testing.T, ctx context.Context, st *devstack.Stack) map[string]bool {
	t.Helper()
	user, pass := testenv.ClickHouseCredentials()
	conn, err := ch.Open(&ch.Options{Addr: []string{st.Store.Addr()}, Auth: ch.Auth{Database: st.Store.Database(), Username: user, Password: pass}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(ctx, "SELECT DISTINCT order_id FROM orders")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
