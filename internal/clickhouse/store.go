package clickhouse

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Store is yongjin's ClickHouse store: schema, batch writer, the summary
// queries and generic reads (Query, ScanAll) over one pooled native
// connection. It is safe for concurrent use.
type Store struct {
	conn driver.Conn
	cfg  Config
	// db is the database name quoted as an identifier, ready for SQL.
	db string

	// replicas are one connection per address of a multi-address Config,
	// for Ready, opened on first use.
	replicasMu sync.Mutex
	replicas   map[string]*replicaState
}

// replicaState is what Ready last saw of one address.
type replicaState struct {
	conn      driver.Conn
	downSince time.Time // zero while it answers
}

// Open connects to the ClickHouse server cfg names over the native protocol
// and checks that it answers. The database need not exist yet: tables are
// always addressed as database.table, and Migrate creates the database.
// Errors name the server address and never include the password.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conn, err := cfg.open(cfg.Addrs())
	if err != nil {
		return nil, err
	}
	s := &Store{conn: conn, cfg: cfg, db: quoteIdent(cfg.Database)}
	if err := s.Ping(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return s, nil
}

// open returns a connection pool to addrs (the first that answers, in order).
func (cfg Config) open(addrs []string) (driver.Conn, error) {
	opts := &ch.Options{
		Protocol: ch.Native,
		Addr:     addrs,
		// Replicas in the order given: the first that answers.
		ConnOpenStrategy: ch.ConnOpenInOrder,
		// No default database in the handshake: it may not exist before
		// Migrate, and the server would refuse the connection.
		Auth: ch.Auth{Username: cfg.Username, Password: cfg.Password},
		ClientInfo: ch.ClientInfo{Products: []struct{ Name, Version string }{
			{Name: "yongjin", Version: "v1"},
		}},
		DialTimeout: cfg.DialTimeout,
		Compression: &ch.Compression{Method: ch.CompressionLZ4},
	}
	if cfg.Secure {
		tc, err := cfg.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts.TLS = tc
	}
	conn, err := ch.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: open: %w", strings.Join(addrs, ","), err)
	}
	return conn, nil
}

// tlsConfig is the client TLS configuration: TLS 1.2 or later, the server
// verified against CAFile (or the system roots) and named ServerName (or
// Addr's host).
func (c Config) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.ServerName}
	if tc.ServerName == "" && len(c.Addrs()) == 1 {
		tc.ServerName, _, _ = net.SplitHostPort(c.Addrs()[0])
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("clickhouse %s: CA file: %w", c.Addr, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("clickhouse %s: CA file %s holds no PEM certificate", c.Addr, c.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// Database is the name of the database holding yongjin's tables.
func (s *Store) Database() string { return s.cfg.Database }

// Addr is the server address the store talks to.
func (s *Store) Addr() string { return s.cfg.Addr }

// Ping checks that the server answers. Its error is transient (see
// IsTransient) when the server is unreachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		return s.wrap("ping", err)
	}
	return nil
}

// Query runs the read-only query q with args; op names it in errors (which
// name the server too). The caller closes the rows.
func (s *Store) Query(ctx context.Context, op, q string, args ...any) (driver.Rows, error) {
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	return rows, nil
}

// ScanAll runs the read-only query q and calls scan for every row; op names
// it in errors ("<op>: scan" when scan fails).
func (s *Store) ScanAll(ctx context.Context, op, q string, scan func(driver.Rows) error) error {
	rows, err := s.Query(ctx, op, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return s.wrap(op+": scan", err)
		}
	}
	if err := rows.Err(); err != nil {
		return s.wrap(op, err)
	}
	return nil
}

// Optimize merges every part of table in the store's database now
// (OPTIMIZE TABLE ... FINAL), for checks that merges change no answer.
func (s *Store) Optimize(ctx context.Context, table string) error {
	if err := s.conn.Exec(ctx, "OPTIMIZE TABLE "+s.db+"."+quoteIdent(table)+" FINAL"); err != nil {
		return s.wrap("optimize "+table, err)
	}
	return nil
}

// ServerVersion reports the server's version string, e.g. "18.16.1".
func (s *Store) ServerVersion(ctx context.Context) (string, error) {
	var v string
	if err := s.conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		return "", s.wrap("server version", err)
	}
	return v, nil
}

// ErrReplicaDown is matched by Ready's error when some, not all, of the
// configured addresses do not answer: the store still works through the
// others.
var ErrReplicaDown = errors.New("replica down")

// Ready is the sink's readiness check (/readyz). With one address it is
// Ping. With several (a cluster's replicas) it pings each: nil when all
// answer; an error matching ErrReplicaDown that names the replicas down,
// since when and why, and the ones still serving, when some do not (writes
// go on through the others, and a replica that comes back catches up from
// its peers); Ping's transient error when none answers. Each change of a
// replica's state is logged on Config.Logger.
func (s *Store) Ready(ctx context.Context) error {
	addrs := s.cfg.Addrs()
	if len(addrs) == 1 {
		return s.Ping(ctx)
	}
	s.replicasMu.Lock()
	defer s.replicasMu.Unlock()
	if s.replicas == nil {
		s.replicas = map[string]*replicaState{}
	}
	var down, up []string
	var errs []error
	for _, a := range addrs {
		r := s.replicas[a]
		if r == nil {
			conn, err := s.cfg.open([]string{a})
			if err != nil {
				return err
			}
			r = &replicaState{conn: conn}
			s.replicas[a] = r
		}
		err := r.conn.Ping(ctx)
		now := time.Now()
		switch {
		case err != nil && r.downSince.IsZero():
			r.downSince = now
			s.log().Warn("clickhouse replica unreachable", "replica", a, "err", err)
		case err == nil && !r.downSince.IsZero():
			s.log().Info("clickhouse replica answers again", "replica", a, "down_for", now.Sub(r.downSince).Round(time.Second).String())
			r.downSince = time.Time{}
		}
		if err != nil {
			down = append(down, a)
			errs = append(errs, fmt.Errorf("%s down since %s: %w", a, r.downSince.UTC().Format(time.RFC3339), err))
			continue
		}
		up = append(up, a)
	}
	if len(down) == 0 {
		return nil
	}
	if len(up) == 0 {
		return fmt.Errorf("no replica answers: %w", errors.Join(errs...))
	}
	return fmt.Errorf("%w: %w; writing through %s", ErrReplicaDown, errors.Join(errs...), strings.Join(up, ", "))
}

func (s *Store) log() *slog.Logger {
	if s.cfg.Logger != nil {
		return s.cfg.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Close releases the store's connections. The Store must not be used after.
func (s *Store) Close() error {
	s.replicasMu.Lock()
	for _, r := range s.replicas {
		_ = r.conn.Close()
	}
	s.replicas = nil
	s.replicasMu.Unlock()
	if err := s.conn.Close(); err != nil {
		return s.wrap("close", err)
	}
	return nil
}

// wrap adds the server address and the operation to a driver error.
func (s *Store) wrap(op string, err error) error {
	return fmt.Errorf("clickhouse %s: %s: %w", s.cfg.Addr, op, err)
}

// quoteIdent quotes a validated identifier for use in SQL.
func quoteIdent(name string) string { return "`" + name + "`" }
