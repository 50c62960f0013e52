package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

// t0 is when the fixture orders were paid; versions carry milliseconds on
// purpose (events may have sub-second times; DateTime keeps seconds).
var t0 = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// openTestStore opens a migrated store on a fresh database of the test server.
func openTestStore(t testing.TB) *Store {
	t.Helper()
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	s := openStore(t, addr, db)
	if err := s.Migrate(testCtx(t)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func openStore(t testing.TB, addr, db string) *Store {
	t.Helper()
	user, pw := testenv.ClickHouseCredentials()
	s, err := Open(testCtx(t), Config{Addr: addr, Database: db, Username: user, Password: pw})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// order builds an order at version updated (an offset after t0 with milliseconds).
func order(platform, id string, status events.Status, paidFen int64, updated time.Duration) events.Order {
	u := t0.Add(updated)
	o := events.Order{
		Platform: platform, Account: "acct-1", OrderID: id,
		ProductID: "prod-" + id, ProductName: "商品 " + id,
		ShopID: "shop-1", ShopName: "店铺", AuthorID: "author-1", AuthorName: "达人",
		BuyerOpenID: "buyer-" + id, Channel: "Live",
		Quantity: 1, Currency: events.CurrencyCNY,
		PaidFen: paidFen, EstimatedBaseFen: paidFen,
		Status: status, VendorStatus: "vendor-" + string(status),
		PaidAt: t0, UpdatedAt: u, Version: u.UnixMilli(),
	}
	switch status {
	case events.StatusSettled:
		o.SettledBaseFen = paidFen
		r, s := t0.Add(time.Hour), u
		o.ReceivedAt, o.SettledAt = &r, &s
	case events.StatusRefunded:
		r := u
		o.RefundedAt = &r
	}
	return o
}

func line(o events.Order, role events.Role, rateBP, estimated, settled int64) events.CommissionLine {
	return events.CommissionLine{
		Platform: o.Platform, Account: o.Account, OrderID: o.OrderID, Role: role,
		RateBP: rateBP, Currency: o.Currency, EstimatedFen: estimated, SettledFen: settled,
		OrderStatus: o.Status, PaidAt: o.PaidAt, UpdatedAt: o.UpdatedAt, Version: o.Version,
	}
}

type enveloper interface {
	Envelope() (events.Envelope, error)
}

// plan builds a commission plan observed at t0+observed (with milliseconds,
// like every fixture version).
func plan(platform, productID, planID string, rateBP, vendorStatus int64, observed time.Duration) events.CommissionPlan {
	at := t0.Add(observed)
	return events.CommissionPlan{
		Platform: platform, Account: "acct-1", ProductID: productID, PlanID: planID,
		RateBP: rateBP, ContentType: 1, ContentTypeLabel: "live", VendorStatus: vendorStatus,
		CreatedDate: "2022-04-22", ObservedAt: at, Version: at.UnixMilli(),
	}
}

// snap builds a creator snapshot observed at t0+observed whose indicators
// are values, named i00, i01, ... (sorted), with the matching vendor data.
func snap(platform, authorID, period, day string, observed time.Duration, values ...float64) events.CreatorOrderExperience {
	at := t0.Add(observed)
	data := map[string]float64{}
	ind := make([]events.Indicator, len(values))
	for i, v := range values {
		ind[i] = events.Indicator{Name: fmt.Sprintf("i%02d", i), Value: v}
		data[ind[i].Name] = v
	}
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	return events.CreatorOrderExperience{
		Platform: platform, Account: "acct-1", AuthorID: authorID, Period: period,
		SnapshotDate: day, Indicators: ind, Data: raw, ObservedAt: at, Version: at.UnixMilli(),
	}
}

func envelopes(t testing.TB, items ...enveloper) []events.Envelope {
	t.Helper()
	out := make([]events.Envelope, 0, len(items))
	for _, it := range items {
		e, err := it.Envelope()
		if err != nil {
			t.Fatalf("envelope: %v", err)
		}
		out = append(out, e)
	}
	return out
}

const v1 = time.Hour + 123*time.Millisecond

// dataset is five orders on two platforms in three states, with their lines.
func dataset(t testing.TB) []events.Envelope {
	a := order("douke", "A", events.StatusPaid, 1000, v1)
	b := order("douke", "B", events.StatusSettled, 2500, v1)
	c := order("douke", "C", events.StatusRefunded, 800, v1)
	d := order("taoke", "D", events.StatusPaid, 300, v1)
	e := order("taoke", "E", events.StatusPaid, 700, v1)
	return envelopes(t,
		a, line(a, events.RoleCreator, 2000, 200, 0), line(a, events.RolePlatformFee, 100, 10, 0),
		b, line(b, events.RoleCreator, 2000, 500, 480), line(b, events.RolePlatformFee, 100, 25, 24),
		c, line(c, events.RoleCreator, 2000, 160, 0),
		d, line(d, events.RoleCreator, 1000, 30, 0),
		e, line(e, events.RoleCreator, 1000, 70, 0),
	)
}

// datasetSummary is what dataset must sum to.
func datasetSummary() summary.Summary {
	return summary.Summary{
		Orders: []summary.OrderRow{
			{Platform: "douke", Status: events.StatusPaid, Orders: 1, PaidFen: 1000},
			{Platform: "douke", Status: events.StatusRefunded, Orders: 1, PaidFen: 800},
			{Platform: "douke", Status: events.StatusSettled, Orders: 1, PaidFen: 2500},
			{Platform: "taoke", Status: events.StatusPaid, Orders: 2, PaidFen: 1000},
		},
		Commissions: []summary.CommissionRow{
			{Platform: "douke", Status: events.StatusPaid, Role: events.RoleCreator, Lines: 1, EstimatedFen: 200},
			{Platform: "douke", Status: events.StatusPaid, Role: events.RolePlatformFee, Lines: 1, EstimatedFen: 10},
			{Platform: "douke", Status: events.StatusRefunded, Role: events.RoleCreator, Lines: 1, EstimatedFen: 160},
			{Platform: "douke", Status: events.StatusSettled, Role: events.RoleCreator, Lines: 1, EstimatedFen: 500, SettledFen: 480},
			{Platform: "douke", Status: events.StatusSettled, Role: events.RolePlatformFee, Lines: 1, EstimatedFen: 25, SettledFen: 24},
			{Platform: "taoke", Status: events.StatusPaid, Role: events.RoleCreator, Lines: 2, EstimatedFen: 100},
		},
	}
}

// updateA is order A's next version (settled) with its lines.
func updateA(t testing.TB) []events.Envelope {
	a := order("douke", "A", events.StatusSettled, 1000, 2*time.Hour+456*time.Millisecond)
	return envelopes(t, a, line(a, events.RoleCreator, 2000, 200, 190), line(a, events.RolePlatformFee, 100, 10, 10))
}

// updatedSummary is what dataset plus updateA must sum to.
func updatedSummary() summary.Summary {
	return summary.Summary{
		Orders: []summary.OrderRow{
			{Platform: "douke", Status: events.StatusRefunded, Orders: 1, PaidFen: 800},
			{Platform: "douke", Status: events.StatusSettled, Orders: 2, PaidFen: 3500},
			{Platform: "taoke", Status: events.StatusPaid, Orders: 2, PaidFen: 1000},
		},
		Commissions: []summary.CommissionRow{
			{Platform: "douke", Status: events.StatusRefunded, Role: events.RoleCreator, Lines: 1, EstimatedFen: 160},
			{Platform: "douke", Status: events.StatusSettled, Role: events.RoleCreator, Lines: 2, EstimatedFen: 700, SettledFen: 670},
			{Platform: "douke", Status: events.StatusSettled, Role: events.RolePlatformFee, Lines: 2, EstimatedFen: 35, SettledFen: 34},
			{Platform: "taoke", Status: events.StatusPaid, Role: events.RoleCreator, Lines: 2, EstimatedFen: 100},
		},
	}
}

// onlyPlatform keeps the rows of one platform.
func onlyPlatform(s summary.Summary, p string) summary.Summary {
	var out summary.Summary
	for _, r := range s.Orders {
		if r.Platform == p {
			out.Orders = append(out.Orders, r)
		}
	}
	for _, r := range s.Commissions {
		if r.Platform == p {
			out.Commissions = append(out.Commissions, r)
		}
	}
	for _, r := range s.Plans {
		if r.Platform == p {
			out.Plans = append(out.Plans, r)
		}
	}
	for _, r := range s.Snapshots {
		if r.Platform == p {
			out.Snapshots = append(out.Snapshots, r)
		}
	}
	return out
}

func requireSummary(t testing.TB, s *Store, platform string, want summary.Summary) {
	t.Helper()
	got, err := s.Summary(testCtx(t), platform)
	if err != nil {
		t.Fatalf("Summary(%q): %v", platform, err)
	}
	if d := summary.Diff(want, got); len(d) > 0 {
		t.Fatalf("Summary(%q) differs from expectations:\n%s", platform, strings.Join(d, "\n"))
	}
}

// requireEmpty checks that no table holds a record.
func requireEmpty(t testing.TB, s *Store) {
	t.Helper()
	for _, table := range []string{"orders", "commission_lines", "commission_plans", "creator_snapshots"} {
		requireCount(t, s, table, 0)
	}
}

func requireCount(t testing.TB, s *Store, table string, want uint64) {
	t.Helper()
	var n uint64
	if err := s.conn.QueryRow(testCtx(t), "SELECT count() FROM "+s.db+"."+table).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	if n != want {
		t.Fatalf("%s holds %d rows (all versions), want %d", table, n, want)
	}
}
