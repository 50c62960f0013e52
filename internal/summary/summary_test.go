package summary

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

func sample() Summary {
	return Summary{
		Orders: []OrderRow{
			{Platform: "douke", Status: events.StatusPaid, Orders: 12, PaidFen: 120000},
			{Platform: "douke", Status: events.StatusSettled, Orders: 5, PaidFen: 49900},
			{Platform: "douke", Status: events.StatusRefunded, Orders: 1, PaidFen: 990},
			{Platform: "alpha", Status: events.StatusPaid, Orders: 2, PaidFen: 300},
		},
		Commissions: []CommissionRow{
			{Platform: "douke", Status: events.StatusPaid, Role: events.RoleCreator, Lines: 12, EstimatedFen: 42000, SettledFen: 0},
			{Platform: "douke", Status: events.StatusSettled, Role: events.RoleCreator, Lines: 5, EstimatedFen: 17465, SettledFen: 17465},
			{Platform: "douke", Status: events.StatusSettled, Role: events.RolePlatformFee, Lines: 5, EstimatedFen: -499, SettledFen: -499},
			{Platform: "alpha", Status: events.StatusPaid, Role: events.RoleShop, Lines: 2, EstimatedFen: 30, SettledFen: 0},
		},
	}
}

// reversed returns a copy of s with every row list reversed.
func reversed(s Summary) Summary {
	out := Summary{}
	for i := len(s.Orders) - 1; i >= 0; i-- {
		out.Orders = append(out.Orders, s.Orders[i])
	}
	for i := len(s.Commissions) - 1; i >= 0; i-- {
		out.Commissions = append(out.Commissions, s.Commissions[i])
	}
	return out
}

func TestDiffEqual(t *testing.T) {
	tests := []struct {
		name      string
		want, got Summary
	}{
		{"empty", Summary{}, Summary{}},
		{"nil and empty rows", Summary{}, Summary{Orders: []OrderRow{}, Commissions: []CommissionRow{}}},
		{"same order", sample(), sample()},
		{"different row order", sample(), reversed(sample())},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := Diff(tc.want, tc.got); len(d) != 0 {
				t.Errorf("Diff of equal summaries = %q", d)
			}
		})
	}
}

func TestDiffReportsEachRow(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *Summary)
		want   []string // line i of the diff starts with want[i]
	}{
		{"order count", func(s *Summary) { s.Orders[0].Orders = 11 },
			[]string{"orders douke/paid: want 12 orders / 120000 fen paid, got 11 / 120000"}},
		{"paid fen", func(s *Summary) { s.Orders[1].PaidFen = 1 },
			[]string{"orders douke/settled: want 5 orders / 49900 fen paid, got 5 / 1"}},
		{"missing order row", func(s *Summary) { s.Orders = s.Orders[:3] },
			[]string{"orders alpha/paid: want 2 orders / 300 fen paid, got 0 / 0"}},
		{"extra order row", func(s *Summary) {
			s.Orders = append(s.Orders, OrderRow{Platform: "douke", Status: events.StatusCancelled, Orders: 3, PaidFen: 7})
		}, []string{"orders douke/cancelled: want 0 orders / 0 fen paid, got 3 / 7"}},
		{"commission estimated", func(s *Summary) { s.Commissions[0].EstimatedFen = 41999 },
			[]string{"commission douke/paid/creator: want 12 lines / 42000 est / 0 settled fen, got 12 / 41999 / 0"}},
		{"commission settled", func(s *Summary) { s.Commissions[2].SettledFen = 0 },
			[]string{"commission douke/settled/platform_fee: want 5 lines / -499 est / -499 settled fen, got 5 / -499 / 0"}},
		{"commission lines", func(s *Summary) { s.Commissions[3].Lines = 3 },
			[]string{"commission alpha/paid/shop: want 2 lines / 30 est / 0 settled fen, got 3 / 30 / 0"}},
		{"role moved", func(s *Summary) { s.Commissions[3].Role = events.RoleCreator },
			[]string{"commission alpha/paid/creator: want 0 lines", "commission alpha/paid/shop: want 2 lines / 30 est / 0 settled fen, got 0 / 0 / 0"}},
		{"several rows, sorted", func(s *Summary) {
			s.Orders[2].Orders = 0
			s.Orders[3].PaidFen = 301
			s.Commissions[1].SettledFen = 1
		}, []string{"orders alpha/paid:", "orders douke/refunded:", "commission douke/settled/creator:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := sample()
			tc.mutate(&got)
			d := Diff(sample(), reversed(got))
			if len(d) != len(tc.want) {
				t.Fatalf("Diff = %d lines %q, want %d", len(d), d, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(d[i], w) {
					t.Errorf("line %d = %q, want it to contain %q", i, d[i], w)
				}
			}
		})
	}
}

func TestDiffIsSymmetricInCount(t *testing.T) {
	a := sample()
	b := sample()
	b.Orders = b.Orders[1:]
	b.Commissions[0].Lines++
	if ab, ba := Diff(a, b), Diff(b, a); len(ab) != 2 || len(ba) != 2 {
		t.Errorf("Diff(a,b) = %q, Diff(b,a) = %q; want 2 lines each", ab, ba)
	}
}

func TestTotalOrders(t *testing.T) {
	if got := sample().TotalOrders(); got != 20 {
		t.Errorf("TotalOrders = %d, want 20", got)
	}
	if got := (Summary{}).TotalOrders(); got != 0 {
		t.Errorf("TotalOrders of empty = %d", got)
	}
}

func TestNormalize(t *testing.T) {
	s := reversed(sample())
	s.Normalize()
	var keys []string
	for _, r := range s.Orders {
		keys = append(keys, r.Platform+"/"+string(r.Status))
	}
	if got := strings.Join(keys, " "); got != "alpha/paid douke/paid douke/refunded douke/settled" {
		t.Errorf("order rows sorted as %s", got)
	}
	keys = nil
	for _, r := range s.Commissions {
		keys = append(keys, r.Platform+"/"+string(r.Status)+"/"+string(r.Role))
	}
	if got := strings.Join(keys, " "); got != "alpha/paid/shop douke/paid/creator douke/settled/creator douke/settled/platform_fee" {
		t.Errorf("commission rows sorted as %s", got)
	}
}

func TestPrint(t *testing.T) {
	var buf bytes.Buffer
	Print(&buf, "sandbox truth", reversed(sample()))
	out := buf.String()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if lines[0] != "sandbox truth" {
		t.Errorf("first line = %q, want the title", lines[0])
	}
	// squeeze the alignment padding so rows can be matched as words
	space := regexp.MustCompile(` +`)
	var rows []string
	for _, l := range lines[1:] {
		rows = append(rows, strings.TrimSpace(space.ReplaceAllString(l, " ")))
	}
	want := []string{
		"platform status orders paid fen",
		"alpha paid 2 300",
		"douke paid 12 120000",
		"douke refunded 1 990",
		"douke settled 5 49900",
		"platform status role lines estimated fen settled fen",
		"alpha paid shop 2 30 0",
		"douke paid creator 12 42000 0",
		"douke settled creator 5 17465 17465",
		"douke settled platform_fee 5 -499 -499",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("Print rows =\n%s\nwant\n%s\nraw output:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"), out)
	}
	// columns are right-aligned: every row of a table has the same width
	for _, table := range [][]string{lines[1:6], lines[6:]} {
		for _, l := range table[1:] {
			if len(strings.TrimRight(l, " ")) != len(strings.TrimRight(table[0], " ")) {
				t.Errorf("row %q is not aligned with header %q", l, table[0])
			}
		}
	}
}

func TestPrintEmpty(t *testing.T) {
	var buf bytes.Buffer
	Print(&buf, "empty", Summary{})
	out := buf.String()
	if !strings.HasPrefix(out, "empty\n") || !strings.Contains(out, "paid fen") || !strings.Contains(out, "settled fen") {
		t.Errorf("Print of an empty summary = %q, want title and both headers", out)
	}
}
