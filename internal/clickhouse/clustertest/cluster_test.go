package clustertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/devstack"
	"github.com/yongjin-dev/yongjin/internal/obs"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// open opens a store on the cluster (cfg.Addr already set).
func open(t *testing.T, ctx context.Context, cfg clickhouse.Config) *clickhouse.Store {
	t.Helper()
	s, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eventually polls cond (every 500 ms) until it returns nil or ctx ends,
// failing t with cond's last error.
func eventually(t *testing.T, ctx context.Context, what string, cond func() error) {
	t.Helper()
	var err error
	for {
		if err = cond(); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v (gave up: %v)", what, err, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// conn is a plain driver connection to one replica, for what the store
// does not offer (raw row counts, table engines).
func conn(t *testing.T, addr string) driver.Conn {
	t.Helper()
	c, err := ch.Open(&ch.Options{Addr: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// countRows counts a table's stored rows, duplicates included (no FINAL).
func countRows(ctx context.Context, c driver.Conn, db, table string) (uint64, error) {
	var n uint64
	err := c.QueryRow(ctx, "SELECT count() FROM "+db+"."+table).Scan(&n)
	return n, err
}

// TestReplicatedInsertsAreIdempotent migrates a database ON CLUSTER
// (replicated tables on both replicas) and writes one batch three ways: as
// is, again identically (a retry: stored again, since the sink turns block
// de-duplication off on clusters, see Store.Insert) and again cut into two
// other batches (a re-batched redelivery); both are collapsed by FINAL. The shipped summary is the same after each,
// on both replicas.
func TestReplicatedInsertsAreIdempotent(t *testing.T) {
	start := time.Now()
	c := testenv.StartClickHouseCluster(t, 1, 2)
	ctx := ctxFor(t, 10*time.Minute)
	a := c.Addrs()[0]
	at := time.Now().UTC().Truncate(time.Second)
	cfg := clickhouse.Config{Addr: a, Database: "yj_dedup", Cluster: c.Name, Clock: func() time.Time { return at }}
	s := open(t, ctx, cfg)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate ON CLUSTER: %v", err)
	}
	for _, addr := range c.Addrs() {
		rows, err := conn(t, addr).Query(ctx, "SELECT name, engine FROM system.tables WHERE database = ?", cfg.Database)
		if err != nil {
			t.Fatal(err)
		}
		engines := map[string]string{}
		for rows.Next() {
			var name, engine string
			if err := rows.Scan(&name, &engine); err != nil {
				t.Fatal(err)
			}
			engines[name] = engine
		}
		rows.Close()
		for table, e := range engines {
			if !strings.HasPrefix(e, "Replicated") && e != "MaterializedView" {
				t.Errorf("replica %s: table %s has engine %s, want a Replicated one", addr, table, e)
			}
		}
		if len(engines) != 9 {
			t.Errorf("replica %s has tables %v, want the 9 of the schema", addr, engines)
		}
	}

	paid := time.Date(2026, 10, 3, 12, 0, 0, 0, time.UTC)
	var batch []events.Envelope
	want := summary.Summary{}
	for i := range 40 {
		o := events.Order{
			Platform: "douke", Account: "a", OrderID: fmt.Sprintf("o-%02d", i), Quantity: 1, Currency: "CNY",
			PaidFen: 1000 + int64(i), Status: events.StatusPaid, VendorStatus: "1", PaidAt: paid, UpdatedAt: paid,
			Version: paid.UnixMilli(),
		}
		e, err := o.Envelope()
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, e)
	}
	want.Orders = []summary.OrderRow{{Platform: "douke", Status: events.StatusPaid, Orders: 40, PaidFen: 40*1000 + 39*40/2}}
	check := func(step string, wantRaw uint64) {
		t.Helper()
		for _, addr := range c.Addrs() {
			r := open(t, ctx, clickhouse.Config{Addr: addr, Database: cfg.Database})
			raw := conn(t, addr)
			eventually(t, ctx, step+" on "+addr, func() error {
				n, err := countRows(ctx, raw, cfg.Database, "orders")
				if err != nil {
					return err
				}
				if n != wantRaw {
					return fmt.Errorf("orders holds %d rows, want %d", n, wantRaw)
				}
				got, err := r.Summary(ctx, "")
				if err != nil {
					return err
				}
				if d := summary.Diff(want, got); len(d) > 0 {
					return errors.New(strings.Join(d, "; "))
				}
				return nil
			})
		}
	}
	if err := s.Insert(ctx, batch); err != nil {
		t.Fatal(err)
	}
	check("first insert", 40)
	if err := s.Insert(ctx, batch); err != nil {
		t.Fatal(err)
	}
	check("identical retry (stored again: block de-duplication is off, see Store.Insert; collapsed by FINAL)", 80)
	if err := s.Insert(ctx, batch[:15]); err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(ctx, batch[15:]); err != nil {
		t.Fatal(err)
	}
	check("re-batched redelivery (stored again, collapsed by FINAL)", 120)
	t.Logf("cluster start, migrate ON CLUSTER and the three inserts took %s", time.Since(start).Round(time.Millisecond))
}

// readyz gets /readyz: its status and body.
func readyz(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestSinkSurvivesReplicaOutage runs the whole pipeline over 75,000 orders
// (25,000 each for douke, douke-csj and Taobao) into a database replicated
// ON CLUSTER over
// two replicas, the sink given both addresses. While the sink writes, the
// replica it writes to is stopped for 30 s and started again. The sink must
// go on through the other replica (/readyz not ready, the log naming the
// replica down and the one written through, then the replica coming back),
// and
// afterwards the shipped summary on each replica must equal the sandbox's
// truth.
func TestSinkSurvivesReplicaOutage(t *testing.T) {
	start := time.Now()
	const perAccount = 25_000
	const outage = 30 * time.Second
	c := testenv.StartClickHouseCluster(t, 1, 2)
	ctx := ctxFor(t, 30*time.Minute)
	a, b := c.Addrs()[0], c.Addrs()[1]

	logs := &testenv.SyncBuffer{}
	logger := slog.New(slog.NewJSONHandler(io.MultiWriter(logs, testLogFile(t)), &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg := clickhouse.Config{Addr: a + "," + b, Database: "yj_outage", Cluster: c.Name, Logger: logger}
	sc := sandbox.DefaultConfig()
	sc.Seed, sc.Orders = 15, perAccount
	sc.From = time.Date(2026, 10, 1, 0, 0, 0, 0, wire.CST)
	sc.To = time.Date(2026, 11, 1, 0, 0, 0, 0, wire.CST)
	sc.Clock = time.Date(2026, 11, 5, 0, 0, 0, 0, wire.CST)
	st, err := devstack.Start(ctx, devstack.Config{DataDir: t.TempDir(), ClickHouse: cfg, Sandbox: sc, Logger: logger})
	if err != nil {
		t.Fatalf("start the pipeline: %v", err)
	}
	t.Cleanup(st.Close)

	// /readyz as `sink run` serves it: the store's Ready check.
	var ready obs.Readiness
	ready.Add("clickhouse", st.Store.Ready)
	srv, err := obs.Listen("127.0.0.1:0", prometheus.NewRegistry(), &ready, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	readyURL := "http://" + srv.Addr() + "/readyz"
	if code, body, err := readyz(readyURL); err != nil || code != http.StatusOK {
		t.Fatalf("/readyz before the outage: %d %q %v", code, body, err)
	}

	polled := make(chan error, 1)
	go func() {
		_, err := st.PollInitial(ctx, sc.From, sc.Clock)
		polled <- err
	}()
	onB := conn(t, b)
	count := func(c driver.Conn) uint64 {
		n, err := countRows(ctx, c, cfg.Database, "orders")
		if err != nil {
			return 0
		}
		return n
	}
	eventually(t, ctx, "the sink writing", func() error {
		if n := count(onB); n < 5_000 {
			return fmt.Errorf("%d order rows so far", n)
		}
		return nil
	})
	before := count(onB)
	t.Logf("stopping replica %s (the sink's first address) with %d order rows written", a, before)
	c.StopReplica(t, 0)
	stopped := time.Now()
	// /readyz names the failing check; the log says which replica and why.
	eventually(t, ctx, "/readyz not ready, the log naming the replica down", func() error {
		code, body, err := readyz(readyURL)
		if err != nil {
			return err
		}
		if code != http.StatusServiceUnavailable || strings.TrimSpace(body) != "not ready: clickhouse" {
			return fmt.Errorf("/readyz answers %d %q", code, body)
		}
		if l := logs.String(); !strings.Contains(l, `"msg":"not ready"`) || !strings.Contains(l, a+" down since") || !strings.Contains(l, "writing through "+b) {
			return errors.New("no \"not ready\" log line names the replica down and the one written through")
		}
		return nil
	})
	_, body, _ := readyz(readyURL)
	t.Logf("/readyz during the outage: %s", strings.TrimSpace(body))
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, `"msg":"not ready"`) {
			t.Logf("the sink's log: %s", l)
			break
		}
	}
	time.Sleep(time.Until(stopped.Add(outage))) // the outage itself: its length is the scenario
	during := count(onB)
	t.Logf("restarting replica %s after %s; %d order rows written meanwhile through %s", a, time.Since(stopped).Round(time.Second), during-before, b)
	c.StartReplica(t, 0)
	eventually(t, ctx, "/readyz ready again", func() error {
		code, body, err := readyz(readyURL)
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("/readyz answers %d %q %v", code, body, err)
		}
		if !strings.Contains(logs.String(), `"msg":"ready again"`) {
			return errors.New(`/readyz answers 200 but the log has no "ready again"`)
		}
		return nil
	})

	if err := <-polled; err != nil {
		t.Fatalf("poll: %v", err)
	}
	if err := st.WaitCaughtUp(ctx, nil); err != nil {
		t.Fatalf("wait for the pipeline: %v", err)
	}
	if during <= before && count(onB) <= before {
		t.Errorf("no order was written through %s while %s was down", b, a)
	}
	want := st.Truth()
	if want.TotalOrders() < 2*perAccount {
		t.Fatalf("the sandbox truth has %d orders, want at least %d", want.TotalOrders(), 2*perAccount)
	}
	for _, addr := range c.Addrs() {
		r := open(t, ctx, clickhouse.Config{Addr: addr, Database: cfg.Database})
		eventually(t, ctx, "replica "+addr+" equal to the sandbox truth", func() error {
			got, err := r.Summary(ctx, "")
			if err != nil {
				return err
			}
			if d := summary.Diff(want, got); len(d) > 0 {
				if len(d) > 5 {
					d = append(d[:5], fmt.Sprintf("... %d more", len(d)-5))
				}
				return errors.New(strings.Join(d, "; "))
			}
			return nil
		})
	}
	// An insert under way when the replica stopped fails and is retried
	// through the other one; one that finds the pool's connections closed
	// dials the other replica at once. Either is fine: the log tells.
	if strings.Contains(logs.String(), `"msg":"clickhouse insert failed, retrying"`) {
		t.Logf("an insert failed with the replica and was retried through %s", b)
	}
	for _, line := range []string{
		`"msg":"clickhouse replica unreachable","replica":"` + a + `"`,
		`"msg":"clickhouse replica answers again","replica":"` + a + `"`,
	} {
		if !strings.Contains(logs.String(), line) {
			t.Errorf("the logs lack %s", line)
		}
	}
	t.Logf("%d orders through a %s outage of one of two replicas: both equal the sandbox truth; whole test %s",
		want.TotalOrders(), outage, time.Since(start).Round(time.Second))
}

// testLogFile keeps the pipeline's logs in the test's temporary directory
// (printed on failure).
func testLogFile(t *testing.T) io.Writer {
	f, err := os.Create(t.TempDir() + "/pipeline.log")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(f.Name())
			if len(b) > 20_000 {
				b = b[len(b)-20_000:]
			}
			t.Logf("last pipeline logs:\n%s", b)
		}
		f.Close()
	})
	return f
}
