package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// orderColumnNames are the orders columns Insert writes, in order.
var orderColumnNames = []string{
	"platform", "account", "order_id", "parent_order_id", "product_id", "product_name",
	"shop_id", "shop_name", "author_id", "author_name", "buyer_open_id", "channel",
	"quantity", "currency", "paid_fen", "estimated_base_fen", "settled_base_fen",
	"refunded_fen", "estimated_total_commission_fen", "status", "vendor_status", "paid_at", "updated_at", "received_at", "settled_at", "refunded_at",
	"version", "event_id", "ingested_at",
}

// lineColumnNames are the commission_lines columns Insert writes, in order.
var lineColumnNames = []string{
	"platform", "account", "order_id", "role", "rate_bp", "currency",
	"estimated_fen", "settled_fen", "fee_fen", "order_status", "paid_at", "updated_at",
	"version", "event_id", "ingested_at",
}

// planColumns are the commission_plans columns Insert writes, in order.
var planColumns = []string{
	"platform", "account", "product_id", "plan_id", "rate_bp", "content_type",
	"content_type_label", "vendor_status", "created_date", "observed_at",
	"version", "event_id", "ingested_at",
}

// snapshotColumns are the creator_snapshots columns Insert writes, in order.
var snapshotColumns = []string{
	"platform", "account", "author_id", "period", "snapshot_date",
	"indicator_names", "indicator_values", "data", "observed_at",
	"version", "event_id", "ingested_at",
}

// MinDateTime and MaxDateTime are DateTime's range: what a ClickHouse
// DateTime column can hold; Insert refuses times outside it. Date columns
// are held to the same days (a Date can go a little further on current
// releases, but not before 1970).
var (
	MinDateTime = time.Unix(0, 0).UTC()
	MaxDateTime = time.Date(2105, 12, 31, 23, 59, 59, 0, time.UTC)
)

// snapshotDateLayout is the format of CreatorOrderExperience.SnapshotDate.
const snapshotDateLayout = "2006-01-02"

type orderRow struct {
	eventID string
	o       *events.Order
}

type lineRow struct {
	eventID string
	c       *events.CommissionLine
}

type planRow struct {
	eventID string
	p       *events.CommissionPlan
}

type snapshotRow struct {
	eventID string
	c       *events.CreatorOrderExperience
	// day is c.SnapshotDate parsed, midnight UTC.
	day time.Time
	// names and values are c.Indicators split into the two array columns.
	names  []string
	values []float64
}

// batch is a decoded Insert batch, split by table.
type batch struct {
	orders []orderRow
	lines  []lineRow
	plans  []planRow
	snaps  []snapshotRow
}

// Insert writes the envelopes' records, one native batch per table that
// receives any: order.v1 events into orders, commission.v1 into
// commission_lines, commission_plan.v1 into commission_plans and
// creator_experience.v1 into creator_snapshots.
//
// Every envelope is decoded and checked before anything is sent; the first
// that cannot be stored makes Insert return a *BadEventError (matching
// ErrBadEvent) and write nothing, so the caller can dead-letter that event
// and retry the rest. Connection and server errors are returned wrapped with
// the server address; IsTransient tells which are worth retrying. The tables
// are written one after the other, not atomically; retrying the whole batch
// after a failure is safe because re-inserted versions never double-count
// (see the package documentation).
func (s *Store) Insert(ctx context.Context, envs []events.Envelope) error {
	b, err := decodeBatch(envs)
	if err != nil {
		return err
	}
	now := s.writeTime()
	if len(b.orders) > 0 {
		var c orderColumns
		c.grow(len(b.orders))
		for _, r := range b.orders {
			c.add(r.eventID, r.o, now)
		}
		if err := s.sendColumns(ctx, "orders", orderColumnNames, len(b.orders), c.values()); err != nil {
			return err
		}
	}
	if len(b.lines) > 0 {
		var c lineColumns
		c.grow(len(b.lines))
		for _, r := range b.lines {
			c.add(r.eventID, r.c, now)
		}
		if err := s.sendColumns(ctx, "commission_lines", lineColumnNames, len(b.lines), c.values()); err != nil {
			return err
		}
	}
	if len(b.plans) > 0 {
		if err := s.sendBatch(ctx, "commission_plans", planColumns, len(b.plans), func(bt driver.Batch) error {
			for _, r := range b.plans {
				if err := bt.Append(r.row(now)...); err != nil {
					return fmt.Errorf("append commission plan event %s: %w", r.eventID, err)
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if len(b.snaps) > 0 {
		if err := s.sendBatch(ctx, "creator_snapshots", snapshotColumns, len(b.snaps), func(bt driver.Batch) error {
			for _, r := range b.snaps {
				if err := bt.Append(r.row(now)...); err != nil {
					return fmt.Errorf("append creator snapshot event %s: %w", r.eventID, err)
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// row is an order row's column values, in orderColumnNames' order: the
// row-wise form of orderColumns.add, for InsertStatements.
func (r orderRow) row(now time.Time) []any {
	o := r.o
	return []any{
		o.Platform, o.Account, o.OrderID, o.ParentOrderID, o.ProductID, o.ProductName,
		o.ShopID, o.ShopName, o.AuthorID, o.AuthorName, o.BuyerOpenID, o.Channel,
		o.Quantity, o.Currency, o.PaidFen, o.EstimatedBaseFen, o.SettledBaseFen,
		o.RefundedFen, o.EstimatedTotalCommissionFen, string(o.Status), o.VendorStatus, o.PaidAt.UTC(), o.UpdatedAt.UTC(),
		utcPtr(o.ReceivedAt), utcPtr(o.SettledAt), utcPtr(o.RefundedAt),
		uint64(o.Version), r.eventID, now,
	}
}

// row is a commission line row's column values, in lineColumnNames' order:
// the row-wise form of lineColumns.add, for InsertStatements.
func (r lineRow) row(now time.Time) []any {
	c := r.c
	return []any{
		c.Platform, c.Account, c.OrderID, string(c.Role), c.RateBP, c.Currency,
		c.EstimatedFen, c.SettledFen, c.FeeFen, string(c.OrderStatus), c.PaidAt.UTC(), c.UpdatedAt.UTC(),
		uint64(c.Version), r.eventID, now,
	}
}

// row is a commission plan row's column values, in planColumns' order.
func (r planRow) row(now time.Time) []any {
	p := r.p
	return []any{
		p.Platform, p.Account, p.ProductID, p.PlanID, p.RateBP, p.ContentType,
		p.ContentTypeLabel, p.VendorStatus, p.CreatedDate, p.ObservedAt.UTC(),
		uint64(p.Version), r.eventID, now,
	}
}

// row is a creator snapshot row's column values, in snapshotColumns' order.
func (r snapshotRow) row(now time.Time) []any {
	c := r.c
	return []any{
		c.Platform, c.Account, c.AuthorID, c.Period, r.day,
		r.names, r.values, string(c.Data), c.ObservedAt.UTC(),
		uint64(c.Version), r.eventID, now,
	}
}

// writeTime is the ingested_at of the rows Insert writes now: Config.Clock
// (default time.Now), in milliseconds (a DateTime column of an older server
// keeps the seconds).
func (s *Store) writeTime() time.Time {
	now := time.Now
	if s.cfg.Clock != nil {
		now = s.cfg.Clock
	}
	return now().UTC().Truncate(time.Millisecond)
}

// sendBatch prepares "INSERT INTO db.table (columns)", lets fill append the
// rows and sends the batch.
func (s *Store) sendBatch(ctx context.Context, table string, cols []string, n int, fill func(driver.Batch) error) error {
	q := "INSERT INTO " + s.db + "." + table + " (" + strings.Join(cols, ", ") + ")"
	if s.cfg.Cluster != "" {
		settings := ch.Settings{
			// Replicated tables de-duplicate inserted blocks by their hash;
			// ClickHouse 18.16 applies that to the blocks a materialized view
			// writes as well, and drops new rows of commission_lines_by_account
			// whose block hashes like an earlier one (seen in
			// TestShippedQueriesOnShardedCluster). Retried and redelivered
			// batches are stored again instead and collapse under FINAL, like
			// on a single server.
			"insert_deduplicate": 0,
		}
		if s.cfg.Sharded {
			// Through the Distributed table, synchronously: the batch is
			// acknowledged only once every shard stored its rows.
			settings["insert_distributed_sync"] = 1
		}
		ctx = ch.Context(ctx, ch.WithSettings(settings))
	}
	b, err := s.conn.PrepareBatch(ctx, q)
	if err != nil {
		return s.wrap(fmt.Sprintf("insert %d rows into %s: prepare", n, table), err)
	}
	defer b.Close()
	if err := fill(b); err != nil {
		_ = b.Abort()
		return s.wrap(fmt.Sprintf("insert %d rows into %s", n, table), err)
	}
	if err := b.Send(); err != nil {
		return s.wrap(fmt.Sprintf("insert %d rows into %s: send", n, table), err)
	}
	return nil
}

// sendColumns prepares "INSERT INTO db.table (columns)", appends each
// column's values as one slice (values[i] for cols[i], n rows each) and
// sends the batch: no per-row reflection.
func (s *Store) sendColumns(ctx context.Context, table string, cols []string, n int, values []any) error {
	return s.sendBatch(ctx, table, cols, n, func(bt driver.Batch) error {
		for i, v := range values {
			if err := bt.Column(i).Append(v); err != nil {
				return fmt.Errorf("column %s: %w", cols[i], err)
			}
		}
		return nil
	})
}

// orderColumns holds orders rows column by column, in orderColumnNames'
// order.
type orderColumns struct {
	platform, account, orderID, parentID, productID, productName, shopID, shopName,
	authorID, authorName, buyer, channel, currency, status, vendorStatus, eventID []string
	quantity, paid, estBase, setBase, refunded, estTotalCommission []int64
	paidAt, updatedAt, ingestedAt                                  []time.Time
	receivedAt, settledAt, refundedAt                              []*time.Time
	version                                                        []uint64
}

func (c *orderColumns) grow(n int) {
	for _, p := range []*[]string{&c.platform, &c.account, &c.orderID, &c.parentID, &c.productID, &c.productName, &c.shopID, &c.shopName,
		&c.authorID, &c.authorName, &c.buyer, &c.channel, &c.currency, &c.status, &c.vendorStatus, &c.eventID} {
		*p = make([]string, 0, n)
	}
	for _, p := range []*[]int64{&c.quantity, &c.paid, &c.estBase, &c.setBase, &c.refunded, &c.estTotalCommission} {
		*p = make([]int64, 0, n)
	}
	c.paidAt, c.updatedAt, c.ingestedAt = make([]time.Time, 0, n), make([]time.Time, 0, n), make([]time.Time, 0, n)
	c.receivedAt, c.settledAt, c.refundedAt = make([]*time.Time, 0, n), make([]*time.Time, 0, n), make([]*time.Time, 0, n)
	c.version = make([]uint64, 0, n)
}

func (c *orderColumns) add(eventID string, o *events.Order, now time.Time) {
	c.platform = append(c.platform, o.Platform)
	c.account = append(c.account, o.Account)
	c.orderID = append(c.orderID, o.OrderID)
	c.parentID = append(c.parentID, o.ParentOrderID)
	c.productID = append(c.productID, o.ProductID)
	c.productName = append(c.productName, o.ProductName)
	c.shopID = append(c.shopID, o.ShopID)
	c.shopName = append(c.shopName, o.ShopName)
	c.authorID = append(c.authorID, o.AuthorID)
	c.authorName = append(c.authorName, o.AuthorName)
	c.buyer = append(c.buyer, o.BuyerOpenID)
	c.channel = append(c.channel, o.Channel)
	c.quantity = append(c.quantity, o.Quantity)
	c.currency = append(c.currency, o.Currency)
	c.paid = append(c.paid, o.PaidFen)
	c.estBase = append(c.estBase, o.EstimatedBaseFen)
	c.setBase = append(c.setBase, o.SettledBaseFen)
	c.refunded = append(c.refunded, o.RefundedFen)
	c.estTotalCommission = append(c.estTotalCommission, o.EstimatedTotalCommissionFen)
	c.status = append(c.status, string(o.Status))
	c.vendorStatus = append(c.vendorStatus, o.VendorStatus)
	c.paidAt = append(c.paidAt, o.PaidAt.UTC())
	c.updatedAt = append(c.updatedAt, o.UpdatedAt.UTC())
	c.receivedAt = append(c.receivedAt, utcPtr(o.ReceivedAt))
	c.settledAt = append(c.settledAt, utcPtr(o.SettledAt))
	c.refundedAt = append(c.refundedAt, utcPtr(o.RefundedAt))
	c.version = append(c.version, uint64(o.Version))
	c.eventID = append(c.eventID, eventID)
	c.ingestedAt = append(c.ingestedAt, now)
}

func (c *orderColumns) values() []any {
	return []any{c.platform, c.account, c.orderID, c.parentID, c.productID, c.productName,
		c.shopID, c.shopName, c.authorID, c.authorName, c.buyer, c.channel,
		c.quantity, c.currency, c.paid, c.estBase, c.setBase,
		c.refunded, c.estTotalCommission, c.status, c.vendorStatus, c.paidAt, c.updatedAt, c.receivedAt, c.settledAt, c.refundedAt,
		c.version, c.eventID, c.ingestedAt}
}

// lineColumns holds commission_lines rows column by column, in
// lineColumnNames' order.
type lineColumns struct {
	platform, account, orderID, role, currency, status, eventID []string
	rate, est, settled, fee                                     []int64
	paidAt, updatedAt, ingestedAt                               []time.Time
	version                                                     []uint64
}

func (c *lineColumns) grow(n int) {
	for _, p := range []*[]string{&c.platform, &c.account, &c.orderID, &c.role, &c.currency, &c.status, &c.eventID} {
		*p = make([]string, 0, n)
	}
	c.rate, c.est, c.settled, c.fee = make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
	c.paidAt, c.updatedAt, c.ingestedAt = make([]time.Time, 0, n), make([]time.Time, 0, n), make([]time.Time, 0, n)
	c.version = make([]uint64, 0, n)
}

func (c *lineColumns) add(eventID string, l *events.CommissionLine, now time.Time) {
	c.platform = append(c.platform, l.Platform)
	c.account = append(c.account, l.Account)
	c.orderID = append(c.orderID, l.OrderID)
	c.role = append(c.role, string(l.Role))
	c.rate = append(c.rate, l.RateBP)
	c.currency = append(c.currency, l.Currency)
	c.est = append(c.est, l.EstimatedFen)
	c.settled = append(c.settled, l.SettledFen)
	c.fee = append(c.fee, l.FeeFen)
	c.status = append(c.status, string(l.OrderStatus))
	c.paidAt = append(c.paidAt, l.PaidAt.UTC())
	c.updatedAt = append(c.updatedAt, l.UpdatedAt.UTC())
	c.version = append(c.version, uint64(l.Version))
	c.eventID = append(c.eventID, eventID)
	c.ingestedAt = append(c.ingestedAt, now)
}

func (c *lineColumns) values() []any {
	return []any{c.platform, c.account, c.orderID, c.role, c.rate, c.currency,
		c.est, c.settled, c.fee, c.status, c.paidAt, c.updatedAt,
		c.version, c.eventID, c.ingestedAt}
}

// decodeBatch decodes and checks every envelope, splitting them by table.
func decodeBatch(envs []events.Envelope) (batch, error) {
	var b batch
	for i, e := range envs {
		bad := func(err error) error {
			return &BadEventError{Index: i, EventID: e.ID, Type: e.Type, Err: err}
		}
		if e.ID == "" {
			return batch{}, bad(errors.New("empty event id"))
		}
		p, err := events.Decode(e)
		if err != nil {
			return batch{}, bad(err)
		}
		switch v := p.(type) {
		case *events.Order:
			if err := checkOrder(v); err != nil {
				return batch{}, bad(err)
			}
			b.orders = append(b.orders, orderRow{eventID: e.ID, o: v})
			// Lines carried by the order event are written as the
			// commission.v1 events of the same order and version would be
			// (the row's event_id is the order event's).
			for _, l := range v.Lines() {
				if err := checkLine(&l); err != nil {
					return batch{}, bad(fmt.Errorf("commission line %s: %w", l.Role, err))
				}
				b.lines = append(b.lines, lineRow{eventID: e.ID, c: &l})
			}
		case *events.CommissionLine:
			if err := checkLine(v); err != nil {
				return batch{}, bad(err)
			}
			b.lines = append(b.lines, lineRow{eventID: e.ID, c: v})
		case *events.CommissionPlan:
			if err := checkPlan(v); err != nil {
				return batch{}, bad(err)
			}
			b.plans = append(b.plans, planRow{eventID: e.ID, p: v})
		case *events.CreatorOrderExperience:
			r, err := snapshot(e.ID, v)
			if err != nil {
				return batch{}, bad(err)
			}
			b.snaps = append(b.snaps, r)
		default:
			return batch{}, bad(fmt.Errorf("%w %T", events.ErrUnknownType, p))
		}
	}
	return b, nil
}

func checkOrder(o *events.Order) error {
	var errs []error
	if o.Platform == "" {
		errs = append(errs, errors.New("empty platform"))
	}
	if o.OrderID == "" {
		errs = append(errs, errors.New("empty order_id"))
	}
	if o.Version < 0 {
		errs = append(errs, fmt.Errorf("negative version %d", o.Version))
	}
	errs = append(errs,
		checkTime("paid_at", o.PaidAt), checkTime("updated_at", o.UpdatedAt),
		checkTimePtr("received_at", o.ReceivedAt), checkTimePtr("settled_at", o.SettledAt),
		checkTimePtr("refunded_at", o.RefundedAt))
	return errors.Join(errs...)
}

func checkLine(c *events.CommissionLine) error {
	var errs []error
	if c.Platform == "" {
		errs = append(errs, errors.New("empty platform"))
	}
	if c.OrderID == "" {
		errs = append(errs, errors.New("empty order_id"))
	}
	if c.Role == "" {
		errs = append(errs, errors.New("empty role"))
	}
	if c.Version < 0 {
		errs = append(errs, fmt.Errorf("negative version %d", c.Version))
	}
	errs = append(errs, checkTime("paid_at", c.PaidAt), checkTime("updated_at", c.UpdatedAt))
	return errors.Join(errs...)
}

func checkPlan(p *events.CommissionPlan) error {
	var errs []error
	if p.Platform == "" {
		errs = append(errs, errors.New("empty platform"))
	}
	if p.ProductID == "" {
		errs = append(errs, errors.New("empty product_id"))
	}
	if p.PlanID == "" {
		errs = append(errs, errors.New("empty plan_id"))
	}
	if p.Version < 0 {
		errs = append(errs, fmt.Errorf("negative version %d", p.Version))
	}
	errs = append(errs, checkTime("observed_at", p.ObservedAt))
	return errors.Join(errs...)
}

// snapshot checks a creator snapshot and prepares its row: the parsed
// snapshot date and the indicators as two parallel arrays.
func snapshot(eventID string, c *events.CreatorOrderExperience) (snapshotRow, error) {
	var errs []error
	if c.Platform == "" {
		errs = append(errs, errors.New("empty platform"))
	}
	if c.AuthorID == "" {
		errs = append(errs, errors.New("empty author_id"))
	}
	if c.Period == "" {
		errs = append(errs, errors.New("empty period"))
	}
	day, err := time.Parse(snapshotDateLayout, c.SnapshotDate)
	switch {
	case c.SnapshotDate == "":
		errs = append(errs, errors.New("empty snapshot_date"))
	case err != nil:
		errs = append(errs, fmt.Errorf("snapshot_date %q is not a date (YYYY-MM-DD): %w", c.SnapshotDate, err))
	case day.Format(snapshotDateLayout) != c.SnapshotDate:
		// Defensive (the layout admits one spelling per day): the stored
		// date must name the same snapshot as the event's key.
		errs = append(errs, fmt.Errorf("snapshot_date %q is not in canonical form", c.SnapshotDate))
	case day.Before(MinDateTime) || day.After(MaxDateTime):
		errs = append(errs, fmt.Errorf("snapshot_date %s is outside Date's range (1970-01-01 to 2105-12-31)", c.SnapshotDate))
	}
	if c.Version < 0 {
		errs = append(errs, fmt.Errorf("negative version %d", c.Version))
	}
	errs = append(errs, checkTime("observed_at", c.ObservedAt))
	if err := errors.Join(errs...); err != nil {
		return snapshotRow{}, err
	}
	r := snapshotRow{
		eventID: eventID, c: c, day: day,
		names:  make([]string, len(c.Indicators)),
		values: make([]float64, len(c.Indicators)),
	}
	for i, in := range c.Indicators {
		r.names[i], r.values[i] = in.Name, in.Value
	}
	return r, nil
}

// checkTime rejects times a DateTime column cannot hold (including the zero
// time of a missing field), which the driver would otherwise wrap silently.
func checkTime(field string, t time.Time) error {
	if t.Before(MinDateTime) || t.After(MaxDateTime) {
		return fmt.Errorf("%s %s is outside DateTime's range (1970-01-01 to 2105-12-31)", field, t.Format(time.RFC3339))
	}
	return nil
}

func checkTimePtr(field string, t *time.Time) error {
	if t == nil {
		return nil
	}
	return checkTime(field, *t)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
