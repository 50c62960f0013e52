package chdbtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/clickhouse/analyticsfixture"
	"github.com/yongjin-dev/yongjin/internal/testenv"
)

const grafanaDashboardFile = "../../../deploy/grafana/dashboards/yongjin-commission.json"

// engine runs SQL on one ClickHouse release and returns the normalized answer.
type engine struct {
	name string
	db   string
	run  func(q string) (string, error)
}

func (e engine) query(q string) (result, error) {
	out, err := e.run(q)
	if err != nil {
		return result{}, err
	}
	r, err := parseTSV(out)
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", e.name, err)
	}
	return r, nil
}

// clientBin finds clickhouse-client (scripts/clickhouse.sh installs it with
// the server).
func clientBin(t testing.TB) []string {
	t.Helper()
	if p, err := exec.LookPath("clickhouse-client"); err == nil {
		return []string{p}
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return []string{p, "client"}
	}
	t.Fatal("clickhouse-client not found: run `make test` or `scripts/clickhouse.sh ensure` (it installs the OS packages)")
	return nil
}

// serverEngine is the 18.16 server of testenv, queried with clickhouse-client
// so both engines answer in the same text format.
func serverEngine(t testing.TB, addr, db string) engine {
	bin := clientBin(t)
	host, port, _ := strings.Cut(addr, ":")
	user, pass := testenv.ClickHouseCredentials()
	return engine{name: "server", db: db, run: func(q string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		args := append(bin[1:], "--host", host, "--port", port, "--user", user, "--format", "TabSeparatedWithNamesAndTypes", "--query", q)
		cmd := exec.CommandContext(ctx, bin[0], args...)
		if pass != "" {
			cmd.Env = append(os.Environ(), "CLICKHOUSE_PASSWORD="+pass)
			cmd.Args = append(cmd.Args, "--password", pass)
		}
		out, err := cmd.Output()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("clickhouse-client: %w: %s\n%s", err, ee.Stderr, q)
		}
		return string(out), err
	}}
}

func chEngine(db string) engine {
	return engine{name: "chDB", db: db, run: func(q string) (string, error) {
		return chQuery(q, "TabSeparatedWithNamesAndTypes")
	}}
}

// namedQuery is one shipped query, written for the default database.
type namedQuery struct {
	name string
	sql  string
	tr   clickhouse.TimeRange
	vars clickhouse.Vars
}

func (q namedQuery) expand(db string) (string, error) {
	vars := clickhouse.Vars{"database": {db}}
	for k, v := range q.vars {
		vars[k] = v
	}
	return clickhouse.ExpandGrafana(clickhouse.ForDatabase(q.sql, db), q.tr, vars)
}

// fixtureRange is the analytics tests' range, 2024-03-01..03 CST.
var fixtureRange = clickhouse.TimeRange{From: analyticsfixture.RangeFrom, To: analyticsfixture.RangeTo}

// shippedQueries lists every shipped query: analytics.sql and summary.sql
// by name, then the Grafana dashboard's variable queries and panels, with
// the dashboard's default selections (every platform, role creator,
// indicator order_cnt, period DAY_30, top 10) and the fixture's range.
func shippedQueries(t *testing.T, now time.Time) []namedQuery {
	t.Helper()
	vars := clickhouse.Vars{
		"platform": analyticsfixture.Platforms, "role": {"creator"}, "indicator": {"order_cnt"},
		"period": {"DAY_30"}, "top": {"10"},
	}
	var out []namedQuery
	analytics, err := clickhouse.ParseQueries(clickhouse.AnalyticsSQL)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range clickhouse.AnalyticsQueryNames {
		out = append(out, namedQuery{name: "analytics.sql " + n, sql: analytics[n], tr: fixtureRange, vars: vars})
	}
	summary, err := clickhouse.ParseQueries(clickhouse.SummarySQL)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range summary {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, namedQuery{name: "summary.sql " + n, sql: summary[n]})
	}

	raw, err := os.ReadFile(grafanaDashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels     []grafanaPanel `json:"panels"`
		Templating struct {
			List []struct {
				Type  string `json:"type"`
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", grafanaDashboardFile, err)
	}
	for _, v := range d.Templating.List {
		if sql, ok := v.Query.(string); ok && v.Type == "query" {
			out = append(out, namedQuery{name: "grafana variable " + v.Name, sql: sql, tr: fixtureRange, vars: vars})
		}
	}
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			walk(p.Panels)
			for _, tg := range p.Targets {
				if tg.RawSQL == "" {
					continue
				}
				tr := fixtureRange
				if p.TimeFrom != "" {
					// A panel-level relative range: now - TimeFrom .. now.
					n, err := strconv.Atoi(strings.TrimSuffix(p.TimeFrom, "d"))
					if err != nil || !strings.HasSuffix(p.TimeFrom, "d") {
						t.Fatalf("panel %q: timeFrom %q is not in days", p.Title, p.TimeFrom)
					}
					tr = clickhouse.TimeRange{From: now.AddDate(0, 0, -n), To: now}
				}
				out = append(out, namedQuery{name: "grafana panel " + p.Title, sql: tg.RawSQL, tr: tr, vars: vars})
			}
		}
	}
	walk(d.Panels)
	return out
}

type grafanaPanel struct {
	Title    string         `json:"title"`
	TimeFrom string         `json:"timeFrom"`
	Panels   []grafanaPanel `json:"panels"`
	Targets  []struct {
		RawSQL string `json:"rawSql"`
	} `json:"targets"`
}

// TestShippedQueriesMatchAcrossReleases loads the analytics fixture (its
// redeliveries, re-polls, out-of-order versions and refunds after
// settlement) into the 18.16 server through Store.Insert and into the
// current release (chDB) through the same rows as SQL, each with the schema
// its release gets, and requires every shipped query (analytics.sql,
// summary.sql, every Grafana variable and panel, macros expanded) to give
// the same rows on both: same columns, same types (LowCardinality and
// DateTime64 aside), same cells.
func TestShippedQueriesMatchAcrossReleases(t *testing.T) {
	start := time.Now()
	// One write time for both loads, so ingestion times compare too.
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { return now }

	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	user, pass := testenv.ClickHouseCredentials()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := clickhouse.Open(ctx, clickhouse.Config{Addr: addr, Database: db, Username: user, Password: pass, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	old, err := st.Target(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cdb := chDatabase(t)
	cur := chMigrate(t, cdb)
	if old.Current() || !cur.Current() {
		t.Fatalf("server %s and chDB %s: want the compatible schema on the first and the current one on the second", old.Version, cur.Version)
	}
	for i, b := range analyticsfixture.Batches() {
		if err := st.Insert(ctx, b); err != nil {
			t.Fatalf("server: insert batch %d: %v", i+1, err)
		}
		stmts, err := clickhouse.InsertStatements(cdb, b, now)
		if err != nil {
			t.Fatalf("batch %d: %v", i+1, err)
		}
		chExec(t, stmts...)
	}

	server, embedded := serverEngine(t, addr, db), chEngine(cdb)
	queries := shippedQueries(t, now)
	nonEmpty := 0
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			a, err := q.expand(server.db)
			if err != nil {
				t.Fatal(err)
			}
			b, err := q.expand(embedded.db)
			if err != nil {
				t.Fatal(err)
			}
			want, err := server.query(a)
			if err != nil {
				t.Fatalf("ClickHouse %s: %v", old.Version, err)
			}
			got, err := embedded.query(b)
			if err != nil {
				t.Fatalf("ClickHouse %s: %v", cur.Version, err)
			}
			if len(want.rows) > 0 {
				nonEmpty++
			}
			if !reflect.DeepEqual(got.names, want.names) {
				t.Errorf("columns: %s %v, %s %v", cur.Version, got.names, old.Version, want.names)
			}
			if !reflect.DeepEqual(got.types, want.types) {
				t.Errorf("types: %s %v, %s %v", cur.Version, got.types, old.Version, want.types)
			}
			if !reflect.DeepEqual(got.rows, want.rows) {
				t.Errorf("rows differ:\n %s: %q\n %s: %q", cur.Version, got.rows, old.Version, want.rows)
			}
		})
	}
	if nonEmpty < len(queries)-2 {
		t.Errorf("only %d of %d queries returned rows on %s: the comparison proves little", nonEmpty, len(queries), old.Version)
	}
	t.Logf("%d shipped queries gave equal results on ClickHouse %s and %s (%d with rows) in %s",
		len(queries), old.Version, cur.Version, nonEmpty, time.Since(start).Round(time.Millisecond))
}
