package xingtu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// MaxSignificantDigits is the most significant digits a numeric leaf may have
// to become an indicator: float64 reproduces every decimal of up to 15
// significant digits exactly (DBL_DIG), so such a value survives the trip to
// Indicator.Value and back; a longer one (typically an ID: 19-digit Douyin IDs
// exceed 2^53) would silently change, and is left to Data instead.
const MaxSignificantDigits = 15

// ExtractIndicators returns every numeric leaf of the JSON value data as an
// indicator, sorted by name (plain byte order, so "a[10]" sorts before
// "a[2]"). data must be valid JSON.
//
// Names are paths: object members join with "." ("price.avg"), array
// elements append "[i]" ("industry_list[0].order_cnt"); a root array's
// elements are "[0]", "[1]", …. Keys are used verbatim (a key containing "."
// or "[" makes the path ambiguous; the vendor's keys are plain identifiers).
//
// A leaf is numeric when it is a JSON number or a string whose trimmed text
// is a JSON number ("12.5", "-3", "1e3"; not "12.5%", "007", "0x10", "NaN",
// "" or "1,000"). Booleans, null and other strings are not indicators.
// Numbers are read as json.Number and converted to float64 only for Value.
//
// A numeric leaf is skipped when:
//   - its key names an identifier (see isIDKey: "id", "*_id", "*Id", "*ID",
//     plurals "*_ids"/"*Ids" for arrays of IDs), because an ID is not a
//     measure and a 19-digit one would be lossy;
//   - it has more than MaxSignificantDigits significant digits (leading and
//     trailing zeros of the digit string do not count), because float64
//     cannot carry it exactly;
//   - its value is not finite in float64 ("1e400") or lies beyond
//     ±MaxSafeInteger (no event carries a number a JSON parser may round);
//   - its name would be empty (a root member with the key "").
//
// When an object repeats a key, the last value wins, as in encoding/json.
func ExtractIndicators(data []byte) ([]events.Indicator, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	x := &extractor{dec: dec, index: map[string]int{}}
	if err := x.walk("", ""); err != nil {
		return nil, fmt.Errorf("indicators: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("indicators: trailing data after the JSON value")
	}
	sort.Slice(x.out, func(i, j int) bool { return x.out[i].Name < x.out[j].Name })
	if x.out == nil {
		x.out = []events.Indicator{}
	}
	return x.out, nil
}

type extractor struct {
	dec   *json.Decoder
	out   []events.Indicator
	index map[string]int // name → position in out (duplicate keys: last wins)
}

// walk consumes one JSON value at path; key is the nearest object key (an
// array's elements inherit the array's key).
func (x *extractor) walk(path, key string) error {
	tok, err := x.dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			for x.dec.More() {
				kt, err := x.dec.Token()
				if err != nil {
					return err
				}
				k, ok := kt.(string)
				if !ok {
					return fmt.Errorf("object key is %T", kt)
				}
				p := k
				if path != "" {
					p = path + "." + k
				}
				if err := x.walk(p, k); err != nil {
					return err
				}
			}
		case '[':
			for i := 0; x.dec.More(); i++ {
				if err := x.walk(path+"["+strconv.Itoa(i)+"]", key); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("unexpected %v", v)
		}
		_, err := x.dec.Token() // the closing delimiter
		return err
	case json.Number:
		x.add(path, key, string(v))
	case string:
		if t := strings.TrimSpace(v); isJSONNumber(t) {
			x.add(path, key, t)
		}
	}
	return nil // bool, nil
}

// add records the numeric literal lit at path unless a skip rule applies.
func (x *extractor) add(path, key, lit string) {
	if path == "" || isIDKey(key) || significantDigits(lit) > MaxSignificantDigits {
		return
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > MaxSafeInteger {
		return
	}
	if i, ok := x.index[path]; ok {
		x.out[i].Value = f
		return
	}
	x.index[path] = len(x.out)
	x.out = append(x.out, events.Indicator{Name: path, Value: f})
}

// isIDKey reports whether an object key names an identifier: "id"/"ids" in
// any case, a snake/kebab suffix "_id", "_ids", "-id", "-ids" in any case, or
// a camelCase suffix "Id", "Ids", "ID", "IDs" after a lower-case letter or
// digit ("authorId", "starID", "itemIds"). Words that merely end in "id"
// ("paid", "valid", "bid", "PAID") are not IDs.
func isIDKey(k string) bool {
	l := strings.ToLower(k)
	if l == "id" || l == "ids" {
		return true
	}
	for _, s := range []string{"_id", "_ids", "-id", "-ids"} {
		if strings.HasSuffix(l, s) {
			return true
		}
	}
	for _, s := range []string{"Id", "Ids", "ID", "IDs"} {
		if len(k) > len(s) && strings.HasSuffix(k, s) {
			c := k[len(k)-len(s)-1]
			if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
				return true
			}
		}
	}
	return false
}

// significantDigits counts the significant digits of a JSON number literal:
// the digits of its mantissa from the first to the last non-zero one (0 for
// zero).
func significantDigits(lit string) int {
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		lit = lit[:i]
	}
	lit = strings.TrimLeft(lit, "+-")
	lit = strings.Replace(lit, ".", "", 1)
	lit = strings.Trim(lit, "0")
	return len(lit)
}

// isJSONNumber reports whether s is exactly a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isJSONNumber(s string) bool {
	i, n := 0, len(s)
	digits := func() int {
		start := i
		for i < n && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}
	if i < n && s[i] == '-' {
		i++
	}
	switch {
	case i < n && s[i] == '0':
		i++
	case i < n && s[i] >= '1' && s[i] <= '9':
		digits()
	default:
		return false
	}
	if i < n && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < n && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == n
}
