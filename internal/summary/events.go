package summary

import (
	"fmt"
	"math"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// MilliRound is how an indicator value enters IndicatorMilliSum: rounded to
// thousandths (half away from zero) as an integer. ClickHouse's round() rounds
// halves differently across releases, so the shipped snapshots_summary query
// computes the same value with trunc() (internal/clickhouse/queries/summary.sql).
func MilliRound(v float64) int64 { return int64(math.Round(v * 1000)) }

// FromEvents summarizes canonical events the way the shipped ClickHouse
// queries do: only the highest version of each natural key counts (ties keep
// the last one seen). It is the in-memory reference for tests.
func FromEvents(envs []events.Envelope) (Summary, error) {
	type versioned struct {
		version int64
		payload any
	}
	latest := map[string]versioned{}
	for _, e := range envs {
		p, err := events.Decode(e)
		if err != nil {
			return Summary{}, err
		}
		var platform string
		var version int64
		switch v := p.(type) {
		case *events.Order:
			platform, version = v.Platform, v.Version
		case *events.CommissionLine:
			platform, version = v.Platform, v.Version
		case *events.CommissionPlan:
			platform, version = v.Platform, v.Version
		case *events.CreatorOrderExperience:
			platform, version = v.Platform, v.Version
		}
		k := fmt.Sprintf("%s\x00%s\x00%s", e.Type, platform, e.Subject)
		if c, ok := p.(*events.CreatorOrderExperience); ok {
			// only each creator's newest day counts (as in the shipped query)
			k = fmt.Sprintf("%s\x00%s\x00%s\x00%s", e.Type, platform, c.AuthorID, c.Period)
			if cur, ok := latest[k]; ok {
				old := cur.payload.(*events.CreatorOrderExperience)
				if old.SnapshotDate > c.SnapshotDate || old.SnapshotDate == c.SnapshotDate && cur.version > version {
					continue
				}
			}
			latest[k] = versioned{version, p}
			continue
		}
		if cur, ok := latest[k]; !ok || version >= cur.version {
			latest[k] = versioned{version, p}
		}
	}
	orders := map[[2]string]*OrderRow{}
	lines := map[[3]string]*CommissionRow{}
	plans := map[string]*PlanRow{}
	snaps := map[[2]string]*SnapshotRow{}
	for _, v := range latest {
		switch p := v.payload.(type) {
		case *events.Order:
			k := [2]string{p.Platform, string(p.Status)}
			r := orders[k]
			if r == nil {
				r = &OrderRow{Platform: p.Platform, Status: p.Status}
				orders[k] = r
			}
			r.Orders++
			r.PaidFen += p.PaidFen
		case *events.CommissionLine:
			k := [3]string{p.Platform, string(p.OrderStatus), string(p.Role)}
			r := lines[k]
			if r == nil {
				r = &CommissionRow{Platform: p.Platform, Status: p.OrderStatus, Role: p.Role}
				lines[k] = r
			}
			r.Lines++
			r.EstimatedFen += p.EstimatedFen
			r.SettledFen += p.SettledFen
		case *events.CommissionPlan:
			k := fmt.Sprintf("%s\x00%d", p.Platform, p.VendorStatus)
			r := plans[k]
			if r == nil {
				r = &PlanRow{Platform: p.Platform, VendorStatus: p.VendorStatus}
				plans[k] = r
			}
			r.Plans++
			r.RateBPSum += p.RateBP
		case *events.CreatorOrderExperience:
			k := [2]string{p.Platform, p.Period}
			r := snaps[k]
			if r == nil {
				r = &SnapshotRow{Platform: p.Platform, Period: p.Period}
				snaps[k] = r
			}
			r.Snapshots++
			r.Indicators += int64(len(p.Indicators))
			for _, in := range p.Indicators {
				r.IndicatorMilliSum += MilliRound(in.Value)
			}
		}
	}
	var s Summary
	for _, r := range orders {
		s.Orders = append(s.Orders, *r)
	}
	for _, r := range lines {
		s.Commissions = append(s.Commissions, *r)
	}
	for _, r := range plans {
		s.Plans = append(s.Plans, *r)
	}
	for _, r := range snaps {
		s.Snapshots = append(s.Snapshots, *r)
	}
	s.Normalize()
	return s, nil
}
