package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/analytics"
	"github.com/yongjin-dev/yongjin/internal/analytics/analyticsfixture"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// openStore opens a migrated store on a fresh database of the test server,
// inserts the batches and returns the database's analytics reader.
func openStore(t testing.TB, batches ...[]events.Envelope) *analytics.Reader {
	t.Helper()
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	user, pw := testenv.ClickHouseCredentials()
	s, err := clickhouse.Open(testCtx(t), clickhouse.Config{Addr: addr, Database: db, Username: user, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	for i, b := range batches {
		if err := s.Insert(testCtx(t), b); err != nil {
			t.Fatalf("insert batch %d: %v", i+1, err)
		}
	}
	return analytics.New(s)
}

// fixtureStore is the reader of a store holding the analytics fixture.
func fixtureStore(t testing.TB) *analytics.Reader {
	return openStore(t, analyticsfixture.Batches()...)
}

// fixedNow is the dashboards' clock in the tests.
var fixedNow = func() time.Time { return time.Date(2024, 3, 6, 12, 0, 0, 0, time.UTC) }

// get serves one request and returns the status, headers and body.
func get(t *testing.T, h http.Handler, method, target string) (int, http.Header, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, rec.Result().Header, string(body)
}
