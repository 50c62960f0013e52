package analytics

import (
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// TestRefundAmountsDaily: the refund rate by amount counts a partial refund
// with its amount (12.50 yuan of 1,234.56), a whole refund with the payment
// and a refund after settlement, each order once in its latest version, and
// the refunded amount migration's column is what it reads.
func TestRefundAmountsDaily(t *testing.T) {
	s := openTestStore(t)
	paid := time.Date(2026, 10, 3, 2, 0, 0, 0, time.UTC) // 10:00 CST on 3 October
	order := func(platform, id string, paidFen, refundedFen int64, st events.Status, version int64) events.Envelope {
		t.Helper()
		o := events.Order{
			Platform: platform, Account: "main", OrderID: id, Currency: events.CurrencyCNY, Quantity: 1,
			PaidFen: paidFen, EstimatedBaseFen: paidFen, RefundedFen: refundedFen, Status: st,
			PaidAt: paid, UpdatedAt: paid.Add(time.Duration(version) * time.Hour), Version: paid.UnixMilli() + version,
		}
		e, err := o.Envelope()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	batches := [][]events.Envelope{
		{
			order("taobao-live", "t1", 123456, 0, events.StatusReceived, 1),
			order("taobao-live", "t2", 5000, 0, events.StatusPaid, 1),
			order("douke", "d1", 8000, 0, events.StatusSettled, 1),
			order("douke", "d2", 2000, 0, events.StatusPaid, 1),
		},
		{
			order("taobao-live", "t1", 123456, 1250, events.StatusRefunded, 2), // partial after-sale refund
			order("taobao-live", "t2", 5000, 5000, events.StatusCancelled, 2),  // whole, before receipt
			order("douke", "d1", 8000, 8000, events.StatusRefunded, 2),         // after settlement
			order("taobao-live", "t1", 123456, 0, events.StatusReceived, 1),    // a redelivered old version
		},
	}
	for i, b := range batches {
		if err := s.Insert(testCtx(t), b); err != nil {
			t.Fatalf("batch %d: %v", i+1, err)
		}
	}
	got, err := s.RefundAmountsDaily(testCtx(t), Filter{From: paid.Add(-time.Hour), To: paid.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	d := time.Date(2026, 10, 3, 0, 0, 0, 0, time.UTC)
	requireEqual(t, "RefundAmountsDaily", got, []RefundAmountDay{
		{d, "douke", 2, 1, 0, 10000, 8000, 8000},
		{d, "taobao-live", 2, 2, 1, 128456, 6250, 486}, // 6250 * 10000 / 128456 = 486.5
	})
}
