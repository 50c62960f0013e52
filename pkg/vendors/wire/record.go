package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// Malformed returns an error wrapping vendors.ErrMalformedPage whose text is
// the error's followed by ": " and the formatted message.
func Malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", vendors.ErrMalformedPage, fmt.Sprintf(format, args...))
}

// TrimBOM drops a leading UTF-8 byte-order mark from body.
func TrimBOM(body []byte) []byte { return bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")) }

// DecodeObject decodes raw, which must be a JSON object (surrounding white
// space allowed), into a T, which must be a struct type with json field tags.
// Anything but an object returns "want an object, got <kind>". When decoding
// fails, it decodes the tagged members one at a time so the error can name
// the first field, in declaration order, that breaks: "field <name>: <error>";
// failing that, it returns the decoder's error. On error the zero T is
// returned.
func DecodeObject[T any](raw []byte) (T, error) {
	var zero T
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || b[0] != '{' {
		return zero, fmt.Errorf("want an object, got %s", KindOf(b))
	}
	var v T
	err := json.Unmarshal(b, &v)
	if err == nil {
		return v, nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(b, &fields) != nil {
		return zero, err
	}
	t := reflect.TypeFor[T]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		m, ok := fields[name]
		if !ok {
			continue
		}
		if ferr := json.Unmarshal(m, reflect.New(f.Type).Interface()); ferr != nil {
			return zero, fmt.Errorf("field %s: %v", name, ferr)
		}
	}
	return zero, err
}

// DecodeList decodes the JSON array list element by element with decode.
// An array that does not decode returns "<where>: <error>", an element that
// does not "<where>[<index>]: <error>", both wrapping vendors.ErrMalformedPage.
// An empty array gives nil.
func DecodeList[T any](where string, list []byte, decode func([]byte) (T, error)) ([]T, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(list, &raws); err != nil {
		return nil, Malformed("%s: %v", where, err)
	}
	return DecodeEach(where, raws, decode)
}

// DecodeEach decodes raw elements with decode, as DecodeList does. Every
// element is decoded, also after a bad one: when any fails, the error is a
// *ListError[T] holding the elements that did decode, so a normalizer can
// map the good records and reject only the bad ones; its text is the first
// bad element's.
func DecodeEach[T any](where string, raws []json.RawMessage, decode func([]byte) (T, error)) ([]T, error) {
	return CollectEach(where, len(raws), func(i int) (T, error) { return decode(raws[i]) })
}

// CollectEach is DecodeEach for n elements already decoded elsewhere: at(i)
// returns element i's value or its decode error, and the result (values,
// nil for n == 0, or a *ListError[T] naming the bad elements) is the one
// DecodeEach gives for the same outcomes.
func CollectEach[T any](where string, n int, at func(i int) (T, error)) ([]T, error) {
	if n == 0 {
		return nil, nil
	}
	out := make([]T, n)
	var le *ListError[T]
	for i := range n {
		v, err := at(i)
		if err != nil {
			if le == nil {
				le = &ListError[T]{Where: where}
			}
			le.Bad = append(le.Bad, ElementError{Index: i, Err: Malformed("%s[%d]: %v", where, i, err)})
			continue
		}
		out[i] = v
	}
	if le != nil {
		le.Values = out
		return nil, le
	}
	return out, nil
}

// ElementError is one element of a list that did not decode.
type ElementError struct {
	// Index is the element's position in the list.
	Index int
	// Err names the element and the reason ("<where>[<index>]: …") and wraps
	// vendors.ErrMalformedPage.
	Err error
}

// ListError is DecodeEach's error when some elements of a list do not
// decode. It matches vendors.ErrMalformedPage and reads as its first bad
// element's error.
type ListError[T any] struct {
	// Where names the list, e.g. "data.orders".
	Where string
	// Values holds every element at its index; a bad element's is the zero T.
	Values []T
	// Bad are the elements that did not decode, in index order (at least one).
	Bad []ElementError
}

// Error is the first bad element's error.
func (e *ListError[T]) Error() string { return e.Bad[0].Err.Error() }

// Unwrap returns the first bad element's error (it wraps vendors.ErrMalformedPage).
func (e *ListError[T]) Unwrap() error { return e.Bad[0].Err }

// BadAt returns the error of the element at index i, or nil when it decoded.
func (e *ListError[T]) BadAt(i int) error {
	for _, b := range e.Bad {
		if b.Index == i {
			return b.Err
		}
	}
	return nil
}

// MemberOnce reports whether the JSON object body has at most one member,
// at its top level, whose name matches name as encoding/json matches a
// struct field's (ignoring case), and no top-level member name holding an
// escape sequence (which could spell name). A decoder that reads the member
// straight into a struct, where encoding/json merges a repeated member
// instead of keeping the last one, uses it to take another path when the
// two could differ. For a body that is not valid JSON the answer means
// nothing: the caller's decoder rejects such a body anyway.
func MemberOnce(body []byte, name string) bool {
	depth, seen := 0, 0
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '"':
			j, esc := i+1, false
			for ; j < len(body) && body[j] != '"'; j++ {
				if body[j] == '\\' {
					esc = true
					j++
				}
			}
			if j >= len(body) {
				return false
			}
			if depth == 1 && followedByColon(body[j+1:]) {
				if esc {
					return false
				}
				if bytes.EqualFold(body[i+1:j], []byte(name)) {
					if seen++; seen > 1 {
						return false
					}
				}
			}
			i = j
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
	}
	return true
}

// followedByColon reports whether the first byte of b that is not JSON
// white space is ':'.
func followedByColon(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c == ':'
	}
	return false
}

// Clip shortens s to at most n bytes, cut on a rune boundary and marked
// with "…", for error messages; a string of at most n bytes is returned as is.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
