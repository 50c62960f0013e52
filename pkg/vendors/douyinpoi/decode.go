package douyinpoi

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

// wireExtra is Extra with the error code's presence kept (nil = absent or null).
type wireExtra struct {
	ErrorCode      *FlexInt   `json:"error_code"`
	Description    FlexString `json:"description"`
	SubErrorCode   FlexInt    `json:"sub_error_code"`
	SubDescription FlexString `json:"sub_description"`
	LogID          FlexString `json:"logid"`
	Now            FlexString `json:"now"`
}

func (w wireExtra) extra() Extra {
	e := Extra{Description: w.Description, SubErrorCode: w.SubErrorCode, SubDescription: w.SubDescription, LogID: w.LogID, Now: w.Now}
	if w.ErrorCode != nil {
		e.ErrorCode = *w.ErrorCode
	}
	return e
}

// envelope splits a Douyin answer into its data and extra members. The body
// must be a JSON object; a leading UTF-8 byte-order mark is ignored. extra is
// decoded when present (null, absent or "" give the zero value).
func envelope(body []byte) (data json.RawMessage, extra wireExtra, message string, err error) {
	body = bytes.TrimSpace(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	if len(body) == 0 || body[0] != '{' {
		return nil, extra, "", malformed("envelope: want a JSON object, got %s", kindOf(body))
	}
	var env struct {
		Data    json.RawMessage `json:"data"`
		Extra   json.RawMessage `json:"extra"`
		Message FlexString      `json:"message"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, extra, "", malformed("envelope: %v", err)
	}
	x := bytes.TrimSpace(env.Extra)
	switch {
	case isNothing(x):
	case x[0] != '{':
		return nil, extra, "", malformed("extra: want an object, got %s", kindOf(x))
	default:
		if err := json.Unmarshal(x, &extra); err != nil {
			return nil, extra, "", malformed("extra: %v", err)
		}
	}
	d := bytes.TrimSpace(env.Data)
	if isNothing(d) {
		d = nil
	} else if d[0] != '{' {
		return nil, extra, "", malformed("data: want an object, got %s", kindOf(d))
	}
	return d, extra, string(env.Message), nil
}

// resultCode combines data.error_code and extra.error_code: the first
// non-zero one wins; 0 if both are 0 or one is 0 and the other absent. ok is
// false when neither is present.
func resultCode(dataCode *FlexInt, extra wireExtra) (code int64, ok bool) {
	switch {
	case dataCode != nil && *dataCode != 0:
		return int64(*dataCode), true
	case extra.ErrorCode != nil && *extra.ErrorCode != 0:
		return int64(*extra.ErrorCode), true
	}
	return 0, dataCode != nil || extra.ErrorCode != nil
}

func apiError(code int64, dataDesc string, extra wireExtra, fallback string) *APIError {
	desc := strings.TrimSpace(dataDesc)
	if desc == "" {
		desc = strings.TrimSpace(string(extra.Description))
	}
	if desc == "" {
		desc = strings.TrimSpace(fallback)
	}
	return &APIError{
		Code: code, Description: desc,
		SubCode: int64(extra.SubErrorCode), SubDescription: strings.TrimSpace(string(extra.SubDescription)),
		LogID: strings.TrimSpace(string(extra.LogID)),
	}
}

// DecodePage decodes one /poi/plan/list/ response body:
//
//	{"data":{"data":[{plan}],"page_count":1,"total":8,"error_code":0,"description":""},
//	 "extra":{"error_code":0,"description":"","sub_error_code":0,"sub_description":"","logid":"…","now":1650969933}}
//
// Success means data.error_code is 0 and extra.error_code (when present) is 0
// too; at least one of them must be present. A non-zero code returns an
// *APIError (wrapping vendors.ErrVendorError) carrying the code, the
// descriptions, the sub code and the logid; data.data is not looked at then.
// Anything else that does not fit (invalid JSON, a non-object body, data or
// extra of the wrong shape, a plan that is not an object or has a field of the
// wrong type) returns an error wrapping vendors.ErrMalformedPage that names
// the offending part. A missing or null data.data means no plans.
func DecodePage(body []byte) (*Page, error) {
	d, extra, _, err := envelope(body)
	if err != nil {
		return nil, err
	}
	var data struct {
		Data        json.RawMessage `json:"data"`
		PageCount   FlexInt         `json:"page_count"`
		Total       FlexInt         `json:"total"`
		ErrorCode   *FlexInt        `json:"error_code"`
		Description FlexString      `json:"description"`
	}
	if d != nil {
		if err := json.Unmarshal(d, &data); err != nil {
			return nil, malformed("data: %v", err)
		}
	}
	code, ok := resultCode(data.ErrorCode, extra)
	if !ok {
		return nil, malformed("envelope: neither data.error_code nor extra.error_code is present")
	}
	if code != 0 {
		return nil, apiError(code, string(data.Description), extra, "")
	}
	if data.PageCount < 0 || data.Total < 0 {
		return nil, malformed("data: negative page_count (%d) or total (%d)", data.PageCount, data.Total)
	}
	p := &Page{PageCount: int64(data.PageCount), Total: int64(data.Total), Description: string(data.Description), Extra: extra.extra()}
	list := bytes.TrimSpace(data.Data)
	if isNothing(list) {
		return p, nil
	}
	if list[0] != '[' {
		return nil, malformed("data.data: want an array, got %s", kindOf(list))
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(list, &raws); err != nil {
		return nil, malformed("data.data: %v", err)
	}
	if len(raws) == 0 {
		return p, nil
	}
	p.Plans = make([]Plan, 0, len(raws))
	for i, r := range raws {
		pl, err := decodePlan(r)
		if err != nil {
			return nil, malformed("data.data[%d]: %v", i, err)
		}
		p.Plans = append(p.Plans, pl)
	}
	return p, nil
}

// decodePlan decodes one element of data.data; on failure it names the field.
func decodePlan(raw json.RawMessage) (Plan, error) {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || b[0] != '{' {
		return Plan{}, fmt.Errorf("want an object, got %s", kindOf(b))
	}
	var pl Plan
	err := json.Unmarshal(b, &pl)
	if err == nil {
		return pl, nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(b, &fields) != nil {
		return Plan{}, err
	}
	t := reflect.TypeFor[Plan]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		v, ok := fields[name]
		if !ok {
			continue
		}
		if ferr := json.Unmarshal(v, reflect.New(f.Type).Interface()); ferr != nil {
			return Plan{}, fmt.Errorf("field %s: %v", name, ferr)
		}
	}
	return Plan{}, err
}

// DecodeToken decodes one POST /oauth/client_token/ response body:
//
//	{"data":{"access_token":"clt.…","expires_in":7200,"error_code":0,"description":""},"message":"success"}
//
// A non-zero data.error_code (or extra.error_code) returns an *APIError. A
// success without an access_token, or a body that is not that envelope,
// returns an error wrapping vendors.ErrMalformedPage. No error ever contains
// the token.
func DecodeToken(body []byte) (*Token, error) {
	d, extra, message, err := envelope(body)
	if err != nil {
		return nil, err
	}
	var data struct {
		AccessToken FlexString `json:"access_token"`
		ExpiresIn   FlexInt    `json:"expires_in"`
		ErrorCode   *FlexInt   `json:"error_code"`
		Description FlexString `json:"description"`
	}
	if d != nil {
		if err := json.Unmarshal(d, &data); err != nil {
			// the decoder's messages name types, never values: no token leaks
			return nil, malformed("token data: %v", err)
		}
	}
	code, ok := resultCode(data.ErrorCode, extra)
	if code != 0 {
		return nil, apiError(code, string(data.Description), extra, message)
	}
	tok := strings.TrimSpace(string(data.AccessToken))
	if tok == "" {
		if !ok {
			return nil, malformed("token envelope: no error_code and no access_token")
		}
		return nil, malformed("token envelope: success without an access_token")
	}
	if data.ExpiresIn < 0 {
		return nil, malformed("token envelope: negative expires_in (%d)", data.ExpiresIn)
	}
	return &Token{AccessToken: tok, ExpiresIn: int64(data.ExpiresIn)}, nil
}

// String describes the token without revealing it.
func (t Token) String() string {
	return fmt.Sprintf("Token{access_token: [REDACTED], expires_in: %d}", t.ExpiresIn)
}

// GoString describes the token without revealing it (for %#v).
func (t Token) GoString() string { return t.String() }

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", vendors.ErrMalformedPage, fmt.Sprintf(format, args...))
}

// UnmarshalJSON implements the FlexInt decoding rules (see FlexInt).
func (v *FlexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	var text string
	switch {
	case len(b) == 0 || string(b) == "null":
		*v = 0
		return nil
	case b[0] == '"':
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
		if text = strings.TrimSpace(text); text == "" {
			*v = 0
			return nil
		}
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
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
		if frac := t[i+1:]; frac == "" || strings.Trim(frac, "0") != "" {
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

// UnmarshalJSON implements the FlexID decoding rules (see FlexID).
func (v *FlexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*v = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = FlexID(strings.TrimSpace(s))
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		if bytes.ContainsAny(b, ".eE") {
			return fmt.Errorf("ID %q is not an integer literal (digits lost upstream)", clip(string(b), 40))
		}
		*v = FlexID(b)
	default:
		return fmt.Errorf("want an ID, got %s", kindOf(b))
	}
	return nil
}

// UnmarshalJSON implements the FlexString decoding rules (see FlexString).
func (v *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*v = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = FlexString(s)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*v = FlexString(b)
	default:
		return fmt.Errorf("want a string or number, got %s", kindOf(b))
	}
	return nil
}

// isNothing reports an absent or null JSON value.
func isNothing(b []byte) bool { return len(b) == 0 || string(b) == "null" }

// kindOf names the JSON kind of b for error messages.
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
