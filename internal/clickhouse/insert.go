package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// orderColumns are the orders columns Insert writes, in order.
var orderColumns = []string{
	"platform", "account", "order_id", "parent_order_id", "product_id", "product_name",
	"shop_id", "shop_name", "author_id", "author_name", "buyer_open_id", "channel",
	"quantity", "currency", "paid_fen", "estimated_base_fen", "settled_base_fen",
	"status", "vendor_status", "paid_at", "updated_at", "received_at", "settled_at", "refunded_at",
	"version", "event_id", "ingested_at",
}

// lineColumns are the commission_lines columns Insert writes, in order.
var lineColumns = []string{
	"platform", "account", "order_id", "role", "rate_bp", "currency",
	"estimated_fen", "settled_fen", "order_status", "paid_at", "updated_at",
	"version", "event_id", "ingested_at",
}

// DateTime's range: what a ClickHouse DateTime column can hold.
var (
	minDateTime = time.Unix(0, 0).UTC()
	maxDateTime = time.Date(2105, 12, 31, 23, 59, 59, 0, time.UTC)
)

type orderRow struct {
	eventID string
	o       *events.Order
}

type lineRow struct {
	eventID string
	c       *events.CommissionLine
}

// Insert writes the envelopes' records: order.v1 events into orders and
// commission.v1 events into commission_lines, one native batch per table.
//
// Every envelope is decoded and checked before anything is sent; the first
// that cannot be stored makes Insert return a *BadEventError (matching
// ErrBadEvent) and write nothing, so the caller can dead-letter that event
// and retry the rest. Connection and server errors are returned wrapped with
// the server address; IsTransient tells which are worth retrying. The two
// tables are written one after the other, not atomically; retrying the whole
// batch after a failure is safe because re-inserted versions never
// double-count (see the package documentation).
func (s *Store) Insert(ctx context.Context, envs []events.Envelope) error {
	orders, lines, err := decodeBatch(envs)
	if err != nil {
		return err
	}
	now := time.Now().UTC().Truncate(time.Second)
	if len(orders) > 0 {
		if err := s.sendBatch(ctx, "orders", orderColumns, len(orders), func(b driver.Batch) error {
			for _, r := range orders {
				o := r.o
				if err := b.Append(
					o.Platform, o.Account, o.OrderID, o.ParentOrderID, o.ProductID, o.ProductName,
					o.ShopID, o.ShopName, o.AuthorID, o.AuthorName, o.BuyerOpenID, o.Channel,
					o.Quantity, o.Currency, o.PaidFen, o.EstimatedBaseFen, o.SettledBaseFen,
					string(o.Status), o.VendorStatus, o.PaidAt.UTC(), o.UpdatedAt.UTC(),
					utcPtr(o.ReceivedAt), utcPtr(o.SettledAt), utcPtr(o.RefundedAt),
					uint64(o.Version), r.eventID, now,
				); err != nil {
					return fmt.Errorf("append order event %s: %w", r.eventID, err)
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	if len(lines) > 0 {
		if err := s.sendBatch(ctx, "commission_lines", lineColumns, len(lines), func(b driver.Batch) error {
			for _, r := range lines {
				c := r.c
				if err := b.Append(
					c.Platform, c.Account, c.OrderID, string(c.Role), c.RateBP, c.Currency,
					c.EstimatedFen, c.SettledFen, string(c.OrderStatus), c.PaidAt.UTC(), c.UpdatedAt.UTC(),
					uint64(c.Version), r.eventID, now,
				); err != nil {
					return fmt.Errorf("append commission event %s: %w", r.eventID, err)
				}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// sendBatch prepares "INSERT INTO db.table (columns)", lets fill append the
// rows and sends the batch.
func (s *Store) sendBatch(ctx context.Context, table string, cols []string, n int, fill func(driver.Batch) error) error {
	q := "INSERT INTO " + s.db + "." + table + " (" + strings.Join(cols, ", ") + ")"
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

// decodeBatch decodes and checks every envelope, splitting them by table.
func decodeBatch(envs []events.Envelope) ([]orderRow, []lineRow, error) {
	var orders []orderRow
	var lines []lineRow
	for i, e := range envs {
		bad := func(err error) error {
			return &BadEventError{Index: i, EventID: e.ID, Type: e.Type, Err: err}
		}
		if e.ID == "" {
			return nil, nil, bad(errors.New("empty event id"))
		}
		p, err := events.Decode(e)
		if err != nil {
			return nil, nil, bad(err)
		}
		switch v := p.(type) {
		case *events.Order:
			if err := checkOrder(v); err != nil {
				return nil, nil, bad(err)
			}
			orders = append(orders, orderRow{eventID: e.ID, o: v})
		case *events.CommissionLine:
			if err := checkLine(v); err != nil {
				return nil, nil, bad(err)
			}
			lines = append(lines, lineRow{eventID: e.ID, c: v})
		default:
			return nil, nil, bad(fmt.Errorf("%w %T", events.ErrUnknownType, p))
		}
	}
	return orders, lines, nil
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

// checkTime rejects times a DateTime column cannot hold (including the zero
// time of a missing field), which the driver would otherwise wrap silently.
func checkTime(field string, t time.Time) error {
	if t.Before(minDateTime) || t.After(maxDateTime) {
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
