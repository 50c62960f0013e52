package xingtu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
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
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	b := bytes.TrimSpace(body)
	if len(b) == 0 || b[0] != '{' {
		return nil, malformed("envelope: want a JSON object, got %s", kindOf(b))
	}
	var raw struct {
		Code       json.RawMessage `json:"code"`
		Message    json.RawMessage `json:"message"`
		Data       json.RawMessage `json:"data"`
		RecordTime json.RawMessage `json:"recordTime"`
		RequestID  json.RawMessage `json:"requestId"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, malformed("envelope: %v", err)
	}
	code, err := parseCode(raw.Code)
	if err != nil {
		return nil, malformed("envelope: %v", err)
	}
	msg, reqID := scalarText(raw.Message), scalarText(raw.RequestID)
	if code != CodeOK {
		return nil, &APIError{Code: code, Message: msg, RequestID: reqID}
	}
	env := &Envelope{Code: code, Message: msg, RecordTime: scalarText(raw.RecordTime), RequestID: reqID}
	if d := bytes.TrimSpace(raw.Data); len(d) > 0 && string(d) != "null" {
		env.Data = d
	}
	return env, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", vendors.ErrMalformedPage, fmt.Sprintf(format, args...))
}

// parseCode reads the code member: a JSON integer or a string holding one.
func parseCode(raw json.RawMessage) (int64, error) {
	b := bytes.TrimSpace(raw)
	var text string
	switch {
	case len(b) == 0 || string(b) == "null":
		return 0, errors.New("no code")
	case b[0] == '"':
		if err := json.Unmarshal(b, &text); err != nil {
			return 0, fmt.Errorf("code: %v", err)
		}
		text = strings.TrimSpace(text)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		text = string(b)
	default:
		return 0, fmt.Errorf("code: want an integer, got %s", kindOf(b))
	}
	n, err := parseInteger(text)
	if err != nil {
		return 0, fmt.Errorf("code: %v", err)
	}
	return n, nil
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
		return 0, fmt.Errorf("not an integer: %q", clip(s, 40))
	}
	return n, nil
}

// scalarText is the text of a tolerant scalar member: "" for missing or
// null, the unescaped value of a string, and the literal JSON text of
// anything else (number, boolean, object, array).
func scalarText(raw json.RawMessage) string {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || string(b) == "null" {
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
