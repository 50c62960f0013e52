package events

import (
	"errors"
	"fmt"
)

// MaxSafeInteger is the largest integer every JSON reader keeps exactly
// (2^53−1: JavaScript's Number.MAX_SAFE_INTEGER, any IEEE 754 double). No
// integer in an event lies outside ±MaxSafeInteger (docs/EVENTS.md).
const MaxSafeInteger = 1<<53 - 1

// ErrUnsafeInteger is returned by a payload's Envelope when one of its
// integers lies outside ±MaxSafeInteger: a subscriber in JavaScript would
// silently read another number. The normalizer dead-letters the record.
var ErrUnsafeInteger = errors.New("integer beyond ±(2^53-1)")

// safeInts checks named integers, given as name, value pairs.
type safeInts struct{ err error }

func (s *safeInts) check(name string, v int64) {
	if s.err == nil && (v > MaxSafeInteger || v < -MaxSafeInteger) {
		s.err = fmt.Errorf("%w: %s is %d", ErrUnsafeInteger, name, v)
	}
}

// checkIntegers is the ErrUnsafeInteger check of an Order and its lines.
func (o *Order) checkIntegers() error {
	var s safeInts
	s.check("quantity", o.Quantity)
	s.check("paid_fen", o.PaidFen)
	s.check("estimated_base_fen", o.EstimatedBaseFen)
	s.check("settled_base_fen", o.SettledBaseFen)
	s.check("refunded_fen", o.RefundedFen)
	s.check("estimated_total_commission_fen", o.EstimatedTotalCommissionFen)
	s.check("version", o.Version)
	for i := range o.CommissionLines {
		l := &o.CommissionLines[i]
		s.check("commission_lines.rate_bp", l.RateBP)
		s.check("commission_lines.estimated_fen", l.EstimatedFen)
		s.check("commission_lines.settled_fen", l.SettledFen)
		s.check("commission_lines.fee_fen", l.FeeFen)
	}
	return s.err
}

func (c *CommissionLine) checkIntegers() error {
	var s safeInts
	s.check("rate_bp", c.RateBP)
	s.check("estimated_fen", c.EstimatedFen)
	s.check("settled_fen", c.SettledFen)
	s.check("fee_fen", c.FeeFen)
	s.check("version", c.Version)
	return s.err
}

func (p *CommissionPlan) checkIntegers() error {
	var s safeInts
	s.check("rate_bp", p.RateBP)
	s.check("content_type", p.ContentType)
	s.check("vendor_status", p.VendorStatus)
	s.check("version", p.Version)
	return s.err
}

func (c *CreatorOrderExperience) checkIntegers() error {
	var s safeInts
	s.check("version", c.Version)
	return s.err
}
