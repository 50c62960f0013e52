package events

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

var idPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestNewIDDeterministicAndSensitive(t *testing.T) {
	base := NewID(KindOrder, "douke", "5049400731628700001", 1759276800000)
	if !idPattern.MatchString(base) {
		t.Fatalf("NewID = %q, want 32 lowercase hex digits", base)
	}
	if again := NewID(KindOrder, "douke", "5049400731628700001", 1759276800000); again != base {
		t.Fatalf("NewID not deterministic: %q then %q", base, again)
	}
	tests := []struct {
		name string
		id   string
	}{
		{"kind", NewID(KindCommission, "douke", "5049400731628700001", 1759276800000)},
		{"vendor", NewID(KindOrder, "other", "5049400731628700001", 1759276800000)},
		{"key", NewID(KindOrder, "douke", "5049400731628700002", 1759276800000)},
		{"version", NewID(KindOrder, "douke", "5049400731628700001", 1759276800001)},
		// the separator keeps field boundaries: moving a character from the
		// vendor into the key must change the ID
		{"boundary", NewID(KindOrder, "douk", "e5049400731628700001", 1759276800000)},
	}
	seen := map[string]string{base: "base"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !idPattern.MatchString(tc.id) {
				t.Errorf("NewID = %q, want 32 lowercase hex digits", tc.id)
			}
			if prev, dup := seen[tc.id]; dup {
				t.Errorf("changing the %s gives the same ID as %s: %s", tc.name, prev, tc.id)
			}
			seen[tc.id] = tc.name
		})
	}
}

func TestSubjects(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{Subject(KindOrder, "douke"), "yongjin.events.order.v1.douke"},
		{Subject(KindCommission, "douke"), "yongjin.events.commission.v1.douke"},
		{RawSubject("douke", "kol_orderads"), "yongjin.raw.douke.kol_orderads"},
		{RawPage{Vendor: "douke", Endpoint: "kol_orderads"}.Subject(), "yongjin.raw.douke.kol_orderads"},
		{Type(KindOrder), "order.v1"},
		{Type(KindCommission), "commission.v1"},
		{SchemaURI(KindOrder), "https://yongjin.dev/schemas/order.v1.json"},
		{Source("douke", "main"), "yongjin/douke/main"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func ptime(t time.Time) *time.Time { return &t }

func sampleOrder() Order {
	paid := time.Date(2026, 10, 1, 2, 3, 4, 0, time.UTC)
	return Order{
		Platform:         "douke",
		Account:          "main",
		OrderID:          "5049400731628700001",
		ProductID:        "3600000000000000001",
		ProductName:      "保温杯",
		ShopID:           "shop-1",
		ShopName:         "Shop One",
		AuthorID:         "author-1",
		AuthorName:       "Author One",
		BuyerOpenID:      "buyer-1",
		Channel:          "Live",
		Quantity:         2,
		Currency:         CurrencyCNY,
		PaidFen:          9900,
		EstimatedBaseFen: 9000,
		SettledBaseFen:   0,
		Status:           StatusReceived,
		VendorStatus:     "RECEIVED",
		PaidAt:           paid,
		UpdatedAt:        paid.Add(time.Hour),
		ReceivedAt:       ptime(paid.Add(time.Hour)),
		Version:          paid.Add(time.Hour).UnixMilli(),
	}
}

func sampleLine() CommissionLine {
	paid := time.Date(2026, 10, 1, 2, 3, 4, 0, time.UTC)
	return CommissionLine{
		Platform:     "douke",
		Account:      "main",
		OrderID:      "5049400731628700001",
		Role:         RoleCreator,
		RateBP:       3500,
		Currency:     CurrencyCNY,
		EstimatedFen: 3150,
		SettledFen:   0,
		OrderStatus:  StatusPaid,
		PaidAt:       paid,
		UpdatedAt:    paid.Add(time.Minute),
		Version:      paid.Add(time.Minute).UnixMilli(),
	}
}

func TestOrderEnvelopeRoundTrip(t *testing.T) {
	o := sampleOrder()
	env, err := o.Envelope()
	if err != nil {
		t.Fatal(err)
	}
	if env.SpecVersion != SpecVersion || env.Type != "order.v1" || env.Kind() != KindOrder ||
		env.Source != "yongjin/douke/main" || env.Subject != o.OrderID ||
		env.DataContentType != DataContentType || env.DataSchema != SchemaURI(KindOrder) ||
		env.ID != NewID(KindOrder, "douke", o.OrderID, o.Version) || !env.Time.Equal(o.UpdatedAt) {
		t.Errorf("envelope attributes = %+v", env)
	}
	// through JSON and back, as a subscriber would see it
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	var got Envelope
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	p, err := Decode(got)
	if err != nil {
		t.Fatal(err)
	}
	dec, ok := p.(*Order)
	if !ok {
		t.Fatalf("Decode returned %T, want *Order", p)
	}
	if !reflect.DeepEqual(*dec, o) {
		t.Errorf("round trip changed the order:\n got %+v\nwant %+v", *dec, o)
	}
}

func TestCommissionEnvelopeRoundTrip(t *testing.T) {
	c := sampleLine()
	env, err := c.Envelope()
	if err != nil {
		t.Fatal(err)
	}
	if env.Type != "commission.v1" || env.Kind() != KindCommission || env.Subject != c.OrderID+"/creator" ||
		env.ID != NewID(KindCommission, "douke", c.OrderID+"/creator", c.Version) {
		t.Errorf("envelope attributes = %+v", env)
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	var got Envelope
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	p, err := Decode(got)
	if err != nil {
		t.Fatal(err)
	}
	dec, ok := p.(*CommissionLine)
	if !ok {
		t.Fatalf("Decode returned %T, want *CommissionLine", p)
	}
	if !reflect.DeepEqual(*dec, c) {
		t.Errorf("round trip changed the line:\n got %+v\nwant %+v", *dec, c)
	}
}

func TestEnvelopeTimeIsUTC(t *testing.T) {
	o := sampleOrder()
	cst := time.FixedZone("CST", 8*3600)
	o.UpdatedAt = o.UpdatedAt.In(cst)
	env, err := o.Envelope()
	if err != nil {
		t.Fatal(err)
	}
	if env.Time.Location() != time.UTC || !env.Time.Equal(o.UpdatedAt) {
		t.Errorf("envelope time = %v, want %v in UTC", env.Time, o.UpdatedAt)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		env     Envelope
		unknown bool
	}{
		{"unknown type", Envelope{ID: "x", Type: "refund.v1", Data: json.RawMessage(`{}`)}, true},
		{"future version", Envelope{ID: "x", Type: "order.v2", Data: json.RawMessage(`{}`)}, true},
		{"empty type", Envelope{ID: "x", Data: json.RawMessage(`{}`)}, true},
		{"bad order data", Envelope{ID: "x", Type: "order.v1", Data: json.RawMessage(`{"paid_fen":"ten"}`)}, false},
		{"bad commission data", Envelope{ID: "x", Type: "commission.v1", Data: json.RawMessage(`[`)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Decode(tc.env)
			if err == nil {
				t.Fatalf("Decode = %#v, want error", p)
			}
			if got := errors.Is(err, ErrUnknownType); got != tc.unknown {
				t.Errorf("errors.Is(%v, ErrUnknownType) = %v, want %v", err, got, tc.unknown)
			}
		})
	}
}

// envelopeJSON encodes an envelope and lets mutate edit its generic JSON form
// (and the data inside it) before re-encoding.
func envelopeJSON(t *testing.T, env Envelope, mutate func(env, data map[string]any)) []byte {
	t.Helper()
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	if mutate == nil {
		return b
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	data, _ := m["data"].(map[string]any)
	mutate(m, data)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestValidate(t *testing.T) {
	orderEnv, err := sampleOrder().Envelope()
	if err != nil {
		t.Fatal(err)
	}
	lineEnv, err := sampleLine().Envelope()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     Envelope
		mutate  func(env, data map[string]any)
		wantErr string // "" = valid; otherwise a substring of the error
	}{
		{name: "valid order", env: orderEnv},
		{name: "valid commission", env: lineEnv},
		{name: "valid order with null times", env: orderEnv, mutate: func(_, d map[string]any) { d["received_at"] = nil }},
		{name: "order missing required field", env: orderEnv, mutate: func(_, d map[string]any) { delete(d, "order_id") }, wantErr: "'order_id'"},
		{name: "commission missing required field", env: lineEnv, mutate: func(_, d map[string]any) { delete(d, "role") }, wantErr: "'role'"},
		{name: "order extra field", env: orderEnv, mutate: func(_, d map[string]any) { d["vekey"] = "x" }, wantErr: "'vekey'"},
		{name: "commission extra field", env: lineEnv, mutate: func(_, d map[string]any) { d["note"] = "x" }, wantErr: "'note'"},
		{name: "order non-UTC time", env: orderEnv, mutate: func(_, d map[string]any) { d["paid_at"] = "2026-10-01T10:03:04+08:00" }, wantErr: "'/data/paid_at'"},
		{name: "order non-UTC nullable time", env: orderEnv, mutate: func(_, d map[string]any) { d["received_at"] = "2026-10-01T10:03:04+08:00" }, wantErr: "'/data/received_at'"},
		{name: "commission non-UTC time", env: lineEnv, mutate: func(_, d map[string]any) { d["updated_at"] = "2026-10-01 02:03:04" }, wantErr: "'/data/updated_at'"},
		{name: "envelope non-UTC time", env: orderEnv, mutate: func(e, _ map[string]any) { e["time"] = "2026-10-01T11:03:04+08:00" }, wantErr: "'/time'"},
		{name: "negative paid_fen", env: orderEnv, mutate: func(_, d map[string]any) { d["paid_fen"] = -1 }, wantErr: "'/data/paid_fen'"},
		{name: "fractional paid_fen", env: orderEnv, mutate: func(_, d map[string]any) { d["paid_fen"] = 1.5 }, wantErr: "'/data/paid_fen'"},
		{name: "bad status enum", env: orderEnv, mutate: func(_, d map[string]any) { d["status"] = "shipped" }, wantErr: "'/data/status'"},
		{name: "bad role enum", env: lineEnv, mutate: func(_, d map[string]any) { d["role"] = "buyer" }, wantErr: "'/data/role'"},
		{name: "wrong specversion", env: orderEnv, mutate: func(e, _ map[string]any) { e["specversion"] = "0.3" }, wantErr: "'/specversion'"},
		{name: "unknown type", env: orderEnv, mutate: func(e, _ map[string]any) { e["type"] = "refund.v1" }, wantErr: "'/type'"},
		{name: "bad id", env: orderEnv, mutate: func(e, _ map[string]any) { e["id"] = "not-hex" }, wantErr: "'/id'"},
		{name: "envelope missing data", env: orderEnv, mutate: func(e, _ map[string]any) { delete(e, "data") }, wantErr: "'data'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(envelopeJSON(t, tc.env, tc.mutate))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted an invalid event (want error mentioning %q)", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Validate error %q does not mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidateNotJSON(t *testing.T) {
	if err := Validate([]byte(`{"specversion":`)); err == nil {
		t.Fatal("Validate accepted truncated JSON")
	}
}

// An order whose times are not UTC (a normalizer bug) must not validate:
// the payload keeps the zone offset it was given.
func TestValidateRejectsPayloadInLocalZone(t *testing.T) {
	o := sampleOrder()
	o.PaidAt = o.PaidAt.In(time.FixedZone("CST", 8*3600))
	env, err := o.Envelope()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(b); err == nil || !strings.Contains(err.Error(), "'/data/paid_at'") {
		t.Errorf("Validate = %v, want an error about paid_at", err)
	}
}
