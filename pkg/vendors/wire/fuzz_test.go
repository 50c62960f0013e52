package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzScalars decodes any JSON value with every tolerant type and checks
// their contracts: nothing panics, Lax accepts whatever Strict accepts and
// agrees with it, integers are exact, text round-trips, IDs keep their
// digits, and a failed decode leaves the destination alone.
func FuzzScalars(f *testing.F) {
	for _, s := range []string{
		``, `null`, `""`, `"  "`, `[]`, `{}`, `[ ]`, `{"a":1}`, `[1]`, `true`, `false`,
		`0`, `-0`, `12`, `-5`, `12.0`, `12.5`, `1e3`, `1E-3`, `"12"`, `" 12 "`, `"12."`, `"12.00"`, `"0.07"`,
		`9223372036854775807`, `-9223372036854775808`, `9223372036854775808`, `"9223372036854775808"`,
		`5049400731628723479`, `18446744073709551615`, `7.089334664648722e18`, `"7089334664648722476"`,
		`"梦想"`, `"\u0000"`, `"\ud800"`, "\"\xff\"", `"a\"b"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// the types see what encoding/json hands an Unmarshaler: one valid value
		if !json.Valid(b) {
			// the functions themselves must still not panic
			_, _ = Strict.DecodeInt(b)
			_, _ = Lax.DecodeInt(b)
			_, _ = Strict.DecodeString(b)
			_, _ = Lax.DecodeString(b)
			_, _ = DecodeID(b)
			_, _ = IntText(b)
			_ = KindOf(b)
			_, _ = IsNull(b), IsEmpty(b)
			return
		}
		v := bytes.TrimSpace(b)

		si, serr := Strict.DecodeInt(b)
		li, lerr := Lax.DecodeInt(b)
		if serr == nil && (lerr != nil || li != si) {
			t.Fatalf("Strict int %d but Lax %d, %v", si, li, lerr)
		}
		if lerr == nil {
			// exact: the value re-encodes and decodes to itself
			var back LaxInt
			enc, _ := json.Marshal(LaxInt(li))
			if err := json.Unmarshal(enc, &back); err != nil || int64(back) != li {
				t.Fatalf("LaxInt %d re-decodes to %d, %v", li, back, err)
			}
			// a bare integer literal that int64 holds decodes to exactly that
			if n, err := strconv.ParseInt(string(v), 10, 64); err == nil && li != n {
				t.Fatalf("integer %s decoded to %d", v, li)
			}
		}
		var keep Int = 42
		if err := keep.UnmarshalJSON(b); (err != nil) != (serr != nil) || (err != nil && keep != 42) || (err == nil && int64(keep) != si) {
			t.Fatalf("Int.UnmarshalJSON(%s) = %d, %v; DecodeInt %d, %v", b, keep, err, si, serr)
		}

		ss, serr := Strict.DecodeString(b)
		ls, lerr := Lax.DecodeString(b)
		if serr == nil && (lerr != nil || ls != ss) {
			t.Fatalf("Strict string %q but Lax %q, %v", ss, ls, lerr)
		}
		if serr == nil && len(v) > 0 && v[0] == '"' {
			var want string
			_ = json.Unmarshal(v, &want)
			if ss != want {
				t.Fatalf("string %s decoded to %q, want %q", v, ss, want)
			}
		}
		if serr == nil && len(v) > 0 && v[0] != '"' && !IsNull(v) && ss != string(v) {
			t.Fatalf("number %s decoded to %q, want its literal text", v, ss)
		}

		id, err := DecodeID(b)
		if err == nil {
			if id != strings.TrimSpace(id) {
				t.Fatalf("ID %q is not trimmed", id)
			}
			if len(v) > 0 && v[0] != '"' && id != "" && strings.ContainsAny(id, ".eE") {
				t.Fatalf("ID %q from a number kept a fraction or an exponent", id)
			}
		}
	})
}

// FuzzParseInt checks ParseInt against strconv: what it accepts is the
// integer of the text without its zero fraction, and Lax only adds a bare
// trailing point.
func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"0", "-1", "+1", "12.", "12.0", "12.5", "1e3", "", ".", "-.0", "9223372036854775808", "00012.000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sn, serr := Strict.ParseInt(s)
		ln, lerr := Lax.ParseInt(s)
		if serr == nil && (lerr != nil || ln != sn) {
			t.Fatalf("Strict %d but Lax %d, %v", sn, ln, lerr)
		}
		if lerr != nil {
			if !strings.Contains(lerr.Error(), "not an integer") && !strings.Contains(lerr.Error(), "out of int64 range") {
				t.Fatalf("error %v", lerr)
			}
			return
		}
		intPart, frac, _ := strings.Cut(s, ".")
		if strings.Trim(frac, "0") != "" {
			t.Fatalf("%q accepted with a non-zero fraction", s)
		}
		if n, err := strconv.ParseInt(intPart, 10, 64); err != nil || n != ln {
			t.Fatalf("Lax.ParseInt(%q) = %d; strconv says %d, %v", s, ln, n, err)
		}
		if serr != nil && !strings.HasSuffix(s, ".") {
			t.Fatalf("only Lax accepts %q: %v", s, serr)
		}
	})
}

// FuzzParseTime checks that whatever ParseTime accepts is a UTC time from
// 1970 on that reads back to itself from its CST wall clock, and that it
// never panics.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"", ZeroTime, "2023-03-25 21:54:37", " 2023-03-25 21:54:37.5 ", "1969-12-31 23:59:59", "9999-12-31 23:59:59", "2023-02-30 00:00:00", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseTime(s)
		if err != nil || tm == nil {
			if err == nil && strings.TrimSpace(s) != "" && strings.TrimSpace(s) != ZeroTime {
				t.Fatalf("ParseTime(%q) = nil without an error", s)
			}
			return
		}
		if tm.Location() != time.UTC || tm.Before(time.Unix(0, 0)) {
			t.Fatalf("ParseTime(%q) = %v", s, tm)
		}
		wall := tm.In(CST).Format(TimeLayout + ".999999999")
		if back, err := ParseTime(wall); err != nil || !back.Equal(*tm) {
			t.Fatalf("ParseTime(%q) = %v; its CST wall clock %q reads back as %v, %v", s, tm, wall, back, err)
		}
	})
}

// FuzzPlainString checks DecodeString's fast path: whenever plainString
// accepts a JSON string literal, json.Unmarshal accepts it too and gives the
// same value.
func FuzzPlainString(f *testing.F) {
	for _, s := range []string{`"abc"`, `""`, `"a\"b"`, `"\u00e9"`, "\"\xff\"", `"猫山王"`, "\"tab\there\"", `"a`, `x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := plainString(b)
		if !ok {
			return
		}
		var want string
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("plainString accepts %q, json.Unmarshal fails: %v", b, err)
		}
		if got != want {
			t.Fatalf("plainString(%q) = %q, json.Unmarshal %q", b, got, want)
		}
	})
}
