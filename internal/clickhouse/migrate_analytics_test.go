package clickhouse_test

import (
	"reflect"
	"testing"

	"github.com/yongjin-dev/yongjin/internal/analytics"
	"github.com/yongjin-dev/yongjin/internal/analytics/analyticsfixture"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

// This file is an external test: it reads through internal/analytics,
// which imports this package.

// fixturePlans are the analytics fixture's plan observations (9 distinct,
// one redelivered), in one slice.
func fixturePlans() []events.Envelope {
	var out []events.Envelope
	for _, b := range analyticsfixture.Batches()[:3] {
		for _, e := range b {
			if e.Kind() == events.KindCommissionPlan {
				out = append(out, e)
			}
		}
	}
	return out
}

// TestMigrateBackfillsPlanHistory upgrades a database migrated to version 2
// that already holds plan observations: migration 3 copies them into
// commission_plan_history, and later observations arrive through the view.
func TestMigrateBackfillsPlanHistory(t *testing.T) {
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	s := clickhouse.OpenStore(t, addr, db)
	ctx := clickhouse.TestCtx(t)
	if err := s.MigrateFirst(ctx, 2); err != nil {
		t.Fatal(err)
	}
	plans := fixturePlans()
	// One batch is one part, which nothing merges before the migration:
	// every observation is still there to copy.
	if err := s.Insert(ctx, plans[:6]); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate from v2: %v", err)
	}
	clickhouse.RequireMigrated(t, s)
	if err := s.Insert(ctx, plans[6:]); err != nil {
		t.Fatal(err)
	}
	n, err := s.CountFinal(ctx, "commission_plan_history")
	if err != nil {
		t.Fatal(err)
	}
	if n != 9 {
		t.Fatalf("commission_plan_history holds %d observations, want 9", n)
	}
	changes, err := analytics.New(s).PlanRateChanges(ctx, analytics.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 4 {
		t.Fatalf("PlanRateChanges after the backfill = %+v, want 4 changes", changes)
	}
	// Running the backfill again (a sink that died before recording
	// migration 3) changes nothing.
	s.Rerun(t, clickhouse.Migrations[2])
	again, err := analytics.New(s).PlanRateChanges(ctx, analytics.Filter{})
	if err != nil || !reflect.DeepEqual(again, changes) {
		t.Fatalf("PlanRateChanges after a second backfill = %+v, %v; want %+v", again, err, changes)
	}
}
