//go:build chaos

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	doukesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/douke"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
)

// minOrders is the least number of orders the suite must run over.
const minOrders = 100_000

// verify compares ClickHouse with the sandbox's ground truth and the DLQ
// with the malformed pages, and checks that the chaos really happened.
func (r *runner) verify(ctx context.Context, st *stack, m *monkey, final time.Time) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	r.logf("verifying: ClickHouse against the sandbox truth at %s CST, the DLQ against the malformed pages", final.Format(time.DateTime))

	// Ground truth of every vendor at the final clock.
	var truths []summary.Summary
	var doukeOrders []sandbox.OrderTruth
	truthOK := true
	for _, v := range allVendors {
		q := "&orders=false"
		if v == "douke" {
			q = ""
		}
		b, err := httpGet(ctx, st.sandboxURL+"/_sandbox/truth?vendor="+v+q)
		var t sandbox.Truth
		if err == nil {
			err = json.Unmarshal(b, &t)
		}
		if err == nil && !t.At.Equal(final) {
			err = fmt.Errorf("truth is at %s, want the final clock %s", t.At, final)
		}
		if err != nil {
			r.fail("sandbox truth of %s: %v", v, err)
			truthOK = false
			continue
		}
		truths = append(truths, t.Summary)
		if v == "douke" {
			doukeOrders = t.Orders
		}
	}
	want := summary.Merge(truths...)

	st.chMu.Lock()
	addr := r.cfg.chAddr
	st.chMu.Unlock()
	store, err := clickhouse.Open(ctx, clickhouse.Config{Addr: addr, Database: r.cfg.database, Username: r.cfg.chUser, Password: r.cfg.chPass})
	if err != nil {
		r.fail("ClickHouse %s: %v", addr, err)
		return
	}
	defer store.Close()
	got, err := store.Summary(ctx, "")
	if err != nil {
		r.fail("ClickHouse summary (shipped queries): %v", err)
		return
	}

	if truthOK {
		diff := summary.Diff(want, got)
		if len(diff) > 10 {
			diff = append(diff[:10], fmt.Sprintf("… and %d more", len(diff)-10))
		}
		// Every row of the shipped summary queries against the truth's.
		r.verdict(len(diff) == 0, "summary.Diff(merged truth of %s, Store.Summary(\"\")) over %d order, %d commission, %d plan and %d snapshot rows (ClickHouse %d, %d, %d, %d): %s",
			strings.Join(allVendors, ", "), len(want.Orders), len(want.Commissions), len(want.Plans), len(want.Snapshots),
			len(got.Orders), len(got.Commissions), len(got.Plans), len(got.Snapshots), joinOr(diff, "no difference"))
		total := want.TotalOrders()
		n, err := store.CountOrders(ctx)
		switch {
		case err != nil:
			r.fail("count_orders (shipped query): %v", err)
		default:
			r.verdict(n == total && total+int64(r.cfg.drifted) >= minOrders, "count_orders (shipped query): ClickHouse %d distinct orders, truth %d (at least %d required, less the %d drifted the truth leaves out)", n, total, minOrders, r.cfg.drifted)
		}
	}
	if doukeOrders != nil {
		r.perOrder(ctx, addr, doukeOrders)
	}
	r.checkDLQ(ctx, st, addr)
	r.checkChaos(ctx, st, m)
}

// perOrder compares every douke order and commission line (latest version)
// with the per-order truth.
func (r *runner) perOrder(ctx context.Context, addr string, truth []sandbox.OrderTruth) {
	conn, err := r.chConn(ctx, addr)
	if err != nil {
		r.fail("per-order douke: %v", err)
		return
	}
	defer conn.Close()
	db := "`" + r.cfg.database + "`"
	type ord struct {
		status string
		paid   int64
	}
	gotO := map[string]ord{}
	rows, err := conn.Query(ctx, "SELECT order_id, status, paid_fen FROM "+db+".orders FINAL WHERE platform = 'douke'")
	if err != nil {
		r.fail("per-order douke: %v", err)
		return
	}
	for rows.Next() {
		var id, status string
		var paid int64
		if err := rows.Scan(&id, &status, &paid); err != nil {
			r.fail("per-order douke: %v", err)
			rows.Close()
			return
		}
		if _, dup := gotO[id]; dup {
			r.fail("per-order douke: order %s appears twice in orders FINAL", id)
		}
		gotO[id] = ord{status, paid}
	}
	rows.Close()
	type line struct{ est, settled int64 }
	gotL := map[string]line{}
	rows, err = conn.Query(ctx, "SELECT order_id, role, estimated_fen, settled_fen FROM "+db+".commission_lines FINAL WHERE platform = 'douke'")
	if err != nil {
		r.fail("per-order douke lines: %v", err)
		return
	}
	for rows.Next() {
		var id, role string
		var est, settled int64
		if err := rows.Scan(&id, &role, &est, &settled); err != nil {
			r.fail("per-order douke lines: %v", err)
			rows.Close()
			return
		}
		gotL[id+"/"+role] = line{est, settled}
	}
	rows.Close()

	var bad []string
	lines := 0
	seen := map[string]bool{}
	for _, o := range truth {
		seen[o.OrderID] = true
		g, ok := gotO[o.OrderID]
		switch {
		case !ok:
			bad = append(bad, "order "+o.OrderID+" missing")
		case g.status != string(o.Status) || g.paid != o.PaidFen:
			bad = append(bad, fmt.Sprintf("order %s: ClickHouse %s / %d fen, truth %s / %d", o.OrderID, g.status, g.paid, o.Status, o.PaidFen))
		}
		for _, l := range o.Lines {
			lines++
			k := o.OrderID + "/" + string(l.Role)
			gl, ok := gotL[k]
			switch {
			case !ok:
				bad = append(bad, "line "+k+" missing")
			case gl.est != l.EstimatedFen || gl.settled != l.SettledFen:
				bad = append(bad, fmt.Sprintf("line %s: ClickHouse %d / %d fen, truth %d / %d", k, gl.est, gl.settled, l.EstimatedFen, l.SettledFen))
			}
		}
	}
	for id := range gotO {
		if !seen[id] {
			bad = append(bad, "order "+id+" in ClickHouse but not in the truth")
		}
	}
	if extra := len(gotL) - lines; extra > 0 {
		bad = append(bad, fmt.Sprintf("%d commission lines in ClickHouse beyond the truth's", extra))
	}
	n := len(bad)
	if n > 10 {
		bad = append(bad[:10], fmt.Sprintf("… and %d more", n-10))
	}
	r.verdict(n == 0, "per-order douke: %d orders (id, status, paid fen) and %d commission lines (role, estimated and settled fen) against the truth: %s",
		len(truth), lines, joinOr(bad, "all equal"))
}

// checkDLQ requires the normalizer's DLQ to hold exactly the malformed pages
// the sandbox served, each with its reason, and the sink's DLQ to be empty.
func (r *runner) checkDLQ(ctx context.Context, st *stack, addr string) {
	stats, err := r.sandboxStats(ctx, st)
	if err != nil {
		r.fail("sandbox stats: %v", err)
		return
	}
	letters, err := r.deadLetters(ctx, st, "normalizer")
	if err != nil {
		r.fail("normalizer DLQ: %v", err)
		return
	}
	sinkLetters, err := r.deadLetters(ctx, st, "sink")
	if err != nil {
		r.fail("sink DLQ: %v", err)
		return
	}
	var perVendor []string
	total := 0
	for _, v := range allVendors {
		want := 0
		for _, ov := range orderVendors {
			if ov == v {
				want = r.cfg.malformed
			}
		}
		got := int(stats[v].Malformed)
		total += got
		if got != want {
			r.fail("sandbox served %d malformed %s pages, want %d", got, v, want)
		}
		perVendor = append(perVendor, fmt.Sprintf("%s %d", v, got))
	}
	used := make([]bool, len(letters))
	for i, l := range letters {
		used[i] = driftLetter(l) // accounted for by checkDrifted
	}
	driftOK := r.checkDrifted(ctx, st, stats["douke"], letters)
	matched := 0
	for _, v := range orderVendors {
		if stats[v].MalformedPages == nil {
			continue
		}
		for _, mp := range *stats[v].MalformedPages {
			found := -1
			for i, l := range letters {
				if used[i] || l.Vendor() != v {
					continue
				}
				if bytes.Contains(l.Data, []byte(`"request_id":"`+mp.RequestID+`"`)) && strings.Contains(l.Reason, mp.Record) && strings.Contains(l.Reason, mp.Reason) {
					found = i
					break
				}
			}
			if found < 0 {
				r.fail("dlq %s: malformed page (request %s, order %s, %s) is not in the normalizer DLQ with its reason", v, mp.RequestID, mp.Record, mp.Page)
				continue
			}
			used[found] = true
			matched++
			l := letters[found]
			r.pass("dlq %s: malformed page seq %d (request %s) dead-lettered as DLQ seq %d, reason %q", v, mp.Seq, mp.RequestID, l.Seq, clip(l.Reason, 160))
			var drifted []string
			if d := stats[v].DriftedRecords; d != nil {
				drifted = *d
			}
			r.refetched(ctx, addr, v, l.Data, drifted)
		}
	}
	var extra []string
	for i, l := range letters {
		if !used[i] {
			extra = append(extra, fmt.Sprintf("seq %d %s: %s", l.Seq, l.Vendor(), clip(l.Reason, 200)))
		}
	}
	for _, l := range sinkLetters {
		extra = append(extra, fmt.Sprintf("sink seq %d %s: %s", l.Seq, l.Vendor(), clip(l.Reason, 200)))
	}
	r.verdict(len(extra) == 0 && driftOK && matched == total && total == r.cfg.malformed*len(orderVendors),
		"dead letters: %d in the normalizer DLQ, %d in the sink DLQ; the sandbox served %d malformed pages (%s), %d of them matched, and %d drifted douke records (%s); unexpected: %s",
		len(letters), len(sinkLetters), total, strings.Join(perVendor, ", "), matched, r.cfg.drifted, okText(driftOK, "their letters matched", "their letters did not match"), joinOr(extra, "none"))
}

// driftLetter reports whether l is the dead letter of a record the
// drifted-record fault served (its reason is douke's).
func driftLetter(l dlq.Letter) bool {
	return l.Vendor() == "douke" && l.Record != dlq.NoRecord && strings.Contains(l.Reason, doukesandbox.DriftedReason)
}

// checkDrifted requires the drifted-record fault's letters to be exactly
// one per RAW page that carries a drifted douke order, naming that page's
// RAW sequence and the order's index in it: the record is dead-lettered
// alone, every time the poller stored a page with it, and nothing else is.
// (That its page neighbours reached ClickHouse and the drifted order did
// not is perOrder's check: the truth leaves a drifting order out.)
func (r *runner) checkDrifted(ctx context.Context, st *stack, stats sandbox.Stats, letters []dlq.Letter) bool {
	var ids []string
	if stats.DriftedRecords != nil {
		ids = *stats.DriftedRecords
	}
	if len(ids) != r.cfg.drifted {
		r.fail("dlq douke: the sandbox drifted %d records (%v), want %d", len(ids), ids, r.cfg.drifted)
		return false
	}
	if len(ids) == 0 {
		return true
	}
	type spot struct {
		seq    uint64
		record int
	}
	want := map[spot]string{}
	pages, err := r.rawPages(ctx, st, "douke", func(data []byte) bool {
		for _, id := range ids {
			if bytes.Contains(data, []byte(`"order_id":"`+id+`"`)) {
				return true
			}
		}
		return false
	}, func(seq uint64, data []byte) error {
		pageIDs, err := doukePageIDs(data)
		if err != nil {
			return fmt.Errorf("RAW seq %d: %w", seq, err)
		}
		for i, id := range pageIDs {
			if slices.Contains(ids, id) {
				want[spot{seq, i}] = id
			}
		}
		return nil
	})
	if err != nil {
		r.fail("dlq douke: reading RAW for the drifted records: %v", err)
		return false
	}
	ok := true
	got := map[spot]bool{}
	for _, l := range letters {
		if !driftLetter(l) {
			continue
		}
		k := spot{l.OriginalSeq, l.Record}
		id, expected := want[k]
		switch {
		case !expected:
			ok = false
			r.fail("dlq douke: DLQ seq %d names record %d of RAW seq %d, which is no drifted order: %s", l.Seq, l.Record, l.OriginalSeq, clip(l.Reason, 200))
		case got[k]:
			ok = false
			r.fail("dlq douke: record %d of RAW seq %d (order %s) dead-lettered twice (DLQ seq %d)", l.Record, l.OriginalSeq, id, l.Seq)
		default:
			r.pass("dlq douke: drifted order %s, record %d of RAW seq %d, dead-lettered alone as DLQ seq %d, reason %q", id, l.Record, l.OriginalSeq, l.Seq, clip(l.Reason, 160))
		}
		got[k] = true
	}
	for k, id := range want {
		if !got[k] {
			ok = false
			r.fail("dlq douke: drifted order %s, record %d of RAW seq %d, is not in the normalizer DLQ", id, k.record, k.seq)
		}
	}
	r.verdict(ok && len(want) > 0, "dlq douke: %d drifted orders (%s) on %d of %d douke RAW pages, %d record letters, one per page and record, reason %q",
		len(ids), strings.Join(ids, ", "), len(want), pages, len(got), doukesandbox.DriftedReason)
	return ok && len(want) > 0
}

// doukePageIDs lists the order IDs of a douke page in record order, reading
// only the paging and each order's ID (the records may not decode).
func doukePageIDs(body []byte) ([]string, error) {
	_, orders, err := douke.DecodePaging(body)
	if err != nil {
		return nil, err
	}
	var ids []struct {
		OrderID string `json:"order_id"`
	}
	if err := json.Unmarshal(orders, &ids); err != nil {
		return nil, err
	}
	out := make([]string, len(ids))
	for i, x := range ids {
		out[i] = x.OrderID
	}
	return out, nil
}

// rawPages reads every message RAW holds for vendor and calls each for
// those whose body keep accepts; it returns how many it read.
func (r *runner) rawPages(ctx context.Context, st *stack, vendor string, keep func([]byte) bool, each func(seq uint64, data []byte) error) (int, error) {
	subject := events.RawSubjectPrefix + "." + vendor + ".>"
	s, err := st.js.Stream(ctx, bus.RawStream)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return 0, err
	}
	total := uint64(0)
	for _, n := range info.State.Subjects {
		total += n
	}
	oc, err := st.js.OrderedConsumer(ctx, bus.RawStream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		return 0, err
	}
	read := uint64(0)
	for read < total {
		batch, err := oc.Fetch(500, jetstream.FetchMaxWait(30*time.Second))
		if err != nil {
			return int(read), err
		}
		n := 0
		for m := range batch.Messages() {
			n++
			read++
			if !keep(m.Data()) {
				continue
			}
			md, err := m.Metadata()
			if err != nil {
				return int(read), err
			}
			if err := each(md.Sequence.Stream, m.Data()); err != nil {
				return int(read), err
			}
		}
		if err := batch.Error(); err != nil {
			return int(read), err
		}
		if n == 0 {
			return int(read), fmt.Errorf("read %d of %d messages", read, total)
		}
	}
	return int(read), nil
}

func okText(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}

// orderIDKeys are the JSON keys of the order IDs in each order vendor's pages.
var orderIDKeys = map[string]*regexp.Regexp{
	"douke":       regexp.MustCompile(`"order_id":"([0-9]+)"`),
	"taobao-live": regexp.MustCompile(`"biz_order_id":"([0-9]+)"`),
}

// refetched requires every order of a dead-lettered page to be in
// ClickHouse, but for the drifted ones (which never arrive): the look-back
// polled the same orders again, correctly.
func (r *runner) refetched(ctx context.Context, addr, vendor string, body []byte, drifted []string) {
	var ids []string
	for _, m := range orderIDKeys[vendor].FindAllSubmatch(body, -1) {
		if !slices.Contains(drifted, string(m[1])) {
			ids = append(ids, "'"+string(m[1])+"'")
		}
	}
	if len(ids) == 0 {
		r.fail("dlq %s: no order IDs found in the dead-lettered page", vendor)
		return
	}
	conn, err := r.chConn(ctx, addr)
	if err != nil {
		r.fail("dlq %s: %v", vendor, err)
		return
	}
	defer conn.Close()
	var n uint64
	q := "SELECT count() FROM `" + r.cfg.database + "`.orders FINAL WHERE platform = '" + vendor + "' AND order_id IN (" + strings.Join(ids, ",") + ")"
	if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
		r.fail("dlq %s: %v", vendor, err)
		return
	}
	r.verdict(int(n) == len(ids), "dlq %s: %d of the page's %d orders reached ClickHouse through a later poll", vendor, n, len(ids))
}

func (r *runner) deadLetters(ctx context.Context, st *stack, stage string) ([]dlq.Letter, error) {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := st.js.Stream(lctx, "YONGJIN_DLQ"); err != nil {
		return nil, nil //nolint:nilerr // no DLQ stream yet: no dead letters
	}
	return dlq.New(st.js, stage).List(lctx, dlq.Filter{})
}

// checkChaos requires that the chaos really happened.
func (r *runner) checkChaos(ctx context.Context, st *stack, m *monkey) {
	for _, p := range []*proc{st.poller, st.normalizer, st.sink} {
		starts, kills, _ := p.counts()
		r.verdict(kills >= r.cfg.kills, "chaos %s: SIGKILLed %d times at random moments (at least %d), started %d times", p.name, kills, r.cfg.kills, starts)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r.verdict(len(m.natsRestarts) >= 2 && len(m.natsFailures) == 0, "chaos nats-server: restarted %d times on the same store (%s)%s",
		len(m.natsRestarts), strings.Join(m.natsRestarts, ", "), failuresText(m.natsFailures))
	if m.chErr != nil {
		r.fail("chaos clickhouse outage: %v", m.chErr)
	} else {
		r.verdict(m.chDown >= 30*time.Second, "chaos clickhouse: stopped for %s (at least 30s); meanwhile the sink held up to %d events unacknowledged, up to %d waited behind them, %s",
			m.chDown.Round(100*time.Millisecond), m.chMaxHeld, m.chWaiting, retriesText(m.chRetries))
	}
	stats, err := r.sandboxStats(ctx, st)
	if err != nil {
		r.fail("sandbox stats: %v", err)
		return
	}
	var req, e5, thr, slow, mal int64
	for _, s := range stats {
		req += s.Requests
		e5 += s.Errors5xx
		thr += s.Throttled
		slow += s.Slowed
		mal += s.Malformed
	}
	r.verdict(e5 > 0 && thr > 0 && m.timeouts > 0 && m.burstErr == nil && mal == int64(r.cfg.malformed*len(orderVendors)),
		"chaos vendor faults: of %d vendor requests %d answered 502, %d throttled, %d slowed (%d of them past the %s client timeout), %d malformed pages%s",
		req, e5, thr, slow, m.timeouts, clientTimeout, mal, failuresText(errList(m.burstErr)))
}

// processChecks requires that no process exited on its own.
func (r *runner) processChecks(st *stack) {
	var bad []string
	for _, p := range []*proc{st.nats, st.sandbox, st.poller, st.normalizer, st.sink} {
		_, _, unexpected := p.counts()
		bad = append(bad, unexpected...)
	}
	r.verdict(len(bad) == 0, "processes: no unexpected exit of nats-server, sandbox, poller, normalizer or sink: %s", joinOr(bad, "none"))
}

func failuresText(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return "; failures: " + strings.Join(f, "; ")
}

func errList(err error) []string {
	if err == nil {
		return nil
	}
	return []string{err.Error()}
}
