package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Migration is one numbered step of yongjin's schema.
//
// Rules for adding one: append it to Migrations with the next Version, never
// edit or renumber a shipped one, and make every statement idempotent on
// both ClickHouse 18.16 and current releases (CREATE ... IF NOT EXISTS; for a
// new column, which cannot use ALTER ... ADD COLUMN IF NOT EXISTS on 18.16,
// check system.columns first; a backfill INSERT ... SELECT must write rows
// that collapse with themselves when it runs twice). Two sinks may apply the
// same migration at the same time.
type Migration struct {
	// Version orders migrations; they are applied in increasing order, once each.
	Version uint32
	// Name says what the migration does; it is recorded in schema_migrations.
	Name string
	// Statements are executed in order. "{db}" stands for the quoted database name.
	Statements []string
}

// Migrations is yongjin's schema, in order.
var Migrations = []Migration{
	{
		Version:    1,
		Name:       "orders and commission_lines",
		Statements: []string{ordersDDL, commissionLinesDDL},
	},
	{
		Version:    2,
		Name:       "commission_plans and creator_snapshots",
		Statements: []string{commissionPlansDDL, creatorSnapshotsDDL},
	},
	{
		Version:    3,
		Name:       "commission_plan_history (every plan observation, for rate changes over time)",
		Statements: []string{planHistoryDDL, planHistoryMVDDL, planHistoryBackfill},
	},
	{
		Version:    4,
		Name:       "refunded, total-commission and fee amounts (orders.refunded_fen, orders.estimated_total_commission_fen, commission_lines.fee_fen)",
		Statements: moneyColumnsDDL,
	},
	{
		Version:    5,
		Name:       "commission_lines_by_account (each account's commission lines of an order kept)",
		Statements: []string{linesByAccountDDL, linesByAccountMVDDL, linesByAccountBackfill},
	},
}

// moneyColumnsDDL adds the amounts order.v1 and commission.v1 gained within
// v1, one column per statement (each idempotent: execDDL takes "column
// already exists" as done). Rows written before read 0, as the events
// without the fields do.
var moneyColumnsDDL = []string{
	"ALTER TABLE {db}.orders ADD COLUMN refunded_fen Int64 DEFAULT 0 AFTER settled_base_fen",
	"ALTER TABLE {db}.orders ADD COLUMN estimated_total_commission_fen Int64 DEFAULT 0 AFTER refunded_fen",
	"ALTER TABLE {db}.commission_lines ADD COLUMN fee_fen Int64 DEFAULT 0 AFTER settled_fen",
}

// ordersDDL creates the orders table: one row per order version, the latest
// version (highest vendor update time) wins in FINAL reads and merges.
const ordersDDL = `CREATE TABLE IF NOT EXISTS {db}.orders
(
    platform           String,
    account            String,
    order_id           String,
    parent_order_id    String,
    product_id         String,
    product_name       String,
    shop_id            String,
    shop_name          String,
    author_id          String,
    author_name        String,
    buyer_open_id      String,
    channel            String,
    quantity           Int64,
    currency           String,
    paid_fen           Int64,
    estimated_base_fen Int64,
    settled_base_fen   Int64,
    status             String,
    vendor_status      String,
    paid_at            DateTime('UTC'),
    updated_at         DateTime('UTC'),
    received_at        Nullable(DateTime('UTC')),
    settled_at         Nullable(DateTime('UTC')),
    refunded_at        Nullable(DateTime('UTC')),
    version            UInt64,
    event_id           String,
    ingested_at        DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(paid_at)
ORDER BY (platform, order_id)`

// commissionLinesDDL creates the commission_lines table: one row per
// (order, role) version, versioned like orders.
const commissionLinesDDL = `CREATE TABLE IF NOT EXISTS {db}.commission_lines
(
    platform      String,
    account       String,
    order_id      String,
    role          String,
    rate_bp       Int64,
    currency      String,
    estimated_fen Int64,
    settled_fen   Int64,
    order_status  String,
    paid_at       DateTime('UTC'),
    updated_at    DateTime('UTC'),
    version       UInt64,
    event_id      String,
    ingested_at   DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(paid_at)
ORDER BY (platform, order_id, role)`

// commissionPlansDDL creates the commission_plans table: one row per
// observation of a product's commission plan (commission_plan.v1), the
// newest observation (highest version, the observation time in Unix ms) wins.
// Plans are small reference data, so the table has no partition key.
const commissionPlansDDL = `CREATE TABLE IF NOT EXISTS {db}.commission_plans
(
    platform           String,
    account            String,
    product_id         String,
    plan_id            String,
    rate_bp            Int64,
    content_type       Int64,
    content_type_label String,
    vendor_status      Int64,
    created_date       String,
    observed_at        DateTime('UTC'),
    version            UInt64,
    event_id           String,
    ingested_at        DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (platform, product_id, plan_id)`

// creatorSnapshotsDDL creates the creator_snapshots table: one row per
// observation of a creator's order-experience indicators for one period on
// one day (creator_experience.v1), the newest observation wins.
// indicator_names and indicator_values are parallel arrays (the payload's
// indicators, sorted by name); data is the vendor's JSON object verbatim.
// snapshot_date is a Date (the China Standard Time day of the observation);
// it is part of the sorting key, so every version of a snapshot lies in the
// same monthly partition and FINAL and merges see them together.
const creatorSnapshotsDDL = `CREATE TABLE IF NOT EXISTS {db}.creator_snapshots
(
    platform         String,
    account          String,
    author_id        String,
    period           String,
    snapshot_date    Date,
    indicator_names  Array(String),
    indicator_values Array(Float64),
    data             String,
    observed_at      DateTime('UTC'),
    version          UInt64,
    event_id         String,
    ingested_at      DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(snapshot_date)
ORDER BY (platform, author_id, period, snapshot_date)`

// planHistoryDDL creates commission_plan_history: every observation of
// every commission plan (commission_plans keeps only the newest one per
// plan once merged), so the analytics can show how a plan's rate changed.
// The version (observation time, Unix ms) is part of the sorting key: one
// row per observation, and a redelivered or re-polled observation (same
// version) collapses into it. observed_at never differs between the
// duplicates of a row, so filtering it before FINAL is safe.
const planHistoryDDL = `CREATE TABLE IF NOT EXISTS {db}.commission_plan_history
(
    platform      String,
    account       String,
    product_id    String,
    plan_id       String,
    rate_bp       Int64,
    vendor_status Int64,
    observed_at   DateTime('UTC'),
    version       UInt64,
    ingested_at   DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(observed_at)
ORDER BY (platform, product_id, plan_id, version)`

// planHistoryMVDDL copies every row inserted into commission_plans into
// commission_plan_history as it is written.
const planHistoryMVDDL = `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.commission_plan_history_mv
TO {db}.commission_plan_history
AS SELECT platform, account, product_id, plan_id, rate_bp, vendor_status, observed_at, version, ingested_at
FROM {db}.commission_plans`

// planHistoryBackfill copies the observations commission_plans already
// holds (the ones merges have not collapsed yet) into the history. It runs
// after the view exists, so no observation is missed; rows copied twice (by
// the view and the backfill, or by two sinks migrating at once) are the same
// key and version and collapse.
const planHistoryBackfill = `INSERT INTO {db}.commission_plan_history
    (platform, account, product_id, plan_id, rate_bp, vendor_status, observed_at, version, ingested_at)
SELECT platform, account, product_id, plan_id, rate_bp, vendor_status, observed_at, version, ingested_at
FROM {db}.commission_plans`

// linesByAccountDDL creates commission_lines_by_account: commission lines
// keyed by account too, so that when two accounts report the same order
// each keeps its own lines (commission_lines, keyed by order and role only,
// collapses them into one). The shipped queries read commission from here;
// orders stay keyed by order, so an order's GMV counts once. Same columns
// (migration 4's fee_fen included) and versioning as commission_lines.
const linesByAccountDDL = `CREATE TABLE IF NOT EXISTS {db}.commission_lines_by_account
(
    platform      String,
    account       String,
    order_id      String,
    role          String,
    rate_bp       Int64,
    currency      String,
    estimated_fen Int64,
    settled_fen   Int64,
    fee_fen       Int64,
    order_status  String,
    paid_at       DateTime('UTC'),
    updated_at    DateTime('UTC'),
    version       UInt64,
    event_id      String,
    ingested_at   DateTime('UTC')
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(paid_at)
ORDER BY (platform, account, order_id, role)`

// linesByAccountMVDDL copies every row inserted into commission_lines into
// commission_lines_by_account as it is written (before any merge could
// collapse two accounts' lines).
const linesByAccountMVDDL = `CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.commission_lines_by_account_mv
TO {db}.commission_lines_by_account
AS SELECT platform, account, order_id, role, rate_bp, currency, estimated_fen, settled_fen, fee_fen,
          order_status, paid_at, updated_at, version, event_id, ingested_at
FROM {db}.commission_lines`

// linesByAccountBackfill copies the lines commission_lines already holds;
// it runs after the view exists, and rows copied twice collapse (same key
// and version).
const linesByAccountBackfill = `INSERT INTO {db}.commission_lines_by_account
    (platform, account, order_id, role, rate_bp, currency, estimated_fen, settled_fen, fee_fen,
     order_status, paid_at, updated_at, version, event_id, ingested_at)
SELECT platform, account, order_id, role, rate_bp, currency, estimated_fen, settled_fen, fee_fen,
       order_status, paid_at, updated_at, version, event_id, ingested_at
FROM {db}.commission_lines`

const createDatabase = `CREATE DATABASE IF NOT EXISTS {db}`

// schemaMigrationsDDL records applied migrations. Racing sinks may record a
// version twice; readers use DISTINCT and merges collapse the duplicates.
const schemaMigrationsDDL = `CREATE TABLE IF NOT EXISTS {db}.schema_migrations
(
    version    UInt32,
    name       String,
    applied_at DateTime
)
ENGINE = ReplacingMergeTree()
ORDER BY version`

// Server error codes a racing "IF NOT EXISTS" may still raise on some
// versions, and the ones a database that was never migrated answers.
const (
	codeTableAlreadyExists    = 57
	codeUnknownTable          = 60
	codeUnknownDatabase       = 81
	codeDatabaseAlreadyExists = 82
	// codeIllegalColumn is also the answer to ADD COLUMN of a column that
	// exists (18.16 and current releases), told apart by its message.
	codeIllegalColumn = 44
)

// Migrate brings the schema up to date: it creates the database and the
// schema_migrations table if needed, then applies, in order, every migration
// of Migrations not yet recorded there, recording each after it succeeds.
// It is safe to run at every start-up and from several processes at once:
// every statement is idempotent. A database migrated by a newer yongjin
// (versions this one does not know) is left as it is.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrate(ctx, Migrations)
}

// migrate is Migrate with the list of migrations as a parameter, so tests
// can build the schema of an older yongjin.
func (s *Store) migrate(ctx context.Context, migrations []Migration) error {
	for _, q := range []string{createDatabase, schemaMigrationsDDL} {
		if err := s.execDDL(ctx, q); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	applied, err := s.AppliedMigrations(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	done := map[uint32]bool{}
	for _, v := range applied {
		done[v] = true
	}
	for _, m := range migrations {
		if done[m.Version] {
			continue
		}
		for i, q := range m.Statements {
			if err := s.execDDL(ctx, q); err != nil {
				return fmt.Errorf("migrate: migration %d (%s) statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		if err := s.record(ctx, m); err != nil {
			return fmt.Errorf("migrate: record migration %d (%s): %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// AppliedMigrations lists the migration versions recorded in the database,
// in increasing order.
func (s *Store) AppliedMigrations(ctx context.Context) ([]uint32, error) {
	rows, err := s.conn.Query(ctx, "SELECT DISTINCT version FROM "+s.db+".schema_migrations ORDER BY version")
	if err != nil {
		return nil, s.wrap("read schema_migrations", err)
	}
	defer rows.Close()
	var out []uint32
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, s.wrap("read schema_migrations", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("read schema_migrations", err)
	}
	return out, nil
}

// execDDL runs one idempotent DDL statement, treating the "already exists"
// answer of a lost creation race as success.
func (s *Store) execDDL(ctx context.Context, q string) error {
	q = strings.ReplaceAll(q, "{db}", s.db)
	err := s.conn.Exec(ctx, q)
	var exc *ch.Exception
	if errors.As(err, &exc) && (exc.Code == codeTableAlreadyExists || exc.Code == codeDatabaseAlreadyExists) {
		return nil
	}
	if errors.As(err, &exc) && exc.Code == codeIllegalColumn && strings.Contains(exc.Message, "already exists") {
		return nil // ADD COLUMN applied before (a migration retried or run by two sinks at once)
	}
	if err != nil {
		return s.wrap(firstLine(q), err)
	}
	return nil
}

func firstLine(q string) string {
	if i := strings.IndexByte(q, '\n'); i >= 0 {
		return q[:i]
	}
	return q
}

// record notes in schema_migrations that m was applied. It uses a native
// batch: ClickHouse 18.16 does not answer an INSERT ... VALUES sent by the
// driver as a plain statement.
func (s *Store) record(ctx context.Context, m Migration) error {
	return s.sendBatch(ctx, "schema_migrations", []string{"version", "name", "applied_at"}, 1, func(b driver.Batch) error {
		return b.Append(m.Version, m.Name, time.Now().UTC().Truncate(time.Second))
	})
}

// PendingMigrations lists the migrations of Migrations that Migrate would
// apply now, in order, without changing anything: every one when the
// database or its schema_migrations table does not exist yet.
func (s *Store) PendingMigrations(ctx context.Context) ([]Migration, error) {
	return s.pending(ctx, Migrations)
}

func (s *Store) pending(ctx context.Context, migrations []Migration) ([]Migration, error) {
	applied, err := s.AppliedMigrations(ctx)
	var exc *ch.Exception
	if errors.As(err, &exc) && (exc.Code == codeUnknownTable || exc.Code == codeUnknownDatabase) {
		applied, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	done := map[uint32]bool{}
	for _, v := range applied {
		done[v] = true
	}
	var out []Migration
	for _, m := range migrations {
		if !done[m.Version] {
			out = append(out, m)
		}
	}
	return out, nil
}

// SQL returns the migration's statements as Migrate sends them to the
// store's database.
func (s *Store) SQL(m Migration) []string {
	out := make([]string, len(m.Statements))
	for i, q := range m.Statements {
		out[i] = strings.ReplaceAll(q, "{db}", s.db)
	}
	return out
}

// DryRunMigrate writes to w, as a SQL script, what Migrate would do now:
// the bootstrap statements it runs every time (idempotent), then every
// pending migration's statements and the row that records it. It changes
// nothing on the server. It returns the number of pending migrations.
func (s *Store) DryRunMigrate(ctx context.Context, w io.Writer) (int, error) {
	pending, err := s.PendingMigrations(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate --dry-run: %w", err)
	}
	version, err := s.ServerVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate --dry-run: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- yongjin schema migrations: dry run against ClickHouse %s (server %s), database %s.\n", s.cfg.Addr, version, s.db)
	fmt.Fprintf(&b, "-- Nothing below has been executed. Known migrations: %d; pending: %d.\n", len(Migrations), len(pending))
	b.WriteString("\n-- Bootstrap (run at every migrate; idempotent).\n")
	for _, q := range []string{createDatabase, schemaMigrationsDDL} {
		b.WriteString(strings.ReplaceAll(q, "{db}", s.db))
		b.WriteString(";\n\n")
	}
	if len(pending) == 0 {
		b.WriteString("-- The schema is up to date: no migration is pending.\n")
	}
	for _, m := range pending {
		fmt.Fprintf(&b, "-- Migration %d: %s\n", m.Version, m.Name)
		for _, q := range s.SQL(m) {
			b.WriteString(q)
			b.WriteString(";\n\n")
		}
		fmt.Fprintf(&b, "-- Recorded afterwards (sent as a native batch):\nINSERT INTO %s.schema_migrations (version, name, applied_at) VALUES (%d, %s, now());\n\n",
			s.db, m.Version, quoteString(m.Name))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return 0, fmt.Errorf("migrate --dry-run: %w", err)
	}
	return len(pending), nil
}

// quoteString quotes s as a ClickHouse string literal.
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
