package chdbtest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// result is a query's answer in TabSeparatedWithNamesAndTypes, normalized
// so that the two releases' spellings of one value compare equal.
type result struct {
	names, types []string
	rows         [][]string
}

var (
	lowCardTypeRE = regexp.MustCompile(`LowCardinality\(([^()]*)\)`)
	dt64TypeRE    = regexp.MustCompile(`DateTime64\(3(?:, ('[^']*'))?\)`)
	decimalTypeRE = regexp.MustCompile(`^(?:Nullable\()?Decimal\((\d+), (\d+)\)\)?$`)
)

// canonType is a column type with the differences between the schema paths
// taken out: LowCardinality(T) is T; DateTime64(3, tz) is DateTime(tz) (its
// values must then have no milliseconds, see canonValue).
func canonType(t string) string {
	for {
		u := lowCardTypeRE.ReplaceAllString(t, "$1")
		u = dt64TypeRE.ReplaceAllStringFunc(u, func(s string) string {
			if tz := dt64TypeRE.FindStringSubmatch(s)[1]; tz != "" {
				return "DateTime(" + tz + ")"
			}
			return "DateTime"
		})
		if u == t {
			return t
		}
		t = u
	}
}

// canonValue spells a cell of a column of type typ (as the server named
// it) one way: decimals with all their scale's places (18.16 prints
// trailing zeros, current releases do not), floats shortest, DateTime64
// values with zero milliseconds as DateTime.
func canonValue(typ, v string) (string, error) {
	if v == `\N` {
		return v, nil
	}
	switch base := strings.TrimSuffix(strings.TrimPrefix(typ, "Nullable("), ")"); {
	case decimalTypeRE.MatchString(typ):
		scale, _ := strconv.Atoi(decimalTypeRE.FindStringSubmatch(typ)[2])
		d, err := decimal.NewFromString(v)
		if err != nil {
			return "", fmt.Errorf("decimal %q: %w", v, err)
		}
		return d.StringFixed(int32(scale)), nil
	case base == "Float64" || base == "Float32":
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return v, nil // nan, inf: compared as spelled
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	case strings.HasPrefix(base, "DateTime64(3"):
		return strings.TrimSuffix(v, ".000"), nil
	}
	return v, nil
}

// parseTSV parses TabSeparatedWithNamesAndTypes output.
func parseTSV(out string) (result, error) {
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 2 {
		return result{}, fmt.Errorf("no header in %q", out)
	}
	r := result{names: splitTSV(lines[0]), types: splitTSV(lines[1])}
	raw := append([]string(nil), r.types...)
	for i := range r.types {
		r.types[i] = canonType(r.types[i])
	}
	for _, l := range lines[2:] {
		cells := splitTSV(l)
		if len(cells) != len(raw) {
			return result{}, fmt.Errorf("row %q has %d cells, header %d", l, len(cells), len(raw))
		}
		for i := range cells {
			c, err := canonValue(raw[i], cells[i])
			if err != nil {
				return result{}, fmt.Errorf("column %s: %w", r.names[i], err)
			}
			cells[i] = c
		}
		r.rows = append(r.rows, cells)
	}
	return r, nil
}

// splitTSV splits one TSV line and unescapes its fields (\N stays).
func splitTSV(line string) []string {
	fields := strings.Split(line, "\t")
	for i, f := range fields {
		if f == `\N` {
			continue
		}
		fields[i] = tsvUnescape.Replace(f)
	}
	return fields
}

var tsvUnescape = strings.NewReplacer(`\\`, `\`, `\t`, "\t", `\n`, "\n", `\'`, "'", `\b`, "\b", `\f`, "\f", `\r`, "\r", `\0`, "\x00")
