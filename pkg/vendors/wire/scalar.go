package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Dialect selects how much type drift the scalar decoders forgive.
type Dialect uint8

const (
	// Strict accepts null, a JSON string and a JSON number (for integers a
	// string holding one); booleans, arrays and objects are decode errors,
	// and an integer text with a fraction needs at least one digit after the
	// point ("12.0", not "12.").
	Strict Dialect = iota
	// Lax is Strict plus what PHP-backed APIs (veapi, TOP) send: an empty
	// array or object ([] / {}, how PHP encodes an empty value) decodes to
	// the zero value, a boolean decodes to a string as its literal text
	// ("true"/"false"), and an integer text may end in a bare point ("12.").
	Lax
)

// ParseInt parses the decimal integer text s exactly (never via float64): an
// optional sign, digits, and optionally a fraction of zeros only ("12.00" is
// 12; under Lax also a bare point, "12."). s must not carry surrounding
// spaces. A non-zero fraction, an exponent or other text returns an error
// "not an integer: …"; a value outside int64 returns "integer out of int64
// range: …" (both quote s, clipped to 40 bytes).
func (d Dialect) ParseInt(s string) (int64, error) {
	t := s
	if i := strings.IndexByte(t, '.'); i >= 0 {
		frac := t[i+1:]
		if (frac == "" && d != Lax) || strings.Trim(frac, "0") != "" {
			return 0, fmt.Errorf("not an integer: %q", Clip(s, 40))
		}
		t = t[:i]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, fmt.Errorf("integer out of int64 range: %q", Clip(s, 40))
		}
		return 0, fmt.Errorf("not an integer: %q", Clip(s, 40))
	}
	return n, nil
}

// IntText returns the text of an integer sent as the JSON value b: a
// string's value trimmed (possibly ""), or a number's literal text. Other
// kinds, null included, return "want an integer, got <kind>". The text is not
// checked; see ParseInt.
func IntText(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	case len(b) > 0 && isNumberStart(b[0]):
		return string(b), nil
	}
	return "", fmt.Errorf("want an integer, got %s", KindOf(b))
}

// DecodeInt decodes a tolerant integer from the JSON value b: null (and,
// under Lax, [] or {}) is 0; a string is trimmed, blank is 0 and anything
// else must be integer text (see ParseInt); a number is parsed from its
// literal text. Other kinds return "want an integer, got <kind>".
func (d Dialect) DecodeInt(b []byte) (int64, error) {
	if IsNull(b) || (d == Lax && IsEmpty(b)) {
		return 0, nil
	}
	text, err := IntText(b)
	if err != nil || text == "" {
		return 0, err
	}
	return d.ParseInt(text)
}

// DecodeString decodes tolerant text from the JSON value b: null (and, under
// Lax, "", [] or {}) is ""; a string is its value verbatim; a number is its
// literal text exactly (so a 19-digit ID sent as a bare number survives).
// Under Lax a boolean is its literal text and a non-empty array or object
// returns "want a string, got <kind>"; under Strict booleans, arrays and
// objects return "want a string or number, got <kind>".
func (d Dialect) DecodeString(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	if IsNull(b) || (d == Lax && IsEmpty(b)) {
		return "", nil
	}
	if b[0] == '"' {
		if s, ok := plainString(b); ok {
			return s, nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return s, nil
	}
	if d == Lax {
		if b[0] == '[' || b[0] == '{' {
			return "", fmt.Errorf("want a string, got %s", KindOf(b))
		}
		return string(b), nil // number, true, false: the literal exactly
	}
	if isNumberStart(b[0]) {
		return string(b), nil
	}
	return "", fmt.Errorf("want a string or number, got %s", KindOf(b))
}

// DecodeID decodes an identifier from the JSON value b: null is ""; a string
// is its value trimmed; a number must be an integer literal and is kept as
// its exact text. A number with a fraction or an exponent returns an error
// (its digits were already lost by whoever encoded it), as do booleans,
// arrays and objects.
func DecodeID(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case IsNull(b):
		return "", nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	case isNumberStart(b[0]):
		if bytes.ContainsAny(b, ".eE") {
			return "", fmt.Errorf("ID %q is not an integer literal (digits lost upstream)", Clip(string(b), 40))
		}
		return string(b), nil
	}
	return "", fmt.Errorf("want an ID, got %s", KindOf(b))
}

// Int is an integer wire scalar in the Strict dialect: it decodes from null
// or "" (both 0), a JSON integer, or a string holding an integer (surrounding
// spaces allowed). A zero fraction ("12.0") is accepted; any other fraction,
// an exponent, a boolean, an array or an object is a decode error. The value
// is parsed from its literal text, never via float64, so every int64
// survives exactly. It encodes as a JSON number.
type Int int64

// UnmarshalJSON implements the Int decoding rules (see Int).
func (v *Int) UnmarshalJSON(b []byte) error { return intInto(v, b, Strict.DecodeInt) }

// LaxInt is Int in the Lax dialect: it also decodes an empty array or object
// to 0 and accepts a bare trailing point ("12."). A non-empty array or object
// is still a decode error. It encodes as a JSON number.
type LaxInt int64

// UnmarshalJSON implements the LaxInt decoding rules (see LaxInt).
func (v *LaxInt) UnmarshalJSON(b []byte) error { return intInto(v, b, Lax.DecodeInt) }

// String is a text wire scalar in the Strict dialect: it decodes from null
// (""), a JSON string (verbatim) or a JSON number (its literal text exactly,
// so a 19-digit ID sent as a bare number survives). Booleans, arrays and
// objects are decode errors. It encodes as a JSON string.
type String string

// UnmarshalJSON implements the String decoding rules (see String).
func (v *String) UnmarshalJSON(b []byte) error { return stringInto(v, b, Strict.DecodeString) }

// LaxString is String in the Lax dialect: it also decodes a boolean to its
// literal text ("true"/"false") and an empty array or object to "". A
// non-empty array or object is a decode error. It encodes as a JSON string.
type LaxString string

// UnmarshalJSON implements the LaxString decoding rules (see LaxString).
func (v *LaxString) UnmarshalJSON(b []byte) error { return stringInto(v, b, Lax.DecodeString) }

// ID is an identifier wire scalar: it decodes from a JSON integer (its
// literal text exactly, so 19-digit IDs sent as bare numbers survive), a JSON
// string (trimmed) or null (""). A number with a fraction or an exponent is a
// decode error (its digits were already lost by whoever encoded it);
// booleans, arrays and objects are decode errors too. It encodes as a JSON
// string.
type ID string

// UnmarshalJSON implements the ID decoding rules (see ID).
func (v *ID) UnmarshalJSON(b []byte) error { return stringInto(v, b, DecodeID) }

// IsNull reports whether the JSON value b is absent (no bytes) or null,
// ignoring surrounding white space.
func IsNull(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

// IsEmpty reports whether the JSON value b is absent, null, "" or an empty
// array or object, ignoring white space around and inside it.
func IsEmpty(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" || string(b) == `""` {
		return true
	}
	if (b[0] == '[' && b[len(b)-1] == ']') || (b[0] == '{' && b[len(b)-1] == '}') {
		return len(bytes.TrimSpace(b[1:len(b)-1])) == 0
	}
	return false
}

// KindOf names the JSON kind of the value b for error messages, from its
// first byte after white space: "an object", "an array", "a string", "a
// boolean", "null", "a number", "nothing" for no bytes and "invalid JSON"
// for anything else.
func KindOf(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if isNumberStart(b[0]) {
		return "a number"
	}
	return "invalid JSON"
}

// intInto and stringInto store in *dst what decode makes of b, leaving *dst
// alone on error.
func intInto[T ~int64](dst *T, b []byte, decode func([]byte) (int64, error)) error {
	n, err := decode(b)
	if err == nil {
		*dst = T(n)
	}
	return err
}

func stringInto[T ~string](dst *T, b []byte, decode func([]byte) (string, error)) error {
	s, err := decode(b)
	if err == nil {
		*dst = T(s)
	}
	return err
}

// plainString returns the value of the JSON string literal b when it needs
// no decoding — no escape, no control character, valid UTF-8 — which is
// what json.Unmarshal would return for it; false otherwise.
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	in := b[1 : len(b)-1]
	for _, c := range in {
		if c < 0x20 || c == '"' || c == '\\' {
			return "", false
		}
	}
	if !utf8.Valid(in) {
		return "", false
	}
	return string(in), true
}

func isNumberStart(c byte) bool { return c == '-' || (c >= '0' && c <= '9') }
