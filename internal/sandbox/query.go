package sandbox

import (
	"math"
	"slices"
	"sort"
	"time"
)

// TimeField names the order time a Query's window filters on.
type TimeField uint8

// The filterable times.
const (
	// ByPayTime filters on the pay time.
	ByPayTime TimeField = iota
	// ByUpdateTime filters on the update time of the state at the query's clock time.
	ByUpdateTime
)

// Query selects one page of a book's orders in descending ID order.
type Query struct {
	// At is the clock time: orders paid after At are invisible and every
	// order is seen in its state at At.
	At time.Time
	// Field is the time the window filters on.
	Field TimeField
	// From and To bound the window, both inclusive (second precision); a zero
	// value leaves that side open.
	From, To time.Time
	// IDs, when non-nil, restricts the result to these order IDs.
	IDs []uint64
	// Before, when non-zero, keeps only IDs strictly below it (the cursor).
	Before uint64
	// Limit is the page size; <= 0 means no limit.
	Limit int
	// Filter, when set, keeps only the views it accepts.
	Filter func(v *View) bool
}

// View is an order together with its state at the query's clock time.
type View struct {
	Order *Order
	State State
}

// eventPathMax is the largest number of update-index events a query walks
// instead of scanning orders.
const eventPathMax = 512

// Page returns the orders matching q, by ID descending, at most q.Limit of
// them. It never scans outside the ID range the window can reach: pay windows
// and cursors are binary searches; update windows use an update-time index
// when narrow and a bounded scan otherwise.
func (b *Book) Page(q Query) []View {
	t := q.At.Unix()
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.From.IsZero() {
		lo = q.From.Unix()
	}
	if !q.To.IsZero() {
		hi = q.To.Unix()
	}
	// Index bound from the cursor.
	end := len(b.orders)
	if q.Before != 0 {
		end = sort.Search(len(b.orders), func(i int) bool { return b.orders[i].ID >= q.Before })
	}
	// Nothing paid after the clock is visible; for both fields the pay time
	// is at most min(t, hi) (an update time is never before the pay time).
	payHi := min(t, hi)
	end = min(end, sort.Search(len(b.orders), func(i int) bool { return b.orders[i].steps[0].at > payHi }))

	var out []View
	full := func() bool { return q.Limit > 0 && len(out) >= q.Limit }
	consider := func(i int) {
		o := &b.orders[i]
		k := o.stepAt(t)
		if k < 0 {
			return
		}
		switch q.Field {
		case ByPayTime:
			if p := o.steps[0].at; p < lo || p > hi {
				return
			}
		case ByUpdateTime:
			if u := o.steps[k].upd; u < lo || u > hi {
				return
			}
		}
		v := View{Order: o, State: o.stateOf(k)}
		if q.Filter != nil && !q.Filter(&v) {
			return
		}
		out = append(out, v)
	}

	if q.IDs != nil {
		idx := make([]int, 0, len(q.IDs))
		for _, id := range q.IDs {
			i := sort.Search(len(b.orders), func(i int) bool { return b.orders[i].ID >= id })
			if i < end && b.orders[i].ID == id {
				idx = append(idx, i)
			}
		}
		slices.Sort(idx)
		idx = slices.Compact(idx)
		for j := len(idx) - 1; j >= 0 && !full(); j-- {
			consider(idx[j])
		}
		return out
	}

	start := 0
	switch q.Field {
	case ByPayTime:
		if lo != math.MinInt64 {
			start = sort.Search(len(b.orders), func(i int) bool { return b.orders[i].steps[0].at >= lo })
		}
	case ByUpdateTime:
		if lo != math.MinInt64 {
			// An order's update time is at most maxSpan after its pay time.
			payLo := lo - b.maxSpan
			start = sort.Search(len(b.orders), func(i int) bool { return b.orders[i].steps[0].at >= payLo })
		}
		if idx, ok := b.updateCandidates(lo, hi, start, end, t); ok {
			for j := len(idx) - 1; j >= 0 && !full(); j-- {
				consider(idx[j])
			}
			return out
		}
	}
	for i := end - 1; i >= start && !full(); i-- {
		consider(i)
	}
	return out
}

// updateCandidates uses the update-time index when the window holds few
// events: it returns the ascending indexes in [start, end) whose state at t
// has its update time in [lo, hi]. ok is false when a scan is cheaper.
func (b *Book) updateCandidates(lo, hi int64, start, end int, t int64) (idx []int, ok bool) {
	if end-start <= eventPathMax {
		return nil, false
	}
	b.buildEvents()
	ev := b.events
	a := sort.Search(len(ev), func(i int) bool { return ev[i].upd >= lo })
	z := sort.Search(len(ev), func(i int) bool { return ev[i].upd > hi })
	if z-a > eventPathMax {
		return nil, false
	}
	for _, e := range ev[a:z] {
		i := int(e.idx)
		if i < start || i >= end {
			continue
		}
		o := &b.orders[i]
		if k := o.stepAt(t); k >= 0 && o.steps[k].upd == e.upd {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	return idx, true
}
