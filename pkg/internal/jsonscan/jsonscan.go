// Package jsonscan is a small JSON reader for the hot decode paths of
// yongjin's library packages (order.v1 events, vendor pages): it reads a
// document in one pass, without reflection, and says "not read" (false)
// for anything it does not read exactly as encoding/json would, so each
// caller can fall back to encoding/json, which stays the reference (every
// caller has a fuzz test comparing the two).
//
// A Scanner validates what it passes over as encoding/json's own checker
// does: string escapes, control characters, number grammar, literals,
// nesting. It is not a general decoder: values are handed to the caller as
// byte spans, and keys with escapes are not unquoted (callers treat them as
// "not read").
package jsonscan

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// maxDepth bounds how deep Skip nests; deeper documents are "not read"
// (encoding/json's own limit is 10000).
const maxDepth = 512

// Scanner reads JSON tokens from B starting at I. Every method returns
// false on anything it does not read exactly; after false the position is
// unspecified and the caller must give up on the document.
type Scanner struct {
	// B is the document.
	B []byte
	// I is the read position in B.
	I int
	// Text, when set, must hold B's bytes as a string: Str then returns
	// plain strings as substrings of it instead of copying each one.
	Text string
}

// WS skips JSON white space.
func (s *Scanner) WS() {
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\n', '\r':
			s.I++
		default:
			return
		}
	}
}

// Peek returns the next byte after white space (0 at the end).
func (s *Scanner) Peek() byte {
	s.WS()
	if s.I < len(s.B) {
		return s.B[s.I]
	}
	return 0
}

// Byte consumes c if it is next.
func (s *Scanner) Byte(c byte) bool {
	if s.I < len(s.B) && s.B[s.I] == c {
		s.I++
		return true
	}
	return false
}

// Null consumes a null literal if it is next.
func (s *Scanner) Null() bool {
	if len(s.B)-s.I >= 4 && string(s.B[s.I:s.I+4]) == "null" {
		s.I += 4
		return true
	}
	return false
}

// End reports whether only white space is left.
func (s *Scanner) End() bool {
	s.WS()
	return s.I == len(s.B)
}

// Object reads an object, calling member for each key (without its quotes)
// with the scanner placed before the member's value; member must consume
// the value. Keys holding an escape or a non-ASCII byte are not read:
// encoding/json unquotes and case-folds them, so they could name any
// field.
func (s *Scanner) Object(member func(key []byte) bool) bool { return s.members(false, member) }

// members reads an object; with anyKey, keys of every kind are passed on.
func (s *Scanner) members(anyKey bool, member func(key []byte) bool) bool {
	s.WS()
	if !s.Byte('{') {
		return false
	}
	s.WS()
	if s.Byte('}') {
		return true
	}
	for {
		s.WS()
		start, end, plain, ascii, ok := s.String()
		if !ok || (!anyKey && (!plain || !ascii)) {
			return false
		}
		s.WS()
		if !s.Byte(':') || !member(s.B[start+1:end-1]) {
			return false
		}
		s.WS()
		if s.Byte('}') {
			return true
		}
		if !s.Byte(',') {
			return false
		}
	}
}

// Array reads an array, calling elem with the scanner placed before each
// element; elem must consume it.
func (s *Scanner) Array(elem func() bool) bool {
	s.WS()
	if !s.Byte('[') {
		return false
	}
	s.WS()
	if s.Byte(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		s.WS()
		if s.Byte(']') {
			return true
		}
		if !s.Byte(',') {
			return false
		}
	}
}

// String reads a string token at the position and returns its span
// [start, end), quotes included. plain is true when it holds no escape and
// is valid UTF-8 (its value is then its bytes between the quotes, as
// encoding/json takes it), ascii when every byte is ASCII. Escapes are
// validated as encoding/json validates them.
func (s *Scanner) String() (start, end int, plain, ascii, ok bool) {
	if !s.Byte('"') {
		return 0, 0, false, false, false
	}
	start, plain, ascii = s.I-1, true, true
	for s.I < len(s.B) {
		// Printable ASCII other than '"' and '\\' needs no look.
		for s.I < len(s.B) && plainByte[s.B[s.I]] {
			s.I++
		}
		if s.I == len(s.B) {
			break
		}
		c := s.B[s.I]
		switch {
		case c == '"':
			s.I++
			if !ascii && plain && !utf8.Valid(s.B[start+1:s.I-1]) {
				plain = false
			}
			return start, s.I, plain, ascii, true
		case c == '\\':
			plain = false
			if !s.escape() {
				return 0, 0, false, false, false
			}
			continue
		case c < 0x20:
			return 0, 0, false, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		s.I++
	}
	return 0, 0, false, false, false
}

// plainByte marks the bytes a string holds as they are: printable ASCII
// other than the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// escape validates the escape sequence at the position (a backslash) and
// steps over it.
func (s *Scanner) escape() bool {
	if s.I+1 >= len(s.B) {
		return false
	}
	switch s.B[s.I+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.I += 2
		return true
	case 'u':
		if s.I+6 > len(s.B) {
			return false
		}
		for _, h := range s.B[s.I+2 : s.I+6] {
			if !isHex(h) {
				return false
			}
		}
		s.I += 6
		return true
	}
	return false
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// Number reads a number token (JSON's grammar exactly) and returns its
// span; integer is true when it has no fraction and no exponent.
func (s *Scanner) Number() (start, end int, integer, ok bool) {
	start = s.I
	s.Byte('-')
	switch {
	case s.Byte('0'):
	case s.I < len(s.B) && s.B[s.I] >= '1' && s.B[s.I] <= '9':
		s.digits()
	default:
		return 0, 0, false, false
	}
	integer = true
	if s.Byte('.') {
		integer = false
		if s.digits() == 0 {
			return 0, 0, false, false
		}
	}
	if s.Byte('e') || s.Byte('E') {
		integer = false
		if !s.Byte('+') {
			s.Byte('-')
		}
		if s.digits() == 0 {
			return 0, 0, false, false
		}
	}
	return start, s.I, integer, true
}

func (s *Scanner) digits() int {
	n := 0
	for s.I < len(s.B) && s.B[s.I] >= '0' && s.B[s.I] <= '9' {
		s.I++
		n++
	}
	return n
}

// literal consumes word (true, false or null) if it is next.
func (s *Scanner) literal(word string) bool {
	if len(s.B)-s.I >= len(word) && string(s.B[s.I:s.I+len(word)]) == word {
		s.I += len(word)
		return true
	}
	return false
}

// Skip reads any one JSON value, validating it, and returns its span.
func (s *Scanner) Skip() (start, end int, ok bool) {
	s.WS()
	start = s.I
	if !s.skip(0) {
		return 0, 0, false
	}
	return start, s.I, true
}

func (s *Scanner) skip(depth int) bool {
	if depth > maxDepth || s.I >= len(s.B) {
		return false
	}
	switch c := s.B[s.I]; {
	case c == '"':
		_, _, _, _, ok := s.String()
		return ok
	case c == '{':
		return s.members(true, func([]byte) bool { s.WS(); return s.skip(depth + 1) })
	case c == '[':
		return s.Array(func() bool { s.WS(); return s.skip(depth + 1) })
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		_, _, _, ok := s.Number()
		return ok
	}
	return false
}

// Substring returns B[start:end] as a string: a substring of Text when set, a
// copy otherwise.
func (s *Scanner) Substring(start, end int) string {
	if len(s.Text) == len(s.B) {
		return s.Text[start:end]
	}
	return string(s.B[start:end])
}

// Str reads a string value into dst (null leaves dst as it is, as
// encoding/json does). A plain string is its bytes as written; anything
// else is unquoted by encoding/json.
func (s *Scanner) Str(dst *string) bool {
	s.WS()
	if s.Null() {
		return true
	}
	start, end, plain, _, ok := s.String()
	if !ok {
		return false
	}
	if plain {
		*dst = s.Substring(start+1, end-1)
		return true
	}
	return json.Unmarshal(s.B[start:end], dst) == nil
}

// Int reads an integer written as a plain decimal literal (no fraction, no
// exponent) that fits int64; null leaves dst as it is.
func (s *Scanner) Int(dst *int64) bool {
	s.WS()
	if s.Null() {
		return true
	}
	start, end, integer, ok := s.Number()
	if !ok || !integer {
		return false
	}
	n, ok := ParseInt(s.B[start:end])
	if ok {
		*dst = n
	}
	return ok
}

// ParseInt parses b, a valid JSON integer literal, into an int64; ok is
// false when it does not fit.
func ParseInt(b []byte) (int64, bool) {
	if len(b) < 19 { // at most 18 digits (and a sign): cannot overflow
		neg := b[0] == '-'
		if neg {
			b = b[1:]
		}
		var n int64
		for _, c := range b {
			n = n*10 + int64(c-'0')
		}
		if neg {
			n = -n
		}
		return n, true
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}
