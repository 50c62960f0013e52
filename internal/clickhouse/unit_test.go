package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

func TestConfigDefaultsAndValidate(t *testing.T) {
	var c Config
	c.Addr = "127.0.0.1:9000"
	c.setDefaults()
	if c.Database != "yongjin" || c.Username != "default" || c.DialTimeout != DefaultDialTimeout {
		t.Fatalf("defaults: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	good := Config{Addr: "127.0.0.1:9000, 127.0.0.2:9000", Cluster: "prod-1", Sharded: true, ServerVersion: "24.8"}
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate(%v) = %v", good, err)
	}
	if got := good.Addrs(); len(got) != 2 || got[1] != "127.0.0.2:9000" {
		t.Fatalf("Addrs() = %q", got)
	}
	for name, bad := range map[string]Config{
		"no addr":          {},
		"no port":          {Addr: "localhost"},
		"quoted database":  {Addr: "h:1", Database: "x`; DROP TABLE y"},
		"dotted database":  {Addr: "h:1", Database: "a.b"},
		"negative timeout": {Addr: "h:1", DialTimeout: -time.Second},
		"bad replica addr": {Addr: "h:1,localhost"},
		"only commas":      {Addr: " , "},
		"quoted cluster":   {Addr: "h:1", Cluster: "a`b"},
		"sharded alone":    {Addr: "h:1", Sharded: true},
		"bad version":      {Addr: "h:1", ServerVersion: "latest"},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%s: Validate(%v) = nil", name, bad)
		}
	}
}

func TestConfigStringHidesPassword(t *testing.T) {
	c := Config{Addr: "h:9000", Password: "hunter2-secret"}
	for _, s := range []string{c.String(), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprint(&c)} {
		if strings.Contains(s, "hunter2") || !strings.Contains(s, "h:9000") {
			t.Errorf("%q must show the address and hide the password", s)
		}
	}
	if _, err := Open(context.Background(), Config{Password: "hunter2-secret"}); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open with a bad config: %v", err)
	}
}

func TestIsTransient(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("clickhouse h:1: insert: %w", err) }
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("syntax error"), false},
		{wrap(&BadEventError{EventID: "x", Err: io.EOF}), false},
		{wrap(context.Canceled), false},
		{wrap(ch.ErrConnectionClosed), false},
		{wrap(&ch.Exception{Code: 60, Message: "Table doesn't exist"}), false},
		{wrap(&ch.Exception{Code: 62, Message: "Syntax error"}), false},
		{wrap(&ch.Exception{Code: 252, Message: "Too many parts"}), true},
		{wrap(&ch.Exception{Code: 241, Message: "Memory limit"}), true},
		{wrap(context.DeadlineExceeded), true},
		{wrap(ch.ErrAcquireConnTimeout), true},
		{wrap(io.EOF), true},
		{wrap(io.ErrUnexpectedEOF), true},
		{wrap(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}), true},
		{wrap(fmt.Errorf("write: %w", syscall.EPIPE)), true},
		{wrap(fmt.Errorf("read: %w", syscall.ECONNRESET)), true},
		{wrap(&net.DNSError{Err: "no such host", Name: "ch", IsNotFound: true}), true},
	} {
		if got := IsTransient(tc.err); got != tc.want {
			t.Errorf("IsTransient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestShippedQueries(t *testing.T) {
	q, err := ParseQueries(SummarySQL)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 5 {
		t.Fatalf("queries/summary.sql has %d named queries, want 5: %v", len(q), q)
	}
	for name, sql := range q {
		if !strings.Contains(sql, " FINAL") {
			t.Errorf("query %s reads without FINAL, so it would count every version:\n%s", name, sql)
		}
		if strings.Contains(sql, "--") || strings.Contains(sql, ";") {
			t.Errorf("query %s keeps comments or a terminator:\n%s", name, sql)
		}
	}
	s := &Store{db: "`other_db`"}
	if got := s.query(QueryCountOrders); got != "SELECT count() AS order_count\nFROM `other_db`.orders FINAL" {
		t.Errorf("count_orders against other_db = %q", got)
	}
	for _, bad := range []string{"-- name: a\nSELECT 1", "-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;", "-- name:\nSELECT 1;"} {
		if _, err := ParseQueries(bad); err == nil {
			t.Errorf("ParseQueries(%q) = nil error", bad)
		}
	}
}
