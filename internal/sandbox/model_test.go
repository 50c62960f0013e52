package sandbox

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

func testConfig(seed int64, orders int) Config {
	cfg := DefaultConfig()
	cfg.Seed, cfg.Orders = seed, orders
	cfg.Accounts = []Account{
		{Vendor: "fake", Name: "a", Credentials: map[string]string{"key": "ka"}},
		{Vendor: "fake", Name: "b", Credentials: map[string]string{"key": "kb"}},
		{Vendor: "other", Name: "a"},
	}
	return cfg
}

func mustGenerate(t testing.TB, cfg Config) *Model {
	t.Helper()
	m, err := Generate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fingerprint renders every generated fact of a book.
func fingerprint(b *Book) string {
	var sb strings.Builder
	for i := 0; i < b.Len(); i++ {
		o := b.Order(i)
		fmt.Fprintf(&sb, "%d %s %d %d %d %d %s %s %s %d %s %d %s|", o.ID, o.Channel, o.PaidFen, o.Quantity,
			o.CreatorRateBP, o.LiveRateBP, o.Product.ID, o.Author.OpenID, o.PID, o.Variant, o.Fate(), o.Product.Shop.ID, o.BuyerOpenID())
		for _, tr := range o.Schedule() {
			fmt.Fprintf(&sb, "%s@%d/%d ", tr.Status, tr.At.Unix(), tr.UpdatedAt.Unix())
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

func TestGenerateDeterministic(t *testing.T) {
	a := mustGenerate(t, testConfig(42, 3000))
	b := mustGenerate(t, testConfig(42, 3000))
	c := mustGenerate(t, testConfig(43, 3000))
	for i := range a.books {
		if fingerprint(a.books[i]) != fingerprint(b.books[i]) {
			t.Fatalf("book %d: same seed gave different orders", i)
		}
		if fingerprint(a.books[i]) == fingerprint(c.books[i]) {
			t.Fatalf("book %d: different seeds gave the same orders", i)
		}
	}
	if fingerprint(a.books[0]) == fingerprint(a.books[1]) {
		t.Fatal("two accounts got the same orders")
	}
	// Adding an account does not change the others.
	cfg := testConfig(42, 3000)
	cfg.Accounts = append(cfg.Accounts, Account{Vendor: "fake", Name: "c"})
	d := mustGenerate(t, cfg)
	if fingerprint(d.books[0]) != fingerprint(a.books[0]) {
		t.Fatal("adding an account changed another account's orders")
	}
}

func TestGenerateInvariants(t *testing.T) {
	cfg := testConfig(7, 20000)
	m := mustGenerate(t, cfg)
	fates := map[Fate]int{}
	live := 0
	total := 0
	ids := map[uint64]bool{}
	for bi, b := range m.books {
		var prev *Order
		for i := 0; i < b.Len(); i++ {
			o := b.Order(i)
			total++
			if ids[o.ID] {
				t.Fatalf("duplicate order ID %d", o.ID)
			}
			ids[o.ID] = true
			s := o.IDString()
			if len(s) != 19 || !strings.HasPrefix(s, "50494") {
				t.Fatalf("order ID %s: want 19 digits starting 50494", s)
			}
			if prev != nil && (o.ID <= prev.ID || o.PaidAt().Before(prev.PaidAt())) {
				t.Fatalf("book %d: orders not sorted by ID and pay time at %d", bi, i)
			}
			prev = o
			if o.PaidAt().Before(cfg.From) || !o.PaidAt().Before(cfg.To) {
				t.Fatalf("pay time %s outside [From, To)", o.PaidAt())
			}
			if o.PaidFen < 100 || o.PaidFen > 200000 || o.CreatorRateBP < 100 || o.CreatorRateBP > 5000 {
				t.Fatalf("order %s: amount %d or rate %d out of range", s, o.PaidFen, o.CreatorRateBP)
			}
			if (o.Channel == ChannelLive) != (o.LiveRateBP >= 100 && o.LiveRateBP <= 3000) || (o.Channel != ChannelLive && o.LiveRateBP != 0) {
				t.Fatalf("order %s: channel %s with live rate %d", s, o.Channel, o.LiveRateBP)
			}
			if o.Channel == ChannelLive {
				live++
			}
			fates[o.Fate()]++
			sch := o.Schedule()
			want := map[Fate][]events.Status{
				FatePaid:                  {"paid"},
				FateReceived:              {"paid", "received"},
				FateSettled:               {"paid", "received", "settled"},
				FateRefundedBeforeConfirm: {"paid", "refunded"},
				FateRefundedAfterConfirm:  {"paid", "received", "refunded"},
				FateRefundedAfterSettle:   {"paid", "received", "settled", "refunded"},
			}[o.Fate()]
			var got []events.Status
			for j, tr := range sch {
				got = append(got, tr.Status)
				d := tr.UpdatedAt.Sub(tr.At)
				if d < time.Second || d > 120*time.Second {
					t.Fatalf("order %s step %d: update delay %s outside 1..120s", s, j, d)
				}
				if j > 0 && !tr.UpdatedAt.After(sch[j-1].UpdatedAt) {
					t.Fatalf("order %s: update times not strictly increasing", s)
				}
				if j > 0 && !tr.At.After(sch[j-1].UpdatedAt) {
					t.Fatalf("order %s: step %d happens before the previous update", s, j)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("order %s fate %s: schedule %v, want %v", s, o.Fate(), got, want)
			}
			checkSchedule(t, o, sch)
		}
	}
	share := func(n int) float64 { return float64(n) / float64(total) }
	for f, p := range map[Fate]float64{FatePaid: .22, FateReceived: .035, FateSettled: .555,
		FateRefundedBeforeConfirm: .08, FateRefundedAfterConfirm: .07, FateRefundedAfterSettle: .04} {
		if math.Abs(share(fates[f])-p) > 0.015 {
			t.Errorf("fate %s: share %.3f, want about %.3f", f, share(fates[f]), p)
		}
	}
	if math.Abs(share(live)-0.4) > 0.015 {
		t.Errorf("live share %.3f, want about 0.4", share(live))
	}
}

// checkSchedule checks the gaps between transitions against the generator's rules.
func checkSchedule(t *testing.T, o *Order, sch []Transition) {
	t.Helper()
	in := func(d, lo, hi time.Duration) bool { return d >= lo && d <= hi }
	day := 24 * time.Hour
	var confirm, settle time.Time
	for _, tr := range sch[1:] {
		switch tr.Status {
		case events.StatusReceived:
			confirm = tr.At
			if !in(tr.At.Sub(sch[0].At), time.Hour, 7*day) {
				t.Fatalf("order %d: confirm %s after pay", o.ID, tr.At.Sub(sch[0].At))
			}
		case events.StatusSettled:
			settle = tr.At
			if !in(tr.At.Sub(confirm), 3*day, 15*day) {
				t.Fatalf("order %d: settle %s after confirm", o.ID, tr.At.Sub(confirm))
			}
		case events.StatusRefunded:
			if !settle.IsZero() && !tr.At.After(settle) || !confirm.IsZero() && !tr.At.After(confirm) {
				t.Fatalf("order %d: refund out of order", o.ID)
			}
		}
	}
}

func TestStateRules(t *testing.T) {
	m := mustGenerate(t, testConfig(11, 5000))
	b := m.books[0]
	seen := map[events.Status]int{}
	for i := 0; i < b.Len(); i++ {
		o := b.Order(i)
		sch := o.Schedule()
		if _, ok := o.At(sch[0].UpdatedAt.Add(-time.Second)); ok {
			t.Fatalf("order %d visible before its first update time", o.ID)
		}
		for j, tr := range sch {
			if j > 0 {
				// a change is invisible until its vendor update time
				if s, _ := o.At(tr.UpdatedAt.Add(-time.Second)); s.Status != sch[j-1].Status {
					t.Fatalf("order %d step %d visible before its update time", o.ID, j)
				}
			}
			for _, at := range []time.Time{tr.UpdatedAt} {
				s, ok := o.At(at)
				if !ok || s.Status != tr.Status || !s.UpdatedAt.Equal(tr.UpdatedAt) {
					t.Fatalf("order %d at step %d: state %+v, want %s updated %s", o.ID, j, s, tr.Status, tr.UpdatedAt)
				}
				seen[s.Status]++
				creator := o.PaidFen * o.CreatorRateBP / 10000
				live := o.PaidFen * o.LiveRateBP / 10000
				est := [4]int64{creator, live, creator + live, creator / 10}
				for k, l := range s.Lines {
					if l.Role != Roles[k] {
						t.Fatalf("line %d role %s", k, l.Role)
					}
					wantEst, wantSet := est[k], int64(0)
					switch s.Status {
					case events.StatusSettled:
						wantSet = wantEst
					case events.StatusRefunded:
						wantEst = 0
					}
					if l.EstimatedFen != wantEst || l.SettledFen != wantSet {
						t.Fatalf("order %d %s %s: est %d settled %d, want %d %d", o.ID, s.Status, l.Role, l.EstimatedFen, l.SettledFen, wantEst, wantSet)
					}
				}
				if (s.Status == events.StatusSettled) != (s.SettledBaseFen == o.PaidFen) || s.EstimatedBaseFen != o.PaidFen {
					t.Fatalf("order %d %s: bases %d/%d", o.ID, s.Status, s.EstimatedBaseFen, s.SettledBaseFen)
				}
				if o.Fate() == FateRefundedAfterSettle && s.Status == events.StatusRefunded && (s.SettledAt.IsZero() || s.ReceivedAt.IsZero() || !s.RefundedAt.After(s.SettledAt)) {
					t.Fatalf("order %d: refund after settlement lost its history: %+v", o.ID, s)
				}
			}
		}
	}
	for _, st := range []events.Status{"paid", "received", "settled", "refunded"} {
		if seen[st] == 0 {
			t.Errorf("status %s never seen", st)
		}
	}
}

// BenchmarkGenerate100k measures generation speed (speed is measured by
// benchmarks, never asserted in tests).
func BenchmarkGenerate100k(b *testing.B) {
	cfg := testConfig(1, 100_000)
	cfg.Accounts = cfg.Accounts[:1]
	for b.Loop() {
		if _, err := Generate(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// brute answers q by looking at every order.
func brute(b *Book, q Query) []uint64 {
	var out []uint64
	t := q.At
	for i := b.Len() - 1; i >= 0; i-- {
		o := b.Order(i)
		s, ok := o.At(t)
		if !ok || (q.Before != 0 && o.ID >= q.Before) {
			continue
		}
		if q.IDs != nil && !slices.Contains(q.IDs, o.ID) {
			continue
		}
		tm := o.PaidAt()
		if q.Field == ByUpdateTime {
			tm = s.UpdatedAt
		}
		if !q.From.IsZero() && tm.Unix() < q.From.Unix() || !q.To.IsZero() && tm.Unix() > q.To.Unix() {
			continue
		}
		v := View{Order: o, State: s}
		if q.Filter != nil && !q.Filter(&v) {
			continue
		}
		out = append(out, o.ID)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out
}

func TestPageMatchesBruteForce(t *testing.T) {
	m := mustGenerate(t, testConfig(5, 6000))
	b := m.books[0]
	r := rand.New(rand.NewPCG(1, 2))
	from := DefaultConfig().From
	randTime := func(spanDays int) time.Time {
		return from.Add(time.Duration(r.Int64N(int64(spanDays) * int64(24*time.Hour))))
	}
	for n := 0; n < 3000; n++ {
		q := Query{At: randTime(90), Limit: r.IntN(25)}
		if r.IntN(2) == 1 {
			q.Field = ByUpdateTime
		}
		switch r.IntN(4) {
		case 0: // wide
			q.From = randTime(20)
			q.To = q.From.Add(time.Duration(r.IntN(90*24)) * time.Hour)
		case 1: // narrow: minutes to hours (the update index path)
			q.From = randTime(60)
			q.To = q.From.Add(time.Duration(r.IntN(600)) * time.Minute)
		case 2: // open-ended
			q.To = randTime(60)
		case 3:
			q.From = randTime(60)
		}
		if r.IntN(3) == 0 {
			q.Before = b.Order(r.IntN(b.Len())).ID + uint64(r.IntN(2))
		}
		if r.IntN(10) == 0 {
			q.IDs = []uint64{}
			for k := 0; k < r.IntN(12); k++ {
				q.IDs = append(q.IDs, b.Order(r.IntN(b.Len())).ID+uint64(r.IntN(2)))
			}
		}
		if r.IntN(4) == 0 {
			q.Filter = func(v *View) bool { return v.Order.Channel == ChannelLive }
		}
		var got []uint64
		for _, v := range b.Page(q) {
			got = append(got, v.Order.ID)
			if s, _ := v.Order.At(q.At); s != v.State {
				t.Fatalf("query %d: view state differs from At", n)
			}
		}
		if want := brute(b, q); !slices.Equal(got, want) {
			t.Fatalf("query %d %+v: got %d orders %v, want %d %v", n, q, len(got), head(got), len(want), head(want))
		}
	}
}

func head(x []uint64) []uint64 { return x[:min(len(x), 5)] }

func TestPageConcurrent(t *testing.T) {
	m := mustGenerate(t, testConfig(5, 3000))
	b := m.books[0]
	at := DefaultConfig().Clock
	q := Query{At: at, Field: ByUpdateTime, From: at.Add(-2 * time.Hour), To: at}
	want := brute(b, q)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got []uint64
			for _, v := range b.Page(q) {
				got = append(got, v.Order.ID)
			}
			if !slices.Equal(got, want) {
				t.Error("concurrent update query differs")
			}
		}()
	}
	wg.Wait()
}

func TestTruth(t *testing.T) {
	m := mustGenerate(t, testConfig(9, 4000))
	at := DefaultConfig().Clock
	orders := m.OrderTruths("fake", at)
	visible := 0
	for _, b := range m.Books("fake") {
		for i := 0; i < b.Len(); i++ {
			if _, ok := b.Order(i).At(at); ok {
				visible++
			}
		}
	}
	if len(orders) != visible || visible != 8000 {
		t.Fatalf("truth lists %d orders, %d visible (want all 8000 paid before the clock)", len(orders), visible)
	}
	s := m.Truth("fake", at)
	if s.TotalOrders() != int64(visible) {
		t.Fatalf("summary counts %d orders, want %d", s.TotalOrders(), visible)
	}
	var lines, paid, paidRows int64
	for _, r := range s.Commissions {
		lines += r.Lines
		if r.Platform != "fake" {
			t.Fatalf("row platform %q", r.Platform)
		}
		if r.Status == events.StatusRefunded && (r.EstimatedFen != 0 || r.SettledFen != 0) {
			t.Fatalf("refunded row with amounts: %+v", r)
		}
		if r.Status != events.StatusSettled && r.SettledFen != 0 {
			t.Fatalf("unsettled row with settled amount: %+v", r)
		}
	}
	for _, o := range orders {
		paid += o.PaidFen
	}
	for _, r := range s.Orders {
		paidRows += r.PaidFen
	}
	if lines != 4*int64(visible) || paid != paidRows {
		t.Fatalf("lines %d (want %d), paid %d vs rows %d", lines, 4*visible, paid, paidRows)
	}
	if len(s.Orders) != 4 || len(s.Commissions) != 16 {
		t.Fatalf("want 4 statuses x 4 roles, got %d order rows, %d commission rows", len(s.Orders), len(s.Commissions))
	}
	// Before any payment there is nothing.
	if e := m.Truth("fake", DefaultConfig().From.Add(-time.Second)); len(e.Orders)+len(e.Commissions) != 0 {
		t.Fatalf("truth before the first payment: %+v", e)
	}
	if len(m.OrderTruths("nobody", at)) != 0 {
		t.Fatal("unknown vendor has orders")
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []func(*Config){
		func(c *Config) { c.Orders = -1 },
		func(c *Config) { c.To = c.From },
		func(c *Config) { c.Accounts = append(c.Accounts, c.Accounts[0]) },
		func(c *Config) { c.Accounts = append(c.Accounts, Account{Vendor: "x"}) },
		func(c *Config) { c.Faults.ErrorRate5xx = 1.5 },
		func(c *Config) { c.Faults.ErrorRate5xx, c.Faults.ThrottleRate = .6, .6 },
		func(c *Config) { c.Faults.SlowFor = -1 },
	}
	for i, f := range bad {
		c := testConfig(1, 10)
		f(&c)
		if _, err := Generate(c); err == nil {
			t.Errorf("case %d: invalid config accepted", i)
		}
	}
}

func BenchmarkPage100k(b *testing.B) {
	cfg := testConfig(1, 100_000)
	cfg.Accounts = cfg.Accounts[:1]
	bk := mustGenerate(b, cfg).books[0]
	at := cfg.Clock
	mid := bk.Order(bk.Len() / 2).ID
	for _, c := range []struct {
		name string
		q    Query
	}{
		{"pay-month", Query{At: at, From: cfg.From, To: cfg.To, Before: mid, Limit: 20}},
		{"update-90d", Query{At: at, Field: ByUpdateTime, From: at.Add(-90 * 24 * time.Hour), To: at, Before: mid, Limit: 20}},
		{"update-10min", Query{At: at, Field: ByUpdateTime, From: at.Add(-10 * time.Minute), To: at, Limit: 20}},
		{"update-1day", Query{At: at, Field: ByUpdateTime, From: at.Add(-24 * time.Hour), To: at, Limit: 20}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				bk.Page(c.q)
			}
		})
	}
}
