package analytics

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeRange is a dashboard time range: both ends are included and count in
// whole seconds, as in Grafana.
type TimeRange struct {
	From, To time.Time
}

// Vars are the values of template variables by name: one value for a
// single-value variable, the selected values for a multi-value one.
type Vars map[string][]string

// ExpandGrafana expands the macros of the Grafana ClickHouse data source
// plugin (grafana-clickhouse-datasource) and Grafana's template variables in
// sql, as a dashboard with time range tr and variables vars does before it
// sends a panel's query:
//
//	$__timeFilter(col)   col >= toDateTime(<from>) AND col <= toDateTime(<to>)
//	$__dateFilter(col)   col >= toDate('<from day>') AND col <= toDate('<to day>') (UTC days)
//	$__fromTime          toDateTime(<from>), also written $__fromTime()
//	$__toTime            toDateTime(<to>), also written $__toTime()
//	${name:singlequote}  'v1','v2'
//	${name:sqlstring}    'v1','v2' (quotes doubled instead of escaped)
//	${name:csv}          v1,v2
//	${name}, $name       the value, verbatim (single-value variables only)
//
// <from> and <to> are Unix seconds. Quoted values escape backslashes and
// single quotes, so any value is safe inside ClickHouse SQL. An unknown
// macro, an unknown variable, an unknown format or a multi-valued variable
// without a format is an error, so a query never reaches the server with a
// Grafana reference left in it.
func ExpandGrafana(sql string, tr TimeRange, vars Vars) (string, error) {
	var b strings.Builder
	for i := 0; i < len(sql); {
		c := sql[i]
		if c != '$' || i+1 == len(sql) {
			b.WriteByte(c)
			i++
			continue
		}
		switch {
		case strings.HasPrefix(sql[i:], "$__"):
			j := i + 3
			for j < len(sql) && isIdentChar(sql[j]) {
				j++
			}
			name := sql[i+3 : j]
			var args []string
			if j < len(sql) && sql[j] == '(' {
				end, err := closingParen(sql, j)
				if err != nil {
					return "", fmt.Errorf("macro $__%s: %w", name, err)
				}
				if inner := strings.TrimSpace(sql[j+1 : end]); inner != "" {
					for _, a := range strings.Split(inner, ",") {
						args = append(args, strings.TrimSpace(a))
					}
				}
				j = end + 1
			}
			out, err := expandMacro(name, args, tr)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
			i = j
		case sql[i+1] == '{':
			end := strings.IndexByte(sql[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated variable reference at %q", clip(sql[i:]))
			}
			name, format, _ := strings.Cut(sql[i+2:i+end], ":")
			out, err := expandVar(name, format, vars)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
			i += end + 1
		case isIdentChar(sql[i+1]):
			j := i + 1
			for j < len(sql) && isIdentChar(sql[j]) {
				j++
			}
			out, err := expandVar(sql[i+1:j], "", vars)
			if err != nil {
				return "", err
			}
			b.WriteString(out)
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

func expandMacro(name string, args []string, tr TimeRange) (string, error) {
	dt := func(t time.Time) string { return "toDateTime(" + strconv.FormatInt(t.Unix(), 10) + ")" }
	day := func(t time.Time) string { return "toDate('" + t.UTC().Format(time.DateOnly) + "')" }
	want := func(n int) error {
		if len(args) != n {
			return fmt.Errorf("macro $__%s takes %d argument(s), got %d", name, n, len(args))
		}
		return nil
	}
	switch name {
	case "timeFilter":
		if err := want(1); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s >= %s AND %s <= %s", args[0], dt(tr.From), args[0], dt(tr.To)), nil
	case "dateFilter":
		if err := want(1); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s >= %s AND %s <= %s", args[0], day(tr.From), args[0], day(tr.To)), nil
	case "fromTime":
		if err := want(0); err != nil {
			return "", err
		}
		return dt(tr.From), nil
	case "toTime":
		if err := want(0); err != nil {
			return "", err
		}
		return dt(tr.To), nil
	}
	return "", fmt.Errorf("unsupported macro $__%s", name)
}

func expandVar(name, format string, vars Vars) (string, error) {
	vals, ok := vars[name]
	if !ok {
		return "", fmt.Errorf("unknown template variable %q", name)
	}
	quote := func(esc *strings.Replacer) string {
		q := make([]string, len(vals))
		for i, v := range vals {
			q[i] = "'" + esc.Replace(v) + "'"
		}
		return strings.Join(q, ",")
	}
	switch format {
	case "":
		if len(vals) != 1 {
			return "", fmt.Errorf("template variable %q has %d values; give it a format (${%s:singlequote})", name, len(vals), name)
		}
		return vals[0], nil
	case "singlequote":
		return quote(strings.NewReplacer(`\`, `\\`, `'`, `\'`)), nil
	case "sqlstring":
		return quote(strings.NewReplacer(`\`, `\\`, `'`, `''`)), nil
	case "csv", "raw":
		return strings.Join(vals, ","), nil
	}
	return "", fmt.Errorf("unsupported format %q of template variable %q", format, name)
}

// closingParen returns the index of the parenthesis closing the one at open.
func closingParen(s string, open int) (int, error) {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, fmt.Errorf("unbalanced parentheses in %q", clip(s[open:]))
}

func isIdentChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
