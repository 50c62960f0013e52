package chdbtest

import (
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/analytics/analyticsfixture"
	"github.com/yongjin-dev/yongjin/internal/analytics/querycompare"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
)

// TestMigrationsOnCurrentRelease runs every migration as Migrate renders it
// for the current release, twice (a restarted or racing sink), on chDB, and
// checks the current schema's features are in place: LowCardinality
// columns, codecs, DateTime64 write times, the force-merge settings that keep
// FINAL cheap, and the materialized view that fills commission_plan_history.
func TestMigrationsOnCurrentRelease(t *testing.T) {
	start := time.Now()
	db := chDatabase(t)
	tg := chMigrate(t, db)
	if !tg.Current() {
		t.Fatalf("chDB is ClickHouse %s, older than %s: the current schema is not tested", tg.Version, clickhouse.CurrentSchemaSince)
	}
	chMigrate(t, db)

	cols, err := chQuery("SELECT table, name, type, compression_codec FROM system.columns WHERE database = '"+db+"' ORDER BY table, name", "TabSeparated")
	if err != nil {
		t.Fatal(err)
	}
	col := map[string][2]string{}
	for _, l := range strings.Split(strings.TrimSuffix(cols, "\n"), "\n") {
		f := querycompare.SplitTSV(l)
		col[f[0]+"."+f[1]] = [2]string{f[2], f[3]}
	}
	for name, want := range map[string][2]string{
		"orders.platform":                   {"LowCardinality(String)", ""},
		"orders.status":                     {"LowCardinality(String)", ""},
		"orders.order_id":                   {"String", ""},
		"orders.product_name":               {"String", "CODEC(ZSTD(1))"},
		"orders.paid_at":                    {"DateTime('UTC')", "CODEC(Delta(4), ZSTD(1))"},
		"orders.ingested_at":                {"DateTime64(3, 'UTC')", "CODEC(Delta(8), ZSTD(1))"},
		"commission_lines.role":             {"LowCardinality(String)", ""},
		"commission_plans.observed_at":      {"DateTime('UTC')", ""},
		"creator_snapshots.indicator_names": {"Array(LowCardinality(String))", ""},
		"creator_snapshots.data":            {"String", "CODEC(ZSTD(3))"},
		"commission_plan_history.platform":  {"LowCardinality(String)", ""},
		"schema_migrations.version":         {"UInt32", ""},
	} {
		if got := col[name]; got != want {
			t.Errorf("column %s: type and codec %q, want %q", name, got, want)
		}
	}
	tables, err := chQuery("SELECT name, engine_full FROM system.tables WHERE database = '"+db+"' ORDER BY name", "TabSeparated")
	if err != nil {
		t.Fatal(err)
	}
	engines := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(tables, "\n"), "\n") {
		f := querycompare.SplitTSV(l)
		engines[f[0]] = f[1]
	}
	if len(engines) != 9 {
		t.Errorf("tables %v, want the 9 of the schema", engines)
	}
	for _, name := range []string{"orders", "commission_lines", "commission_lines_by_account", "creator_snapshots"} {
		if e := engines[name]; !strings.HasPrefix(e, "ReplacingMergeTree(version)") || !strings.Contains(e, "min_age_to_force_merge_seconds = 3600") {
			t.Errorf("table %s: engine %q, want ReplacingMergeTree(version) with the force-merge settings", name, e)
		}
	}

	// The view copies plan observations into the history, as on 18.16.
	for i, b := range analyticsfixture.Batches() {
		stmts, err := clickhouse.InsertStatements(db, b, time.Now())
		if err != nil {
			t.Fatalf("batch %d: %v", i+1, err)
		}
		chExec(t, stmts...)
	}
	out, err := chQuery("SELECT count() FROM (SELECT * FROM "+db+".commission_plan_history FINAL)", "TabSeparated")
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out) == "0" {
		t.Error("commission_plan_history is empty after inserting plans: the materialized view did not run")
	}
	t.Logf("migrations on ClickHouse %s: %s", tg.Version, time.Since(start).Round(time.Millisecond))
}
