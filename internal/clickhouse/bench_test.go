package clickhouse

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// benchOrders is the number of orders per benchmark batch; each order comes
// with four commission lines, so a batch holds 5×benchOrders events.
const benchOrders = 1000

func benchEnvelopes(b *testing.B) []events.Envelope {
	roles := []events.Role{events.RoleCreator, events.RoleLiveChannel, events.RolePlatformFee, events.RoleServiceProvider}
	var items []enveloper
	for i := range benchOrders {
		o := order("douke", fmt.Sprintf("73%017d", i), events.StatusSettled, int64(1000+i), time.Duration(i)*time.Millisecond+v1)
		o.PaidAt = t0.Add(-time.Duration(i%60) * 24 * time.Hour) // spread over a few partitions, like real data
		items = append(items, o)
		for j, r := range roles {
			items = append(items, line(o, r, int64(100*(j+1)), int64(10*(j+1)), int64(9*(j+1))))
		}
	}
	return envelopes(b, items...)
}

// BenchmarkInsert measures Insert: decoding envelopes and writing them in
// two native batches (1000 orders + 4000 commission lines per op).
func BenchmarkInsert(b *testing.B) {
	s := openTestStore(b)
	envs := benchEnvelopes(b)
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if err := s.Insert(ctx, envs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(envs)*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkInsertBaseline is the floor to compare BenchmarkInsert with: the
// same number of rows per op (5000) in one raw native batch into a
// three-column MergeTree table, no decoding. Insert's rows/s divided by this
// one's is the cost of yongjin's wide rows, JSON decoding and two tables.
func BenchmarkInsertBaseline(b *testing.B) {
	s := openTestStore(b)
	ctx := context.Background()
	if err := s.conn.Exec(ctx, "CREATE TABLE "+s.db+".baseline (id UInt64, name String, amount Int64) ENGINE = MergeTree ORDER BY id"); err != nil {
		b.Fatal(err)
	}
	const rows = 5 * benchOrders
	names := make([]string, rows)
	for i := range names {
		names[i] = fmt.Sprintf("73%017d", i)
	}
	cols := []string{"id", "name", "amount"}
	b.ResetTimer()
	for range b.N {
		err := s.sendBatch(ctx, "baseline", cols, rows, func(bt driver.Batch) error {
			for i := range rows {
				if err := bt.Append(uint64(i), names[i], int64(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkInsertDecode measures Insert's client-side decoding and checks
// alone (no server), to tell its share of BenchmarkInsert's time.
func BenchmarkInsertDecode(b *testing.B) {
	envs := benchEnvelopes(b)
	b.ResetTimer()
	for range b.N {
		if _, err := decodeBatch(envs); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(len(envs)*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// benchOrderEnvelopes is benchEnvelopes' data in the default granularity:
// one order.v1 event per order carrying its four lines.
func benchOrderEnvelopes(b *testing.B) []events.Envelope {
	envs := benchEnvelopes(b)
	var out []events.Envelope
	var o *events.Order
	var lines []events.CommissionLine
	flush := func() {
		if o == nil {
			return
		}
		o.CommissionLines = events.OrderLines(lines)
		e, err := o.Envelope()
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, e)
		o, lines = nil, nil
	}
	for _, e := range envs {
		p, err := events.Decode(e)
		if err != nil {
			b.Fatal(err)
		}
		switch v := p.(type) {
		case *events.Order:
			flush()
			o = v
		case *events.CommissionLine:
			lines = append(lines, *v)
		}
	}
	flush()
	return out
}

// BenchmarkBatchBuild measures the sink's client-side batch building for
// one batch of benchOrders orders, without a server: decoding and checking
// the events and filling the orders and commission_lines columns, for
// each event granularity.
func BenchmarkBatchBuild(b *testing.B) {
	for _, tc := range []struct {
		name string
		envs func(*testing.B) []events.Envelope
	}{
		{"order_events_with_lines", benchOrderEnvelopes},
		{"order_and_commission_events", benchEnvelopes},
	} {
		b.Run(tc.name, func(b *testing.B) {
			envs := tc.envs(b)
			now := time.Now().UTC()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				bt, err := decodeBatch(envs)
				if err != nil {
					b.Fatal(err)
				}
				var oc orderColumns
				oc.grow(len(bt.orders))
				for _, r := range bt.orders {
					oc.add(r.eventID, r.o, now)
				}
				var lc lineColumns
				lc.grow(len(bt.lines))
				for _, r := range bt.lines {
					lc.add(r.eventID, r.c, now)
				}
				if len(oc.values()) != len(orderColumnNames) || len(lc.values()) != len(lineColumnNames) || len(bt.lines) != 4*benchOrders {
					b.Fatalf("%d order columns, %d line columns, %d lines", len(oc.values()), len(lc.values()), len(bt.lines))
				}
			}
			b.ReportMetric(float64(b.N*benchOrders)/b.Elapsed().Seconds(), "orders/s")
		})
	}
}
