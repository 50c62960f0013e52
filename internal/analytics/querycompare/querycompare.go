// Package querycompare runs yongjin's shipped queries on two ClickHouse
// servers (or engines) loaded with the same data and compares their answers
// row for row, for the tests that prove the queries mean the same on every
// release and layout: 18.16 against the current release (chDB), a single
// server against a sharded cluster. Answers are compared as text
// (TabSeparatedWithNamesAndTypes), normalized only where two releases spell
// one value differently (see Result).
package querycompare

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

	"github.com/yongjin-dev/yongjin/internal/analytics"
	"github.com/yongjin-dev/yongjin/internal/analytics/analyticsfixture"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
)

// Engine runs SQL on one server and answers in TabSeparatedWithNamesAndTypes.
type Engine struct {
	// Name says which server it is, in failures ("ClickHouse 18.16").
	Name string
	// DB is the database the fixture is loaded in.
	DB string
	// Run runs one query.
	Run func(q string) (string, error)
}

// Query runs q and parses the answer.
func (e Engine) Query(q string) (Result, error) {
	out, err := e.Run(q)
	if err != nil {
		return Result{}, err
	}
	r, err := ParseTSV(out)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", e.Name, err)
	}
	return r, nil
}

// Client is an Engine that runs clickhouse-client (installed with the
// server by scripts/clickhouse.sh) against the native-protocol address addr.
func Client(name, addr, db, user, password string) (Engine, error) {
	bin, err := clientBin()
	if err != nil {
		return Engine{}, err
	}
	host, port, _ := strings.Cut(addr, ":")
	return Engine{Name: name, DB: db, Run: func(q string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		args := append(bin[1:], "--host", host, "--port", port, "--user", user, "--format", "TabSeparatedWithNamesAndTypes", "--query", q)
		if password != "" {
			args = append(args, "--password", password)
		}
		out, err := exec.CommandContext(ctx, bin[0], args...).Output()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("clickhouse-client: %w: %s\n%s", err, ee.Stderr, q)
		}
		return string(out), err
	}}, nil
}

func clientBin() ([]string, error) {
	if p, err := exec.LookPath("clickhouse-client"); err == nil {
		return []string{p}, nil
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return []string{p, "client"}, nil
	}
	return nil, errors.New("clickhouse-client not found: run `make test` or `scripts/clickhouse.sh ensure` (it installs the OS packages)")
}

// Query is one shipped query, written for the default database, with the
// time range and template variables it is expanded with.
type Query struct {
	Name string
	SQL  string
	TR   analytics.TimeRange
	Vars analytics.Vars
}

// Expand is the query as it runs against database db.
func (q Query) Expand(db string) (string, error) {
	vars := analytics.Vars{"database": {db}}
	for k, v := range q.Vars {
		vars[k] = v
	}
	return analytics.ExpandGrafana(clickhouse.ForDatabase(q.SQL, db), q.TR, vars)
}

// FixtureRange is the analytics tests' range, 2024-03-01..03 CST.
var FixtureRange = analytics.TimeRange{From: analyticsfixture.RangeFrom, To: analyticsfixture.RangeTo}

// Shipped lists every shipped query: analytics.sql and summary.sql by name,
// then the Grafana dashboard's (the file dashboard) variable queries and
// panels, with the dashboard's default selections (every platform, role
// creator, indicator order_cnt, period DAY_30, top 10) and the fixture's
// range; a panel with a relative range of N days gets now-N days..now.
func Shipped(dashboard string, now time.Time) ([]Query, error) {
	vars := analytics.Vars{
		"platform": analyticsfixture.Platforms, "role": {"creator"}, "indicator": {"order_cnt"},
		"period": {"DAY_30"}, "top": {"10"},
	}
	var out []Query
	byName, err := clickhouse.ParseQueries(analytics.AnalyticsSQL)
	if err != nil {
		return nil, err
	}
	for _, n := range analytics.AnalyticsQueryNames {
		out = append(out, Query{Name: "analytics.sql " + n, SQL: byName[n], TR: FixtureRange, Vars: vars})
	}
	summary, err := clickhouse.ParseQueries(clickhouse.SummarySQL)
	if err != nil {
		return nil, err
	}
	var names []string
	for n := range summary {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		out = append(out, Query{Name: "summary.sql " + n, SQL: summary[n]})
	}

	raw, err := os.ReadFile(dashboard)
	if err != nil {
		return nil, err
	}
	var d struct {
		Panels     []panel `json:"panels"`
		Templating struct {
			List []struct {
				Type  string `json:"type"`
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", dashboard, err)
	}
	for _, v := range d.Templating.List {
		if sql, ok := v.Query.(string); ok && v.Type == "query" {
			out = append(out, Query{Name: "grafana variable " + v.Name, SQL: sql, TR: FixtureRange, Vars: vars})
		}
	}
	var walk func([]panel) error
	walk = func(ps []panel) error {
		for _, p := range ps {
			if err := walk(p.Panels); err != nil {
				return err
			}
			for _, tg := range p.Targets {
				if tg.RawSQL == "" {
					continue
				}
				tr := FixtureRange
				if p.TimeFrom != "" {
					n, err := strconv.Atoi(strings.TrimSuffix(p.TimeFrom, "d"))
					if err != nil || !strings.HasSuffix(p.TimeFrom, "d") {
						return fmt.Errorf("panel %q: timeFrom %q is not in days", p.Title, p.TimeFrom)
					}
					tr = analytics.TimeRange{From: now.AddDate(0, 0, -n), To: now}
				}
				out = append(out, Query{Name: "grafana panel " + p.Title, SQL: tg.RawSQL, TR: tr, Vars: vars})
			}
		}
		return nil
	}
	if err := walk(d.Panels); err != nil {
		return nil, err
	}
	return out, nil
}

type panel struct {
	Title    string  `json:"title"`
	TimeFrom string  `json:"timeFrom"`
	Panels   []panel `json:"panels"`
	Targets  []struct {
		RawSQL string `json:"rawSql"`
	} `json:"targets"`
}

// Compare runs every query on want and got, each as a subtest of t, and
// fails the subtest whose columns, types or rows differ. It returns how many
// queries want answered with rows.
func Compare(t *testing.T, want, got Engine, queries []Query) (nonEmpty int) {
	t.Helper()
	for _, q := range queries {
		t.Run(q.Name, func(t *testing.T) {
			a, err := q.Expand(want.DB)
			if err != nil {
				t.Fatal(err)
			}
			b, err := q.Expand(got.DB)
			if err != nil {
				t.Fatal(err)
			}
			w, err := want.Query(a)
			if err != nil {
				t.Fatalf("%s: %v", want.Name, err)
			}
			g, err := got.Query(b)
			if err != nil {
				t.Fatalf("%s: %v", got.Name, err)
			}
			if len(w.Rows) > 0 {
				nonEmpty++
			}
			if !reflect.DeepEqual(g.Names, w.Names) {
				t.Errorf("columns: %s %v, %s %v", got.Name, g.Names, want.Name, w.Names)
			}
			if !reflect.DeepEqual(g.Types, w.Types) {
				t.Errorf("types: %s %v, %s %v", got.Name, g.Types, want.Name, w.Types)
			}
			if !reflect.DeepEqual(g.Rows, w.Rows) {
				t.Errorf("rows differ:\n %s: %q\n %s: %q", got.Name, g.Rows, want.Name, w.Rows)
			}
		})
	}
	return nonEmpty
}
