package querycompare

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Result is a query's answer in TabSeparatedWithNamesAndTypes, normalized
// so that two releases' spellings of one value compare equal.
type Result struct {
	// Names are the column names.
	Names []string
	// Types are the column types, without the differences between the
	// schema paths (see canonType).
	Types []string
	// Rows are the cells, unescaped and normalized (see canonValue).
	Rows [][]string
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

// ParseTSV parses TabSeparatedWithNamesAndTypes output.
func ParseTSV(out string) (Result, error) {
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 2 {
		return Result{}, fmt.Errorf("no header in %q", out)
	}
	r := Result{Names: SplitTSV(lines[0]), Types: SplitTSV(lines[1])}
	raw := append([]string(nil), r.Types...)
	for i := range r.Types {
		r.Types[i] = canonType(r.Types[i])
	}
	for _, l := range lines[2:] {
		cells := SplitTSV(l)
		if len(cells) != len(raw) {
			return Result{}, fmt.Errorf("row %q has %d cells, header %d", l, len(cells), len(raw))
		}
		for i := range cells {
			c, err := canonValue(raw[i], cells[i])
			if err != nil {
				return Result{}, fmt.Errorf("column %s: %w", r.Names[i], err)
			}
			cells[i] = c
		}
		r.Rows = append(r.Rows, cells)
	}
	return r, nil
}

// SplitTSV splits one TSV line and unescapes its fields (\N stays).
func SplitTSV(line string) []string {
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
