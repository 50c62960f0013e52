package taobaolive

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// ResponseKey is the wrapper member of a non-simplified JSON response: the
// method name with dots replaced by "_", plus "_response".
const ResponseKey = "alibaba_matrix_tcp_outer_querypredictorderlist_response"

// ElementKey is the member that wraps the element list in a non-simplified
// response: result.model.elements.tcp_predict_order_v_o.
const ElementKey = "tcp_predict_order_v_o"

// DecodePage decodes one querypredictorderlist response body. It accepts:
//
//   - the documented wrapped shape
//     {"alibaba_matrix_tcp_outer_querypredictorderlist_response":{"result":{"model":{"total_count":…,"page_size":…,"page_no":…,"elements":{"tcp_predict_order_v_o":[…]}},"success":true,"msg_code":"","msg_info":""},"request_id":"…"}};
//   - the simplified shape without the _response wrapper, {"result":{…},"request_id":"…"},
//     or the result object itself at the top level ({"model":{…},"success":true,…});
//   - in either shape, elements as the wrapper object, a bare array, a single
//     object under tcp_predict_order_v_o, or null/""/[]/{}/absent (no orders).
//
// An error_response envelope returns an *APIError; a result with
// success=false (or without success and model but with msg_code/msg_info)
// returns a *BusinessError; both wrap vendors.ErrVendorError. Invalid JSON, a
// body that is not an object, no result, and parts or orders of the wrong
// shape (an amount with a third non-zero decimal included) return an error
// wrapping vendors.ErrMalformedPage that names the offending part. A leading
// UTF-8 byte-order mark is ignored.
func DecodePage(body []byte) (*Page, error) {
	b := bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	if len(b) == 0 || b[0] != '{' {
		return nil, malformed("body: want a JSON object, got %s", kindOf(b))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, malformed("body: %v", err)
	}
	if er, ok := top["error_response"]; ok && !isEmptyValue(bytes.TrimSpace(er)) {
		return nil, decodeAPIError(er)
	}
	p := &Page{Shape: ShapeSimplified}
	resp, respRaw := top, b
	if w, ok := top[ResponseKey]; ok {
		p.Shape = ShapeWrapped
		w = bytes.TrimSpace(w)
		if len(w) == 0 || w[0] != '{' {
			return nil, malformed("%s: want an object, got %s", ResponseKey, kindOf(w))
		}
		resp = nil
		if err := json.Unmarshal(w, &resp); err != nil {
			return nil, malformed("%s: %v", ResponseKey, err)
		}
		respRaw = w
	}
	var rid FlexString
	if err := json.Unmarshal(orNull(resp["request_id"]), &rid); err != nil {
		return nil, malformed("request_id: %v", err)
	}
	p.RequestID = string(rid)

	var resultRaw json.RawMessage
	switch {
	case resp["result"] != nil:
		resultRaw = bytes.TrimSpace(resp["result"])
	case resp["model"] != nil || resp["success"] != nil:
		resultRaw = respRaw // the result object itself at the top level
	default:
		return nil, malformed("no result (want %s.result, result or model)", ResponseKey)
	}
	if !isEmptyValue(resultRaw) && resultRaw[0] != '{' {
		return nil, malformed("result: want an object, got %s", kindOf(resultRaw))
	}
	var result struct {
		Success json.RawMessage `json:"success"`
		MsgCode FlexString      `json:"msg_code"`
		MsgInfo FlexString      `json:"msg_info"`
		Model   json.RawMessage `json:"model"`
	}
	if !isEmptyValue(resultRaw) {
		if err := json.Unmarshal(resultRaw, &result); err != nil {
			return nil, malformed("result: %v", err)
		}
	}
	p.MsgCode, p.MsgInfo = string(result.MsgCode), string(result.MsgInfo)
	success, present, err := parseBool(result.Success)
	if err != nil {
		return nil, malformed("result.success: %v", err)
	}
	model := bytes.TrimSpace(result.Model)
	switch {
	case present && !success:
		return nil, &BusinessError{MsgCode: p.MsgCode, MsgInfo: p.MsgInfo, RequestID: p.RequestID}
	case !present && isEmptyValue(model):
		if strings.TrimSpace(p.MsgCode) != "" || strings.TrimSpace(p.MsgInfo) != "" {
			return nil, &BusinessError{MsgCode: p.MsgCode, MsgInfo: p.MsgInfo, RequestID: p.RequestID}
		}
		return nil, malformed("result has neither success nor model")
	}
	if isEmptyValue(model) {
		return p, nil
	}
	if model[0] != '{' {
		return nil, malformed("result.model: want an object, got %s", kindOf(model))
	}
	var m struct {
		TotalCount json.RawMessage `json:"total_count"`
		PageSize   FlexInt         `json:"page_size"`
		PageNo     FlexInt         `json:"page_no"`
		Elements   json.RawMessage `json:"elements"`
	}
	if err := json.Unmarshal(model, &m); err != nil {
		return nil, malformed("result.model: %v", err)
	}
	if tc := bytes.TrimSpace(m.TotalCount); !isEmptyValue(tc) {
		var n FlexInt
		if err := json.Unmarshal(tc, &n); err != nil {
			return nil, malformed("result.model.total_count: %v", err)
		}
		p.TotalCount, p.HasTotalCount = int64(n), true
	}
	p.PageSize, p.PageNo = int64(m.PageSize), int64(m.PageNo)
	if p.TotalCount < 0 || p.PageSize < 0 || p.PageNo < 0 {
		return nil, malformed("result.model: negative total_count, page_size or page_no (%d, %d, %d)", p.TotalCount, p.PageSize, p.PageNo)
	}
	raws, err := elementList(bytes.TrimSpace(m.Elements))
	if err != nil {
		return nil, err
	}
	if len(raws) > 0 {
		p.Orders = make([]Order, 0, len(raws))
	}
	for i, r := range raws {
		o, err := decodeOrder(r)
		if err != nil {
			return nil, malformed("result.model.elements[%d]: %v", i, err)
		}
		p.Orders = append(p.Orders, o)
	}
	return p, nil
}

// elementList returns the raw elements of model.elements in any accepted shape.
func elementList(e []byte) ([]json.RawMessage, error) {
	if isEmptyValue(e) {
		return nil, nil
	}
	list := func(b []byte, where string) ([]json.RawMessage, error) {
		var raws []json.RawMessage
		if err := json.Unmarshal(b, &raws); err != nil {
			return nil, malformed("%s: %v", where, err)
		}
		return raws, nil
	}
	switch e[0] {
	case '[':
		return list(e, "result.model.elements")
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(e, &obj); err != nil {
			return nil, malformed("result.model.elements: %v", err)
		}
		inner, ok := obj[ElementKey]
		if !ok {
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, strconv.Quote(clip(k, 40)))
			}
			sort.Strings(keys)
			return nil, malformed("result.model.elements: want an array or {%q: [...]}, got an object with %s", ElementKey, clip(strings.Join(keys, ", "), 200))
		}
		inner = bytes.TrimSpace(inner)
		switch {
		case isEmptyValue(inner):
			return nil, nil
		case inner[0] == '[':
			return list(inner, "result.model.elements."+ElementKey)
		case inner[0] == '{':
			return []json.RawMessage{inner}, nil // a single element (XML-to-JSON style)
		}
		return nil, malformed("result.model.elements.%s: want an array, got %s", ElementKey, kindOf(inner))
	}
	return nil, malformed("result.model.elements: want an array or an object, got %s", kindOf(e))
}

// decodeAPIError decodes an error_response member.
func decodeAPIError(raw json.RawMessage) error {
	b := bytes.TrimSpace(raw)
	if b[0] != '{' {
		return malformed("error_response: want an object, got %s", kindOf(b))
	}
	var e struct {
		Code      FlexString `json:"code"`
		Msg       FlexString `json:"msg"`
		SubCode   FlexString `json:"sub_code"`
		SubMsg    FlexString `json:"sub_msg"`
		RequestID FlexString `json:"request_id"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return malformed("error_response: %v", err)
	}
	return &APIError{
		Code: strings.TrimSpace(string(e.Code)), Msg: string(e.Msg),
		SubCode: strings.TrimSpace(string(e.SubCode)), SubMsg: string(e.SubMsg), RequestID: string(e.RequestID),
	}
}

// decodeOrder decodes one element. On failure it looks for the field that
// broke so the error can name it.
func decodeOrder(raw json.RawMessage) (Order, error) {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || b[0] != '{' {
		return Order{}, fmt.Errorf("want an object, got %s", kindOf(b))
	}
	var o Order
	err := json.Unmarshal(b, &o)
	if err == nil {
		return o, nil
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

// parseBool reads a tolerant boolean: true/false, "true"/"false" (any case),
// 1/0 or "1"/"0". present is false for absent, null or "".
func parseBool(raw json.RawMessage) (val, present bool, err error) {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || string(b) == "null" || string(b) == `""` {
		return false, false, nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return false, false, err
		}
		s = strings.ToLower(strings.TrimSpace(s))
	}
	switch s {
	case "true", "1":
		return true, true, nil
	case "false", "0":
		return false, true, nil
	}
	return false, false, fmt.Errorf("want a boolean, got %s", clip(string(b), 40))
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", vendors.ErrMalformedPage, fmt.Sprintf(format, args...))
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 {
		return json.RawMessage("null")
	}
	return b
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

// scalarText returns the text of a JSON string or number literal, ok=false
// for an empty value, and an error for other kinds.
func scalarText(b []byte, want string) (string, bool, error) {
	b = bytes.TrimSpace(b)
	if isEmptyValue(b) {
		return "", false, nil
	}
	switch b[0] {
	case '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", false, err
		}
		return s, true, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return string(b), true, nil
	}
	return "", false, fmt.Errorf("want %s, got %s", want, kindOf(b))
}

// UnmarshalJSON implements the Yuan decoding rules (see Yuan).
func (y *Yuan) UnmarshalJSON(b []byte) error {
	s, ok, err := scalarText(b, "a yuan amount")
	if err != nil {
		return err
	}
	if !ok {
		*y = 0
		return nil
	}
	fen, err := ParseYuan(s)
	if err != nil {
		return err
	}
	*y = Yuan(fen)
	return nil
}

// MarshalJSON encodes the amount as a yuan string with two decimals.
func (y Yuan) MarshalJSON() ([]byte, error) { return json.Marshal(FormatYuan(int64(y))) }

// UnmarshalJSON implements the Percent decoding rules (see Percent).
func (p *Percent) UnmarshalJSON(b []byte) error {
	s, ok, err := scalarText(b, "a percentage")
	if err != nil {
		return err
	}
	if !ok {
		*p = 0
		return nil
	}
	bp, err := ParsePercent(s)
	if err != nil {
		return err
	}
	*p = Percent(bp)
	return nil
}

// MarshalJSON encodes the rate as a percentage string such as "10.5%".
func (p Percent) MarshalJSON() ([]byte, error) { return json.Marshal(FormatPercent(int64(p))) }

// parseCents parses an unsigned decimal with at most two significant
// decimals into hundredths ("12.5" → 1250).
func parseCents(t, what string) (int64, error) {
	intPart, frac, hasDot := strings.Cut(t, ".")
	if intPart == "" || !allDigits(intPart) || (hasDot && (frac == "" || !allDigits(frac))) {
		return 0, fmt.Errorf("%q is not a decimal %s", clip(t, 40), what)
	}
	if len(frac) > 2 {
		if strings.Trim(frac[2:], "0") != "" {
			return 0, fmt.Errorf("%q has more than two decimals (not representable exactly as a %s)", clip(t, 40), what)
		}
		frac = frac[:2]
	}
	frac += strings.Repeat("0", 2-len(frac))
	c := int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || n > (math.MaxInt64-c)/100 {
		return 0, fmt.Errorf("%q is out of range", clip(t, 40))
	}
	return n*100 + c, nil
}

// ParseYuan parses a yuan amount string exactly into fen: "100" → 10000,
// "12.5" → 1250, "0.07" → 7, "-3.20" → -320, "12.500" → 1250. Empty text and
// "-" (TOP's placeholder for a value it does not show) are 0. More than two
// non-zero decimals, exponents, separators and other text are errors.
func ParseYuan(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" || t == "-" {
		return 0, nil
	}
	neg := false
	switch t[0] {
	case '-':
		neg, t = true, t[1:]
	case '+':
		t = t[1:]
	}
	fen, err := parseCents(t, "yuan amount")
	if err != nil {
		return 0, err
	}
	if neg {
		fen = -fen
	}
	return fen, nil
}

// FormatYuan renders fen as a yuan string with two decimals (1234 → "12.34").
func FormatYuan(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign, u = "-", -u
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// ParsePercent parses a percentage string exactly into basis points: "10%" →
// 1000, "10.5%" → 1050, "0.25 %" → 25. The "%" is optional (a bare number is
// read as a percentage). Empty text and "-" are 0. Negative values, more than
// two non-zero decimals and other text are errors.
func ParsePercent(s string) (int64, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
	if t == "" || t == "-" {
		return 0, nil
	}
	if t[0] == '+' {
		t = t[1:]
	}
	return parseCents(t, "percentage")
}

// FormatPercent renders basis points as a percentage string without
// trailing zeros: 1000 → "10%", 1050 → "10.5%", 1234 → "12.34%".
func FormatPercent(bp int64) string {
	sign := ""
	u := uint64(bp)
	if bp < 0 {
		sign, u = "-", -u
	}
	s := fmt.Sprintf("%s%d", sign, u/100)
	if f := u % 100; f != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%02d", f), "0")
	}
	return s + "%"
}

// UnmarshalJSON implements the ExtendInfo rules (see ExtendInfo); it never
// returns an error.
func (e *ExtendInfo) UnmarshalJSON(b []byte) error {
	*e = ExtendInfo{}
	b = bytes.TrimSpace(b)
	switch {
	case isEmptyValue(b):
		return nil
	case b[0] == '"':
		if json.Unmarshal(b, &e.Raw) != nil {
			e.Raw = string(b)
			return nil
		}
	case b[0] == '{':
		var buf bytes.Buffer
		if json.Compact(&buf, b) != nil {
			e.Raw = string(b)
			return nil
		}
		e.Raw = buf.String()
	default:
		e.Raw = string(b)
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(strings.TrimSpace(e.Raw)), &m) != nil || m == nil {
		return nil
	}
	e.Parsed = true
	e.OuterPartnerDivRatio, e.HasOuterPartnerDivRatio = ratio(m["outerPartnerDivRatio"])
	e.OuterAdUserDivRatio, e.HasOuterAdUserDivRatio = ratio(m["outerAdUserDivRatio"])
	return nil
}

// MarshalJSON encodes the field as TOP sends it: Raw as a JSON string.
func (e ExtendInfo) MarshalJSON() ([]byte, error) { return json.Marshal(e.Raw) }

// ratio reads a non-negative integer ratio sent as a number or numeric string.
func ratio(raw json.RawMessage) (int64, bool) {
	s, ok, err := scalarText(raw, "a number")
	if !ok || err != nil {
		return 0, false
	}
	n, err := parseInteger(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
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

// kindOf names the JSON kind of a (trimmed) value for errors.
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
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a number"
	}
	return "invalid JSON"
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
