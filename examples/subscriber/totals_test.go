package main

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

var t0 = time.Date(2026, 10, 1, 2, 0, 0, 0, time.UTC)

func orderEnv(t *testing.T, id, author string, minutes int) events.Envelope {
	t.Helper()
	at := t0.Add(time.Duration(minutes) * time.Minute)
	e, err := events.Order{Platform: "douke", Account: "main", OrderID: id, AuthorID: author, Currency: "CNY",
		Status: events.StatusPaid, PaidAt: t0, UpdatedAt: at, Version: at.UnixMilli()}.Envelope()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func lineEnv(t *testing.T, id string, role events.Role, est, settled int64, minutes int) events.Envelope {
	t.Helper()
	at := t0.Add(time.Duration(minutes) * time.Minute)
	e, err := events.CommissionLine{Platform: "douke", Account: "main", OrderID: id, Role: role, Currency: "CNY",
		EstimatedFen: est, SettledFen: settled, OrderStatus: events.StatusPaid, PaidAt: t0, UpdatedAt: at, Version: at.UnixMilli()}.Envelope()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func key(author string, role events.Role) CreatorKey {
	return CreatorKey{Platform: "douke", AuthorID: author, Role: role, Currency: "CNY"}
}

func apply(t *testing.T, tot *Totals, envs ...events.Envelope) {
	t.Helper()
	for _, e := range envs {
		if _, err := tot.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTotalsLatestVersionWins: settlement and a refund after settlement
// replace the line's earlier amounts; old versions and duplicates arriving
// late change nothing.
func TestTotalsLatestVersionWins(t *testing.T) {
	tot := NewTotals()
	paid := lineEnv(t, "o1", events.RoleCreator, 300, 0, 0)
	settled := lineEnv(t, "o1", events.RoleCreator, 300, 300, 10)
	refunded := lineEnv(t, "o1", events.RoleCreator, 0, 0, 20)
	apply(t, tot, orderEnv(t, "o1", "alice", 0), paid, settled)
	if got := tot.ByCreator()[key("alice", events.RoleCreator)]; got != (Amount{Lines: 1, EstimatedFen: 300, SettledFen: 300}) {
		t.Fatalf("after settlement: %+v", got)
	}
	apply(t, tot, refunded, settled, paid, refunded, paid) // refund, then stale and duplicate redeliveries
	if got := tot.ByCreator(); len(got) != 1 || got[key("alice", events.RoleCreator)] != (Amount{Lines: 1}) {
		t.Fatalf("after the refund: %+v", got)
	}
	if s := tot.Stats(); s.Applied != 4 || s.Superseded != 2 || s.Duplicates != 1 || s.Stale != 3 {
		t.Fatalf("stats = %+v", s)
	}
}

// TestTotalsAnyArrivalOrder: lines that arrive before their order wait for
// it; a newer order version with another author moves its lines; the result
// does not depend on the arrival order.
func TestTotalsAnyArrivalOrder(t *testing.T) {
	evs := []events.Envelope{
		orderEnv(t, "o1", "alice", 0),
		lineEnv(t, "o1", events.RoleCreator, 100, 0, 0),
		lineEnv(t, "o1", events.RoleShop, 40, 0, 0),
		orderEnv(t, "o2", "bob", 0),
		lineEnv(t, "o2", events.RoleCreator, 500, 0, 0),
		orderEnv(t, "o2", "carol", 5), // the vendor corrected the author
		lineEnv(t, "o2", events.RoleCreator, 500, 500, 9),
	}
	want := map[CreatorKey]Amount{
		key("alice", events.RoleCreator): {Lines: 1, EstimatedFen: 100},
		key("alice", events.RoleShop):    {Lines: 1, EstimatedFen: 40},
		key("carol", events.RoleCreator): {Lines: 1, EstimatedFen: 500, SettledFen: 500},
	}
	inOrder := NewTotals()
	apply(t, inOrder, evs...)
	if got := inOrder.ByCreator(); !reflect.DeepEqual(got, want) {
		t.Fatalf("in order: %+v", got)
	}
	reversed := NewTotals()
	for i := len(evs) - 1; i >= 0; i-- {
		apply(t, reversed, evs[i])
		if i == 1 && reversed.Unattributed() != 2 {
			t.Fatalf("o1's lines before their order should wait: unattributed = %d", reversed.Unattributed())
		}
	}
	if got := reversed.ByCreator(); !reflect.DeepEqual(got, want) || reversed.Unattributed() != 0 {
		t.Fatalf("reversed: %+v, unattributed %d", got, reversed.Unattributed())
	}
	twice := NewTotals()
	apply(t, twice, evs...)
	apply(t, twice, evs...)
	if got := twice.ByCreator(); !reflect.DeepEqual(got, want) {
		t.Fatalf("applied twice: %+v", got)
	}
}

func TestTotalsIgnoresOtherTypesAndRejectsBadData(t *testing.T) {
	tot := NewTotals()
	plan, err := events.CommissionPlan{Platform: "douyin-poi", Account: "m", ProductID: "1", PlanID: "2", ObservedAt: t0}.Envelope()
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := tot.Apply(plan); changed || err != nil || tot.Stats().Ignored != 1 {
		t.Fatalf("plan: %v, %v, %+v", changed, err, tot.Stats())
	}
	bad := lineEnv(t, "o1", events.RoleCreator, 1, 0, 0)
	bad.Data = []byte(`{"estimated_fen":"one"}`)
	if _, err := tot.Apply(bad); err == nil {
		t.Fatal("undecodable data accepted")
	}
}

func TestTotalsSaveLoad(t *testing.T) {
	tot := NewTotals()
	apply(t, tot, lineEnv(t, "o0", events.RoleCreator, 7, 0, 0), orderEnv(t, "o1", "alice", 0), lineEnv(t, "o1", events.RoleCreator, 100, 50, 1))
	path := filepath.Join(t.TempDir(), "state.json")
	if err := tot.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadTotals(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded.ByCreator(), tot.ByCreator()) || loaded.Stats() != tot.Stats() || loaded.Unattributed() != 1 {
		t.Fatalf("loaded %+v %+v, saved %+v %+v", loaded.ByCreator(), loaded.Stats(), tot.ByCreator(), tot.Stats())
	}
	// the loaded state still de-duplicates
	apply(t, loaded, lineEnv(t, "o1", events.RoleCreator, 100, 50, 1))
	if loaded.Stats().Duplicates != 1 {
		t.Fatalf("stats after a redelivery: %+v", loaded.Stats())
	}
	if empty, err := LoadTotals(filepath.Join(t.TempDir(), "missing.json")); err != nil || len(empty.ByCreator()) != 0 {
		t.Fatalf("missing state file: %v", err)
	}
	var out bytes.Buffer
	if err := tot.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "alice") || !strings.Contains(out.String(), "1.00") || !strings.Contains(out.String(), "0.50") {
		t.Fatalf("table:\n%s", out.String())
	}
}
