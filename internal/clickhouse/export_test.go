package clickhouse

import (
	"context"
	"testing"
)

// Hooks for the external tests (package clickhouse_test), which can import
// internal/analytics (an import of this package).
var (
	OpenStore       = openStore
	TestCtx         = testCtx
	RequireMigrated = requireMigrated
)

// MigrateFirst applies only the first n migrations, as an older sink did.
func (s *Store) MigrateFirst(ctx context.Context, n int) error {
	return s.migrate(ctx, Migrations[:n])
}

// Rerun runs m's statements again without recording it, as a sink that
// died before recording m does on its next start.
func (s *Store) Rerun(t testing.TB, m Migration) {
	t.Helper()
	for _, q := range rendered(t, s, m) {
		if err := s.execDDL(testCtx(t), q); err != nil {
			t.Fatal(err)
		}
	}
}

// CountFinal counts table's rows read with FINAL.
func (s *Store) CountFinal(ctx context.Context, table string) (uint64, error) {
	var n uint64
	err := s.conn.QueryRow(ctx, "SELECT count() FROM "+s.db+"."+table+" FINAL").Scan(&n)
	return n, err
}
