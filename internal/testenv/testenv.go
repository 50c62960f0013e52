// Package testenv gives integration tests real servers to talk to.
//
// ClickHouse: ClickHouseAddr returns the address of the server named by
// YONGJIN_CLICKHOUSE_ADDR (the user's own ClickHouse) or, when that is unset,
// of a private clickhouse-server this test binary starts once, on free
// loopback ports, with its data in a temporary directory. Wire it up with a
// TestMain so the server is stopped when the tests end:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Integration tests never skip: when no server can be had they fail, telling
// the user to run `make test` or `scripts/clickhouse.sh start`.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// Environment variables testenv reads.
const (
	// EnvClickHouseAddr names a ClickHouse server (host:port, native
	// protocol) to use instead of starting a private one.
	EnvClickHouseAddr = "YONGJIN_CLICKHOUSE_ADDR"
	// EnvClickHouseUsername is the user for EnvClickHouseAddr (default "default").
	EnvClickHouseUsername = "YONGJIN_CLICKHOUSE_USERNAME"
	// EnvClickHousePassword is that user's password (default empty).
	EnvClickHousePassword = "YONGJIN_CLICKHOUSE_PASSWORD"
)

// Main runs the tests, stops every server testenv started for them and exits
// with the tests' status. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	StopServers()
	os.Exit(code)
}

var (
	chOnce sync.Once
	chAddr string
	chErr  error
)

// ClickHouseAddr returns the host:port of a ClickHouse server for t. With
// YONGJIN_CLICKHOUSE_ADDR set it checks that server answers and returns it;
// otherwise it starts (once per test binary) a private clickhouse-server on
// free loopback ports. It fails t, never skips it, when no server is
// available.
func ClickHouseAddr(t testing.TB) string {
	t.Helper()
	if addr := os.Getenv(EnvClickHouseAddr); addr != "" {
		if err := pingClickHouse(context.Background(), addr, time.Minute); err != nil {
			t.Fatalf("testenv: %s=%s is not reachable: %v\n"+
				"Start it, point %s at a running ClickHouse (e.g. $(scripts/clickhouse.sh addr)), "+
				"or unset it to let the tests start a private clickhouse-server.",
				EnvClickHouseAddr, addr, err, EnvClickHouseAddr)
		}
		return addr
	}
	chOnce.Do(func() {
		var s *server
		s, chErr = startClickHouse()
		if chErr == nil {
			registerServer(s)
			chAddr = s.addr
		}
	})
	if chErr != nil {
		t.Fatalf("testenv: %v", chErr)
	}
	return chAddr
}

// ClickHouseCredentials returns the user and password for the server
// ClickHouseAddr returns: YONGJIN_CLICKHOUSE_USERNAME and
// YONGJIN_CLICKHOUSE_PASSWORD, defaulting to "default" and "".
func ClickHouseCredentials() (username, password string) {
	username = os.Getenv(EnvClickHouseUsername)
	if username == "" {
		username = "default"
	}
	return username, os.Getenv(EnvClickHousePassword)
}

// NewDatabase creates a database with a unique name on the server at addr
// and drops it when t ends, so tests sharing a server are isolated. It
// returns the database name (a plain identifier).
func NewDatabase(t testing.TB, addr string) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("testenv: random database name: %v", err)
	}
	name := "yjtest_" + hex.EncodeToString(b[:])
	conn, err := openClickHouse(addr, time.Minute)
	if err != nil {
		t.Fatalf("testenv: connect to ClickHouse %s: %v", addr, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		conn.Close()
		t.Fatalf("testenv: create database %s on %s: %v", name, addr, err)
	}
	t.Cleanup(func() {
		defer conn.Close()
		// Dropping a database waits for its tables' parts (the per-account
		// commission table and its view add some); ClickHouse 18.16 under a
		// loaded machine takes minutes.
		ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
		defer cancel()
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("testenv: drop database %s on %s: %v", name, addr, err)
		}
	})
	return name
}

// dropTimeout bounds the DROP DATABASE of a test's cleanup.
const dropTimeout = 5 * time.Minute

func openClickHouse(addr string, timeout time.Duration) (ch.Conn, error) {
	user, pass := ClickHouseCredentials()
	return ch.Open(&ch.Options{
		Addr:        []string{addr},
		Auth:        ch.Auth{Username: user, Password: pass},
		DialTimeout: timeout,
	})
}

// pingClickHouse checks that a ClickHouse server answers the native protocol at addr.
func pingClickHouse(ctx context.Context, addr string, timeout time.Duration) error {
	conn, err := openClickHouse(addr, timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := conn.Ping(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", addr, err)
	}
	return nil
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
