package clickhouse

import (
	"reflect"
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/internal/testenv"
)

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
