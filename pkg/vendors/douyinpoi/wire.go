package douyinpoi

import (
	"fmt"
	"strings"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// FlexInt is an integer wire scalar: it decodes from null or "" (both 0), a
// JSON integer, or a string holding an integer (surrounding spaces allowed).
// A zero fraction ("12.0") is accepted; any other fraction, an exponent, a
// boolean, an array or an object is a decode error. The value is parsed from
// its literal text, never via float64, so every int64 survives exactly.
type FlexInt int64

// FlexID is an identifier wire scalar: it decodes from a JSON integer (its
// literal text exactly, so 19-digit IDs sent as bare numbers survive), a JSON
// string (trimmed) or null (""). A number with a fraction or an exponent is a
// decode error (its digits were already lost by whoever encoded it); booleans,
// arrays and objects are decode errors too. It encodes as a JSON string.
type FlexID string

// FlexString is a text wire scalar: it decodes from null (""), a JSON string
// (verbatim) or a JSON number (its literal text exactly). Booleans, arrays and
// objects are decode errors. It encodes as a JSON string.
type FlexString string

// Plan is one element of data.data: one general commission plan.
type Plan struct {
	// PlanID is the plan ID (int64 above 2^53, sent as a bare JSON number).
	PlanID FlexID `json:"plan_id"`
	// CommissionRate is the commission rate in 1/10000 (2888 = 28.88%), i.e.
	// basis points.
	CommissionRate FlexInt `json:"commission_rate"`
	// ContentType is the supported promotion scene: 1 live, 2 short video,
	// 3 both [I].
	ContentType FlexInt `json:"content_type"`
	// Status is the plan status code (values undocumented; kept raw).
	Status FlexInt `json:"status"`
	// CreateTime is the creation date as sent: a "2006-01-02" string per the
	// document, or a Unix timestamp number (its literal text) as SDKs model it.
	CreateTime FlexString `json:"create_time"`
}

// Extra is the response's extra object: the platform-level result.
type Extra struct {
	ErrorCode      FlexInt    `json:"error_code"`
	Description    FlexString `json:"description"`
	SubErrorCode   FlexInt    `json:"sub_error_code"`
	SubDescription FlexString `json:"sub_description"`
	LogID          FlexString `json:"logid"`
	// Now is the server time as sent (seconds in the plan API sample,
	// milliseconds in OAuth examples); opaque, see ObservedAt.
	Now FlexString `json:"now"`
}

// Page is one decoded /poi/plan/list/ response that reported success.
type Page struct {
	// Plans are data.data in vendor order (nil when there are none).
	Plans []Plan
	// PageCount is data.page_count, the number of pages.
	PageCount int64
	// Total is data.total, the number of plans of the SPU.
	Total int64
	// Description is data.description (normally "").
	Description string
	// Extra is the extra object (zero when absent).
	Extra Extra
}

// APIError is a Douyin error envelope: a response whose data.error_code or
// extra.error_code is not 0. It unwraps to vendors.ErrVendorError. Its text
// keeps the codes, descriptions and logid (for the platform's troubleshooting
// tool) and never anything from the request.
type APIError struct {
	// Code is the error code (data.error_code, else extra.error_code).
	Code int64
	// Description is data.description, else extra.description.
	Description string
	// SubCode is extra.sub_error_code.
	SubCode int64
	// SubDescription is extra.sub_description.
	SubDescription string
	// LogID is extra.logid.
	LogID string
}

// Error reports the codes, descriptions and logid (descriptions clipped).
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v: error_code %d", vendors.ErrVendorError, e.Code)
	if e.Description != "" {
		fmt.Fprintf(&b, " %q", clip(e.Description, 200))
	}
	if e.SubCode != 0 || e.SubDescription != "" {
		fmt.Fprintf(&b, ", sub_error_code %d", e.SubCode)
		if e.SubDescription != "" {
			fmt.Fprintf(&b, " %q", clip(e.SubDescription, 200))
		}
	}
	if e.LogID != "" {
		fmt.Fprintf(&b, ", logid %s", clip(e.LogID, 80))
	}
	return b.String()
}

// Unwrap makes errors.Is(err, vendors.ErrVendorError) true.
func (e *APIError) Unwrap() error { return vendors.ErrVendorError }

// Token is a decoded client_token answer that reported success.
type Token struct {
	// AccessToken is the client token ("clt.…"). It is a secret.
	AccessToken string
	// ExpiresIn is its lifetime in seconds as sent (0 when absent).
	ExpiresIn int64
}
