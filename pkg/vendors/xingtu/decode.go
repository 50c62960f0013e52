package xingtu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// DecodeEnvelope decodes one get_author_order_experience response body:
//
//	{"code":0,"message":null,"data":{…},"recordTime":"2026-11-10 08:00:00","requestId":"…"}
//
// The body must be a JSON object. code is required and may be a JSON integer
// or a string holding one (surrounding spaces and an all-zero fraction such
// as "0.0" allowed); a code other than 0 returns an *APIError (wrapping
// vendors.ErrVendorError) carrying code, message and requestId, and data is
// not looked at. message, recordTime and requestId may be null, a string or
// any other JSON value (kept as its literal text). data may be any JSON
// value; a missing or null data leaves Envelope.Data nil, anything else is
// kept byte-for-byte. A leading UTF-8 byte-order mark is ignored.
//
// Invalid JSON, a non-object body and a missing or non-integer code return an
// error wrapping vendors.ErrMalformedPage.
func DecodeEnvelope(body []byte) (*Envelope, error) {
	b := bytes.TrimSpace(wire.TrimBOM(body))
	if len(b) == 0 || b[0] != '{' {
		return nil, wire.Malformed("envelope: want a JSON object, got %s", wire.KindOf(b))
	}
	var raw struct {
		Code       json.RawMessage `json:"code"`
		Message    json.RawMessage `json:"message"`
		Data       json.RawMessage `json:"data"`
		RecordTime json.RawMessage `json:"recordTime"`
		RequestID  json.RawMessage `json:"requestId"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, wire.Malformed("envelope: %v", err)
	}
	code, err := parseCode(raw.Code)
	if err != nil {
		return nil, wire.Malformed("envelope: %v", err)
	}
	msg, reqID := scalarText(raw.Message), scalarText(raw.RequestID)
	if code != CodeOK {
		return nil, &APIError{Code: code, Message: msg, RequestID: reqID}
	}
	env := &Envelope{Code: code, Message: msg, RecordTime: scalarText(raw.RecordTime), RequestID: reqID}
	if d := bytes.TrimSpace(raw.Data); !wire.IsNull(d) {
		env.Data = d
	}
	return env, nil
}

// parseCode reads the code member: a JSON integer or a string holding one
// (see wire.IntText and wire.ParseInt). Unlike a tolerant integer field the
// code is required: missing, null or blank is an error, and so is a code
// outside int64 ("not an integer" either way).
func parseCode(raw json.RawMessage) (int64, error) {
	if wire.IsNull(raw) {
		return 0, errors.New("no code")
	}
	text, err := wire.IntText(raw)
	if err != nil {
		return 0, fmt.Errorf("code: %v", err)
	}
	n, err := wire.Lax.ParseInt(text)
	if err != nil {
		return 0, fmt.Errorf("code: not an integer: %q", wire.Clip(text, 40))
	}
	return n, nil
}

// scalarText is the text of a tolerant scalar member: "" for missing or
// null, the unescaped value of a string, and the literal JSON text of
// anything else (number, boolean, object, array).
func scalarText(raw json.RawMessage) string {
	b := bytes.TrimSpace(raw)
	if wire.IsNull(b) {
		return ""
	}
	if b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) == nil {
			return s
		}
	}
	return string(b)
}
