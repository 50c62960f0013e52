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
// both ClickHouse 18.16 and current releases. Write each statement in
// current ClickHouse SQL, in one of the shapes RenderMigration knows (it
// renders them for older servers and for clusters): CREATE TABLE IF NOT
// EXISTS {db}.t (...) with a MergeTree-family ENGINE and a one-line ORDER BY;
// CREATE MATERIALIZED VIEW IF NOT EXISTS {db}.v TO {db}.t AS SELECT ...;
// ALTER TABLE {db}.t ADD COLUMN IF NOT EXISTS ...; DROP TABLE IF EXISTS
// {db}.t; INSERT INTO {db}.t ... SELECT (a backfill, which must write rows
// that collapse with themselves when it runs twice). Two sinks may apply the
// same migration at the same time.
type Migration struct {
	// Version orders migrations; they are applied in increasing order, once each.
	Version uint32
	// Name says what the migration does; it is recorded in schema_migrations.
	Name string
	// Statements are executed in order, as RenderMigration renders them for
	// the server. "{db}" stands for the quoted database name.
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
// v1, one column per statement (each idempotent: IF NOT EXISTS on current
// releases; on 18.16, which renders plain ADD COLUMN, execDDL takes "column
// already exists" as done). Rows written before read 0, as the events
// without the fields do.
var moneyColumnsDDL = []string{
	"ALTER TABLE {db}.orders ADD COLUMN IF NOT EXISTS refunded_fen Int64 DEFAULT 0 AFTER settled_base_fen",
	"ALTER TABLE {db}.orders ADD COLUMN IF NOT EXISTS estimated_total_commission_fen Int64 DEFAULT 0 AFTER refunded_fen",
	"ALTER TABLE {db}.commission_lines ADD COLUMN IF NOT EXISTS fee_fen Int64 DEFAULT 0 AFTER settled_fen",
}

// The tables' DDL is written in current ClickHouse SQL; RenderMigration
// turns it into what an older server (18.16) accepts: LowCardinality(T)
// becomes T, DateTime64(3, tz) DateTime(tz), codecs and the SETTINGS line
// go. Low-cardinality columns are the platform, account, role, status and
// currency-like ones; codecs pick ZSTD for long text and Delta for times
// and versions; ingested_at (the sink's write time) keeps milliseconds. The
// settings make every partition older than an hour merge down to one part,
// so FINAL has next to nothing left to collapse in historical months.

// ordersDDL creates the orders table: one row per order version, the latest
// version (highest vendor update time) wins in FINAL reads and merges.
const ordersDDL = `CREATE TABLE IF NOT EXISTS {db}.orders
(
    platform           LowCardinality(String),
    account            LowCardinality(String),
    order_id           String,
    parent_order_id    String,
    product_id         String,
    product_name       String CODEC(ZSTD(1)),
    shop_id            String,
    shop_name          String CODEC(ZSTD(1)),
    author_id          String,
    author_name        String CODEC(ZSTD(1)),
    buyer_open_id      String CODEC(ZSTD(1)),
    channel            LowCardinality(String),
    quantity           Int64,
    currency           LowCardinality(String),
    paid_fen           Int64,
    estimated_base_fen Int64,
    settled_base_fen   Int64,
    status             LowCardinality(String),
    vendor_status      LowCardinality(String),
    paid_at            DateTime('UTC') CODEC(Delta, ZSTD(1)),
    updated_at         DateTime('UTC') CODEC(Delta, ZSTD(1)),
    received_at        Nullable(DateTime('UTC')),
    settled_at         Nullable(DateTime('UTC')),
    refunded_at        Nullable(DateTime('UTC')),
    version            UInt64 CODEC(Delta, ZSTD(1)),
    event_id           String CODEC(ZSTD(1)),
    ingested_at        DateTime64(3, 'UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(paid_at)
ORDER BY (platform, order_id)
SETTINGS min_age_to_force_merge_seconds = 3600, min_age_to_force_merge_on_partition_only = 1`

// commissionLinesDDL creates the commission_lines table: one row per
// (order, role) version, versioned like orders.
const commissionLinesDDL = `CREATE TABLE IF NOT EXISTS {db}.commission_lines
(
    platform      LowCardinality(String),
    account       LowCardinality(String),
    order_id      String,
    role          LowCardinality(String),
    rate_bp       Int64,
    currency      LowCardinality(String),
    estimated_fen Int64,
    settled_fen   Int64,
    order_status  LowCardinality(String),
    paid_at       DateTime('UTC') CODEC(Delta, ZSTD(1)),
    updated_at    DateTime('UTC') CODEC(Delta, ZSTD(1)),
    version       UInt64 CODEC(Delta, ZSTD(1)),
    event_id      String CODEC(ZSTD(1)),
    ingested_at   DateTime64(3, 'UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(paid_at)
ORDER BY (platform, order_id, role)
SETTINGS min_age_to_force_merge_seconds = 3600, min_age_to_force_merge_on_partition_only = 1`

// commissionPlansDDL creates the commission_plans table: one row per
// observation of a product's commission plan (commission_plan.v1), the
// newest observation (highest version, the observation time in Unix ms) wins.
// Plans are small reference data, so the table has no partition key.
// observed_at keeps whole seconds on every release (the version has the
// milliseconds), so the shipped queries answer the same everywhere.
const commissionPlansDDL = `CREATE TABLE IF NOT EXISTS {db}.commission_plans
(
    platform           LowCardinality(String),
    account            LowCardinality(String),
    product_id         String,
    plan_id            String,
    rate_bp            Int64,
    content_type       Int64,
    content_type_label LowCardinality(String),
    vendor_status      Int64,
    created_date       String,
    observed_at        DateTime('UTC'),
    version            UInt64,
    event_id           String,
    ingested_at        DateTime64(3, 'UTC') DEFAULT now()
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
    platform         LowCardinality(String),
    account          LowCardinality(String),
    author_id        String,
    period           LowCardinality(String),
    snapshot_date    Date,
    indicator_names  Array(LowCardinality(String)),
    indicator_values Array(Float64),
    data             String CODEC(ZSTD(3)),
    observed_at      DateTime('UTC'),
    version          UInt64,
    event_id         String,
    ingested_at      DateTime64(3, 'UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(snapshot_date)
ORDER BY (platform, author_id, period, snapshot_date)
SETTINGS min_age_to_force_merge_seconds = 3600, min_age_to_force_merge_on_partition_only = 1`

// planHistoryDDL creates commission_plan_history: every observation of
// every commission plan (commission_plans keeps only the newest one per
// plan once merged), so the analytics can show how a plan's rate changed.
// The version (observation time, Unix ms) is part of the sorting key: one
// row per observation, and a redelivered or re-polled observation (same
// version) collapses into it. observed_at never differs between the
// duplicates of a row, so filtering it before FINAL is safe.
const planHistoryDDL = `CREATE TABLE IF NOT EXISTS {db}.commission_plan_history
(
    platform      LowCardinality(String),
    account       LowCardinality(String),
    product_id    String,
    plan_id       String,
    rate_bp       Int64,
    vendor_status Int64,
    observed_at   DateTime('UTC'),
    version       UInt64,
    ingested_at   DateTime64(3, 'UTC')
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
// (migration 4's fee_fen included) and versioning as commission_lines. The
// sorting key starts (platform, order_id) like commission_lines', so a
// sharded cluster places an account's lines, whether written by the view or
// by the backfill, on the shard of their order.
const linesByAccountDDL = `CREATE TABLE IF NOT EXISTS {db}.commission_lines_by_account
(
    platform      LowCardinality(String),
    account       LowCardinality(String),
    order_id      String,
    role          LowCardinality(String),
    rate_bp       Int64,
    currency      LowCardinality(String),
    estimated_fen Int64,
    settled_fen   Int64,
    fee_fen       Int64,
    order_status  LowCardinality(String),
    paid_at       DateTime('UTC') CODEC(Delta, ZSTD(1)),
    updated_at    DateTime('UTC') CODEC(Delta, ZSTD(1)),
    version       UInt64 CODEC(Delta, ZSTD(1)),
    event_id      String CODEC(ZSTD(1)),
    ingested_at   DateTime64(3, 'UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(paid_at)
ORDER BY (platform, order_id, account, role)
SETTINGS min_age_to_force_merge_seconds = 3600, min_age_to_force_merge_on_partition_only = 1`

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
	// codeStdException is a failure inside the server (std::bad_alloc
	// and the like), not an answer about the statement.
	codeStdException = 1001
)

// Migrate brings the schema up to date: it creates the database and the
// schema_migrations table if needed, then applies, in order, every migration
// of Migrations not yet recorded there, recording each after it succeeds.
// The SQL is rendered for the store's Target (the server's release, the
// cluster). It is safe to run at every start-up and from several processes
// at once: every statement is idempotent. A database migrated by a newer
// yongjin (versions this one does not know) is left as it is.
func (s *Store) Migrate(ctx context.Context) error {
	return s.migrate(ctx, Migrations)
}

// migrate is Migrate with the list of migrations as a parameter, so tests
// can build the schema of an older yongjin.
func (s *Store) migrate(ctx context.Context, migrations []Migration) error {
	t, err := s.Target(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	boot, err := bootstrap(t)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, q := range boot {
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
		stmts, err := RenderMigration(m, t)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		for i, q := range stmts {
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

// BootstrapMigration is what Migrate runs every time before the numbered
// migrations (version 0, never recorded): it creates the database and the
// schema_migrations table if they are missing.
func BootstrapMigration() Migration {
	return Migration{Name: "bootstrap", Statements: []string{createDatabase, schemaMigrationsDDL}}
}

// bootstrap renders BootstrapMigration for t.
func bootstrap(t Target) ([]string, error) {
	return RenderMigration(BootstrapMigration(), t)
}

// Target is what the store's migrations are rendered for: the release of
// the server it talks to (SELECT version(), asked once; Config.ServerVersion
// instead when set), Config.Cluster and Config.Sharded, and its database.
func (s *Store) Target(ctx context.Context) (Target, error) {
	t := Target{Database: s.cfg.Database, Cluster: s.cfg.Cluster, Sharded: s.cfg.Sharded}
	v := s.cfg.ServerVersion
	if v == "" {
		var err error
		if v, err = s.ServerVersion(ctx); err != nil {
			return Target{}, err
		}
	}
	var err error
	if t.Version, err = ParseServerVersion(v); err != nil {
		return Target{}, fmt.Errorf("clickhouse %s: server version: %w", s.cfg.Addr, err)
	}
	return t, nil
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

// execDDL runs one rendered idempotent DDL statement ("{db}", if any is
// left, stands for the store's database), treating the "already exists"
// answer of a lost creation race (or of a column an older server cannot add
// "IF NOT EXISTS") as success.
//
// A statement the server failed internally (std::exception, code 1001:
// ClickHouse 18.16 answers std::bad_alloc now and then to ALTERs of one
// table racing from several sinks) is run again, up to three times in
// all; the statements are idempotent.
func (s *Store) execDDL(ctx context.Context, q string) error {
	q = strings.ReplaceAll(q, "{db}", s.db)
	err := s.conn.Exec(ctx, q)
	var exc *ch.Exception
	for attempt := 1; attempt < 3 && errors.As(err, &exc) && exc.Code == codeStdException; attempt++ {
		t := time.NewTimer(time.Duration(attempt) * 100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return s.wrap(firstLine(q), err)
		case <-t.C:
		}
		err = s.conn.Exec(ctx, q)
	}
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

// DryRunMigrate writes to w, as a SQL script, what Migrate would do now:
// the bootstrap statements it runs every time (idempotent), then every
// pending migration's statements and the row that records it, rendered for
// the store's Target. It changes nothing on the server. It returns the
// number of pending migrations.
func (s *Store) DryRunMigrate(ctx context.Context, w io.Writer) (int, error) {
	pending, err := s.PendingMigrations(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate --dry-run: %w", err)
	}
	version, err := s.ServerVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate --dry-run: %w", err)
	}
	t, err := s.Target(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate --dry-run: %w", err)
	}
	head := fmt.Sprintf("-- yongjin schema migrations: dry run against ClickHouse %s (server %s), database %s.\n", s.cfg.Addr, version, s.db)
	return len(pending), writeScript(w, t, head, pending)
}

// MigrationScript writes to w, as a SQL script, every migration as Migrate
// runs it on a fresh database of target t (bootstrap statements, each
// migration's statements and the row recording it), without connecting to
// any server: what `sink migrate --dry-run --server-version V` prints.
func MigrationScript(w io.Writer, t Target) error {
	where := "a single server"
	if t.Cluster != "" {
		where = "cluster " + t.Cluster
		if t.Sharded {
			where += " (sharded)"
		}
	}
	head := fmt.Sprintf("-- yongjin schema migrations for ClickHouse %s on %s, database %s (%s schema), rendered without a server.\n",
		t.Version, where, quoteIdent(t.db()), schemaName(t))
	return writeScript(w, t, head, Migrations)
}

func schemaName(t Target) string {
	if t.Current() {
		return "current"
	}
	return "compatible"
}

func writeScript(w io.Writer, t Target, head string, pending []Migration) error {
	boot, err := bootstrap(t)
	if err != nil {
		return fmt.Errorf("migrate --dry-run: %w", err)
	}
	var b strings.Builder
	b.WriteString(head)
	fmt.Fprintf(&b, "-- Nothing below has been executed. Known migrations: %d; pending: %d.\n", len(Migrations), len(pending))
	b.WriteString("\n-- Bootstrap (run at every migrate; idempotent).\n")
	for _, q := range boot {
		b.WriteString(q)
		b.WriteString(";\n\n")
	}
	if len(pending) == 0 {
		b.WriteString("-- The schema is up to date: no migration is pending.\n")
	}
	for _, m := range pending {
		stmts, err := RenderMigration(m, t)
		if err != nil {
			return fmt.Errorf("migrate --dry-run: %w", err)
		}
		fmt.Fprintf(&b, "-- Migration %d: %s\n", m.Version, m.Name)
		for _, q := range stmts {
			b.WriteString(q)
			b.WriteString(";\n\n")
		}
		fmt.Fprintf(&b, "-- Recorded afterwards (sent as a native batch):\nINSERT INTO %s.schema_migrations (version, name, applied_at) VALUES (%d, %s, now());\n\n",
			quoteIdent(t.db()), m.Version, quoteString(m.Name))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("migrate --dry-run: %w", err)
	}
	return nil
}

// quoteString quotes s as a ClickHouse string literal.
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
