// Package summary is the commission summary yongjin prints and tests compare:
// per platform and common status, order counts and fen totals, and per
// commission role the estimated and settled fen. ClickHouse answers it with the
// shipped queries; the vendor sandbox answers it from its ground truth; the two
// must be equal.
package summary

import (
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// OrderRow totals the orders of one platform in one status.
type OrderRow struct {
	Platform string
	Status   events.Status
	Orders   int64
	PaidFen  int64
}

// CommissionRow totals the commission lines of one platform, order status and role.
type CommissionRow struct {
	Platform     string
	Status       events.Status
	Role         events.Role
	Lines        int64
	EstimatedFen int64
	SettledFen   int64
}

// PlanRow totals the commission plans of one platform in one vendor status.
type PlanRow struct {
	Platform     string
	VendorStatus int64
	Plans        int64
	RateBPSum    int64
}

// SnapshotRow totals the creator snapshots of one platform and period:
// how many snapshots, how many indicator values, and the sum of the values
// rounded to thousandths (an exact integer).
type SnapshotRow struct {
	Platform          string
	Period            string
	Snapshots         int64
	Indicators        int64
	IndicatorMilliSum int64
}

// Summary is a full commission summary. Rows are kept sorted by Normalize.
type Summary struct {
	Orders      []OrderRow
	Commissions []CommissionRow
	Plans       []PlanRow     `json:",omitempty"`
	Snapshots   []SnapshotRow `json:",omitempty"`
}

// Normalize sorts the rows so that two summaries of the same data compare equal.
func (s *Summary) Normalize() {
	sort.Slice(s.Orders, func(i, j int) bool {
		a, b := s.Orders[i], s.Orders[j]
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		return a.Status < b.Status
	})
	sort.Slice(s.Commissions, func(i, j int) bool {
		a, b := s.Commissions[i], s.Commissions[j]
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		if a.Status != b.Status {
			return a.Status < b.Status
		}
		return a.Role < b.Role
	})
	sort.Slice(s.Plans, func(i, j int) bool {
		a, b := s.Plans[i], s.Plans[j]
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		return a.VendorStatus < b.VendorStatus
	})
	sort.Slice(s.Snapshots, func(i, j int) bool {
		a, b := s.Snapshots[i], s.Snapshots[j]
		if a.Platform != b.Platform {
			return a.Platform < b.Platform
		}
		return a.Period < b.Period
	})
}

// Merge returns the rows of every summary in one summary.
func Merge(ss ...Summary) Summary {
	var out Summary
	for _, s := range ss {
		out.Orders = append(out.Orders, s.Orders...)
		out.Commissions = append(out.Commissions, s.Commissions...)
		out.Plans = append(out.Plans, s.Plans...)
		out.Snapshots = append(out.Snapshots, s.Snapshots...)
	}
	out.Normalize()
	return out
}

func (s Summary) clone() Summary {
	return Summary{Orders: append([]OrderRow(nil), s.Orders...), Commissions: append([]CommissionRow(nil), s.Commissions...),
		Plans: append([]PlanRow(nil), s.Plans...), Snapshots: append([]SnapshotRow(nil), s.Snapshots...)}
}

// TotalOrders is the number of orders over every row.
func (s Summary) TotalOrders() int64 {
	var n int64
	for _, r := range s.Orders {
		n += r.Orders
	}
	return n
}

// Diff lists every difference between want and got, one line each; it is
// empty when they are equal.
func Diff(want, got Summary) []string {
	want, got = want.clone(), got.clone()
	want.Normalize()
	got.Normalize()
	var out []string
	wo := map[string]OrderRow{}
	for _, r := range want.Orders {
		wo[r.Platform+"/"+string(r.Status)] = r
	}
	go_ := map[string]OrderRow{}
	for _, r := range got.Orders {
		go_[r.Platform+"/"+string(r.Status)] = r
	}
	for _, k := range keys(wo, go_) {
		if wo[k] != go_[k] {
			out = append(out, fmt.Sprintf("orders %s: want %d orders / %d fen paid, got %d / %d", k, wo[k].Orders, wo[k].PaidFen, go_[k].Orders, go_[k].PaidFen))
		}
	}
	wc := map[string]CommissionRow{}
	for _, r := range want.Commissions {
		wc[r.Platform+"/"+string(r.Status)+"/"+string(r.Role)] = r
	}
	gc := map[string]CommissionRow{}
	for _, r := range got.Commissions {
		gc[r.Platform+"/"+string(r.Status)+"/"+string(r.Role)] = r
	}
	for _, k := range keys(wc, gc) {
		if wc[k] != gc[k] {
			w, g := wc[k], gc[k]
			out = append(out, fmt.Sprintf("commission %s: want %d lines / %d est / %d settled fen, got %d / %d / %d", k, w.Lines, w.EstimatedFen, w.SettledFen, g.Lines, g.EstimatedFen, g.SettledFen))
		}
	}
	out = append(out, diffRows(want.Plans, got.Plans, func(r PlanRow) string { return fmt.Sprintf("plans %s/status=%d", r.Platform, r.VendorStatus) },
		func(r PlanRow) string { return fmt.Sprintf("%d plans / rate sum %d bp", r.Plans, r.RateBPSum) })...)
	out = append(out, diffRows(want.Snapshots, got.Snapshots, func(r SnapshotRow) string { return fmt.Sprintf("snapshots %s/%s", r.Platform, r.Period) },
		func(r SnapshotRow) string {
			return fmt.Sprintf("%d snapshots / %d indicators / %d milli-sum", r.Snapshots, r.Indicators, r.IndicatorMilliSum)
		})...)
	return out
}

// diffRows compares rows keyed by key and described by desc.
func diffRows[R comparable](want, got []R, key, desc func(R) string) []string {
	w, g := map[string]R{}, map[string]R{}
	for _, r := range want {
		w[key(r)] = r
	}
	for _, r := range got {
		g[key(r)] = r
	}
	var out []string
	for _, k := range keys(w, g) {
		if w[k] != g[k] {
			out = append(out, fmt.Sprintf("%s: want %s, got %s", k, desc(w[k]), desc(g[k])))
		}
	}
	return out
}

func keys[V any](a, b map[string]V) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Print writes the summary as two aligned tables; amounts are in fen.
func Print(w io.Writer, title string, s Summary) {
	s = s.clone()
	s.Normalize()
	fmt.Fprintf(w, "%s\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "platform\tstatus\torders\tpaid fen\t")
	for _, r := range s.Orders {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t\n", r.Platform, r.Status, r.Orders, r.PaidFen)
	}
	tw.Flush()
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "platform\tstatus\trole\tlines\testimated fen\tsettled fen\t")
	for _, r := range s.Commissions {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t\n", r.Platform, r.Status, r.Role, r.Lines, r.EstimatedFen, r.SettledFen)
	}
	tw.Flush()
	if len(s.Plans) > 0 {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "platform\tplan status\tplans\trate sum bp\t")
		for _, r := range s.Plans {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t\n", r.Platform, r.VendorStatus, r.Plans, r.RateBPSum)
		}
		tw.Flush()
	}
	if len(s.Snapshots) > 0 {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "platform\tperiod\tsnapshots\tindicators\tindicator milli-sum\t")
		for _, r := range s.Snapshots {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t\n", r.Platform, r.Period, r.Snapshots, r.Indicators, r.IndicatorMilliSum)
		}
		tw.Flush()
	}
}
