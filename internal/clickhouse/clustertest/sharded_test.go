package clustertest

import (
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/analytics/analyticsfixture"
	"github.com/yongjin-dev/yongjin/internal/analytics/querycompare"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/testenv"
)

const grafanaDashboardFile = "../../../deploy/grafana/dashboards/yongjin-commission.json"

// TestShippedQueriesOnShardedCluster loads the analytics fixture into a
// single server and, through the Distributed tables, into a cluster of two
// shards migrated with Sharded (rows in <table>_local, sharded by a hash of
// the natural key), and requires every shipped query to answer the same on
// both: FINAL, the joins of orders with their commission lines and the
// materialized view all work shard by shard.
func TestShippedQueriesOnShardedCluster(t *testing.T) {
	start := time.Now()
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { return now }
	ctx := ctxFor(t, 10*time.Minute)

	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	user, pass := testenv.ClickHouseCredentials()
	single := open(t, ctx, clickhouse.Config{Addr: addr, Database: db, Username: user, Password: pass, Clock: clock})
	if err := single.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	c := testenv.StartClickHouseCluster(t, 2, 1)
	scfg := clickhouse.Config{Addr: c.Addrs()[0], Database: "yj_sharded", Cluster: c.Name, Sharded: true, Clock: clock}
	sharded := open(t, ctx, scfg)
	if err := sharded.Migrate(ctx); err != nil {
		t.Fatalf("Migrate sharded ON CLUSTER: %v", err)
	}
	for i, b := range analyticsfixture.Batches() {
		if err := single.Insert(ctx, b); err != nil {
			t.Fatalf("single server: batch %d: %v", i+1, err)
		}
		if err := sharded.Insert(ctx, b); err != nil {
			t.Fatalf("sharded cluster: batch %d: %v", i+1, err)
		}
	}
	for i, a := range c.Addrs() {
		n, err := countRows(ctx, conn(t, a), scfg.Database, "commission_lines_local")
		if err != nil || n == 0 {
			t.Fatalf("shard %d (%s) holds %d commission lines (%v): the data is not spread over both shards", i+1, a, n, err)
		}
	}

	want, err := querycompare.Client("single server", addr, db, user, pass)
	if err != nil {
		t.Fatal(err)
	}
	got, err := querycompare.Client("two shards", c.Addrs()[0], scfg.Database, "default", "")
	if err != nil {
		t.Fatal(err)
	}
	queries, err := querycompare.Shipped(grafanaDashboardFile, now)
	if err != nil {
		t.Fatal(err)
	}
	nonEmpty := querycompare.Compare(t, want, got, queries)
	if nonEmpty < len(queries)-2 {
		t.Errorf("only %d of %d queries returned rows: the comparison proves little", nonEmpty, len(queries))
	}
	t.Logf("%d shipped queries compared on one server and on two shards (%d with rows) in %s",
		len(queries), nonEmpty, time.Since(start).Round(time.Millisecond))
}
