// Package analytics is the read side of yongjin's ClickHouse database: the
// analytics read model (commission per day, platform, creator and product,
// refunds, settlement lags, plans, creator indicators, ingest health) that
// the sink's dashboard and the Grafana dashboard show, its named queries
// (queries/analytics.sql, written with the Grafana ClickHouse plugin's
// macros) and the expander of those macros (ExpandGrafana). Days are China
// Standard Time days (wire.CST), the vendors' calendar. The write side —
// schema, migrations, batch insert — is internal/clickhouse, whose Store a
// Reader reads through.
package analytics

import (
	"context"
	_ "embed"
	"fmt"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/shopspring/decimal"

	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// AnalyticsSQL is the text of queries/analytics.sql: the analytics queries,
// written with the Grafana ClickHouse plugin's macros (see ExpandGrafana).
//
//go:embed queries/analytics.sql
var AnalyticsSQL string

// Names of the queries in AnalyticsSQL.
const (
	QueryPlatforms               = "platforms"
	QueryPayTimeRange            = "pay_time_range"
	QueryCommissionDaily         = "commission_daily"
	QueryCommissionByPlatformDay = "commission_by_platform_day"
	QueryRefundsDaily            = "refunds_daily"
	QueryRefundAmountsDaily      = "refund_amounts_daily"
	QuerySettlementLag           = "settlement_lag"
	QueryTopCreators             = "top_creators"
	QueryTopProducts             = "top_products"
	QueryPlanRatesDaily          = "plan_rates_daily"
	QueryPlanRateChanges         = "plan_rate_changes"
	QueryCreatorIndicatorDaily   = "creator_indicator_daily"
	QueryIndicatorNames          = "indicator_names"
	QueryPeriods                 = "periods"
	QueryIngestHourly            = "ingest_hourly"
	QuerySourceFreshness         = "source_freshness"
)

// AnalyticsQueryNames lists every query of AnalyticsSQL, in file order.
var AnalyticsQueryNames = []string{
	QueryPlatforms, QueryPayTimeRange, QueryCommissionDaily, QueryCommissionByPlatformDay,
	QueryRefundsDaily, QueryRefundAmountsDaily, QuerySettlementLag, QueryTopCreators, QueryTopProducts,
	QueryPlanRatesDaily, QueryPlanRateChanges, QueryCreatorIndicatorDaily,
	QueryIndicatorNames, QueryPeriods, QueryIngestHourly, QuerySourceFreshness,
}

var analyticsQueries = mustParseAnalytics(AnalyticsSQL)

func mustParseAnalytics(sql string) map[string]string {
	q, err := clickhouse.ParseQueries(sql)
	if err != nil {
		panic("analytics: queries/analytics.sql: " + err.Error())
	}
	for _, n := range AnalyticsQueryNames {
		if q[n] == "" {
			panic("analytics: queries/analytics.sql lacks query " + n)
		}
	}
	if len(q) != len(AnalyticsQueryNames) {
		panic(fmt.Sprintf("analytics: queries/analytics.sql has %d queries, AnalyticsQueryNames %d", len(q), len(AnalyticsQueryNames)))
	}
	return q
}

// Reader runs the analytics queries on the database of a store. It is
// safe for concurrent use.
type Reader struct {
	store *clickhouse.Store
	// db is the database the queries read.
	db string
}

// New returns the analytics read model of store's database.
func New(store *clickhouse.Store) *Reader { return &Reader{store: store, db: store.Database()} }

// DefaultRoles are the commission roles counted as "our commission" when a
// Filter names none: the creator's commission income.
var DefaultRoles = []string{string(events.RoleCreator)}

// Filter selects what the analytics queries look at.
type Filter struct {
	// From and To bound the time the query filters on (pay time for orders
	// and commission, observation time for plans), both included, in whole
	// seconds. A zero From means the beginning of time, a zero To the end.
	From, To time.Time
	// Platforms are the vendors to include; none means all of them (every
	// platform the platforms query finds, as Grafana's "All").
	Platforms []string
	// Roles are the commission roles summed as commission; none means DefaultRoles.
	Roles []string
}

// DayRange is the filter of whole CST days first..last (both included).
func DayRange(first, last time.Time) Filter {
	y, m, d := first.In(wire.CST).Date()
	from := time.Date(y, m, d, 0, 0, 0, 0, wire.CST)
	y, m, d = last.In(wire.CST).Date()
	to := time.Date(y, m, d+1, 0, 0, 0, 0, wire.CST).Add(-time.Second)
	return Filter{From: from, To: to}
}

// AnalyticsQuery returns the named query of AnalyticsSQL expanded for the
// reader's database with time range tr and variables vars (see ExpandGrafana).
func (s *Reader) AnalyticsQuery(name string, tr TimeRange, vars Vars) (string, error) {
	q, ok := analyticsQueries[name]
	if !ok {
		return "", fmt.Errorf("no analytics query %q", name)
	}
	q = clickhouse.ForDatabase(q, s.db)
	return ExpandGrafana(q, tr, vars)
}

// run expands and runs the named analytics query for f (platforms resolved,
// roles defaulted) with the extra variables, calling scan for every row.
func (s *Reader) run(ctx context.Context, name string, f Filter, extra Vars, scan func(driver.Rows) error) error {
	vars := Vars{"platform": f.Platforms, "role": f.Roles}
	if len(vars["platform"]) == 0 {
		all, err := s.Platforms(ctx)
		if err != nil {
			return err
		}
		vars["platform"] = all
	}
	if len(vars["platform"]) == 0 {
		vars["platform"] = []string{""} // no data yet: match nothing
	}
	if len(vars["role"]) == 0 {
		vars["role"] = DefaultRoles
	}
	for k, v := range extra {
		vars[k] = v
	}
	tr := TimeRange{From: f.From, To: f.To}
	if tr.From.IsZero() {
		tr.From = clickhouse.MinDateTime
	}
	if tr.To.IsZero() {
		tr.To = clickhouse.MaxDateTime
	}
	q, err := s.AnalyticsQuery(name, tr, vars)
	if err != nil {
		return fmt.Errorf("analytics %s: %w", name, err)
	}
	return s.scanAll(ctx, name, q, scan)
}

func (s *Reader) scanAll(ctx context.Context, name, q string, scan func(driver.Rows) error) error {
	return s.store.ScanAll(ctx, "analytics "+name, q, scan)
}

// Platforms lists every platform with data, sorted.
func (s *Reader) Platforms(ctx context.Context) ([]string, error) {
	return s.strings(ctx, QueryPlatforms)
}

// IndicatorNames lists every Xingtu indicator name stored, sorted.
func (s *Reader) IndicatorNames(ctx context.Context) ([]string, error) {
	return s.strings(ctx, QueryIndicatorNames)
}

// Periods lists every creator snapshot period stored, sorted.
func (s *Reader) Periods(ctx context.Context) ([]string, error) {
	return s.strings(ctx, QueryPeriods)
}

func (s *Reader) strings(ctx context.Context, name string) ([]string, error) {
	q, err := s.AnalyticsQuery(name, TimeRange{}, nil)
	if err != nil {
		return nil, err
	}
	var out []string
	err = s.scanAll(ctx, name, q, func(r driver.Rows) error {
		var v string
		if err := r.Scan(&v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// PayTimeRange reports the first and last pay time of the orders of
// f.Platforms (f's times and roles are ignored); ok is false when there are none.
func (s *Reader) PayTimeRange(ctx context.Context, f Filter) (first, last time.Time, ok bool, err error) {
	err = s.run(ctx, QueryPayTimeRange, Filter{Platforms: f.Platforms}, nil, func(r driver.Rows) error {
		var has uint8
		if err := r.Scan(&has, &first, &last); err != nil {
			return err
		}
		ok = has != 0
		return nil
	})
	return first.UTC(), last.UTC(), ok, err
}

// Commission is what a group of orders earned, in fen: Orders counts the
// orders (latest versions), PaidFen what buyers paid, EstimatedFen and
// SettledFen the commission of the roles counted (orders neither refunded
// nor cancelled), RefundedFen the commission the refunded orders would have
// earned (estimated base × rate).
type Commission struct {
	Orders         int64
	RefundedOrders int64
	PaidFen        int64
	EstimatedFen   int64
	SettledFen     int64
	RefundedFen    int64
}

// Add adds o to c.
func (c *Commission) Add(o Commission) {
	c.Orders += o.Orders
	c.RefundedOrders += o.RefundedOrders
	c.PaidFen += o.PaidFen
	c.EstimatedFen += o.EstimatedFen
	c.SettledFen += o.SettledFen
	c.RefundedFen += o.RefundedFen
}

// RefundRate is RefundedOrders / Orders (0 without orders).
func (c Commission) RefundRate() float64 {
	if c.Orders == 0 {
		return 0
	}
	return float64(c.RefundedOrders) / float64(c.Orders)
}

// scanCommission scans the columns orders, refunded_orders, paid_yuan,
// estimated_yuan, settled_yuan, refunded_yuan after the given leading ones.
func scanCommission(r driver.Rows, c *Commission, lead ...any) error {
	var orders, refunded uint64
	var paid, est, settled, ref decimal.Decimal
	if err := r.Scan(append(lead, &orders, &refunded, &paid, &est, &settled, &ref)...); err != nil {
		return err
	}
	c.Orders, c.RefundedOrders = int64(orders), int64(refunded)
	var err error
	for _, p := range []struct {
		dst *int64
		d   decimal.Decimal
	}{{&c.PaidFen, paid}, {&c.EstimatedFen, est}, {&c.SettledFen, settled}, {&c.RefundedFen, ref}} {
		if *p.dst, err = fenOf(p.d); err != nil {
			return err
		}
	}
	return nil
}

// fenOf converts an amount in yuan with at most two decimals to fen, exactly.
func fenOf(d decimal.Decimal) (int64, error) {
	f := d.Shift(2)
	if !f.IsInteger() {
		return 0, fmt.Errorf("yuan amount %s has more than two decimals", d)
	}
	return f.IntPart(), nil
}

// FormatYuan formats an amount in fen as yuan with two decimals: 12345 → "123.45".
func FormatYuan(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign, u = "-", uint64(-fen)
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// CommissionDay is the commission of one CST pay day, platform, account,
// creator and shop.
type CommissionDay struct {
	Day        time.Time // midnight UTC of the CST day
	Platform   string
	Account    string
	AuthorID   string
	AuthorName string
	ShopID     string
	ShopName   string
	Commission
}

// CommissionDaily runs commission_daily: commission per CST pay day ×
// platform × account × creator × shop.
func (s *Reader) CommissionDaily(ctx context.Context, f Filter) ([]CommissionDay, error) {
	var out []CommissionDay
	err := s.run(ctx, QueryCommissionDaily, f, nil, func(r driver.Rows) error {
		var d CommissionDay
		if err := scanCommission(r, &d.Commission, &d.Day, &d.Platform, &d.Account, &d.AuthorID, &d.AuthorName, &d.ShopID, &d.ShopName); err != nil {
			return err
		}
		d.Day = dayOf(d.Day)
		out = append(out, d)
		return nil
	})
	return out, err
}

// PlatformDay is the commission of one CST pay day and platform.
type PlatformDay struct {
	Day      time.Time // midnight UTC of the CST day
	Platform string
	Commission
}

// CommissionByPlatformDay runs commission_by_platform_day.
func (s *Reader) CommissionByPlatformDay(ctx context.Context, f Filter) ([]PlatformDay, error) {
	var out []PlatformDay
	err := s.run(ctx, QueryCommissionByPlatformDay, f, nil, func(r driver.Rows) error {
		var d PlatformDay
		if err := scanCommission(r, &d.Commission, &d.Day, &d.Platform); err != nil {
			return err
		}
		d.Day = dayOf(d.Day)
		out = append(out, d)
		return nil
	})
	return out, err
}

// RefundDay counts the orders and refunds of one CST pay day and platform.
type RefundDay struct {
	Day                     time.Time // midnight UTC of the CST day
	Platform                string
	Orders                  int64
	RefundedOrders          int64
	RefundedAfterSettlement int64
	CancelledOrders         int64
	PaidFen                 int64
	RefundedPaidFen         int64
}

// RefundsDaily runs refunds_daily (roles are ignored).
func (s *Reader) RefundsDaily(ctx context.Context, f Filter) ([]RefundDay, error) {
	var out []RefundDay
	err := s.run(ctx, QueryRefundsDaily, f, nil, func(r driver.Rows) error {
		var (
			d                     RefundDay
			n, ref, after, cancel uint64
			paid, refPaid         decimal.Decimal
		)
		if err := r.Scan(&d.Day, &d.Platform, &n, &ref, &after, &cancel, &paid, &refPaid); err != nil {
			return err
		}
		d.Day = dayOf(d.Day)
		d.Orders, d.RefundedOrders, d.RefundedAfterSettlement, d.CancelledOrders = int64(n), int64(ref), int64(after), int64(cancel)
		var err error
		if d.PaidFen, err = fenOf(paid); err != nil {
			return err
		}
		if d.RefundedPaidFen, err = fenOf(refPaid); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// RefundAmountDay is the refund rate by amount of one CST pay day and
// platform: PaidFen paid for its orders, RefundedFen refunded of it (partial
// refunds with their amount), RefundRateBP = RefundedFen / PaidFen in basis
// points (rounded down; 0 without payments).
type RefundAmountDay struct {
	Day                     time.Time // midnight UTC of the CST day
	Platform                string
	Orders                  int64
	OrdersWithRefund        int64
	PartiallyRefundedOrders int64
	PaidFen                 int64
	RefundedFen             int64
	RefundRateBP            int64
}

// RefundAmountsDaily runs refund_amounts_daily (roles are ignored).
func (s *Reader) RefundAmountsDaily(ctx context.Context, f Filter) ([]RefundAmountDay, error) {
	var out []RefundAmountDay
	err := s.run(ctx, QueryRefundAmountsDaily, f, nil, func(r driver.Rows) error {
		var (
			d                   RefundAmountDay
			n, withRef, partial uint64
			paid, refunded      decimal.Decimal
			rate                int64
		)
		if err := r.Scan(&d.Day, &d.Platform, &n, &withRef, &partial, &paid, &refunded, &rate); err != nil {
			return err
		}
		d.Day = dayOf(d.Day)
		d.Orders, d.OrdersWithRefund, d.PartiallyRefundedOrders, d.RefundRateBP = int64(n), int64(withRef), int64(partial), rate
		var err error
		if d.PaidFen, err = fenOf(paid); err != nil {
			return err
		}
		if d.RefundedFen, err = fenOf(refunded); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// SettlementLag is the paid → settled lag of one platform's settled orders.
type SettlementLag struct {
	Platform      string
	SettledOrders int64
	AvgHours      float64
	MedianHours   float64
	P90Hours      float64
}

// SettlementLags runs settlement_lag (roles are ignored).
func (s *Reader) SettlementLags(ctx context.Context, f Filter) ([]SettlementLag, error) {
	var out []SettlementLag
	err := s.run(ctx, QuerySettlementLag, f, nil, func(r driver.Rows) error {
		var l SettlementLag
		var n uint64
		if err := r.Scan(&l.Platform, &n, &l.AvgHours, &l.MedianHours, &l.P90Hours); err != nil {
			return err
		}
		l.SettledOrders = int64(n)
		out = append(out, l)
		return nil
	})
	return out, err
}

// TopCreator is one creator's commission.
type TopCreator struct {
	Platform   string
	AuthorID   string
	AuthorName string
	Commission
}

// TopCreators runs top_creators: the top creators by estimated commission.
func (s *Reader) TopCreators(ctx context.Context, f Filter, top int) ([]TopCreator, error) {
	var out []TopCreator
	err := s.run(ctx, QueryTopCreators, f, topVar(top), func(r driver.Rows) error {
		var c TopCreator
		if err := scanCommission(r, &c.Commission, &c.Platform, &c.AuthorID, &c.AuthorName); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// TopProduct is one product's commission.
type TopProduct struct {
	Platform    string
	ProductID   string
	ProductName string
	Commission
}

// TopProducts runs top_products: the top products by estimated commission.
func (s *Reader) TopProducts(ctx context.Context, f Filter, top int) ([]TopProduct, error) {
	var out []TopProduct
	err := s.run(ctx, QueryTopProducts, f, topVar(top), func(r driver.Rows) error {
		var p TopProduct
		if err := scanCommission(r, &p.Commission, &p.Platform, &p.ProductID, &p.ProductName); err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	return out, err
}

func topVar(top int) Vars {
	if top <= 0 {
		top = 10
	}
	return Vars{"top": {strconv.Itoa(top)}}
}

// PlanRateDay is a commission plan's rate on one CST day (its newest
// observation that day).
type PlanRateDay struct {
	Day       time.Time // midnight UTC of the CST day
	Platform  string
	ProductID string
	PlanID    string
	RateBP    int64
}

// PlanRatesDaily runs plan_rates_daily (f's times bound the observation time).
func (s *Reader) PlanRatesDaily(ctx context.Context, f Filter) ([]PlanRateDay, error) {
	var out []PlanRateDay
	err := s.run(ctx, QueryPlanRatesDaily, f, nil, func(r driver.Rows) error {
		var p PlanRateDay
		if err := r.Scan(&p.Day, &p.Platform, &p.ProductID, &p.PlanID, &p.RateBP); err != nil {
			return err
		}
		p.Day = dayOf(p.Day)
		out = append(out, p)
		return nil
	})
	return out, err
}

// PlanRateChange is a change of a commission plan's rate.
type PlanRateChange struct {
	Platform  string
	ProductID string
	PlanID    string
	// ChangedAt is the observation that first saw the new rate.
	ChangedAt time.Time
	OldRateBP int64
	NewRateBP int64
}

// PlanRateChanges runs plan_rate_changes (f's times bound ChangedAt).
func (s *Reader) PlanRateChanges(ctx context.Context, f Filter) ([]PlanRateChange, error) {
	var out []PlanRateChange
	err := s.run(ctx, QueryPlanRateChanges, f, nil, func(r driver.Rows) error {
		var c PlanRateChange
		if err := r.Scan(&c.Platform, &c.ProductID, &c.PlanID, &c.ChangedAt, &c.OldRateBP, &c.NewRateBP); err != nil {
			return err
		}
		c.ChangedAt = c.ChangedAt.UTC()
		out = append(out, c)
		return nil
	})
	return out, err
}

// IndicatorPoint is one creator indicator's value in one daily snapshot.
type IndicatorPoint struct {
	Day      time.Time // the snapshot's CST day, midnight UTC
	Platform string
	AuthorID string
	Period   string
	Value    float64
}

// CreatorIndicatorDaily runs creator_indicator_daily for one indicator in
// the given periods (none: every period stored). f's times bound the
// snapshot days (CST).
func (s *Reader) CreatorIndicatorDaily(ctx context.Context, f Filter, indicator string, periods []string) ([]IndicatorPoint, error) {
	if len(periods) == 0 {
		var err error
		if periods, err = s.Periods(ctx); err != nil {
			return nil, err
		}
		if len(periods) == 0 {
			return nil, nil
		}
	}
	var out []IndicatorPoint
	err := s.run(ctx, QueryCreatorIndicatorDaily, f, Vars{"indicator": {indicator}, "period": periods}, func(r driver.Rows) error {
		var p IndicatorPoint
		if err := r.Scan(&p.Day, &p.Platform, &p.AuthorID, &p.Period, &p.Value); err != nil {
			return err
		}
		p.Day = dayOf(p.Day)
		out = append(out, p)
		return nil
	})
	return out, err
}

// IngestHour counts the records of one vendor and kind whose latest version
// the sink wrote in one hour.
type IngestHour struct {
	Hour     time.Time // UTC
	Platform string
	// Kind is "order", "commission", "commission_plan" or "creator_experience".
	Kind    string
	Records int64
}

// IngestHourly runs ingest_hourly (f's times bound ingested_at).
func (s *Reader) IngestHourly(ctx context.Context, f Filter) ([]IngestHour, error) {
	var out []IngestHour
	err := s.run(ctx, QueryIngestHourly, f, nil, func(r driver.Rows) error {
		var h IngestHour
		var n uint64
		if err := r.Scan(&h.Hour, &h.Platform, &h.Kind, &n); err != nil {
			return err
		}
		h.Hour, h.Records = h.Hour.UTC(), int64(n)
		out = append(out, h)
		return nil
	})
	return out, err
}

// SourceFreshness is how fresh one source's records of one kind are.
type SourceFreshness struct {
	Platform string
	Account  string
	Kind     string
	Records  int64
	// LastEventAt is the newest vendor time (update or observation time).
	LastEventAt time.Time
	// LastIngestedAt is when the sink last wrote one of the records.
	LastIngestedAt time.Time
}

// Source is the event source of the records: "yongjin/<vendor>/<account>".
func (f SourceFreshness) Source() string { return events.Source(f.Platform, f.Account) }

// SourceFreshnesses runs source_freshness (f's times and roles are ignored).
func (s *Reader) SourceFreshnesses(ctx context.Context, f Filter) ([]SourceFreshness, error) {
	var out []SourceFreshness
	err := s.run(ctx, QuerySourceFreshness, Filter{Platforms: f.Platforms}, nil, func(r driver.Rows) error {
		var x SourceFreshness
		var n uint64
		if err := r.Scan(&x.Platform, &x.Account, &x.Kind, &n, &x.LastEventAt, &x.LastIngestedAt); err != nil {
			return err
		}
		x.Records, x.LastEventAt, x.LastIngestedAt = int64(n), x.LastEventAt.UTC(), x.LastIngestedAt.UTC()
		out = append(out, x)
		return nil
	})
	return out, err
}

// dayOf is the calendar day of a scanned Date, as midnight UTC.
func dayOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
