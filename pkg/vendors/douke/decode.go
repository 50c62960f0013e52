package douke

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// DecodePage decodes one kol_OrderAds response body:
//
//	{"error":"0","msg":"…","data":{"cursor":"…","orders":[…]},"request_id":"…"}
//
// The error code may be a string or a number; "0" (or 0) is success. A
// non-"0" code returns an *APIError, which wraps vendors.ErrVendorError and
// carries the code and msg; data is not looked at then. Invalid JSON, a
// missing or non-scalar error code, and data, data.orders or an order of the
// wrong shape return an error wrapping vendors.ErrMalformedPage that names the
// offending part (order index and field where possible).
//
// On success a missing, null, "", [] or {} data or data.orders means a page
// without orders. A leading UTF-8 byte-order mark is ignored.
func DecodePage(body []byte) (*Page, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	var env struct {
		Error     json.RawMessage `json:"error"`
		Msg       FlexString      `json:"msg"`
		Data      json.RawMessage `json:"data"`
		RequestID FlexString      `json:"request_id"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, malformed("envelope: %v", err)
	}
	code, err := errorCode(env.Error)
	if err != nil {
		return nil, malformed("envelope: %v", err)
	}
	if code != "0" {
		return nil, &APIError{Code: code, Msg: string(env.Msg), RequestID: string(env.RequestID)}
	}
	p := &Page{Error: code, Msg: string(env.Msg), RequestID: string(env.RequestID)}
	d := bytes.TrimSpace(env.Data)
	if isEmptyValue(d) {
		return p, nil
	}
	if d[0] != '{' {
		return nil, malformed("data: want an object, got %s", kindOf(d))
	}
	var data struct {
		Cursor FlexString      `json:"cursor"`
		Orders json.RawMessage `json:"orders"`
	}
	if err := json.Unmarshal(d, &data); err != nil {
		return nil, malformed("data: %v", err)
	}
	p.Cursor = string(data.Cursor)
	o := bytes.TrimSpace(data.Orders)
	if isEmptyValue(o) {
		return p, nil
	}
	if o[0] != '[' {
		return nil, malformed("data.orders: want an array, got %s", kindOf(o))
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(o, &raws); err != nil {
		return nil, malformed("data.orders: %v", err)
	}
	p.Orders = make([]Order, 0, len(raws))
	for i, r := range raws {
		ord, err := decodeOrder(r)
		if err != nil {
			return nil, malformed("data.orders[%d]: %v", i, err)
		}
		p.Orders = append(p.Orders, ord)
	}
	return p, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", vendors.ErrMalformedPage, fmt.Sprintf(format, args...))
}

// errorCode reads the envelope's error member: a string (trimmed) or a number
// (its literal text).
func errorCode(raw json.RawMessage) (string, error) {
	b := bytes.TrimSpace(raw)
	switch {
	case len(b) == 0 || string(b) == "null":
		return "", errors.New("no error code")
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", fmt.Errorf("error code: %v", err)
		}
		return strings.TrimSpace(s), nil
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		return string(b), nil
	}
	return "", fmt.Errorf("error code: want a string or number, got %s", kindOf(b))
}

// decodeOrder decodes one element of data.orders. On failure it looks for the
// field that broke so the error can name it.
func decodeOrder(raw json.RawMessage) (Order, error) {
	var o Order
	err := json.Unmarshal(raw, &o)
	if err == nil {
		return o, nil
	}
	b := bytes.TrimSpace(raw)
	if len(b) > 0 && b[0] != '{' {
		return Order{}, fmt.Errorf("want an object, got %s", kindOf(b))
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(b, &fields) != nil {
		return Order{}, err
	}
	t := reflect.TypeFor[Order]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		v, ok := fields[name]
		if !ok {
			continue
		}
		if ferr := json.Unmarshal(v, reflect.New(f.Type).Interface()); ferr != nil {
			return Order{}, fmt.Errorf("field %s: %v", name, ferr)
		}
	}
	return Order{}, err
}

// UnmarshalJSON implements the FlexInt decoding rules (see FlexInt).
func (v *FlexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if isEmptyValue(b) {
		*v = 0
		return nil
	}
	var text string
	switch b[0] {
	case '"':
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
		text = strings.TrimSpace(text)
		if text == "" {
			*v = 0
			return nil
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		text = string(b)
	default:
		return fmt.Errorf("want an integer, got %s", kindOf(b))
	}
	n, err := parseInteger(text)
	if err != nil {
		return err
	}
	*v = FlexInt(n)
	return nil
}

// parseInteger parses a decimal integer with an optional all-zero fraction.
func parseInteger(s string) (int64, error) {
	t := s
	if i := strings.IndexByte(t, '.'); i >= 0 {
		if strings.Trim(t[i+1:], "0") != "" {
			return 0, fmt.Errorf("not an integer: %q", clip(s, 40))
		}
		t = t[:i]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, fmt.Errorf("integer out of int64 range: %q", clip(s, 40))
		}
		return 0, fmt.Errorf("not an integer: %q", clip(s, 40))
	}
	return n, nil
}

// UnmarshalJSON implements the FlexString decoding rules (see FlexString).
func (v *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if isEmptyValue(b) {
		*v = ""
		return nil
	}
	switch b[0] {
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = FlexString(s)
	case '[', '{':
		return fmt.Errorf("want a string, got %s", kindOf(b))
	default: // number, true, false: keep the literal exactly
		*v = FlexString(b)
	}
	return nil
}

// UnmarshalJSON decodes pid_info from an object, from null, "", [] or {} (the
// zero PIDInfo), or from a string holding a JSON object.
func (p *PIDInfo) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if isEmptyValue(b) {
		*p = PIDInfo{}
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		inner := bytes.TrimSpace([]byte(s))
		if len(inner) == 0 || inner[0] != '{' {
			return fmt.Errorf("pid_info: want an object, got string %q", clip(s, 40))
		}
		b = inner
	}
	if b[0] != '{' {
		return fmt.Errorf("pid_info: want an object, got %s", kindOf(b))
	}
	type plain PIDInfo
	var q plain
	if err := json.Unmarshal(b, &q); err != nil {
		return fmt.Errorf("pid_info: %v", err)
	}
	*p = PIDInfo(q)
	return nil
}

// isEmptyValue reports whether b (trimmed) is absent, null, "" or an empty
// array or object.
func isEmptyValue(b []byte) bool {
	if len(b) == 0 || string(b) == "null" || string(b) == `""` {
		return true
	}
	if (b[0] == '[' && b[len(b)-1] == ']') || (b[0] == '{' && b[len(b)-1] == '}') {
		return len(bytes.TrimSpace(b[1:len(b)-1])) == 0
	}
	return false
}

// kindOf names the JSON kind of a (non-empty, trimmed) value for errors.
func kindOf(b []byte) string {
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
	return "a number"
}

// clip shortens s to at most n bytes (on a rune boundary) for error messages.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
