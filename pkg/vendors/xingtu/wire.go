package xingtu

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// JustOneAPI's envelope codes (PROTOCOL-NOTES.md §4, from justoneapi-mcp's
// error table). Only CodeOK means success. The enum also lists 101, 300, 404,
// 503 and 602 with unknown meanings; they are treated like any unknown code.
const (
	// CodeOK is success.
	CodeOK = 0
	// CodeInvalidToken is "invalid or inactive token".
	CodeInvalidToken = 100
	// CodeNotSupported is the endpoint-specific "not supported".
	CodeNotSupported = 202
	// CodeCollectionFailed is "collection failed" (the upstream scrape failed; retry).
	CodeCollectionFailed = 301
	// CodeRateLimited is "rate limited".
	CodeRateLimited = 302
	// CodeDailyQuota is "daily quota exceeded".
	CodeDailyQuota = 303
	// CodeValidation is "validation error" (bad parameters).
	CodeValidation = 400
	// CodeInternal is "internal error".
	CodeInternal = 500
	// CodePermissionDenied is "permission denied".
	CodePermissionDenied = 600
	// CodeInsufficientBalance is "insufficient balance" (the prepaid balance is used up).
	CodeInsufficientBalance = 601
)

// codeMeanings describes the known codes for error messages.
var codeMeanings = map[int64]string{
	CodeInvalidToken:        "invalid or inactive token",
	CodeNotSupported:        "not supported",
	CodeCollectionFailed:    "collection failed",
	CodeRateLimited:         "rate limited",
	CodeDailyQuota:          "daily quota exceeded",
	CodeValidation:          "validation error",
	CodeInternal:            "internal error",
	CodePermissionDenied:    "permission denied",
	CodeInsufficientBalance: "insufficient balance",
}

// CodeMeaning describes a JustOneAPI code ("unknown code" for codes without a
// documented meaning).
func CodeMeaning(code int64) string {
	if m, ok := codeMeanings[code]; ok {
		return m
	}
	return "unknown code"
}

// Envelope is one decoded JustOneAPI response whose code was CodeOK.
type Envelope struct {
	// Code is the envelope's code: always CodeOK on a decoded Envelope.
	Code int64
	// Message is the envelope's message ("" when null or missing).
	Message string
	// Data is the data member's exact bytes; nil when it is missing or null.
	Data json.RawMessage
	// RecordTime is the recordTime member as text ("" when null or missing);
	// normally "2006-01-02 15:04:05" (China Standard Time) or RFC 3339.
	RecordTime string
	// RequestID is the requestId member as text.
	RequestID string
}

// APIError is a JustOneAPI error envelope: a response whose code is not
// CodeOK. It unwraps to vendors.ErrVendorError.
type APIError struct {
	// Code is the envelope's code.
	Code int64
	// Message is the envelope's message, verbatim ("" when null).
	Message string
	// RequestID is the envelope's requestId, if any.
	RequestID string
}

// Error reports the code, its meaning, the message (clipped to 300 bytes) and
// the request ID.
func (e *APIError) Error() string {
	s := fmt.Sprintf("%v: code %d (%s)", vendors.ErrVendorError, e.Code, CodeMeaning(e.Code))
	if e.Message != "" {
		s += ": " + strconv.Quote(wire.Clip(e.Message, 300))
	}
	if e.RequestID != "" {
		s += ", requestId " + strconv.Quote(wire.Clip(e.RequestID, 100))
	}
	return s
}

// Unwrap makes errors.Is(err, vendors.ErrVendorError) true.
func (e *APIError) Unwrap() error { return vendors.ErrVendorError }
