package clickhouse

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestMigratorGrantsCoverMigrations: the rights deploy/clickhouse/sink-user.sql
// grants yongjin_migrator cover every statement the migrations run on a
// current single server; a missing one makes `sink migrate` as that user stop
// at the first statement that needs it.
func TestMigratorGrantsCoverMigrations(t *testing.T) {
	sql, err := os.ReadFile("../../deploy/clickhouse/sink-user.sql")
	if err != nil {
		t.Fatal(err)
	}
	granted := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^GRANT (.+) ON yongjin\.\* TO yongjin_migrator;`).FindAllStringSubmatch(string(sql), -1) {
		for _, r := range strings.Split(m[1], ", ") {
			granted[r] = true
		}
	}
	v, err := ParseServerVersion("26.7")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range append([]Migration{BootstrapMigration()}, Migrations...) {
		stmts, err := RenderMigration(m, Target{Version: v})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stmts {
			var need []string
			switch s = strings.TrimSpace(s); {
			case strings.HasPrefix(s, "CREATE DATABASE"):
				need = []string{"CREATE DATABASE"}
			case strings.HasPrefix(s, "CREATE TABLE"):
				need = []string{"CREATE TABLE"}
			case strings.HasPrefix(s, "CREATE MATERIALIZED VIEW"):
				need = []string{"CREATE VIEW", "SELECT", "INSERT"}
			case strings.HasPrefix(s, "INSERT INTO"):
				need = []string{"INSERT", "SELECT"}
			case strings.HasPrefix(s, "ALTER TABLE") && strings.Contains(s, " ADD COLUMN "):
				need = []string{"ALTER ADD COLUMN"}
			default:
				t.Errorf("migration %d: which right does this need? %.80q", m.Version, s)
			}
			for _, r := range need {
				if !granted[r] {
					t.Errorf("migration %d needs %s, which sink-user.sql does not grant yongjin_migrator: %.80q", m.Version, r, s)
				}
			}
		}
	}
}
