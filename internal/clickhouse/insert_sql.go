package clickhouse

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// InsertStatements returns the envelopes' records as plain SQL, one
// "INSERT INTO db.table (columns) VALUES ..." statement per table that
// receives any, in Insert's order and with the same rows Insert writes
// (ingested_at = now): for what cannot speak the native protocol, such as
// clickhouse-client scripts or the embedded chDB engine the tests run the
// current release on. Bad events fail as in Insert, with a *BadEventError.
func InsertStatements(database string, envs []events.Envelope, now time.Time) ([]string, error) {
	b, err := decodeBatch(envs)
	if err != nil {
		return nil, err
	}
	if database == "" {
		database = DefaultDatabase
	}
	if !identRE.MatchString(database) {
		return nil, fmt.Errorf("insert statements: database %q is not a plain identifier", database)
	}
	now = now.UTC().Truncate(time.Millisecond)
	var out []string
	add := func(table string, cols []string, rows [][]any) error {
		if len(rows) == 0 {
			return nil
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "INSERT INTO %s.%s (%s) VALUES", quoteIdent(database), table, strings.Join(cols, ", "))
		for i, r := range rows {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("\n(")
			for j, v := range r {
				if j > 0 {
					sb.WriteString(", ")
				}
				lit, err := literal(v)
				if err != nil {
					return fmt.Errorf("insert statements: %s.%s: %w", table, cols[j], err)
				}
				sb.WriteString(lit)
			}
			sb.WriteByte(')')
		}
		out = append(out, sb.String())
		return nil
	}
	var rows [][]any
	for _, r := range b.orders {
		rows = append(rows, r.row(now))
	}
	if err := add("orders", orderColumnNames, rows); err != nil {
		return nil, err
	}
	rows = nil
	for _, r := range b.lines {
		rows = append(rows, r.row(now))
	}
	if err := add("commission_lines", lineColumnNames, rows); err != nil {
		return nil, err
	}
	rows = nil
	for _, r := range b.plans {
		rows = append(rows, r.row(now))
	}
	if err := add("commission_plans", planColumns, rows); err != nil {
		return nil, err
	}
	rows = nil
	for _, r := range b.snaps {
		rows = append(rows, r.row(now))
	}
	if err := add("creator_snapshots", snapshotColumns, rows); err != nil {
		return nil, err
	}
	return out, nil
}

// literal renders one of the values Insert appends as a ClickHouse literal.
// Times are UTC with milliseconds; the column's type converts them.
func literal(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return quoteString(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case uint64:
		return strconv.FormatUint(x, 10), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case time.Time:
		return quoteString(x.UTC().Format("2006-01-02 15:04:05.000")), nil
	case *time.Time:
		if x == nil {
			return "NULL", nil
		}
		return literal(*x)
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = quoteString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	case []float64:
		parts := make([]string, len(x))
		for i, f := range x {
			parts[i], _ = literal(f)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	}
	return "", fmt.Errorf("no literal for %T", v)
}
