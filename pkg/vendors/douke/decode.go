package douke

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
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
	if p, ok := decodePageFast(wire.TrimBOM(body)); ok {
		return p, nil
	}
	return decodePageReference(body)
}

// decodePageReference is DecodePage through encoding/json: the reference
// decodePageFast is checked against, and the path of every page that
// reader leaves (errors included).
func decodePageReference(body []byte) (*Page, error) {
	if p, err, ok := decodePageOnePass(body); ok {
		return p, err
	}
	return decodePageInParts(body)
}

// decodePageInParts is DecodePage reading the envelope, data and the order
// list one after the other (DecodePaging, then wire.DecodeList): it gives
// every error its precise text.
func decodePageInParts(body []byte) (*Page, error) {
	p, orders, err := decodePagingReference(wire.TrimBOM(body))
	if err != nil || orders == nil {
		return p, err
	}
	if p.Orders, err = wire.DecodeList("data.orders", orders, decodeOrder); err != nil {
		return nil, err
	}
	return p, nil
}

// onePassOrder is one element of data.orders decoded where it lies: its
// Order, or the error decodeOrder gave it (the page's decoding goes on).
type onePassOrder struct {
	order Order
	err   error
}

// UnmarshalJSON keeps decodeOrder's outcome for b; it never fails.
func (e *onePassOrder) UnmarshalJSON(b []byte) error {
	e.order, e.err = decodeOrder(b)
	return nil
}

// decodePageOnePass is DecodePage for the common page, decoded in one pass
// (decodePageInParts validates and scans the page three times before it
// decodes each order). ok is false whenever the two could differ, and the
// caller then decodes in parts: a body that does not decode this way (its
// errors are decodePageInParts'), a vendor error, a page whose top-level
// data member is repeated (or may be: see wire.MemberOnce), where a struct
// would merge the repeats and DecodePaging keeps the last. Otherwise page
// and err are what decodePageInParts returns: each order decoded from the
// same bytes by decodeOrder, and wire.CollectEach building the same
// *wire.ListError for the orders that do not decode.
func decodePageOnePass(body []byte) (page *Page, err error, ok bool) {
	body = wire.TrimBOM(body)
	if !wire.MemberOnce(body, "data") {
		return nil, nil, false
	}
	// The common page: every order decodes, straight into the page's slice
	// (no order is scanned again on its own).
	if env, ok := decodeEnvelopeOnce[Order](body); ok {
		p := env.page()
		if env.Data != nil && len(env.Data.Orders) > 0 {
			p.Orders = env.Data.Orders
		}
		return p, nil, true
	}
	env, ok := decodeEnvelopeOnce[onePassOrder](body)
	if !ok {
		return nil, nil, false
	}
	p := env.page()
	if env.Data == nil {
		return p, nil, true
	}
	orders := env.Data.Orders
	if p.Orders, err = wire.CollectEach("data.orders", len(orders), func(i int) (Order, error) { return orders[i].order, orders[i].err }); err != nil {
		return nil, err, true
	}
	return p, nil, true
}

// onePassEnvelope is a douke page decoded in one pass with orders of type O.
type onePassEnvelope[O any] struct {
	Error json.RawMessage `json:"error"`
	Msg   FlexString      `json:"msg"`
	Data  *struct {
		Cursor FlexString `json:"cursor"`
		Orders []O        `json:"orders"`
	} `json:"data"`
	RequestID FlexString `json:"request_id"`
}

// decodeEnvelopeOnce decodes body as a successful page with orders of type
// O; ok is false when it does not decode so or is a vendor error.
func decodeEnvelopeOnce[O any](body []byte) (*onePassEnvelope[O], bool) {
	var env onePassEnvelope[O]
	if json.Unmarshal(body, &env) != nil {
		return nil, false
	}
	if code, err := errorCode(env.Error); err != nil || code != "0" {
		return nil, false
	}
	return &env, true
}

// page is the Page of env without its orders (and with the cursor).
func (env *onePassEnvelope[O]) page() *Page {
	p := &Page{Error: "0", Msg: string(env.Msg), RequestID: string(env.RequestID)}
	if env.Data != nil {
		p.Cursor = string(env.Data.Cursor)
	}
	return p
}

// DecodePaging decodes only what paging and the vendor's error envelope need
// (error code, msg, request_id, data.cursor) and returns data.orders as the
// raw JSON array (nil for a page without orders), its records undecoded: the
// poller pages on it and leaves judging records to the normalizer. Errors are
// those of DecodePage short of the records' own.
func DecodePaging(body []byte) (*Page, []byte, error) {
	body = wire.TrimBOM(body)
	if p, orders, _, ok := decodePagingFast(body); ok {
		return p, orders, nil
	}
	return decodePagingReference(body)
}

// decodePagingReference is DecodePaging through encoding/json: the
// reference decodePagingFast is checked against, and the path of every
// answer that reader leaves (errors included).
func decodePagingReference(body []byte) (*Page, []byte, error) {
	var env struct {
		Error     json.RawMessage `json:"error"`
		Msg       FlexString      `json:"msg"`
		Data      json.RawMessage `json:"data"`
		RequestID FlexString      `json:"request_id"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, nil, wire.Malformed("envelope: %v", err)
	}
	code, err := errorCode(env.Error)
	if err != nil {
		return nil, nil, wire.Malformed("envelope: %v", err)
	}
	if code != "0" {
		return nil, nil, &APIError{Code: code, Msg: string(env.Msg), RequestID: string(env.RequestID)}
	}
	p := &Page{Error: code, Msg: string(env.Msg), RequestID: string(env.RequestID)}
	d := bytes.TrimSpace(env.Data)
	if wire.IsEmpty(d) {
		return p, nil, nil
	}
	if d[0] != '{' {
		return nil, nil, wire.Malformed("data: want an object, got %s", wire.KindOf(d))
	}
	var data struct {
		Cursor FlexString      `json:"cursor"`
		Orders json.RawMessage `json:"orders"`
	}
	if err := json.Unmarshal(d, &data); err != nil {
		return nil, nil, wire.Malformed("data: %v", err)
	}
	p.Cursor = string(data.Cursor)
	o := bytes.TrimSpace(data.Orders)
	if wire.IsEmpty(o) {
		return p, nil, nil
	}
	if o[0] != '[' {
		return nil, nil, wire.Malformed("data.orders: want an array, got %s", wire.KindOf(o))
	}
	return p, o, nil
}

// errorCode reads the envelope's error member: a string (trimmed) or a number
// (its literal text).
func errorCode(raw json.RawMessage) (string, error) {
	b := bytes.TrimSpace(raw)
	switch {
	case wire.IsNull(b):
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
	return "", fmt.Errorf("error code: want a string or number, got %s", wire.KindOf(b))
}

// decodeOrder decodes one element of data.orders: null is the zero Order,
// anything else must be an object (see wire.DecodeObject).
func decodeOrder(raw []byte) (Order, error) {
	if wire.IsNull(raw) {
		return Order{}, nil
	}
	return wire.DecodeObject[Order](raw)
}

// UnmarshalJSON decodes pid_info from an object, from null, "", [] or {} (the
// zero PIDInfo), or from a string holding a JSON object.
func (p *PIDInfo) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if wire.IsEmpty(b) {
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
			return fmt.Errorf("pid_info: want an object, got string %q", wire.Clip(s, 40))
		}
		b = inner
	}
	if b[0] != '{' {
		return fmt.Errorf("pid_info: want an object, got %s", wire.KindOf(b))
	}
	type plain PIDInfo
	var q plain
	if err := json.Unmarshal(b, &q); err != nil {
		return fmt.Errorf("pid_info: %v", err)
	}
	*p = PIDInfo(q)
	return nil
}
