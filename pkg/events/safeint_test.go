package events

import (
	"errors"
	"testing"
	"time"
)

// TestEnvelopeRefusesUnsafeIntegers checks that no payload with an integer
// beyond ±(2^53−1) becomes an event, and that the boundary itself does.
func TestEnvelopeRefusesUnsafeIntegers(t *testing.T) {
	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	order := func(mod func(*Order)) func() (Envelope, error) {
		return func() (Envelope, error) {
			o := Order{Platform: "douke", Account: "a", OrderID: "1", Currency: CurrencyCNY, Status: StatusPaid, PaidAt: at, UpdatedAt: at, Version: 1}
			mod(&o)
			return o.Envelope()
		}
	}
	for _, tc := range []struct {
		name     string
		envelope func() (Envelope, error)
		unsafe   bool
	}{
		{"order at the boundary", order(func(o *Order) { o.PaidFen = MaxSafeInteger }), false},
		{"order paid_fen 2^53+1", order(func(o *Order) { o.PaidFen = MaxSafeInteger + 2 }), true},
		{"order quantity below -(2^53-1)", order(func(o *Order) { o.Quantity = -MaxSafeInteger - 1 }), true},
		{"order line fee_fen", order(func(o *Order) { o.CommissionLines = []OrderLine{{Role: RoleCreator, FeeFen: 1 << 60}} }), true},
		{"commission line", func() (Envelope, error) {
			return CommissionLine{Platform: "douke", Account: "a", OrderID: "1", Role: RoleCreator, EstimatedFen: 1 << 53, UpdatedAt: at}.Envelope()
		}, true},
		{"plan", func() (Envelope, error) {
			return CommissionPlan{Platform: "douyin", Account: "a", ProductID: "1", PlanID: "2", VendorStatus: -1 << 62, ObservedAt: at}.Envelope()
		}, true},
		{"creator snapshot", func() (Envelope, error) {
			return CreatorOrderExperience{Platform: "xingtu", Account: "a", AuthorID: "1", Period: "DAY_30", SnapshotDate: "2026-10-01", ObservedAt: at, Version: 1 << 62}.Envelope()
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.envelope()
			if got := errors.Is(err, ErrUnsafeInteger); got != tc.unsafe {
				t.Fatalf("Envelope() error = %v; want ErrUnsafeInteger: %v", err, tc.unsafe)
			}
		})
	}
}
