package clickhouse

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ServerVersion is a ClickHouse release, major.minor (e.g. 18.16, 26.7):
// what decides which schema the migrations create.
type ServerVersion struct {
	Major, Minor int
}

// ErrBadServerVersion is returned by ParseServerVersion for text that is not
// a ClickHouse version.
var ErrBadServerVersion = errors.New("not a ClickHouse version (want MAJOR.MINOR[.PATCH...], e.g. 26.7 or 18.16.1)")

var versionRE = regexp.MustCompile(`^(\d{1,4})\.(\d{1,4})(\.\d+)*([-.+][0-9A-Za-z.-]*)?$`)

// ParseServerVersion parses the answer of SELECT version() ("26.7.2.1",
// "18.16.1", "24.8.4.13-lts") or a version given by hand ("26.7").
func ParseServerVersion(s string) (ServerVersion, error) {
	m := versionRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return ServerVersion{}, fmt.Errorf("%q: %w", s, ErrBadServerVersion)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return ServerVersion{Major: major, Minor: minor}, nil
}

// String is "MAJOR.MINOR".
func (v ServerVersion) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// AtLeast reports whether v is release o or later.
func (v ServerVersion) AtLeast(o ServerVersion) bool {
	return v.Major > o.Major || v.Major == o.Major && v.Minor >= o.Minor
}

// CurrentSchemaSince is the first release that gets the current schema:
// LowCardinality(String) for the low-cardinality columns, column codecs,
// DateTime64(3) for the sink's write time (ingested_at; observation times
// stay DateTime, their milliseconds are in version), ALTER ... ADD COLUMN
// IF NOT EXISTS, and table settings that keep FINAL cheap. Every feature
// exists before it; 23.8 is the oldest long-term support release yongjin
// assumes them on. Older servers (18.16, the Debian package, included) get
// the compatible schema.
var CurrentSchemaSince = ServerVersion{Major: 23, Minor: 8}

// Target is what the migrations' SQL is rendered for: a server release, a
// single server or a cluster, a database. The SQL is a pure function of it
// (see RenderMigration), so `sink migrate --dry-run --server-version V` can
// print what a server of release V would run without connecting to one.
type Target struct {
	// Version is the server's release.
	Version ServerVersion
	// Database is the unquoted database name (default DefaultDatabase).
	Database string
	// Cluster names the cluster of the server's remote_servers configuration
	// (--clickhouse-cluster): every DDL statement runs ON CLUSTER and the
	// tables are Replicated*MergeTree, their ZooKeeper path
	// /clickhouse/tables/{shard}/<database>/<table> and replica name
	// {replica} taken from each server's macros. Empty: a single server (or
	// ClickHouse Cloud, which replicates every MergeTree table itself).
	Cluster string
	// Sharded (with Cluster) keeps each table's rows in <table>_local on
	// every shard and makes <table> a Distributed table over them, sharded by
	// a hash of the table's natural key (its first two sorting key columns:
	// platform and the record's id), so every version of a record, and every
	// commission line of an order, lands on one shard and FINAL stays correct.
	Sharded bool
}

// Current reports whether the target gets the current schema (see CurrentSchemaSince).
func (t Target) Current() bool { return t.Version.AtLeast(CurrentSchemaSince) }

func (t Target) db() string {
	if t.Database == "" {
		return DefaultDatabase
	}
	return t.Database
}

// Statement shapes the renderer understands; on a cluster every statement
// must have one of them, so a migration never runs half-clustered.
var (
	createDBRE     = regexp.MustCompile(`^CREATE DATABASE IF NOT EXISTS \{db\}$`)
	createTableRE  = regexp.MustCompile(`(?s)^CREATE TABLE IF NOT EXISTS \{db\}\.(\w+)(\s*\n\(.*)$`)
	createMVRE     = regexp.MustCompile(`(?s)^CREATE MATERIALIZED VIEW IF NOT EXISTS \{db\}\.(\w+)(\s*\nTO \{db\}\.)(\w+)(\s*\nAS SELECT .*)$`)
	alterRE        = regexp.MustCompile(`(?s)^ALTER TABLE \{db\}\.(\w+)(\s.*)$`)
	dropTableRE    = regexp.MustCompile(`(?s)^DROP TABLE IF EXISTS \{db\}\.(\w+)$`)
	insertRE       = regexp.MustCompile(`(?s)^INSERT INTO \{db\}\.\w+`)
	columnChangeRE = regexp.MustCompile(`\b(ADD|DROP|MODIFY|RENAME|COMMENT) COLUMN\b`)
	fromDBRE       = regexp.MustCompile(`\b(FROM|JOIN) \{db\}\.(\w+)`)
	engineRE       = regexp.MustCompile(`ENGINE = (\w*)MergeTree\(([^()]*)\)`)
	orderByRE      = regexp.MustCompile(`(?m)^ORDER BY \(?([^)\n]*)\)?$`)

	lowCardRE  = regexp.MustCompile(`LowCardinality\(([A-Za-z0-9]+)\)`)
	codecRE    = regexp.MustCompile(` CODEC\((?:[^()]|\([^()]*\))*\)`)
	dt64RE     = regexp.MustCompile(`DateTime64\(\d+(?:, ('[^']*'))?\)`)
	settingsRE = regexp.MustCompile(`\nSETTINGS [^\n]*`)
)

// ErrUnsupportedStatement is returned by RenderMigration for a statement the
// cluster renderer does not know how to distribute.
var ErrUnsupportedStatement = errors.New("statement shape not supported on a cluster")

// RenderMigration returns the statements of m as a server of target t runs
// them, "{db}" replaced by the quoted database. Migrations are written in
// current ClickHouse SQL; for a server older than CurrentSchemaSince the
// renderer rewrites LowCardinality(T) to T, DateTime64(p, tz) to
// DateTime(tz), drops column codecs and the SETTINGS line of CREATE TABLE,
// and ADD COLUMN IF NOT EXISTS becomes ADD COLUMN (Migrate treats the
// "column exists" answer of a re-run as success). On a cluster it adds ON
// CLUSTER to every DDL statement, turns each MergeTree engine into its
// Replicated form and, when sharded, creates <table>_local plus a
// Distributed <table>; INSERT ... SELECT statements run once, as written.
func RenderMigration(m Migration, t Target) ([]string, error) {
	var out []string
	for i, q := range m.Statements {
		qs, err := renderStatement(q, t)
		if err != nil {
			return nil, fmt.Errorf("migration %d (%s) statement %d: %w", m.Version, m.Name, i+1, err)
		}
		out = append(out, qs...)
	}
	return out, nil
}

// renderStatement renders one statement template for t.
func renderStatement(q string, t Target) ([]string, error) {
	q = strings.TrimSpace(q)
	if !t.Current() {
		q = lowCardRE.ReplaceAllString(q, "$1")
		q = codecRE.ReplaceAllString(q, "")
		q = dt64RE.ReplaceAllStringFunc(q, func(s string) string {
			if tz := dt64RE.FindStringSubmatch(s)[1]; tz != "" {
				return "DateTime(" + tz + ")"
			}
			return "DateTime"
		})
		if createTableRE.MatchString(q) {
			q = settingsRE.ReplaceAllString(q, "")
		}
		q = strings.ReplaceAll(q, "ADD COLUMN IF NOT EXISTS", "ADD COLUMN")
	}
	var out []string
	if t.Cluster == "" {
		out = []string{q}
	} else {
		var err error
		if out, err = clusterStatements(q, t); err != nil {
			return nil, err
		}
	}
	db := quoteIdent(t.db())
	for i := range out {
		out[i] = strings.ReplaceAll(out[i], "{db}", db)
	}
	return out, nil
}

// clusterStatements distributes one statement over t's cluster.
func clusterStatements(q string, t Target) ([]string, error) {
	on := " ON CLUSTER " + quoteIdent(t.Cluster)
	local := func(table string) string {
		if t.Sharded {
			return table + "_local"
		}
		return table
	}
	switch {
	case createDBRE.MatchString(q):
		return []string{q + on}, nil
	case createTableRE.MatchString(q):
		m := createTableRE.FindStringSubmatch(q)
		table, body := m[1], m[2]
		if !engineRE.MatchString(body) {
			return nil, fmt.Errorf("%w: CREATE TABLE %s has no MergeTree engine", ErrUnsupportedStatement, table)
		}
		body = engineRE.ReplaceAllStringFunc(body, func(e string) string {
			em := engineRE.FindStringSubmatch(e)
			args := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s', '{replica}'", t.db(), local(table))
			if strings.TrimSpace(em[2]) != "" {
				args += ", " + em[2]
			}
			return "ENGINE = Replicated" + em[1] + "MergeTree(" + args + ")"
		})
		out := []string{"CREATE TABLE IF NOT EXISTS {db}." + local(table) + on + body}
		if t.Sharded {
			dist, err := distributed(table, body, t)
			if err != nil {
				return nil, err
			}
			out = append(out, dist)
		}
		return out, nil
	case createMVRE.MatchString(q):
		m := createMVRE.FindStringSubmatch(q)
		sel := m[4]
		if t.Sharded {
			// Each shard's view copies the rows its own shard receives.
			sel = fromDBRE.ReplaceAllString(sel, "$1 {db}.${2}_local")
		}
		return []string{"CREATE MATERIALIZED VIEW IF NOT EXISTS {db}." + m[1] + on + m[2] + local(m[3]) + sel}, nil
	case alterRE.MatchString(q):
		m := alterRE.FindStringSubmatch(q)
		out := []string{"ALTER TABLE {db}." + local(m[1]) + on + m[2]}
		if t.Sharded && columnChangeRE.MatchString(m[2]) {
			// The Distributed table takes the local table's new columns by
			// being created again over it: ClickHouse refuses ALTER ... ON
			// CLUSTER of a table that is not replicated on a cluster whose
			// shards are (internal_replication). It holds no data.
			body, err := createdBody(m[1])
			if err != nil {
				return nil, err
			}
			dist, err := distributed(m[1], body, t)
			if err != nil {
				return nil, err
			}
			out = append(out, "DROP TABLE IF EXISTS {db}."+m[1]+on, dist)
		}
		return out, nil
	case dropTableRE.MatchString(q):
		m := dropTableRE.FindStringSubmatch(q)
		out := []string{"DROP TABLE IF EXISTS {db}." + m[1] + on}
		if t.Sharded {
			out = append(out, "DROP TABLE IF EXISTS {db}."+local(m[1])+on)
		}
		return out, nil
	case insertRE.MatchString(q):
		// Runs once, on the server the sink talks to: replication (and, when
		// sharded, the Distributed tables it reads and writes) does the rest.
		return []string{q}, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupportedStatement, firstLine(q))
}

// distributed is the CREATE statement of the Distributed table named table
// over table_local, for a sharded target; body is the CREATE TABLE body of
// the table (for its sorting key).
func distributed(table, body string, t Target) (string, error) {
	key, err := shardingKey(table, body)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS {db}.%s ON CLUSTER %s AS {db}.%s_local\nENGINE = Distributed(%s, %s, %s, %s)",
		table, quoteIdent(t.Cluster), table, quoteIdent(t.Cluster), quoteIdent(t.db()), quoteIdent(table+"_local"), key), nil
}

// createdBody is the body of the CREATE TABLE statement of Migrations (or
// of the bootstrap) that creates table.
func createdBody(table string) (string, error) {
	for _, m := range append([]Migration{BootstrapMigration()}, Migrations...) {
		for _, q := range m.Statements {
			if c := createTableRE.FindStringSubmatch(strings.TrimSpace(q)); c != nil && c[1] == table {
				return c[2], nil
			}
		}
	}
	return "", fmt.Errorf("%w: ALTER TABLE %s: no migration creates it", ErrUnsupportedStatement, table)
}

// shardingKey is cityHash64 of the first two sorting key columns of a
// CREATE TABLE body (the platform and the record's id), or of the one
// column of a one-column key.
func shardingKey(table, body string) (string, error) {
	m := orderByRE.FindStringSubmatch(body)
	if m == nil {
		return "", fmt.Errorf("%w: CREATE TABLE %s has no one-line ORDER BY to shard by", ErrUnsupportedStatement, table)
	}
	cols := strings.Split(m[1], ",")
	for i := range cols {
		cols[i] = strings.TrimSpace(cols[i])
	}
	if len(cols) > 2 {
		cols = cols[:2]
	}
	return "cityHash64(" + strings.Join(cols, ", ") + ")", nil
}
