package analytics

import (
	"context"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/testenv"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// testStore is a migrated store on a fresh database of the test server
// (written through *clickhouse.Store), read through its Reader.
type testStore struct {
	*Reader
	*clickhouse.Store
}

// openTestStore opens a migrated store on a fresh database of the test server.
func openTestStore(t testing.TB) *testStore {
	t.Helper()
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	user, pw := testenv.ClickHouseCredentials()
	s, err := clickhouse.Open(testCtx(t), clickhouse.Config{Addr: addr, Database: db, Username: user, Password: pw})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(testCtx(t)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return &testStore{Reader: New(s), Store: s}
}
