// Package clickhouse is the write side of yongjin's ClickHouse database:
// the store, the versioned schema (migrations applied at start-up, rendered
// per server release and cluster layout), the idempotent batch writer the
// sink uses, and the shipped summary queries the tests and the demo check
// the pipeline's truth with. The read side (the analytics read model, the
// dashboard queries and the Grafana macro expander) is internal/analytics,
// which reads through a Store (Query, ScanAll).
//
// The store speaks the native protocol through clickhouse-go/v2. Its
// queries keep to SQL that both ClickHouse 18.16 (the OS package on the
// development machines) and current releases accept (no JSONExtract, every
// INSERT names its columns); its schema is rendered for the server's
// release (see RenderMigration): current servers get LowCardinality, codecs
// and DateTime64, 18.16 the compatible schema, and with Config.Cluster
// replicated tables created ON CLUSTER.
//
// Idempotency model: every table is a ReplacingMergeTree keyed by the
// record's natural key and versioned by the vendor's update time (for
// commission plans and creator snapshots, the observation time), and every
// shipped query reads it with FINAL, so a redelivered, re-polled or replayed
// record (or an older version arriving after a newer one) never changes a
// result. Callers may therefore retry a failed Insert with the same batch.
package clickhouse

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"time"
)

// DefaultDatabase is the database yongjin's tables live in unless
// Config.Database names another.
const DefaultDatabase = "yongjin"

// DefaultUsername is the ClickHouse user used when Config.Username is empty.
const DefaultUsername = "default"

// DefaultDialTimeout bounds connecting to the server when Config.DialTimeout is zero.
const DefaultDialTimeout = 10 * time.Second

// Config configures a Store.
type Config struct {
	// Addr is the server's native-protocol address, host:port (e.g.
	// "127.0.0.1:9000"). Required. Several comma-separated addresses (the
	// replicas of a cluster) are tried in order: while the first is down the
	// store uses the next.
	Addr string
	// Database holds yongjin's tables; Migrate creates it. Default
	// DefaultDatabase ("yongjin"). It must be a plain identifier (letters,
	// digits, underscores).
	Database string
	// Username is the ClickHouse user. Default DefaultUsername ("default").
	Username string
	// Password is the user's password. It never appears in errors or in
	// the Config's String form.
	Password string
	// DialTimeout bounds connecting (and acquiring a pooled connection).
	// Default DefaultDialTimeout.
	DialTimeout time.Duration
	// Secure connects with TLS (ClickHouse's secure native port, usually
	// 9440). The server's certificate is always verified: against CAFile if
	// set, else against the system's roots.
	Secure bool
	// CAFile is a PEM file of the CAs that sign the server's certificate.
	// Setting it implies Secure.
	CAFile string
	// ServerName is the name the server's certificate must carry when it
	// differs from Addr's host (default: Addr's host).
	ServerName string
	// Cluster names a cluster of the servers' remote_servers configuration:
	// migrations run ON CLUSTER and create replicated tables (see Target).
	// Empty: a single server or ClickHouse Cloud.
	Cluster string
	// Sharded (needs Cluster) keeps the rows in <table>_local tables on
	// every shard behind Distributed tables, and inserts synchronously
	// through them (insert_distributed_sync), so an acknowledged batch is
	// stored on its shards.
	Sharded bool
	// ServerVersion, when set (e.g. "26.7"), is the release the migrations
	// are rendered for instead of the one the server reports.
	ServerVersion string
	// Logger, when set, receives the store's own events: a replica of a
	// multi-address Addr going down or coming back (see Store.Ready).
	Logger *slog.Logger
	// Clock, when set, is where Insert takes the rows' ingested_at from
	// (default time.Now): tests that compare two servers' answers fix it.
	Clock func() time.Time
}

var (
	identRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	clusterRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// Addrs is Addr split at its commas.
func (c Config) Addrs() []string {
	var out []string
	for _, a := range strings.Split(c.Addr, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// DefaultAddr is the server address of DefaultConfig: a local server's native port.
const DefaultAddr = "127.0.0.1:9000"

// DefaultConfig is the configuration of a store on a local server with every
// default value set; the commands' --clickhouse-* flags start from it.
func DefaultConfig() Config {
	return Config{Addr: DefaultAddr, Database: DefaultDatabase, Username: DefaultUsername, DialTimeout: DefaultDialTimeout}
}

func (c *Config) setDefaults() {
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.Username == "" {
		c.Username = DefaultUsername
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.CAFile != "" {
		c.Secure = true
	}
}

// Validate reports whether the configuration is usable. Empty optional
// fields are valid: Open fills in their defaults first.
func (c Config) Validate() error {
	var errs []error
	if len(c.Addrs()) == 0 {
		errs = append(errs, errors.New("Addr is required (host:port of the native protocol)"))
	}
	for _, a := range c.Addrs() {
		if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
			errs = append(errs, fmt.Errorf("Addr %q is not host:port", a))
		}
	}
	if c.Cluster != "" && !clusterRE.MatchString(c.Cluster) {
		errs = append(errs, fmt.Errorf("Cluster %q is not a cluster name ([A-Za-z0-9_.-])", c.Cluster))
	}
	if c.Sharded && c.Cluster == "" {
		errs = append(errs, errors.New("Sharded needs Cluster"))
	}
	if c.ServerVersion != "" {
		if _, err := ParseServerVersion(c.ServerVersion); err != nil {
			errs = append(errs, fmt.Errorf("ServerVersion: %w", err))
		}
	}
	if c.Database != "" && !identRE.MatchString(c.Database) {
		errs = append(errs, fmt.Errorf("Database %q is not a plain identifier ([A-Za-z_][A-Za-z0-9_]*)", c.Database))
	}
	if c.DialTimeout < 0 {
		errs = append(errs, fmt.Errorf("DialTimeout %s is negative", c.DialTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clickhouse config: %w", err)
	}
	return nil
}

// String describes the configuration with the password redacted, so a
// Config can be logged safely.
func (c Config) String() string {
	pw := ""
	if c.Password != "" {
		pw = "[redacted]"
	}
	return fmt.Sprintf("clickhouse.Config{Addr:%q Database:%q Username:%q Password:%q DialTimeout:%s Secure:%t CAFile:%q ServerName:%q Cluster:%q Sharded:%t ServerVersion:%q}",
		c.Addr, c.Database, c.Username, pw, c.DialTimeout, c.Secure, c.CAFile, c.ServerName, c.Cluster, c.Sharded, c.ServerVersion)
}

// GoString is String, so that %#v does not print the password either.
func (c Config) GoString() string { return c.String() }
