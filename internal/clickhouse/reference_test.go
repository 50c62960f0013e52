package clickhouse

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

// Tests of commission_plans and creator_snapshots (migration 2).

const (
	// Observation offsets after t0 (with milliseconds, like vendor versions).
	obs1 = 3*time.Hour + 111*time.Millisecond
	obs2 = 4*time.Hour + 222*time.Millisecond
)

// referenceData is plans and snapshots on two platforms, observed once.
func referenceData(t testing.TB) []events.Envelope {
	return envelopes(t,
		plan("douke", "3712345678901234567", "7012345678901234567", 2000, 1, obs1),
		plan("douke", "3712345678901234567", "7012345678901234568", 1500, 1, obs1),
		plan("douke", "3712345678901234999", "7012345678901234569", 3000, 2, obs1),
		plan("taoke", "p-1", "plan-1", 500, 0, obs1),
		snap("douke", "author-1", "DAY_30", "2024-03-01", obs1, 12.3456, -1.2345, 0.0005, 2.5e-3),
		snap("douke", "author-1", "DAY_90", "2024-03-01", obs1, 98.5, 0.1),
		snap("douke", "author-2", "DAY_30", "2024-03-01", obs1),
		snap("douke", "author-1", "DAY_30", "2024-03-02", obs1, 12.4, 3),
		snap("taoke", "author-9", "DAY_30", "2024-02-29", obs1, 1e6, -0.0025),
	)
}

// referenceUpdates are newer observations of some of referenceData's
// records (a changed rate and status, changed indicators) and new records.
func referenceUpdates(t testing.TB) []events.Envelope {
	return envelopes(t,
		plan("douke", "3712345678901234567", "7012345678901234567", 2500, 2, obs2),
		plan("taoke", "p-1", "plan-2", 700, 0, obs2),
		snap("douke", "author-1", "DAY_30", "2024-03-01", obs2, 13.0015),
		snap("douke", "author-3", "DAY_7", "2024-03-05", obs2, 0.5, 1.5, -2.5),
	)
}

// requireMatchesReference checks that the store's Summary (all platforms
// and each one) equals summary.FromEvents of every envelope sent so far,
// exactly: same rows, same nil-ness.
func requireMatchesReference(t *testing.T, s *Store, sent []events.Envelope) {
	t.Helper()
	want, err := summary.FromEvents(sent)
	if err != nil {
		t.Fatalf("FromEvents: %v", err)
	}
	for _, platform := range []string{"", "douke", "taoke", "nosuch"} {
		w := want
		if platform != "" {
			w = onlyPlatform(want, platform)
			w.Normalize()
		}
		got, err := s.Summary(testCtx(t), platform)
		if err != nil {
			t.Fatalf("Summary(%q): %v", platform, err)
		}
		if d := summary.Diff(w, got); len(d) > 0 {
			t.Fatalf("Summary(%q) differs from FromEvents:\n%s", platform, strings.Join(d, "\n"))
		}
		if !reflect.DeepEqual(w, got) {
			t.Fatalf("Summary(%q) = %+v\nwant exactly %+v", platform, got, w)
		}
	}
}

func TestPlansSnapshotsSummary(t *testing.T) {
	s := openTestStore(t)
	ctx := testCtx(t)
	var sent []events.Envelope
	send := func(envs []events.Envelope) {
		t.Helper()
		if err := s.Insert(ctx, envs); err != nil {
			t.Fatalf("Insert: %v", err)
		}
		sent = append(sent, envs...)
	}

	first := referenceData(t)
	send(append(append([]events.Envelope{}, first...), dataset(t)...)) // mixed with orders and lines
	requireMatchesReference(t, s, sent)
	got, err := s.Summary(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	// Spelled out once, so the reference itself is checked too.
	wantPlans := []summary.PlanRow{
		{Platform: "douke", VendorStatus: 1, Plans: 2, RateBPSum: 3500},
		{Platform: "douke", VendorStatus: 2, Plans: 1, RateBPSum: 3000},
		{Platform: "taoke", VendorStatus: 0, Plans: 1, RateBPSum: 500},
	}
	wantSnaps := []summary.SnapshotRow{
		// only each creator's newest day counts: author-1 on 2024-03-02 (12400 + 3000)
		// and author-2 (no indicators); author-1's 2024-03-01 snapshot is history
		{Platform: "douke", Period: "DAY_30", Snapshots: 2, Indicators: 2, IndicatorMilliSum: 15400},
		{Platform: "douke", Period: "DAY_90", Snapshots: 1, Indicators: 2, IndicatorMilliSum: 98600},
		// 1e9 - 3
		{Platform: "taoke", Period: "DAY_30", Snapshots: 1, Indicators: 2, IndicatorMilliSum: 999999997},
	}
	if !reflect.DeepEqual(got.Plans, wantPlans) || !reflect.DeepEqual(got.Snapshots, wantSnaps) {
		t.Fatalf("Summary plans/snapshots:\n got %+v\n     %+v\nwant %+v\n     %+v", got.Plans, got.Snapshots, wantPlans, wantSnaps)
	}
	if !reflect.DeepEqual(got.Orders, datasetSummary().Orders) || !reflect.DeepEqual(got.Commissions, datasetSummary().Commissions) {
		t.Fatalf("orders and lines changed: %+v", got)
	}

	// Redelivery: the same envelopes again, and twice inside one batch.
	send(first)
	send(append(append([]events.Envelope{}, first...), first...))
	requireMatchesReference(t, s, sent)
	if g, err := s.Summary(ctx, ""); err != nil || !reflect.DeepEqual(g, got) {
		t.Fatalf("Summary after redelivery = %+v, %v; want %+v", g, err, got)
	}

	// Newer observations, then the older ones again (out of order): only
	// the newest counts.
	send(referenceUpdates(t))
	requireMatchesReference(t, s, sent)
	updated, err := s.Summary(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(updated, got) {
		t.Fatal("fixture: the updates did not change the summary")
	}
	send(first)
	requireMatchesReference(t, s, sent)
	if g, err := s.Summary(ctx, ""); err != nil || !reflect.DeepEqual(g, updated) {
		t.Fatalf("Summary after an older redelivery = %+v, %v; want %+v", g, err, updated)
	}

	// Merges collapse the versions without changing any answer.
	mergeAll(t, s, "commission_plans", 5)
	mergeAll(t, s, "creator_snapshots", 6)
	requireMatchesReference(t, s, sent)
}

func TestSummaryWithoutReferenceData(t *testing.T) {
	s := openTestStore(t)
	if err := s.Insert(testCtx(t), dataset(t)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Summary(testCtx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Plans != nil || got.Snapshots != nil {
		t.Fatalf("Summary of orders only has plans %v / snapshots %v, want none", got.Plans, got.Snapshots)
	}
	requireMatchesReference(t, s, dataset(t))
}

// milliRoundSQL is the shipped query's rounding expression, in Go:
// toInt64(trunc(x)) + if(abs(x - trunc(x)) >= 0.5, if(x < 0, -1, 1), 0).
func milliRoundSQL(v float64) int64 {
	x := v * 1000
	tr := math.Trunc(x)
	r := int64(tr)
	if math.Abs(x-tr) >= 0.5 {
		if x < 0 {
			r--
		} else {
			r++
		}
	}
	return r
}

// roundingValues are indicator values whose thousandths are exact halves,
// near halves, or otherwise awkward.
func roundingValues() []float64 {
	vals := []float64{
		0.0005, 2.5e-3, -1.2345, 12.3456, 0.0015, -0.0025, 1.0005, -1.0005,
		0, math.Copysign(0, -1), 1e-7, -1e-7, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5,
		math.Nextafter(0.0005, 0), math.Nextafter(0.0005, 1), math.Nextafter(-0.0005, 0),
		0.49999999999999994 / 1000, 4503599627.3704955, -4503599627.3704955,
		9e12, -9e12, 123456789.0125, 2.675, 1.005,
	}
	for k := -2005; k <= 2005; k += 10 { // k/10000: thousandths ending in 5
		vals = append(vals, float64(k)/10000)
	}
	return vals
}

func TestMilliRoundFormula(t *testing.T) {
	check := func(v float64) {
		if got, want := milliRoundSQL(v), summary.MilliRound(v); got != want {
			t.Fatalf("v=%v (x=%v): SQL formula %d, summary.MilliRound %d", v, v*1000, got, want)
		}
	}
	for _, v := range roundingValues() {
		check(v)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		check(float64(rng.IntN(2_000_001)-1_000_000) / 2000)                 // exact halves and quarters
		check((rng.Float64() - 0.5) * math.Pow(10, float64(rng.IntN(21)-6))) // |v*1000| < 2^62
	}
}

// TestIndicatorRounding runs the shipped snapshots query over values whose
// thousandths are halves, one snapshot per value, and compares every row
// with summary.MilliRound.
func TestIndicatorRounding(t *testing.T) {
	s := openTestStore(t)
	ctx := testCtx(t)
	vals := roundingValues()
	var items []enveloper
	halves := map[string]int{}
	for i, v := range vals {
		items = append(items, snap("douke", "author-r", fmt.Sprintf("P%04d", i), "2024-03-01", obs1, v))
		if x := v * 1000; math.Abs(x-math.Trunc(x)) == 0.5 {
			key := "positive"
			if x < 0 {
				key = "negative"
			}
			if int64(math.Trunc(x))%2 == 0 {
				key += " even" // where half-to-even and half-away-from-zero differ
			}
			halves[key]++
		}
	}
	for _, k := range []string{"positive", "negative", "positive even", "negative even"} {
		if halves[k] == 0 {
			t.Fatalf("fixture: no %s halves among the values (%v)", k, halves)
		}
	}
	envs := envelopes(t, items...)
	if err := s.Insert(ctx, envs); err != nil {
		t.Fatal(err)
	}
	requireMatchesReference(t, s, envs)
	got, err := s.Summary(ctx, "douke")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Snapshots) != len(vals) {
		t.Fatalf("%d snapshot rows, want %d", len(got.Snapshots), len(vals))
	}
	for i, v := range vals {
		r := got.Snapshots[i]
		if r.Period != fmt.Sprintf("P%04d", i) || r.IndicatorMilliSum != summary.MilliRound(v) {
			t.Errorf("value %v: row %+v, want milli-sum %d", v, r, summary.MilliRound(v))
		}
	}

	// What plain round() does on this server (logged, not relied on:
	// 18.16 rounds float halves away from zero, current releases to even).
	var r05, r25 float64
	if err := s.conn.QueryRow(ctx, "SELECT round(x), round(y) FROM (SELECT toFloat64(arrayJoin([0.5])) AS x, toFloat64(arrayJoin([2.5])) AS y)").Scan(&r05, &r25); err != nil {
		t.Fatal(err)
	}
	v, _ := s.ServerVersion(ctx)
	t.Logf("ClickHouse %s: round(0.5) = %v, round(2.5) = %v (halves %v)", v, r05, r25, halves)
}

func TestInsertBadReferenceEvent(t *testing.T) {
	s := openTestStore(t)
	good := append(referenceData(t), dataset(t)...)
	mutPlan := func(f func(*events.CommissionPlan)) events.Envelope {
		p := plan("douke", "3712345678901234567", "7012345678901234567", 2000, 1, obs1)
		f(&p)
		return envelopes(t, p)[0]
	}
	mutSnap := func(f func(*events.CreatorOrderExperience)) events.Envelope {
		c := snap("douke", "author-1", "DAY_30", "2024-03-01", obs1, 1.5)
		f(&c)
		return envelopes(t, c)[0]
	}
	cases := map[string]events.Envelope{
		"plan empty platform":      mutPlan(func(p *events.CommissionPlan) { p.Platform = "" }),
		"plan empty product_id":    mutPlan(func(p *events.CommissionPlan) { p.ProductID = "" }),
		"plan empty plan_id":       mutPlan(func(p *events.CommissionPlan) { p.PlanID = "" }),
		"plan negative version":    mutPlan(func(p *events.CommissionPlan) { p.Version = -1 }),
		"plan zero observed_at":    mutPlan(func(p *events.CommissionPlan) { p.ObservedAt = time.Time{} }),
		"plan observed_at in 2200": mutPlan(func(p *events.CommissionPlan) { p.ObservedAt = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) }),
		"plan observed_at in 1969": mutPlan(func(p *events.CommissionPlan) { p.ObservedAt = time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC) }),
		"plan rate is a string": func() events.Envelope {
			e := mutPlan(func(*events.CommissionPlan) {})
			e.Data = json.RawMessage(`{"platform":"douke","product_id":"1","plan_id":"2","rate_bp":"20%"}`)
			return e
		}(),
		"snapshot empty platform":       mutSnap(func(c *events.CreatorOrderExperience) { c.Platform = "" }),
		"snapshot empty author_id":      mutSnap(func(c *events.CreatorOrderExperience) { c.AuthorID = "" }),
		"snapshot empty period":         mutSnap(func(c *events.CreatorOrderExperience) { c.Period = "" }),
		"snapshot empty snapshot_date":  mutSnap(func(c *events.CreatorOrderExperience) { c.SnapshotDate = "" }),
		"snapshot unpadded date":        mutSnap(func(c *events.CreatorOrderExperience) { c.SnapshotDate = "2024-3-1" }),
		"snapshot impossible date":      mutSnap(func(c *events.CreatorOrderExperience) { c.SnapshotDate = "2023-02-29" }),
		"snapshot date with time":       mutSnap(func(c *events.CreatorOrderExperience) { c.SnapshotDate = "2024-03-01T00:00:00Z" }),
		"snapshot date before 1970":     mutSnap(func(c *events.CreatorOrderExperience) { c.SnapshotDate = "1969-12-31" }),
		"snapshot date after 2105":      mutSnap(func(c *events.CreatorOrderExperience) { c.SnapshotDate = "2106-01-01" }),
		"snapshot negative version":     mutSnap(func(c *events.CreatorOrderExperience) { c.Version = -5 }),
		"snapshot zero observed_at":     mutSnap(func(c *events.CreatorOrderExperience) { c.ObservedAt = time.Time{} }),
		"snapshot observed_at in 2200":  mutSnap(func(c *events.CreatorOrderExperience) { c.ObservedAt = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC) }),
		"snapshot indicators an object": mutSnapData(t, `{"platform":"douke","author_id":"a","period":"DAY_30","snapshot_date":"2024-03-01","indicators":{"x":1}}`),
		"snapshot without event id": func() events.Envelope {
			e := mutSnap(func(*events.CreatorOrderExperience) {})
			e.ID = ""
			return e
		}(),
	}
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			batch := append(append([]events.Envelope{}, good[:4]...), bad)
			batch = append(batch, good[4:]...)
			err := s.Insert(testCtx(t), batch)
			if !errors.Is(err, ErrBadEvent) {
				t.Fatalf("Insert = %v, want ErrBadEvent", err)
			}
			var be *BadEventError
			if !errors.As(err, &be) || be.Index != 4 || be.EventID != bad.ID || be.Type != bad.Type {
				t.Fatalf("error %v: want *BadEventError at index 4 for event %q, got %+v", err, bad.ID, be)
			}
			if IsTransient(err) {
				t.Fatalf("IsTransient(%v) = true", err)
			}
			t.Logf("%v", err)
			requireEmpty(t, s)
		})
	}
	// The boundaries themselves are storable.
	edge := envelopes(t,
		func() events.CreatorOrderExperience {
			c := snap("douke", "author-e", "DAY_30", "1970-01-01", obs1)
			c.ObservedAt, c.Version = time.Unix(0, 0).UTC(), 0
			return c
		}(),
		snap("douke", "author-e", "DAY_30", "2105-12-31", obs1),
		func() events.CommissionPlan {
			p := plan("douke", "1", "2", 0, 0, obs1)
			p.ObservedAt = MaxDateTime
			return p
		}(),
	)
	if err := s.Insert(testCtx(t), edge); err != nil {
		t.Fatalf("Insert of boundary values: %v", err)
	}
	requireMatchesReference(t, s, edge)
	var days []time.Time
	rows, err := s.conn.Query(testCtx(t), "SELECT snapshot_date FROM "+s.db+".creator_snapshots FINAL ORDER BY snapshot_date")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d time.Time
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		days = append(days, d)
	}
	rows.Close()
	if len(days) != 2 || days[0].Format(snapshotDateLayout) != "1970-01-01" || days[1].Format(snapshotDateLayout) != "2105-12-31" {
		t.Fatalf("boundary snapshot dates came back as %v", days)
	}
}

func mutSnapData(t testing.TB, data string) events.Envelope {
	e := envelopes(t, snap("douke", "author-1", "DAY_30", "2024-03-01", obs1))[0]
	e.ID, e.Data = "bad-indicators", json.RawMessage(data)
	return e
}

// TestReferenceRoundTrip reads every plan and snapshot column back: 19-digit
// IDs survive exactly, the Date keeps its day, the indicator arrays and the
// vendor JSON come back as sent.
func TestReferenceRoundTrip(t *testing.T) {
	s := openTestStore(t)
	ctx := testCtx(t)
	p := plan("douke", "3712345678901234567", "7012345678901234567", 3500, -1, obs1)
	p.ContentType, p.ContentTypeLabel, p.CreatedDate, p.Account = 3, "both", "", "账户-1"
	p2 := plan("douke", "9223372036854775807", "18446744073709551615", 0, 0, obs1)
	c := snap("douke", "1000000000000000001", "DAY_30", "2024-02-29", obs1)
	c.Indicators = []events.Indicator{
		{Name: "order_cnt", Value: 7312345678901234567}, // rounds to a float64; stored as that float64
		{Name: "price.avg", Value: 0.1},
		{Name: "rate.bad", Value: -1.2345},
		{Name: "tiny", Value: 5e-324},
		{Name: "zero", Value: 0},
	}
	c.Data = json.RawMessage(`{"order_cnt":7312345678901234567,"price":{"avg":0.1},"rate":{"bad":-1.2345},"tiny":5e-324,"zero":0,"名":"达人 \"引号\""}`)
	empty := snap("taoke", "author-0", "DAY_90", "2105-12-31", obs1)
	empty.Data = json.RawMessage(`null`)
	envs := envelopes(t, p, p2, c, empty)
	if err := s.Insert(ctx, envs); err != nil {
		t.Fatal(err)
	}

	for i, want := range []events.CommissionPlan{p, p2} {
		var (
			got     events.CommissionPlan
			version uint64
			eventID string
		)
		err := s.conn.QueryRow(ctx, "SELECT "+strings.Join(planColumns[:len(planColumns)-1], ", ")+
			" FROM "+s.db+".commission_plans FINAL WHERE platform = ? AND product_id = ? AND plan_id = ?",
			want.Platform, want.ProductID, want.PlanID).Scan(
			&got.Platform, &got.Account, &got.ProductID, &got.PlanID, &got.RateBP, &got.ContentType,
			&got.ContentTypeLabel, &got.VendorStatus, &got.CreatedDate, &got.ObservedAt, &version, &eventID)
		if err != nil {
			t.Fatalf("read plan %s: %v", want.Key(), err)
		}
		got.Version, got.ObservedAt = int64(version), got.ObservedAt.UTC()
		want.ObservedAt = want.ObservedAt.UTC().Truncate(time.Second)
		if !reflect.DeepEqual(got, want) || eventID != envs[i].ID {
			t.Errorf("plan round trip:\n got %+v (event %s)\nwant %+v (event %s)", got, eventID, want, envs[i].ID)
		}
		if want.Version%1000 == 0 {
			t.Fatalf("fixture: version %d should keep its milliseconds", want.Version)
		}
	}

	for i, sent := range []events.Envelope{envs[2], envs[3]} {
		dec, err := events.Decode(sent)
		if err != nil {
			t.Fatal(err)
		}
		want := *dec.(*events.CreatorOrderExperience)
		var (
			got     events.CreatorOrderExperience
			day     time.Time
			names   []string
			values  []float64
			data    string
			version uint64
			eventID string
		)
		err = s.conn.QueryRow(ctx, "SELECT "+strings.Join(snapshotColumns[:len(snapshotColumns)-1], ", ")+
			" FROM "+s.db+".creator_snapshots FINAL WHERE platform = ? AND author_id = ?", want.Platform, want.AuthorID).Scan(
			&got.Platform, &got.Account, &got.AuthorID, &got.Period, &day, &names, &values, &data,
			&got.ObservedAt, &version, &eventID)
		if err != nil {
			t.Fatalf("read snapshot %s: %v", want.Key(), err)
		}
		got.SnapshotDate, got.Data, got.Version = day.Format(snapshotDateLayout), json.RawMessage(data), int64(version)
		got.ObservedAt = got.ObservedAt.UTC()
		if len(names) != len(values) {
			t.Fatalf("snapshot %s: %d names, %d values", want.Key(), len(names), len(values))
		}
		got.Indicators = make([]events.Indicator, 0, len(names))
		for j := range names {
			got.Indicators = append(got.Indicators, events.Indicator{Name: names[j], Value: values[j]})
		}
		want.ObservedAt = want.ObservedAt.UTC().Truncate(time.Second)
		if !reflect.DeepEqual(got, want) || eventID != envs[2+i].ID {
			t.Errorf("snapshot round trip:\n got %+v (event %s)\nwant %+v (event %s)", got, eventID, want, envs[2+i].ID)
		}
		for j, in := range want.Indicators { // bit-exact, -0 and denormals included
			if math.Float64bits(values[j]) != math.Float64bits(in.Value) {
				t.Errorf("indicator %s: %v came back as %v", in.Name, in.Value, values[j])
			}
		}
		// The Date column holds the day itself, whatever the server's time zone.
		var asText string
		if err := s.conn.QueryRow(ctx, "SELECT toString(snapshot_date) FROM "+s.db+".creator_snapshots WHERE author_id = ?", want.AuthorID).Scan(&asText); err != nil {
			t.Fatal(err)
		}
		if asText != want.SnapshotDate {
			t.Errorf("snapshot_date stored as %s, want %s", asText, want.SnapshotDate)
		}
	}
}

// TestMigrateFromV1 upgrades a database that an older yongjin migrated (only
// migration 1, with data in it) and re-runs the upgrade.
func TestMigrateFromV1(t *testing.T) {
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	s := openStore(t, addr, db)
	ctx := testCtx(t)
	if err := s.migrate(ctx, Migrations[:1]); err != nil {
		t.Fatalf("migration 1: %v", err)
	}
	if got, want := tables(t, s), []string{"commission_lines", "orders", "schema_migrations"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("v1 tables = %v, want %v", got, want)
	}
	// This version's writer names the amount columns of migration 4; give
	// the v1 tables those columns (only) before writing v1-era data.
	if err := s.migrate(ctx, []Migration{moneyColumnsMigration(t)}); err != nil {
		t.Fatalf("amount columns on v1: %v", err)
	}
	if err := s.Insert(ctx, dataset(t)); err != nil {
		t.Fatal(err)
	}
	// The v1 schema has no room for plans: a permanent error, not a bad event.
	if err := s.Insert(ctx, referenceData(t)); err == nil || IsTransient(err) || errors.Is(err, ErrBadEvent) {
		t.Fatalf("Insert of plans on the v1 schema = %v; want a permanent server error", err)
	}

	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate from v1: %v", err)
	}
	requireMigrated(t, s)
	requireSummary(t, s, "", datasetSummary()) // v1 data survives
	if err := s.Insert(ctx, referenceData(t)); err != nil {
		t.Fatal(err)
	}
	sent := append(dataset(t), referenceData(t)...)
	requireMatchesReference(t, s, sent)

	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	requireMigrated(t, s)
	requireCount(t, s, "schema_migrations", uint64(len(Migrations)))
	requireMatchesReference(t, s, sent)
}

// TestMigrateUnrecordedV2 is a sink that died after creating migration 2's
// tables and before recording it: the next Migrate completes it.
func TestMigrateUnrecordedV2(t *testing.T) {
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	s := openStore(t, addr, db)
	ctx := testCtx(t)
	if err := s.migrate(ctx, Migrations[:1]); err != nil {
		t.Fatal(err)
	}
	for _, q := range rendered(t, s, Migrations[1]) {
		if err := s.execDDL(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Insert(ctx, referenceData(t)); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	requireMigrated(t, s)
	requireMatchesReference(t, s, referenceData(t))
}

// moneyColumnsMigration is the migration that adds the amount columns the
// writer names (refunded_fen, estimated_total_commission_fen, fee_fen).
func moneyColumnsMigration(t *testing.T) Migration {
	t.Helper()
	for _, m := range Migrations {
		if len(m.Statements) > 0 && &m.Statements[0] == &moneyColumnsDDL[0] {
			return m
		}
	}
	t.Fatal("no migration adds the amount columns")
	return Migration{}
}
