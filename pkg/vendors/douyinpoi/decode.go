package douyinpoi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
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
	body = bytes.TrimSpace(wire.TrimBOM(body))
	if len(body) == 0 || body[0] != '{' {
		return nil, extra, "", wire.Malformed("envelope: want a JSON object, got %s", wire.KindOf(body))
	}
	var env struct {
		Data    json.RawMessage `json:"data"`
		Extra   json.RawMessage `json:"extra"`
		Message FlexString      `json:"message"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, extra, "", wire.Malformed("envelope: %v", err)
	}
	x := bytes.TrimSpace(env.Extra)
	switch {
	case wire.IsNull(x):
	case x[0] != '{':
		return nil, extra, "", wire.Malformed("extra: want an object, got %s", wire.KindOf(x))
	default:
		if err := json.Unmarshal(x, &extra); err != nil {
			return nil, extra, "", wire.Malformed("extra: %v", err)
		}
	}
	d := bytes.TrimSpace(env.Data)
	if wire.IsNull(d) {
		d = nil
	} else if d[0] != '{' {
		return nil, extra, "", wire.Malformed("data: want an object, got %s", wire.KindOf(d))
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
	p, list, err := DecodePaging(body)
	if err != nil || list == nil {
		return p, err
	}
	if p.Plans, err = wire.DecodeList("data.data", list, wire.DecodeObject[Plan]); err != nil {
		return nil, err
	}
	return p, nil
}

// DecodePaging decodes only what paging and the vendor's error envelope need
// (error_code, description, extra, page_count, total) and returns data.data
// as the raw JSON array (nil when null), its plans undecoded: the poller pages
// on it and leaves judging records to the normalizer. Errors are those of
// DecodePage short of the plans' own.
func DecodePaging(body []byte) (*Page, []byte, error) {
	d, extra, _, err := envelope(body)
	if err != nil {
		return nil, nil, err
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
			return nil, nil, wire.Malformed("data: %v", err)
		}
	}
	code, ok := resultCode(data.ErrorCode, extra)
	if !ok {
		return nil, nil, wire.Malformed("envelope: neither data.error_code nor extra.error_code is present")
	}
	if code != 0 {
		return nil, nil, apiError(code, string(data.Description), extra, "")
	}
	if data.PageCount < 0 || data.Total < 0 {
		return nil, nil, wire.Malformed("data: negative page_count (%d) or total (%d)", data.PageCount, data.Total)
	}
	p := &Page{PageCount: int64(data.PageCount), Total: int64(data.Total), Description: string(data.Description), Extra: extra.extra()}
	list := bytes.TrimSpace(data.Data)
	if wire.IsNull(list) {
		return p, nil, nil
	}
	if list[0] != '[' {
		return nil, nil, wire.Malformed("data.data: want an array, got %s", wire.KindOf(list))
	}
	return p, list, nil
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
			return nil, wire.Malformed("token data: %v", err)
		}
	}
	code, ok := resultCode(data.ErrorCode, extra)
	if code != 0 {
		return nil, apiError(code, string(data.Description), extra, message)
	}
	tok := strings.TrimSpace(string(data.AccessToken))
	if tok == "" {
		if !ok {
			return nil, wire.Malformed("token envelope: no error_code and no access_token")
		}
		return nil, wire.Malformed("token envelope: success without an access_token")
	}
	if data.ExpiresIn < 0 {
		return nil, wire.Malformed("token envelope: negative expires_in (%d)", data.ExpiresIn)
	}
	return &Token{AccessToken: tok, ExpiresIn: int64(data.ExpiresIn)}, nil
}

// String describes the token without revealing it.
func (t Token) String() string {
	return fmt.Sprintf("Token{access_token: [REDACTED], expires_in: %d}", t.ExpiresIn)
}

// GoString describes the token without revealing it (for %#v).
func (t Token) GoString() string { return t.String() }
