package sandbox

import (
	"time"

	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

// LineTruth is one role's ground-truth amounts of one order.
type LineTruth struct {
	Role         events.Role `json:"role"`
	EstimatedFen int64       `json:"estimated_fen"`
	SettledFen   int64       `json:"settled_fen"`
}

// OrderTruth is the ground truth of one order at one clock time.
type OrderTruth struct {
	Vendor    string        `json:"vendor"`
	Account   string        `json:"account"`
	OrderID   string        `json:"order_id"`
	Status    events.Status `json:"status"`
	PaidFen   int64         `json:"paid_fen"`
	PaidAt    time.Time     `json:"paid_at"`
	UpdatedAt time.Time     `json:"updated_at"`
	// Lines has one entry per role in Roles order, zero amounts included.
	Lines []LineTruth `json:"lines"`
}

// Truth is the ground truth of one vendor at one clock time.
type Truth struct {
	Vendor  string          `json:"vendor"`
	At      time.Time       `json:"at"`
	Summary summary.Summary `json:"summary"`
	// Orders is every visible order, by account then ascending order ID.
	Orders []OrderTruth `json:"orders,omitempty"`
}

// OrderTruths lists the ground truth of every order of vendor visible at at,
// by account (configuration order) then ascending order ID.
func (m *Model) OrderTruths(vendor string, at time.Time) []OrderTruth {
	t := at.Unix()
	var out []OrderTruth
	for _, b := range m.Books(vendor) {
		for i := range b.orders {
			o := &b.orders[i]
			if o.steps[0].at > t {
				// IDs follow pay times: every later order is unpaid too.
				break
			}
			k := o.stepAt(t)
			if k < 0 {
				continue // paid, but not visible until its first update time
			}
			s := o.stateOf(k)
			ot := OrderTruth{
				Vendor: vendor, Account: b.Account.Name, OrderID: o.IDString(),
				Status: s.Status, PaidFen: o.PaidFen, PaidAt: o.PaidAt(), UpdatedAt: s.UpdatedAt,
				Lines: make([]LineTruth, len(s.Lines)),
			}
			for j, l := range s.Lines {
				ot.Lines[j] = LineTruth{Role: l.Role, EstimatedFen: l.EstimatedFen, SettledFen: l.SettledFen}
			}
			out = append(out, ot)
		}
	}
	return out
}

// Truth is the commission summary of vendor at clock time at, summed straight
// from the model: per status the order count and paid fen, and per status and
// role the line count and estimated and settled fen (every order has a line
// for each of Roles, zero amounts included).
func (m *Model) Truth(vendor string, at time.Time) summary.Summary {
	return Summarize(m.OrderTruths(vendor, at))
}

// Summarize sums per-order truths into a normalized summary.
func Summarize(orders []OrderTruth) summary.Summary {
	type okey struct {
		platform string
		status   events.Status
	}
	type ckey struct {
		okey
		role events.Role
	}
	var (
		ords  []summary.OrderRow
		comms []summary.CommissionRow
		oi    = map[okey]int{}
		ci    = map[ckey]int{}
	)
	for _, o := range orders {
		k := okey{o.Vendor, o.Status}
		i, ok := oi[k]
		if !ok {
			i = len(ords)
			oi[k] = i
			ords = append(ords, summary.OrderRow{Platform: o.Vendor, Status: o.Status})
		}
		ords[i].Orders++
		ords[i].PaidFen += o.PaidFen
		for _, l := range o.Lines {
			ck := ckey{k, l.Role}
			j, ok := ci[ck]
			if !ok {
				j = len(comms)
				ci[ck] = j
				comms = append(comms, summary.CommissionRow{Platform: o.Vendor, Status: o.Status, Role: l.Role})
			}
			comms[j].Lines++
			comms[j].EstimatedFen += l.EstimatedFen
			comms[j].SettledFen += l.SettledFen
		}
	}
	s := summary.Summary{Orders: ords, Commissions: comms}
	s.Normalize()
	return s
}
