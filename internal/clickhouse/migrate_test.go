package clickhouse

import (
	"reflect"
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/internal/clickhouse/analyticsfixture"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

// fixturePlans are the analytics fixture's plan observations (9 distinct,
// one redelivered), in one slice.
func fixturePlans() []events.Envelope {
	var out []events.Envelope
	for _, b := range analyticsfixture.Batches()[:3] {
		for _, e := range b {
			if e.Kind() == events.KindCommissionPlan {
				out = append(out, e)
			}
		}
	}
	return out
}

// TestMigrateBackfillsPlanHistory upgrades a database migrated to version 2
// that already holds plan observations: migration 3 copies them into
// commission_plan_history, and later observations arrive through the view.
func TestMigrateBackfillsPlanHistory(t *testing.T) {
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	s := openStore(t, addr, db)
	ctx := testCtx(t)
	if err := s.migrate(ctx, Migrations[:2]); err != nil {
		t.Fatal(err)
	}
	plans := fixturePlans()
	// One batch is one part, which nothing merges before the migration:
	// every observation is still there to copy.
	if err := s.Insert(ctx, plans[:6]); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate from v2: %v", err)
	}
	requireMigrated(t, s)
	if err := s.Insert(ctx, plans[6:]); err != nil {
		t.Fatal(err)
	}
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+s.db+".commission_plan_history FINAL").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 9 {
		t.Fatalf("commission_plan_history holds %d observations, want 9", n)
	}
	changes, err := s.PlanRateChanges(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 4 {
		t.Fatalf("PlanRateChanges after the backfill = %+v, want 4 changes", changes)
	}
	// Running the backfill again (a sink that died before recording
	// migration 3) changes nothing.
	for _, q := range rendered(t, s, Migrations[2]) {
		if err := s.execDDL(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	again, err := s.PlanRateChanges(ctx, Filter{})
	if err != nil || !reflect.DeepEqual(again, changes) {
		t.Fatalf("PlanRateChanges after a second backfill = %+v, %v; want %+v", again, err, changes)
	}
}

// TestMoneyColumnsMigration: migration 4 on a database with rows written
// before it gives them 0 amounts, and running its statements again (a sink
// that died before recording it, or two sinks at once; 18.16 has no ADD
// COLUMN IF NOT EXISTS) succeeds and changes nothing.
func TestMoneyColumnsMigration(t *testing.T) {
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	s := openStore(t, addr, db)
	ctx := testCtx(t)
	if err := s.migrate(ctx, Migrations[:3]); err != nil {
		t.Fatal(err)
	}
	if err := s.execDDL(ctx, "INSERT INTO {db}.orders (platform, order_id, paid_fen, paid_at, updated_at, version) SELECT 'douke', 'o-old', 2100, toDateTime('2026-10-01 00:00:00', 'UTC'), toDateTime('2026-10-01 00:00:00', 'UTC'), 1"); err != nil {
		t.Fatal(err)
	}
	m := moneyColumnsMigration(t)
	if err := s.migrate(ctx, []Migration{m}); err != nil {
		t.Fatal(err)
	}
	for _, q := range rendered(t, s, m) {
		if err := s.execDDL(ctx, q); err != nil {
			t.Fatalf("statement run a second time: %v", err)
		}
	}
	var refunded, total int64
	if err := s.conn.QueryRow(ctx, "SELECT refunded_fen, estimated_total_commission_fen FROM "+s.db+".orders WHERE order_id = 'o-old'").Scan(&refunded, &total); err != nil {
		t.Fatal(err)
	}
	var fee uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = ? AND table = 'commission_lines' AND name = 'fee_fen'", strings.Trim(s.db, "`")).Scan(&fee); err != nil {
		t.Fatal(err)
	}
	if refunded != 0 || total != 0 || fee != 1 {
		t.Fatalf("after migration 4: old row refunded %d, total commission %d; fee_fen columns %d", refunded, total, fee)
	}
}

// TestMigrateDryRun prints the pending migrations' SQL and changes nothing:
// on a server without the database, on a database at version 2, and on an
// up-to-date one.
func TestMigrateDryRun(t *testing.T) {
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	s := openStore(t, addr, db)
	ctx := testCtx(t)
	if err := s.conn.Exec(ctx, "DROP DATABASE "+db); err != nil {
		t.Fatal(err)
	}

	dry := func() (string, int) {
		t.Helper()
		var b strings.Builder
		n, err := s.DryRunMigrate(ctx, &b)
		if err != nil {
			t.Fatalf("DryRunMigrate: %v", err)
		}
		return b.String(), n
	}
	out, n := dry()
	if n != len(Migrations) {
		t.Fatalf("pending on a missing database = %d, want %d", n, len(Migrations))
	}
	for _, want := range []string{
		"CREATE DATABASE IF NOT EXISTS `" + db + "`;",
		"CREATE TABLE IF NOT EXISTS `" + db + "`.orders",
		"CREATE TABLE IF NOT EXISTS `" + db + "`.commission_plans",
		"CREATE MATERIALIZED VIEW IF NOT EXISTS `" + db + "`.commission_plan_history_mv",
		"-- Migration 1: orders and commission_lines",
		"INSERT INTO `" + db + "`.schema_migrations (version, name, applied_at) VALUES (3, 'commission_plan_history",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run on a missing database lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "{db}") {
		t.Errorf("dry run keeps {db}:\n%s", out)
	}
	var exists uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = ?", db).Scan(&exists); err != nil || exists != 0 {
		t.Fatalf("after the dry run, databases named %s: %d (%v); want none", db, exists, err)
	}

	if err := s.migrate(ctx, Migrations[:2]); err != nil {
		t.Fatal(err)
	}
	out, n = dry()
	if n != len(Migrations)-2 || !strings.Contains(out, "-- Migration 3: ") || strings.Contains(out, "-- Migration 2: ") {
		t.Fatalf("dry run at version 2 (%d pending):\n%s", n, out)
	}
	pending, err := s.PendingMigrations(ctx)
	if err != nil || len(pending) != len(Migrations)-2 || pending[0].Version != 3 {
		t.Fatalf("PendingMigrations at version 2 = %v, %v", pending, err)
	}
	if got, want := tables(t, s), []string{"commission_lines", "commission_plans", "creator_snapshots", "orders", "schema_migrations"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("the dry run changed the tables: %v, want %v", got, want)
	}

	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	out, n = dry()
	if n != 0 || !strings.Contains(out, "no migration is pending") {
		t.Fatalf("dry run when up to date (%d pending):\n%s", n, out)
	}
}

// rendered is m's SQL as Migrate runs it on s's server.
func rendered(t testing.TB, s *Store, m Migration) []string {
	t.Helper()
	tg, err := s.Target(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	out, err := RenderMigration(m, tg)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
