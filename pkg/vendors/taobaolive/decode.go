package taobaolive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
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
	p, raws, err := DecodePaging(body)
	if err != nil {
		return nil, err
	}
	if p.Orders, err = wire.DecodeEach("result.model.elements", raws, wire.DecodeObject[Order]); err != nil {
		return nil, err
	}
	return p, nil
}

// DecodePaging decodes only what paging and the vendor's error envelopes need
// (error_response, result.success/msg_code/msg_info, request_id, total_count,
// page_size, page_no) and returns the elements raw, undecoded: the poller
// pages on them and leaves judging records to the normalizer. Errors are those
// of DecodePage short of the records' own.
func DecodePaging(body []byte) (*Page, []json.RawMessage, error) {
	b := bytes.TrimSpace(wire.TrimBOM(body))
	if len(b) == 0 || b[0] != '{' {
		return nil, nil, wire.Malformed("body: want a JSON object, got %s", wire.KindOf(b))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, nil, wire.Malformed("body: %v", err)
	}
	if er, ok := top["error_response"]; ok && !wire.IsEmpty(bytes.TrimSpace(er)) {
		return nil, nil, decodeAPIError(er)
	}
	p := &Page{Shape: ShapeSimplified}
	resp, respRaw := top, b
	if w, ok := top[ResponseKey]; ok {
		p.Shape = ShapeWrapped
		w = bytes.TrimSpace(w)
		if len(w) == 0 || w[0] != '{' {
			return nil, nil, wire.Malformed("%s: want an object, got %s", ResponseKey, wire.KindOf(w))
		}
		resp = nil
		if err := json.Unmarshal(w, &resp); err != nil {
			return nil, nil, wire.Malformed("%s: %v", ResponseKey, err)
		}
		respRaw = w
	}
	var rid FlexString
	if err := json.Unmarshal(orNull(resp["request_id"]), &rid); err != nil {
		return nil, nil, wire.Malformed("request_id: %v", err)
	}
	p.RequestID = string(rid)

	var resultRaw json.RawMessage
	switch {
	case resp["result"] != nil:
		resultRaw = bytes.TrimSpace(resp["result"])
	case resp["model"] != nil || resp["success"] != nil:
		resultRaw = respRaw // the result object itself at the top level
	default:
		return nil, nil, wire.Malformed("no result (want %s.result, result or model)", ResponseKey)
	}
	if !wire.IsEmpty(resultRaw) && resultRaw[0] != '{' {
		return nil, nil, wire.Malformed("result: want an object, got %s", wire.KindOf(resultRaw))
	}
	var result struct {
		Success json.RawMessage `json:"success"`
		MsgCode FlexString      `json:"msg_code"`
		MsgInfo FlexString      `json:"msg_info"`
		Model   json.RawMessage `json:"model"`
	}
	if !wire.IsEmpty(resultRaw) {
		if err := json.Unmarshal(resultRaw, &result); err != nil {
			return nil, nil, wire.Malformed("result: %v", err)
		}
	}
	p.MsgCode, p.MsgInfo = string(result.MsgCode), string(result.MsgInfo)
	success, present, err := parseBool(result.Success)
	if err != nil {
		return nil, nil, wire.Malformed("result.success: %v", err)
	}
	model := bytes.TrimSpace(result.Model)
	switch {
	case present && !success:
		return nil, nil, &BusinessError{MsgCode: p.MsgCode, MsgInfo: p.MsgInfo, RequestID: p.RequestID}
	case !present && wire.IsEmpty(model):
		if strings.TrimSpace(p.MsgCode) != "" || strings.TrimSpace(p.MsgInfo) != "" {
			return nil, nil, &BusinessError{MsgCode: p.MsgCode, MsgInfo: p.MsgInfo, RequestID: p.RequestID}
		}
		return nil, nil, wire.Malformed("result has neither success nor model")
	}
	if wire.IsEmpty(model) {
		return p, nil, nil
	}
	if model[0] != '{' {
		return nil, nil, wire.Malformed("result.model: want an object, got %s", wire.KindOf(model))
	}
	var m struct {
		TotalCount json.RawMessage `json:"total_count"`
		PageSize   FlexInt         `json:"page_size"`
		PageNo     FlexInt         `json:"page_no"`
		Elements   json.RawMessage `json:"elements"`
	}
	if err := json.Unmarshal(model, &m); err != nil {
		return nil, nil, wire.Malformed("result.model: %v", err)
	}
	if tc := bytes.TrimSpace(m.TotalCount); !wire.IsEmpty(tc) {
		var n FlexInt
		if err := json.Unmarshal(tc, &n); err != nil {
			return nil, nil, wire.Malformed("result.model.total_count: %v", err)
		}
		p.TotalCount, p.HasTotalCount = int64(n), true
	}
	p.PageSize, p.PageNo = int64(m.PageSize), int64(m.PageNo)
	if p.TotalCount < 0 || p.PageSize < 0 || p.PageNo < 0 {
		return nil, nil, wire.Malformed("result.model: negative total_count, page_size or page_no (%d, %d, %d)", p.TotalCount, p.PageSize, p.PageNo)
	}
	raws, err := elementList(bytes.TrimSpace(m.Elements))
	if err != nil {
		return nil, nil, err
	}
	return p, raws, nil
}

// elementList returns the raw elements of model.elements in any accepted shape.
func elementList(e []byte) ([]json.RawMessage, error) {
	if wire.IsEmpty(e) {
		return nil, nil
	}
	list := func(b []byte, where string) ([]json.RawMessage, error) {
		var raws []json.RawMessage
		if err := json.Unmarshal(b, &raws); err != nil {
			return nil, wire.Malformed("%s: %v", where, err)
		}
		return raws, nil
	}
	switch e[0] {
	case '[':
		return list(e, "result.model.elements")
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(e, &obj); err != nil {
			return nil, wire.Malformed("result.model.elements: %v", err)
		}
		inner, ok := obj[ElementKey]
		if !ok {
			keys := make([]string, 0, len(obj))
			for k := range obj {
				keys = append(keys, strconv.Quote(wire.Clip(k, 40)))
			}
			sort.Strings(keys)
			return nil, wire.Malformed("result.model.elements: want an array or {%q: [...]}, got an object with %s", ElementKey, wire.Clip(strings.Join(keys, ", "), 200))
		}
		inner = bytes.TrimSpace(inner)
		switch {
		case wire.IsEmpty(inner):
			return nil, nil
		case inner[0] == '[':
			return list(inner, "result.model.elements."+ElementKey)
		case inner[0] == '{':
			return []json.RawMessage{inner}, nil // a single element (XML-to-JSON style)
		}
		return nil, wire.Malformed("result.model.elements.%s: want an array, got %s", ElementKey, wire.KindOf(inner))
	}
	return nil, wire.Malformed("result.model.elements: want an array or an object, got %s", wire.KindOf(e))
}

// decodeAPIError decodes an error_response member.
func decodeAPIError(raw json.RawMessage) error {
	b := bytes.TrimSpace(raw)
	if b[0] != '{' {
		return wire.Malformed("error_response: want an object, got %s", wire.KindOf(b))
	}
	var e struct {
		Code      FlexString `json:"code"`
		Msg       FlexString `json:"msg"`
		SubCode   FlexString `json:"sub_code"`
		SubMsg    FlexString `json:"sub_msg"`
		RequestID FlexString `json:"request_id"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return wire.Malformed("error_response: %v", err)
	}
	return &APIError{
		Code: strings.TrimSpace(string(e.Code)), Msg: string(e.Msg),
		SubCode: strings.TrimSpace(string(e.SubCode)), SubMsg: string(e.SubMsg), RequestID: string(e.RequestID),
	}
}

// parseBool reads a tolerant boolean: true/false, "true"/"false" (any case),
// 1/0 or "1"/"0". present is false for absent, null or "".
func parseBool(raw json.RawMessage) (val, present bool, err error) {
	b := bytes.TrimSpace(raw)
	if wire.IsNull(b) || string(b) == `""` {
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
	return false, false, fmt.Errorf("want a boolean, got %s", wire.Clip(string(b), 40))
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 {
		return json.RawMessage("null")
	}
	return b
}

// scalarText returns the text of a JSON string or number literal, ok=false
// for an empty value, and an error for other kinds.
func scalarText(b []byte, want string) (string, bool, error) {
	b = bytes.TrimSpace(b)
	if wire.IsEmpty(b) {
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
	return "", false, fmt.Errorf("want %s, got %s", want, wire.KindOf(b))
}

// UnmarshalJSON implements the Yuan decoding rules (see Yuan).
func (y *Yuan) UnmarshalJSON(b []byte) error { return decodeScaled(y, b, "a yuan amount", ParseYuan) }

// MarshalJSON encodes the amount as a yuan string with two decimals.
func (y Yuan) MarshalJSON() ([]byte, error) { return json.Marshal(FormatYuan(int64(y))) }

// UnmarshalJSON implements the Percent decoding rules (see Percent).
func (p *Percent) UnmarshalJSON(b []byte) error {
	return decodeScaled(p, b, "a percentage", ParsePercent)
}

// decodeScaled decodes a Yuan or a Percent: an empty value (see scalarText)
// is 0, a string or number goes through parse; on error *dst is left alone.
func decodeScaled[T ~int64](dst *T, b []byte, want string, parse func(string) (int64, error)) error {
	s, ok, err := scalarText(b, want)
	if err != nil {
		return err
	}
	var n int64
	if ok {
		if n, err = parse(s); err != nil {
			return err
		}
	}
	*dst = T(n)
	return nil
}

// MarshalJSON encodes the rate as a percentage string such as "10.5%".
func (p Percent) MarshalJSON() ([]byte, error) { return json.Marshal(FormatPercent(int64(p))) }

// parseCents parses an unsigned decimal with at most two significant
// decimals into hundredths ("12.5" → 1250).
func parseCents(t, what string) (int64, error) {
	intPart, frac, hasDot := strings.Cut(t, ".")
	if intPart == "" || !allDigits(intPart) || (hasDot && (frac == "" || !allDigits(frac))) {
		return 0, fmt.Errorf("%q is not a decimal %s", wire.Clip(t, 40), what)
	}
	if len(frac) > 2 {
		if strings.Trim(frac[2:], "0") != "" {
			return 0, fmt.Errorf("%q has more than two decimals (not representable exactly as a %s)", wire.Clip(t, 40), what)
		}
		frac = frac[:2]
	}
	frac += strings.Repeat("0", 2-len(frac))
	c := int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || n > (math.MaxInt64-c)/100 {
		return 0, fmt.Errorf("%q is out of range", wire.Clip(t, 40))
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
	case wire.IsEmpty(b):
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
	n, err := wire.Lax.ParseInt(strings.TrimSpace(s))
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
