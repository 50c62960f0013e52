package chdbtest

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chdb-io/chdb-go/chdb"

	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/testenv"
)

// session is the process's one chDB session (chdb-go allows one), its data
// in a temporary directory removed after the tests.
var (
	session   *chdb.Session
	sessionMu sync.Mutex // chDB runs one query at a time per session
	dbSeq     int
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "yongjin-chdb-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chdbtest:", err)
		os.Exit(1)
	}
	// chdb-go removes a session directory only when it made it itself.
	session, err = chdb.NewSession(dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "chdbtest: start chDB (CHDB_LIB_PATH=%s): %v\n", os.Getenv("CHDB_LIB_PATH"), err)
		os.Exit(1)
	}
	code := m.Run()
	session.Close()
	_ = os.RemoveAll(dir)
	testenv.StopServers()
	os.Exit(code)
}

// chQuery runs one statement on chDB and returns its output in format.
func chQuery(q, format string) (string, error) {
	sessionMu.Lock()
	defer sessionMu.Unlock()
	r, err := session.Query(q, format)
	if err != nil {
		return "", fmt.Errorf("chDB: %w\n%s", err, q)
	}
	if r == nil {
		return "", nil
	}
	defer r.Free()
	return r.String(), nil
}

// chExec runs statements on chDB, failing t on the first error.
func chExec(t testing.TB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := chQuery(q, "TabSeparated"); err != nil {
			t.Fatal(err)
		}
	}
}

// chVersion is the release of the chDB engine.
func chVersion(t testing.TB) clickhouse.ServerVersion {
	t.Helper()
	out, err := chQuery("SELECT version()", "TabSeparated")
	if err != nil {
		t.Fatal(err)
	}
	v, err := clickhouse.ParseServerVersion(strings.TrimSpace(out))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// chDatabase names a fresh database on chDB, dropped when t ends.
func chDatabase(t testing.TB) string {
	t.Helper()
	sessionMu.Lock()
	dbSeq++
	name := fmt.Sprintf("yjchdb_%d_%d", os.Getpid(), dbSeq)
	sessionMu.Unlock()
	t.Cleanup(func() {
		if _, err := chQuery("DROP DATABASE IF EXISTS "+name, "TabSeparated"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	return name
}

// chMigrate creates database db on chDB with every migration rendered for
// the engine's release, as Migrate does on a server of that release, and
// records them.
func chMigrate(t testing.TB, db string) clickhouse.Target {
	t.Helper()
	tg := clickhouse.Target{Version: chVersion(t), Database: db}
	for _, m := range append([]clickhouse.Migration{clickhouse.BootstrapMigration()}, clickhouse.Migrations...) {
		stmts, err := clickhouse.RenderMigration(m, tg)
		if err != nil {
			t.Fatal(err)
		}
		chExec(t, stmts...)
	}
	return tg
}
