// Package events is yongjin's public contract: the canonical event envelope, the
// version-1 event payloads (Order, CommissionLine), their NATS subjects, their
// deterministic IDs and the JSON Schemas that describe them.
//
// Everything a downstream subscriber needs to consume yongjin's stream lives
// here; nothing in this package depends on a vendor, on NATS or on ClickHouse.
//
// Conventions shared by every payload:
//   - money is an int64 amount in fen (1/100 CNY) next to an ISO 4217 currency;
//   - rates are integers in basis points (1/10000: 3500 = 35%);
//   - identifiers are strings (vendor IDs exceed 2^53 and must survive exactly);
//   - times are RFC 3339 in UTC; vendor wall-clock times (Asia/Shanghai) are
//     converted before they enter an event.
package events

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SpecVersion is the CloudEvents specification version the envelope follows.
const SpecVersion = "1.0"

// DataContentType is the content type of every event's data.
const DataContentType = "application/json"

// ContentTypeHeader is the exact (case-sensitive on NATS) name of the header
// that carries StructuredContentType on every event message.
const ContentTypeHeader = "Content-Type"

// StructuredContentType marks a message as a CloudEvents structured-mode
// message in the JSON event format: the whole envelope is the body. Event
// messages carry no ce-* headers (those belong to binary mode).
const StructuredContentType = "application/cloudevents+json"

// Kind names a family of canonical events. A Kind with its Version forms the
// event type (e.g. "order.v1").
type Kind string

// The canonical event kinds.
const (
	KindOrder      Kind = "order"
	KindCommission Kind = "commission"
	// KindCommissionPlan is a platform commission plan (reference data).
	KindCommissionPlan Kind = "commission_plan"
	// KindCreatorExperience is a snapshot of a creator's order-experience indicators.
	KindCreatorExperience Kind = "creator_experience"
)

// Kinds lists every kind this version emits.
var Kinds = []Kind{KindOrder, KindCommission, KindCommissionPlan, KindCreatorExperience}

// Version is the schema version of the events this package emits.
const Version = "v1"

// Type is the CloudEvents "type" of an event of kind k, e.g. "order.v1".
func Type(k Kind) string {
	switch k { // the constants, so building an envelope allocates no type string
	case KindOrder:
		return string(KindOrder) + "." + Version
	case KindCommission:
		return string(KindCommission) + "." + Version
	}
	return string(k) + "." + Version
}

// SubjectPrefix is the NATS subject prefix of all canonical events. Subjects
// are SubjectPrefix.<kind>.<version>.<vendor>, e.g. yongjin.events.order.v1.douke,
// so subscribers can filter with wildcards (yongjin.events.*.v1.douke,
// yongjin.events.order.>).
const SubjectPrefix = "yongjin.events"

// Subject is the NATS subject on which events of kind k from vendor are published.
func Subject(k Kind, vendor string) string {
	return SubjectPrefix + "." + string(k) + "." + Version + "." + vendor
}

// Envelope is a canonical event: CloudEvents 1.0 attributes in their JSON
// format plus yongjin's extension attributes, with the payload in Data.
type Envelope struct {
	// SpecVersion is always "1.0".
	SpecVersion string `json:"specversion"`
	// ID is deterministic: the same vendor record seen by the same account at
	// the same vendor version always gets the same ID (see NewID). It is also
	// the JetStream Nats-Msg-Id.
	ID string `json:"id"`
	// Type is "<kind>.<version>", e.g. "order.v1".
	Type string `json:"type"`
	// Source identifies the producer: "yongjin/<vendor>/<account>".
	Source string `json:"source"`
	// Subject is the natural key of the record inside the source, e.g. the order ID.
	Subject string `json:"subject"`
	// Time is when the vendor last changed the record (its version time), UTC.
	Time time.Time `json:"time"`
	// DataContentType is always "application/json".
	DataContentType string `json:"datacontenttype"`
	// DataSchema names the JSON Schema of Data, e.g. "https://yongjin.dev/schemas/order.v1.json".
	DataSchema string `json:"dataschema"`
	// Data is the payload: an Order or a CommissionLine encoded as JSON.
	Data json.RawMessage `json:"data"`
	// Payload, when not nil, is the payload already decoded (an *Order,
	// *CommissionLine, *CommissionPlan or *CreatorOrderExperience, see
	// DecodeMessage); Decode returns it instead of decoding Data. It is
	// never encoded.
	Payload any `json:"-"`
}

// SchemaURI is the identifier of the JSON Schema of kind k.
func SchemaURI(k Kind) string {
	switch k {
	case KindOrder:
		return schemaBase + string(KindOrder) + "." + Version + ".json"
	case KindCommission:
		return schemaBase + string(KindCommission) + "." + Version + ".json"
	}
	return schemaBase + Type(k) + ".json"
}

const schemaBase = "https://yongjin.dev/schemas/"

// Kind reports the event's kind from its type ("order.v1" → KindOrder).
func (e Envelope) Kind() Kind {
	k, _, _ := strings.Cut(e.Type, ".")
	return Kind(k)
}

// NewID returns the deterministic event ID of a record as one account saw
// it: the same kind, vendor, account, natural key and version always give
// the same ID, and any difference gives a different one. The account is part
// of it because two accounts may see the same order, each with its own
// commission: JetStream must keep both accounts' events (see docs/EVENTS.md,
// "One order, several accounts"). version is the vendor's update marker (for
// orders the update time in Unix milliseconds).
func NewID(k Kind, vendor, account, key string, version int64) string {
	var stack [256]byte
	in := append(stack[:0], k...)
	in = append(in, "."+Version+"\x00"...)
	in = append(in, vendor...)
	in = append(in, 0)
	in = append(in, account...)
	in = append(in, 0)
	in = append(in, key...)
	in = append(in, 0)
	in = strconv.AppendInt(in, version, 10)
	sum := sha256.Sum256(in)
	var id [32]byte
	hex.Encode(id[:], sum[:16])
	return string(id[:])
}

// Source is the envelope source of events from one vendor account.
func Source(vendor, account string) string { return "yongjin/" + vendor + "/" + account }

// NewEnvelope builds the envelope for payload p of kind k. key is the record's
// natural key (it becomes the subject) and version its vendor version.
func NewEnvelope(k Kind, vendor, account, key string, version int64, at time.Time, p any) (Envelope, error) {
	var data []byte
	var err error
	if o, ok := p.(Order); ok {
		data, err = o.appendJSON(make([]byte, 0, 1024))
	} else {
		data, err = json.Marshal(p)
	}
	if err != nil {
		return Envelope{}, fmt.Errorf("encode %s %s: %w", Type(k), key, err)
	}
	return Envelope{
		SpecVersion:     SpecVersion,
		ID:              NewID(k, vendor, account, key, version),
		Type:            Type(k),
		Source:          Source(vendor, account),
		Subject:         key,
		Time:            at.UTC(),
		DataContentType: DataContentType,
		DataSchema:      SchemaURI(k),
		Data:            data,
	}, nil
}

// ErrUnknownType is returned when an envelope's type is not one this version knows.
var ErrUnknownType = errors.New("unknown event type")

// Status is an order's state on the common life cycle shared by every vendor:
// paid → received → settled, or refunded / cancelled. A settled order may still
// become refunded (after-sale refunds).
type Status string

// The common life-cycle states.
const (
	StatusPaid      Status = "paid"
	StatusReceived  Status = "received"
	StatusSettled   Status = "settled"
	StatusRefunded  Status = "refunded"
	StatusCancelled Status = "cancelled"
	// StatusUnknown is used when the vendor sent a state yongjin does not know;
	// the vendor's value is always kept verbatim in VendorStatus.
	StatusUnknown Status = "unknown"
)

// Statuses lists every Status in life-cycle order.
var Statuses = []Status{StatusPaid, StatusReceived, StatusSettled, StatusRefunded, StatusCancelled, StatusUnknown}

// CurrencyCNY is the currency of every amount the current vendors report.
const CurrencyCNY = "CNY"

// Order is the payload of an order.v1 event: one affiliate order in its latest
// known state. Its natural key is (Platform, OrderID); Version orders the
// states of one order (a higher version is newer).
type Order struct {
	Platform      string `json:"platform"`
	Account       string `json:"account"`
	OrderID       string `json:"order_id"`
	ParentOrderID string `json:"parent_order_id,omitempty"`
	ProductID     string `json:"product_id"`
	ProductName   string `json:"product_name"`
	ShopID        string `json:"shop_id"`
	ShopName      string `json:"shop_name"`
	AuthorID      string `json:"author_id"`
	AuthorName    string `json:"author_name"`
	BuyerOpenID   string `json:"buyer_open_id"`
	// Channel is how the order was distributed (vendor value, e.g. "Live", "ProductDetail").
	Channel  string `json:"channel"`
	Quantity int64  `json:"quantity"`
	Currency string `json:"currency"`
	// PaidFen is what the buyer paid.
	PaidFen int64 `json:"paid_fen"`
	// EstimatedBaseFen is the estimated amount commission is computed on.
	EstimatedBaseFen int64 `json:"estimated_base_fen"`
	// SettledBaseFen is the settled amount commission is computed on (0 before settlement).
	SettledBaseFen int64 `json:"settled_base_fen"`
	// RefundedFen is the amount refunded to the buyer so far (0 when nothing
	// was refunded; less than PaidFen for a partial refund). Added within v1:
	// events stored before it lack the field, which reads as 0.
	RefundedFen int64 `json:"refunded_fen"`
	// EstimatedTotalCommissionFen is the vendor's own estimate of the
	// order's total commission income (douke estimated_total_commission,
	// Taobao predict_total_amount); 0 when the vendor reports none. Added
	// within v1, like RefundedFen.
	EstimatedTotalCommissionFen int64  `json:"estimated_total_commission_fen"`
	Status                      Status `json:"status"`
	// VendorStatus is the vendor's own status value, verbatim.
	VendorStatus string     `json:"vendor_status"`
	PaidAt       time.Time  `json:"paid_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	ReceivedAt   *time.Time `json:"received_at"`
	SettledAt    *time.Time `json:"settled_at"`
	RefundedAt   *time.Time `json:"refunded_at"`
	// Version is the vendor's update time in Unix milliseconds.
	Version int64 `json:"version"`
	// CommissionLines are the order's commission lines at this version, one
	// per role, when the producer carries them in the order event (yongjin's
	// normalizer always does; added within v1, so absent in events from
	// before). Each is the same line a commission.v1 event of this order
	// and version would hold; Lines expands them.
	CommissionLines []OrderLine `json:"commission_lines,omitempty"`
}

// OrderLine is one commission line inside an order.v1 event: the fields of
// a commission.v1 payload that the order does not already hold.
type OrderLine struct {
	Role Role `json:"role"`
	// RateBP is the commission rate in basis points (0 when the vendor gives none).
	RateBP       int64  `json:"rate_bp"`
	Currency     string `json:"currency"`
	EstimatedFen int64  `json:"estimated_fen"`
	SettledFen   int64  `json:"settled_fen"`
	// FeeFen is the line's estimated platform service fee (see CommissionLine.FeeFen).
	FeeFen int64 `json:"fee_fen"`
}

// OrderLines returns the lines to carry in an order event: the fields of
// each CommissionLine that are not the order's own.
func OrderLines(lines []CommissionLine) []OrderLine {
	if len(lines) == 0 {
		return nil
	}
	out := make([]OrderLine, len(lines))
	for i, l := range lines {
		out[i] = OrderLine{Role: l.Role, RateBP: l.RateBP, Currency: l.Currency, EstimatedFen: l.EstimatedFen, SettledFen: l.SettledFen, FeeFen: l.FeeFen}
	}
	return out
}

// Lines expands the order's CommissionLines into the commission.v1 payloads
// they stand for (platform, account, order, status, times and version
// from the order); nil when the order carries none.
func (o Order) Lines() []CommissionLine {
	if len(o.CommissionLines) == 0 {
		return nil
	}
	out := make([]CommissionLine, len(o.CommissionLines))
	for i, l := range o.CommissionLines {
		out[i] = CommissionLine{
			Platform: o.Platform, Account: o.Account, OrderID: o.OrderID, Role: l.Role, RateBP: l.RateBP,
			Currency: l.Currency, EstimatedFen: l.EstimatedFen, SettledFen: l.SettledFen, FeeFen: l.FeeFen,
			OrderStatus: o.Status, PaidAt: o.PaidAt, UpdatedAt: o.UpdatedAt, Version: o.Version,
		}
	}
	return out
}

// Role is who a commission line pays or charges.
type Role string

// The commission beneficiary roles.
const (
	// RoleCreator is the creator/author's commission income.
	RoleCreator Role = "creator"
	// RoleLiveChannel is the live-room distribution channel's income.
	RoleLiveChannel Role = "live_channel"
	// RoleShop is the shop's commission expense.
	RoleShop Role = "shop"
	// RolePlatformFee is the platform's technical service fee.
	RolePlatformFee Role = "platform_fee"
	// RoleServiceProvider is an outside service provider's fee.
	RoleServiceProvider Role = "service_provider"
)

// CommissionLine is the payload of a commission.v1 event: one beneficiary's
// share of one order. Its natural key is (Platform, OrderID, Role).
type CommissionLine struct {
	Platform string `json:"platform"`
	Account  string `json:"account"`
	OrderID  string `json:"order_id"`
	Role     Role   `json:"role"`
	// RateBP is the commission rate in basis points (0 when the vendor gives none).
	RateBP       int64  `json:"rate_bp"`
	Currency     string `json:"currency"`
	EstimatedFen int64  `json:"estimated_fen"`
	SettledFen   int64  `json:"settled_fen"`
	// FeeFen is the estimated service fee the platform charges on this line
	// (douke live_channel: ads_estimated_tech_service_fee), 0 when none.
	// Added within v1: events stored before it lack the field (read as 0).
	FeeFen int64 `json:"fee_fen"`
	// OrderStatus is the order's common status when this line was derived.
	OrderStatus Status    `json:"order_status"`
	PaidAt      time.Time `json:"paid_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Version is the order's version (vendor update time in Unix milliseconds).
	Version int64 `json:"version"`
}

// Key is the natural key of the order inside its platform.
func (o Order) Key() string { return o.OrderID }

// Key is the natural key of the line inside its platform: "<order>/<role>".
func (c CommissionLine) Key() string { return c.OrderID + "/" + string(c.Role) }

// Envelope wraps the order in its canonical envelope. An integer outside
// ±MaxSafeInteger (the order's or a line's) returns ErrUnsafeInteger.
func (o Order) Envelope() (Envelope, error) {
	if err := o.checkIntegers(); err != nil {
		return Envelope{}, fmt.Errorf("%s %s: %w", Type(KindOrder), o.Key(), err)
	}
	return NewEnvelope(KindOrder, o.Platform, o.Account, o.Key(), o.Version, o.UpdatedAt, o)
}

// Envelope wraps the line in its canonical envelope (ErrUnsafeInteger as
// for Order).
func (c CommissionLine) Envelope() (Envelope, error) {
	if err := c.checkIntegers(); err != nil {
		return Envelope{}, fmt.Errorf("%s %s: %w", Type(KindCommission), c.Key(), err)
	}
	return NewEnvelope(KindCommission, c.Platform, c.Account, c.Key(), c.Version, c.UpdatedAt, c)
}

// CommissionPlan is the payload of a commission_plan.v1 event: one
// commission plan of one product as last observed. Its natural key is
// (Platform, ProductID, PlanID); Version is the observation time in Unix
// milliseconds (plans carry no update time), so the newest observation wins.
type CommissionPlan struct {
	Platform  string `json:"platform"`
	Account   string `json:"account"`
	ProductID string `json:"product_id"`
	PlanID    string `json:"plan_id"`
	RateBP    int64  `json:"rate_bp"`
	// ContentType is the vendor's content-type code (e.g. Douyin 1 live, 2 video, 3 both).
	ContentType int64 `json:"content_type"`
	// ContentTypeLabel is "live", "video", "both" or "unknown".
	ContentTypeLabel string `json:"content_type_label"`
	// VendorStatus is the vendor's plan status code, verbatim.
	VendorStatus int64 `json:"vendor_status"`
	// CreatedDate is the vendor's creation date as sent ("2022-04-22"), "" if absent.
	CreatedDate string    `json:"created_date"`
	ObservedAt  time.Time `json:"observed_at"`
	Version     int64     `json:"version"`
}

// Key is the natural key of the plan inside its platform: "<product>/<plan>".
func (p CommissionPlan) Key() string { return p.ProductID + "/" + p.PlanID }

// Envelope wraps the plan in its canonical envelope (ErrUnsafeInteger as
// for Order).
func (p CommissionPlan) Envelope() (Envelope, error) {
	if err := p.checkIntegers(); err != nil {
		return Envelope{}, fmt.Errorf("%s %s: %w", Type(KindCommissionPlan), p.Key(), err)
	}
	return NewEnvelope(KindCommissionPlan, p.Platform, p.Account, p.Key(), p.Version, p.ObservedAt, p)
}

// Indicator is one numeric indicator of a creator snapshot.
type Indicator struct {
	// Name is the indicator's path in the vendor data, dotted ("order_cnt", "price.avg").
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// CreatorOrderExperience is the payload of a creator_experience.v1 event: a
// creator's commercial order-experience indicators for one period, as
// observed on one day. Its natural key is (Platform, AuthorID, Period,
// SnapshotDate); Version is the observation time in Unix milliseconds.
type CreatorOrderExperience struct {
	Platform string `json:"platform"`
	Account  string `json:"account"`
	AuthorID string `json:"author_id"`
	// Period is the vendor's period, e.g. "DAY_30" or "DAY_90".
	Period string `json:"period"`
	// SnapshotDate is the observation day in China Standard Time (2006-01-02).
	SnapshotDate string `json:"snapshot_date"`
	// Indicators are the numeric values found in the vendor data, sorted by name.
	Indicators []Indicator `json:"indicators"`
	// Data is the vendor's data object verbatim.
	Data       json.RawMessage `json:"data"`
	ObservedAt time.Time       `json:"observed_at"`
	Version    int64           `json:"version"`
}

// Key is the natural key of the snapshot: "<author>/<period>/<date>".
func (c CreatorOrderExperience) Key() string {
	return c.AuthorID + "/" + c.Period + "/" + c.SnapshotDate
}

// Envelope wraps the snapshot in its canonical envelope (ErrUnsafeInteger
// as for Order; its indicators are kept within range by the vendor mapping).
func (c CreatorOrderExperience) Envelope() (Envelope, error) {
	if err := c.checkIntegers(); err != nil {
		return Envelope{}, fmt.Errorf("%s %s: %w", Type(KindCreatorExperience), c.Key(), err)
	}
	return NewEnvelope(KindCreatorExperience, c.Platform, c.Account, c.Key(), c.Version, c.ObservedAt, c)
}

// Decode parses an envelope's data into its typed payload: *Order,
// *CommissionLine, *CommissionPlan or *CreatorOrderExperience. It returns
// ErrUnknownType for any other type.
func Decode(e Envelope) (any, error) {
	if e.Payload != nil {
		return e.Payload, nil
	}
	switch e.Type {
	case Type(KindCommissionPlan):
		var p CommissionPlan
		if err := json.Unmarshal(e.Data, &p); err != nil {
			return nil, fmt.Errorf("event %s: decode %s: %w", e.ID, e.Type, err)
		}
		return &p, nil
	case Type(KindCreatorExperience):
		var c CreatorOrderExperience
		if err := json.Unmarshal(e.Data, &c); err != nil {
			return nil, fmt.Errorf("event %s: decode %s: %w", e.ID, e.Type, err)
		}
		return &c, nil
	case Type(KindOrder):
		var o Order
		if err := json.Unmarshal(e.Data, &o); err != nil {
			return nil, fmt.Errorf("event %s: decode %s: %w", e.ID, e.Type, err)
		}
		return &o, nil
	case Type(KindCommission):
		var c CommissionLine
		if err := json.Unmarshal(e.Data, &c); err != nil {
			return nil, fmt.Errorf("event %s: decode %s: %w", e.ID, e.Type, err)
		}
		return &c, nil
	}
	return nil, fmt.Errorf("event %s: %w %q", e.ID, ErrUnknownType, e.Type)
}
