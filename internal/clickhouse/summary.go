package clickhouse

import (
	"context"
	_ "embed"
	"fmt"
	"regexp"
	"strings"

	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

// SummarySQL is the text of queries/summary.sql: the shipped queries, with
// comments, as users run them by hand against the default database.
//
//go:embed queries/summary.sql
var SummarySQL string

// Names of the queries in SummarySQL.
const (
	QueryOrdersSummary     = "orders_summary"
	QueryCommissionSummary = "commission_summary"
	QueryCountOrders       = "count_orders"
	QueryPlansSummary      = "plans_summary"
	QuerySnapshotsSummary  = "snapshots_summary"
)

// shippedQueries are SummarySQL's queries by name, comments removed.
var shippedQueries = mustParseQueries(SummarySQL)

var dbRefRE = regexp.MustCompile("\\b" + DefaultDatabase + `\.`)

// ParseQueries splits a SQL file into its named queries: each starts after a
// "-- name: <name>" line and ends at the next ";". Other comment lines are
// dropped.
func ParseQueries(sql string) (map[string]string, error) {
	out := map[string]string{}
	var name string
	var body strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		t := strings.TrimSpace(line)
		if n, ok := strings.CutPrefix(t, "-- name:"); ok {
			if name != "" {
				return nil, fmt.Errorf("query %q has no terminating ';'", name)
			}
			name = strings.TrimSpace(n)
			if _, dup := out[name]; dup || name == "" {
				return nil, fmt.Errorf("query name %q is empty or repeated", name)
			}
			body.Reset()
			continue
		}
		if name == "" || strings.HasPrefix(t, "--") || t == "" {
			continue
		}
		if strings.HasSuffix(t, ";") {
			body.WriteString(strings.TrimSuffix(line, ";"))
			out[name] = strings.TrimSpace(body.String())
			name = ""
			continue
		}
		body.WriteString(line)
		body.WriteString("\n")
	}
	if name != "" {
		return nil, fmt.Errorf("query %q has no terminating ';'", name)
	}
	return out, nil
}

func mustParseQueries(sql string) map[string]string {
	q, err := ParseQueries(sql)
	if err != nil {
		panic("clickhouse: queries/summary.sql: " + err.Error())
	}
	for _, n := range []string{QueryOrdersSummary, QueryCommissionSummary, QueryCountOrders, QueryPlansSummary, QuerySnapshotsSummary} {
		if q[n] == "" {
			panic("clickhouse: queries/summary.sql lacks query " + n)
		}
	}
	return q
}

// query returns the shipped query name against the store's database.
func (s *Store) query(name string) string {
	return dbRefRE.ReplaceAllString(shippedQueries[name], s.db+".")
}

// ForDatabase rewrites a shipped query (summary.sql, analytics.sql, a
// Grafana panel), which names the default database ("yongjin."), to read
// database instead.
func ForDatabase(sql, database string) string {
	return dbRefRE.ReplaceAllString(sql, quoteIdent(database)+".")
}

// Summary computes the commission summary from the latest version of every
// order, commission line, commission plan and creator snapshot (the shipped
// queries, read with FINAL), for one platform or, when platform is "", for
// all. Rows come back normalized; a kind with no rows is left nil, as
// summary.FromEvents leaves it.
func (s *Store) Summary(ctx context.Context, platform string) (summary.Summary, error) {
	var out summary.Summary
	filter := func(q string) (string, []any) {
		if platform == "" {
			return q, nil
		}
		return "SELECT * FROM (" + q + ") WHERE platform = ?", []any{platform}
	}

	q, args := filter(s.query(QueryOrdersSummary))
	rows, err := s.conn.Query(ctx, q, args...)
	if err != nil {
		return out, s.wrap("summary: orders", err)
	}
	for rows.Next() {
		var (
			r      summary.OrderRow
			status string
			n      uint64
		)
		if err := rows.Scan(&r.Platform, &status, &n, &r.PaidFen); err != nil {
			rows.Close()
			return out, s.wrap("summary: orders: scan", err)
		}
		r.Status, r.Orders = events.Status(status), int64(n)
		out.Orders = append(out.Orders, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, s.wrap("summary: orders", err)
	}

	q, args = filter(s.query(QueryCommissionSummary))
	rows, err = s.conn.Query(ctx, q, args...)
	if err != nil {
		return out, s.wrap("summary: commission lines", err)
	}
	for rows.Next() {
		var (
			r            summary.CommissionRow
			status, role string
			n            uint64
		)
		if err := rows.Scan(&r.Platform, &status, &role, &n, &r.EstimatedFen, &r.SettledFen); err != nil {
			rows.Close()
			return out, s.wrap("summary: commission lines: scan", err)
		}
		r.Status, r.Role, r.Lines = events.Status(status), events.Role(role), int64(n)
		out.Commissions = append(out.Commissions, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, s.wrap("summary: commission lines", err)
	}

	q, args = filter(s.query(QueryPlansSummary))
	rows, err = s.conn.Query(ctx, q, args...)
	if err != nil {
		return out, s.wrap("summary: commission plans", err)
	}
	for rows.Next() {
		var (
			r summary.PlanRow
			n uint64
		)
		if err := rows.Scan(&r.Platform, &r.VendorStatus, &n, &r.RateBPSum); err != nil {
			rows.Close()
			return out, s.wrap("summary: commission plans: scan", err)
		}
		r.Plans = int64(n)
		out.Plans = append(out.Plans, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, s.wrap("summary: commission plans", err)
	}

	q, args = filter(s.query(QuerySnapshotsSummary))
	rows, err = s.conn.Query(ctx, q, args...)
	if err != nil {
		return out, s.wrap("summary: creator snapshots", err)
	}
	for rows.Next() {
		var (
			r              summary.SnapshotRow
			n, nIndicators uint64
		)
		if err := rows.Scan(&r.Platform, &r.Period, &n, &nIndicators, &r.IndicatorMilliSum); err != nil {
			rows.Close()
			return out, s.wrap("summary: creator snapshots: scan", err)
		}
		r.Snapshots, r.Indicators = int64(n), int64(nIndicators)
		out.Snapshots = append(out.Snapshots, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, s.wrap("summary: creator snapshots", err)
	}
	out.Normalize()
	return out, nil
}

// CountOrders counts the distinct orders stored (latest versions only, so
// redelivered and re-polled orders count once).
func (s *Store) CountOrders(ctx context.Context) (int64, error) {
	var n uint64
	if err := s.conn.QueryRow(ctx, s.query(QueryCountOrders)).Scan(&n); err != nil {
		return 0, s.wrap("count orders", err)
	}
	return int64(n), nil
}
