package douyinpoi

import (
	"fmt"
	"strings"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// The Flex types are the vendor's own named types over the shared wire types
// (rather than aliases) so that the package's API and the decoder's error
// texts, which name Go types, stay what they were.

// FlexInt is the integer wire scalar with the wire.Int rules: it decodes from
// null or "" (both 0), a JSON integer or a string holding one, exactly (never
// via float64); booleans, arrays and objects are decode errors.
type FlexInt wire.Int

// UnmarshalJSON implements the wire.Int decoding rules.
func (v *FlexInt) UnmarshalJSON(b []byte) error { return (*wire.Int)(v).UnmarshalJSON(b) }

// FlexID is the identifier wire scalar with the wire.ID rules: it decodes from
// a JSON integer (its literal text exactly, so 19-digit IDs sent as bare
// numbers survive), a JSON string (trimmed) or null (""); a number with a
// fraction or an exponent is a decode error. It encodes as a JSON string.
type FlexID wire.ID

// UnmarshalJSON implements the wire.ID decoding rules.
func (v *FlexID) UnmarshalJSON(b []byte) error { return (*wire.ID)(v).UnmarshalJSON(b) }

// FlexString is the text wire scalar with the wire.String rules: it decodes
// from null (""), a JSON string (verbatim) or a JSON number (its literal text
// exactly); booleans, arrays and objects are decode errors.
type FlexString wire.String

// UnmarshalJSON implements the wire.String decoding rules.
func (v *FlexString) UnmarshalJSON(b []byte) error { return (*wire.String)(v).UnmarshalJSON(b) }

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
		fmt.Fprintf(&b, " %q", wire.Clip(e.Description, 200))
	}
	if e.SubCode != 0 || e.SubDescription != "" {
		fmt.Fprintf(&b, ", sub_error_code %d", e.SubCode)
		if e.SubDescription != "" {
			fmt.Fprintf(&b, " %q", wire.Clip(e.SubDescription, 200))
		}
	}
	if e.LogID != "" {
		fmt.Fprintf(&b, ", logid %s", wire.Clip(e.LogID, 80))
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
