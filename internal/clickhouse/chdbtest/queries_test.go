package chdbtest

import (
	"context"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/analytics/analyticsfixture"
	"github.com/yongjin-dev/yongjin/internal/analytics/querycompare"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/testenv"
)

const grafanaDashboardFile = "../../../deploy/grafana/dashboards/yongjin-commission.json"

// TestShippedQueriesMatchAcrossReleases loads the analytics fixture (its
// redeliveries, re-polls, out-of-order versions and refunds after
// settlement) into the 18.16 server through Store.Insert and into the
// current release (chDB) through the same rows as SQL, each with the schema
// its release gets, and requires every shipped query (analytics.sql,
// summary.sql, every Grafana variable and panel, macros expanded) to give
// the same rows on both: same columns, same types (LowCardinality and
// DateTime64 aside), same cells.
func TestShippedQueriesMatchAcrossReleases(t *testing.T) {
	start := time.Now()
	// One write time for both loads, so ingestion times compare too.
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { return now }

	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	user, pass := testenv.ClickHouseCredentials()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := clickhouse.Open(ctx, clickhouse.Config{Addr: addr, Database: db, Username: user, Password: pass, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	old, err := st.Target(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cdb := chDatabase(t)
	cur := chMigrate(t, cdb)
	if old.Current() || !cur.Current() {
		t.Fatalf("server %s and chDB %s: want the compatible schema on the first and the current one on the second", old.Version, cur.Version)
	}
	for i, b := range analyticsfixture.Batches() {
		if err := st.Insert(ctx, b); err != nil {
			t.Fatalf("server: insert batch %d: %v", i+1, err)
		}
		stmts, err := clickhouse.InsertStatements(cdb, b, now)
		if err != nil {
			t.Fatalf("batch %d: %v", i+1, err)
		}
		chExec(t, stmts...)
	}

	server, err := querycompare.Client("ClickHouse "+old.Version.String(), addr, db, user, pass)
	if err != nil {
		t.Fatal(err)
	}
	embedded := querycompare.Engine{Name: "ClickHouse " + cur.Version.String() + " (chDB)", DB: cdb, Run: func(q string) (string, error) {
		return chQuery(q, "TabSeparatedWithNamesAndTypes")
	}}
	queries, err := querycompare.Shipped(grafanaDashboardFile, now)
	if err != nil {
		t.Fatal(err)
	}
	nonEmpty := querycompare.Compare(t, server, embedded, queries)
	if nonEmpty < len(queries)-2 {
		t.Errorf("only %d of %d queries returned rows on %s: the comparison proves little", nonEmpty, len(queries), old.Version)
	}
	t.Logf("%d shipped queries compared on ClickHouse %s and %s (%d with rows) in %s",
		len(queries), old.Version, cur.Version, nonEmpty, time.Since(start).Round(time.Millisecond))
}
