package analytics

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/analytics/analyticsfixture"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// loadAnalytics opens a migrated store on a fresh database and inserts the
// analytics fixture's batches (redeliveries, re-polls and out-of-order
// versions included) through Insert.
func loadAnalytics(t testing.TB) *testStore {
	t.Helper()
	s := openTestStore(t)
	for i, b := range analyticsfixture.Batches() {
		if err := s.Insert(testCtx(t), b); err != nil {
			t.Fatalf("Insert batch %d: %v", i+1, err)
		}
	}
	return s
}

// fixtureRecords are the fixture's records (latest versions) per platform
// and kind: 6 douke orders with 3 lines each, 4 Taobao orders with 2, 3
// plans, 7 creator snapshots.
var fixtureRecords = map[string]int64{
	"douke/order": 6, "douke/commission": 18, "taobao-live/order": 4, "taobao-live/commission": 8,
	"douyin-poi/commission_plan": 3, "xingtu/creator_experience": 7,
}

func day(d int) time.Time { return time.Date(2024, 3, d, 0, 0, 0, 0, time.UTC) }

func cm(orders, refunded, paid, est, settled, ref int64) Commission {
	return Commission{Orders: orders, RefundedOrders: refunded, PaidFen: paid, EstimatedFen: est, SettledFen: settled, RefundedFen: ref}
}

func requireEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// analyticsResults runs every analytics method with the fixture's range and
// returns their results by name, so a test can compare two runs.
func analyticsResults(t *testing.T, s *testStore) map[string]any {
	t.Helper()
	ctx := testCtx(t)
	f := Filter{From: analyticsfixture.RangeFrom, To: analyticsfixture.RangeTo}
	out := map[string]any{}
	must := func(name string, v any, err error) {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = v
	}
	v1, err := s.Platforms(ctx)
	must("Platforms", v1, err)
	first, last, ok, err := s.PayTimeRange(ctx, Filter{})
	must("PayTimeRange", []any{first, last, ok}, err)
	v2, err := s.CommissionDaily(ctx, f)
	must("CommissionDaily", v2, err)
	v3, err := s.CommissionByPlatformDay(ctx, f)
	must("CommissionByPlatformDay", v3, err)
	v4, err := s.RefundsDaily(ctx, f)
	must("RefundsDaily", v4, err)
	v5, err := s.SettlementLags(ctx, f)
	must("SettlementLags", v5, err)
	v6, err := s.TopCreators(ctx, f, 10)
	must("TopCreators", v6, err)
	v7, err := s.TopProducts(ctx, f, 10)
	must("TopProducts", v7, err)
	v8, err := s.PlanRatesDaily(ctx, f)
	must("PlanRatesDaily", v8, err)
	v9, err := s.PlanRateChanges(ctx, f)
	must("PlanRateChanges", v9, err)
	v10, err := s.CreatorIndicatorDaily(ctx, f, "order_cnt", []string{"DAY_30"})
	must("CreatorIndicatorDaily", v10, err)
	v11, err := s.IndicatorNames(ctx)
	must("IndicatorNames", v11, err)
	v12, err := s.Periods(ctx)
	must("Periods", v12, err)
	ingest, err := s.IngestHourly(ctx, Filter{})
	must("IngestHourly", ingestTotals(ingest), err)
	fresh, err := s.SourceFreshnesses(ctx, Filter{})
	for i := range fresh {
		fresh[i].LastIngestedAt = time.Time{} // the time of the test run, checked elsewhere
	}
	must("SourceFreshnesses", fresh, err)
	return out
}

// ingestTotals sums ingest_hourly's rows over the hours (the test's inserts
// may straddle an hour): records per "platform/kind".
func ingestTotals(rows []IngestHour) map[string]int64 {
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Platform+"/"+r.Kind] += r.Records
	}
	return out
}

// TestAnalyticsQueries runs every analytics query on the fixture and checks
// every number: each order, line, plan and snapshot counts once in its
// latest version, however often and in whatever order it arrived.
func TestAnalyticsQueries(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Second)
	s := loadAnalytics(t)
	got := analyticsResults(t, s)

	requireEqual(t, "Platforms", got["Platforms"], any(analyticsfixture.Platforms))
	requireEqual(t, "PayTimeRange", got["PayTimeRange"], any([]any{
		time.Date(2024, 2, 28, 2, 0, 0, 0, time.UTC), time.Date(2024, 3, 3, 12, 0, 0, 0, time.UTC), true}))

	requireEqual(t, "CommissionDaily", got["CommissionDaily"], any([]CommissionDay{
		{day(1), "douke", "mcn-a", "au-1", "达人一", "sh-1", "店铺一", cm(1, 0, 10000, 2000, 2000, 0)},
		{day(1), "douke", "mcn-a", "au-1", "达人一", "sh-2", "店铺二", cm(1, 1, 5000, 0, 0, 1000)},
		{day(1), "taobao-live", "mcn-b", "nick-1", "nick-1", "", "", cm(1, 0, 6000, 600, 0, 0)},
		{day(2), "douke", "mcn-a", "au-2", "达人二", "sh-1", "店铺一", cm(2, 1, 11000, 450, 0, 2000)},
		{day(2), "taobao-live", "mcn-b", "nick-2", "nick-2", "", "", cm(1, 1, 4000, 0, 0, 400)},
		{day(3), "douke", "mcn-a", "au-1", "达人一", "sh-1", "店铺一", cm(1, 0, 20000, 4000, 4000, 0)},
		{day(3), "taobao-live", "mcn-b", "nick-1", "nick-1", "", "", cm(1, 0, 2000, 0, 0, 0)},
		{day(3), "taobao-live", "mcn-b", "nick-3", "nick-3", "", "", cm(1, 0, 1000, 100, 0, 0)},
	}))
	byPlatformDay := []PlatformDay{
		{day(1), "douke", cm(2, 1, 15000, 2000, 2000, 1000)},
		{day(1), "taobao-live", cm(1, 0, 6000, 600, 0, 0)},
		{day(2), "douke", cm(2, 1, 11000, 450, 0, 2000)},
		{day(2), "taobao-live", cm(1, 1, 4000, 0, 0, 400)},
		{day(3), "douke", cm(1, 0, 20000, 4000, 4000, 0)},
		{day(3), "taobao-live", cm(2, 0, 3000, 100, 0, 0)},
	}
	requireEqual(t, "CommissionByPlatformDay", got["CommissionByPlatformDay"], any(byPlatformDay))
	requireEqual(t, "RefundsDaily", got["RefundsDaily"], any([]RefundDay{
		{day(1), "douke", 2, 1, 1, 0, 15000, 5000},
		{day(1), "taobao-live", 1, 0, 0, 0, 6000, 0},
		{day(2), "douke", 2, 1, 0, 0, 11000, 8000},
		{day(2), "taobao-live", 1, 1, 0, 0, 4000, 4000},
		{day(3), "douke", 1, 0, 0, 0, 20000, 0},
		{day(3), "taobao-live", 2, 0, 0, 1, 3000, 0},
	}))
	// A1 48 h, A2 12 h (refunded after settlement), A5 60 h.
	requireEqual(t, "SettlementLags", got["SettlementLags"], any([]SettlementLag{{"douke", 3, 40, 48, 60}}))
	requireEqual(t, "TopCreators", got["TopCreators"], any([]TopCreator{
		{"douke", "au-1", "达人一", cm(3, 1, 35000, 6000, 6000, 1000)},
		{"taobao-live", "nick-1", "nick-1", cm(2, 0, 8000, 600, 0, 0)},
		{"douke", "au-2", "达人二", cm(2, 1, 11000, 450, 0, 2000)},
		{"taobao-live", "nick-3", "nick-3", cm(1, 0, 1000, 100, 0, 0)},
		{"taobao-live", "nick-2", "nick-2", cm(1, 1, 4000, 0, 0, 400)},
	}))
	requireEqual(t, "TopProducts", got["TopProducts"], any([]TopProduct{
		{"douke", "p-1", "商品一", cm(3, 0, 33000, 6450, 6000, 0)},
		{"taobao-live", "i-1", "宝贝一", cm(2, 0, 8000, 600, 0, 0)},
		{"taobao-live", "i-3", "宝贝三", cm(1, 0, 1000, 100, 0, 0)},
		{"douke", "p-2", "商品二", cm(1, 1, 5000, 0, 0, 1000)},
		{"douke", "p-3", "商品三", cm(1, 1, 8000, 0, 0, 2000)},
		{"taobao-live", "i-2", "宝贝二", cm(1, 1, 4000, 0, 0, 400)},
	}))
	requireEqual(t, "PlanRatesDaily", got["PlanRatesDaily"], any([]PlanRateDay{
		{day(1), "douyin-poi", "spu-1", "pl-1", 2000},
		{day(1), "douyin-poi", "spu-1", "pl-2", 1500},
		{day(1), "douyin-poi", "spu-2", "pl-3", 3100},
		{day(2), "douyin-poi", "spu-1", "pl-1", 2000},
		{day(2), "douyin-poi", "spu-1", "pl-2", 1200},
		{day(2), "douyin-poi", "spu-2", "pl-3", 3100},
		{day(3), "douyin-poi", "spu-1", "pl-1", 2500},
	}))
	utc := func(d, h int) time.Time { return time.Date(2024, 3, d, h, 0, 0, 0, time.UTC) }
	requireEqual(t, "PlanRateChanges", got["PlanRateChanges"], any([]PlanRateChange{
		{"douyin-poi", "spu-1", "pl-1", utc(1, 0), 1800, 2000}, // the 1800 observation lies before the range
		{"douyin-poi", "spu-2", "pl-3", utc(1, 12), 3000, 3100},
		{"douyin-poi", "spu-1", "pl-2", utc(2, 0), 1500, 1200},
		{"douyin-poi", "spu-1", "pl-1", utc(3, 0), 2000, 2500},
	}))
	requireEqual(t, "CreatorIndicatorDaily", got["CreatorIndicatorDaily"], any([]IndicatorPoint{
		{day(1), "xingtu", "x-1", "DAY_30", 10},
		{day(1), "xingtu", "x-2", "DAY_30", 3},
		{day(2), "xingtu", "x-1", "DAY_30", 12}, // the day's newer observation
		{day(3), "xingtu", "x-1", "DAY_30", 15},
	}))
	requireEqual(t, "IndicatorNames", got["IndicatorNames"], any([]string{"avg_order_price", "order_cnt"}))
	requireEqual(t, "Periods", got["Periods"], any([]string{"DAY_30", "DAY_90"}))
	requireEqual(t, "IngestHourly", got["IngestHourly"], any(fixtureRecords))
	cstAt := func(d, h, m int) time.Time { return analyticsfixture.March(d, h, m).UTC() }
	requireEqual(t, "SourceFreshnesses", got["SourceFreshnesses"], any([]SourceFreshness{
		{"douke", "mcn-a", "commission", 18, cstAt(5, 21, 0), time.Time{}},
		{"douke", "mcn-a", "order", 6, cstAt(5, 21, 0), time.Time{}},
		{"douyin-poi", "mcn-a", "commission_plan", 3, cstAt(3, 8, 0), time.Time{}},
		{"taobao-live", "mcn-b", "commission", 8, cstAt(3, 20, 5), time.Time{}},
		{"taobao-live", "mcn-b", "order", 4, cstAt(3, 20, 5), time.Time{}},
		{"xingtu", "mcn-a", "creator_experience", 7, cstAt(3, 9, 0), time.Time{}},
	}))

	// Ingestion times are the test's own.
	ctx := testCtx(t)
	end := time.Now().UTC().Add(time.Second)
	hours, err := s.IngestHourly(ctx, Filter{From: start.Truncate(time.Hour), To: end})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hours {
		if h.Hour.Before(start.Truncate(time.Hour)) || h.Hour.After(end) {
			t.Errorf("ingest hour %s outside the test run %s..%s", h.Hour, start, end)
		}
	}
	requireEqual(t, "IngestHourly over the test run", ingestTotals(hours), fixtureRecords)
	if none, err := s.IngestHourly(ctx, Filter{From: time.Unix(0, 0), To: start.Add(-time.Hour)}); err != nil || len(none) != 0 {
		t.Errorf("IngestHourly before the test run = %v, %v; want nothing", none, err)
	}
	fresh, err := s.SourceFreshnesses(ctx, Filter{Platforms: []string{"xingtu"}})
	if err != nil || len(fresh) != 1 {
		t.Fatalf("SourceFreshnesses(xingtu) = %v, %v", fresh, err)
	}
	if li := fresh[0].LastIngestedAt; li.Before(start) || li.After(end) {
		t.Errorf("xingtu last ingested at %s, outside the test run %s..%s", li, start, end)
	}
	if fresh[0].Source() != "yongjin/xingtu/mcn-a" {
		t.Errorf("Source() = %q", fresh[0].Source())
	}
}

// TestAnalyticsFilters checks the platform, role and time filters.
func TestAnalyticsFilters(t *testing.T) {
	s := loadAnalytics(t)
	ctx := testCtx(t)
	f := Filter{From: analyticsfixture.RangeFrom, To: analyticsfixture.RangeTo}

	tb := f
	tb.Platforms = []string{"taobao-live"}
	rows, err := s.CommissionByPlatformDay(ctx, tb)
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "taobao-live only", rows, []PlatformDay{
		{day(1), "taobao-live", cm(1, 0, 6000, 600, 0, 0)},
		{day(2), "taobao-live", cm(1, 1, 4000, 0, 0, 400)},
		{day(3), "taobao-live", cm(2, 0, 3000, 100, 0, 0)},
	})
	// A quote in a platform cannot break out of the string.
	bad := f
	bad.Platforms = []string{`x') OR 1 = 1 OR ('`, `\`}
	if rows, err := s.CommissionByPlatformDay(ctx, bad); err != nil || len(rows) != 0 {
		t.Errorf("hostile platform names = %v, %v; want no rows", rows, err)
	}

	// Creator and live channel together: douke adds 5% of every order it
	// still expects (A1 500, A3 150, A5 1000); the refunded ones lose
	// base × (creator + live) rate: A2 5000 × 25% = 1250, A4 8000 × 30% = 2400.
	both := f
	both.Roles = []string{"creator", "live_channel"}
	both.Platforms = []string{"douke"}
	var total Commission
	days, err := s.CommissionByPlatformDay(ctx, both)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range days {
		total.Add(d.Commission)
	}
	requireEqual(t, "douke creator+live_channel", total, cm(5, 2, 46000, 8100, 7500, 3650))
	if r := total.RefundRate(); r != 2.0/5 {
		t.Errorf("RefundRate = %v, want 0.4", r)
	}

	// One CST day: 2024-03-02 holds A3 (paid 01:30 CST, still 03-01 in UTC), A4 and T2.
	one := DayRange(time.Date(2024, 3, 2, 12, 0, 0, 0, time.UTC), time.Date(2024, 3, 2, 0, 0, 0, 0, wire.CST))
	if want := (Filter{From: analyticsfixture.March(2, 0, 0), To: analyticsfixture.March(3, 0, 0).Add(-time.Second)}); !one.From.Equal(want.From) || !one.To.Equal(want.To) {
		t.Fatalf("DayRange = %v..%v, want %v..%v", one.From, one.To, want.From, want.To)
	}
	rows, err = s.CommissionByPlatformDay(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "2024-03-02", rows, []PlatformDay{
		{day(2), "douke", cm(2, 1, 11000, 450, 0, 2000)},
		{day(2), "taobao-live", cm(1, 1, 4000, 0, 0, 400)},
	})

	// No time bounds: D0 (paid 02-28, settled 48 h later) joins the lags.
	lags, err := s.SettlementLags(ctx, Filter{})
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "all-time settlement lag", lags, []SettlementLag{{"douke", 4, 42, 48, 60}})

	// The top lists keep the first n.
	top, err := s.TopCreators(ctx, f, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(top) != 2 || top[0].AuthorID != "au-1" || top[1].AuthorID != "nick-1" {
		t.Errorf("TopCreators(2) = %+v", top)
	}
	// Every period of the indicator: x-1's DAY_90 snapshot joins.
	pts, err := s.CreatorIndicatorDaily(ctx, f, "order_cnt", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 5 || pts[1] != (IndicatorPoint{day(1), "xingtu", "x-1", "DAY_90", 40}) {
		t.Errorf("CreatorIndicatorDaily(all periods) = %+v", pts)
	}
	pts, err = s.CreatorIndicatorDaily(ctx, f, "avg_order_price", []string{"DAY_30"})
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, "avg_order_price", pts, []IndicatorPoint{
		{day(1), "xingtu", "x-1", "DAY_30", 25.5},
		{day(1), "xingtu", "x-2", "DAY_30", 10},
		{day(2), "xingtu", "x-1", "DAY_30", 26.25},
		{day(2), "xingtu", "x-3", "DAY_30", 5},
		{day(3), "xingtu", "x-1", "DAY_30", 30},
	})
}

// TestAnalyticsStableAcrossMergesAndRedelivery re-sends every batch, then
// merges every table, and requires every result to stay the same.
func TestAnalyticsStableAcrossMergesAndRedelivery(t *testing.T) {
	s := loadAnalytics(t)
	before := analyticsResults(t, s)
	ctx := testCtx(t)
	for _, b := range analyticsfixture.Batches() {
		if err := s.Insert(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	requireEqual(t, "after redelivering everything", analyticsResults(t, s), before)
	for _, table := range []string{"orders", "commission_lines", "commission_plans", "creator_snapshots", "commission_plan_history"} {
		if err := s.Optimize(ctx, table); err != nil {
			t.Fatalf("optimize %s: %v", table, err)
		}
	}
	requireEqual(t, "after merges", analyticsResults(t, s), before)
}

func TestAnalyticsEmpty(t *testing.T) {
	s := openTestStore(t)
	ctx := testCtx(t)
	if p, err := s.Platforms(ctx); err != nil || len(p) != 0 {
		t.Fatalf("Platforms = %v, %v", p, err)
	}
	if _, _, ok, err := s.PayTimeRange(ctx, Filter{}); err != nil || ok {
		t.Fatalf("PayTimeRange on no data: ok %v, %v", ok, err)
	}
	got := analyticsResults(t, s)
	for name, v := range got {
		if name == "PayTimeRange" {
			continue
		}
		if rv := reflect.ValueOf(v); rv.Len() != 0 {
			t.Errorf("%s on no data = %+v", name, v)
		}
	}
}

// TestAnalyticsSQL checks the shipped file: every query that sums or counts
// reads the latest versions (FINAL), and the Grafana references all expand.
func TestAnalyticsSQL(t *testing.T) {
	q, err := clickhouse.ParseQueries(AnalyticsSQL)
	if err != nil {
		t.Fatal(err)
	}
	// These read only key columns or times every version shares.
	versionFree := map[string]bool{QueryPlatforms: true, QueryPayTimeRange: true, QueryIndicatorNames: true, QueryPeriods: true}
	for _, name := range AnalyticsQueryNames {
		sql := q[name]
		if !versionFree[name] {
			for _, table := range []string{"orders", "commission_lines", "commission_plans", "creator_snapshots", "commission_plan_history"} {
				if n, f := len(regexp.MustCompile(`yongjin\.`+table+`\b`).FindAllString(sql, -1)), strings.Count(sql, "yongjin."+table+" FINAL"); n != f {
					t.Errorf("query %s reads %s without FINAL (%d of %d reads)", name, table, n-f, n)
				}
			}
		}
		s := &Reader{db: "x"}
		vars := Vars{"platform": {"douke"}, "role": {"creator"}, "top": {"5"}, "indicator": {"order_cnt"}, "period": {"DAY_30"}}
		exp, err := s.AnalyticsQuery(name, TimeRange{From: time.Unix(1, 0), To: time.Unix(2, 0)}, vars)
		if err != nil {
			t.Errorf("query %s: %v", name, err)
			continue
		}
		if strings.Contains(exp, "$") || strings.Contains(exp, "yongjin.") {
			t.Errorf("query %s keeps a reference after expansion:\n%s", name, exp)
		}
	}
	if _, err := (&Reader{db: "x"}).AnalyticsQuery("nosuch", TimeRange{}, nil); err == nil {
		t.Error("AnalyticsQuery(nosuch) = nil error")
	}
}

func TestFormatYuan(t *testing.T) {
	for fen, want := range map[int64]string{0: "0.00", 5: "0.05", 12345: "123.45", -7: "-0.07", -12345: "-123.45", 100: "1.00"} {
		if got := FormatYuan(fen); got != want {
			t.Errorf("FormatYuan(%d) = %q, want %q", fen, got, want)
		}
	}
}

func ExampleExpandGrafana() {
	q, _ := ExpandGrafana("SELECT count() FROM t WHERE $__timeFilter(paid_at) AND platform IN (${platform:singlequote})",
		TimeRange{From: time.Unix(1709222400, 0), To: time.Unix(1709481599, 0)},
		Vars{"platform": {"douke", "it's"}})
	fmt.Println(q)
	// Output: SELECT count() FROM t WHERE paid_at >= toDateTime(1709222400) AND paid_at <= toDateTime(1709481599) AND platform IN ('douke','it\'s')
}
