// Package analyticsfixture is the known data set the analytics tests load
// into ClickHouse through Store.Insert: orders with their commission lines
// on two platforms over four China Standard Time days, Douyin commission plan
// observations whose rates change, and Xingtu creator snapshots. Its
// batches deliver records the way the pipeline does at its worst:
//
//   - redelivered: the same event twice in one batch, and whole batches again;
//   - re-polled: the same record at the same version fetched again later;
//   - out of order: an older version arriving after a newer one;
//   - refunded after settlement: order A2 is paid, settled 12 h later, then
//     refunded, and keeps its settlement time;
//   - a pay time just after CST midnight (A3, 2024-03-02 01:30 CST, which is
//     still 2024-03-01 in UTC) and an order outside the tested range (D0,
//     paid in February).
//
// The tests that use it state their expected numbers by hand; the comments
// here give the facts they follow from.
package analyticsfixture

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// Platforms are the platforms the data set covers, sorted.
var Platforms = []string{"douke", "douyin-poi", "taobao-live", "xingtu"}

// March returns 2024-03-day hh:mm CST.
func March(day, hh, mm int) time.Time { return time.Date(2024, 3, day, hh, mm, 0, 0, wire.CST) }

// RangeFrom and RangeTo are the range most tests look at: 2024-03-01 to
// 2024-03-03, whole CST days (RangeTo is 23:59:59).
var (
	RangeFrom = March(1, 0, 0)
	RangeTo   = March(4, 0, 0).Add(-time.Second)
)

// Accounts of the data set.
const (
	AccountA = "mcn-a" // douke, douyin-poi, xingtu
	AccountB = "mcn-b" // taobao-live
)

// order is one order's fixed facts; its states add the status.
type order struct {
	platform, account, id          string
	author, authorName             string
	shop, shopName                 string
	product, productName           string
	paid                           time.Time
	paidFen, creatorBP, liveBP     int64
	taobao                         bool
	received, settled, refunded    *time.Time
	status                         events.Status
	updated                        time.Time
	settledBaseFen, lineSettledFen int64
	refundedFen                    int64 // orders.refunded_fen: what the buyer got back
}

// The orders. Creator commission = paid × creator rate; douke also pays the
// live channel 5% and charges a platform fee of a tenth of the creator's
// commission; Taobao pays a service provider 3% (rate 0).
var (
	a1 = order{platform: "douke", account: AccountA, id: "A1", author: "au-1", authorName: "达人一", shop: "sh-1", shopName: "店铺一",
		product: "p-1", productName: "商品一", paid: March(1, 10, 0), paidFen: 10000, creatorBP: 2000, liveBP: 500}
	a2 = order{platform: "douke", account: AccountA, id: "A2", author: "au-1", authorName: "达人一", shop: "sh-2", shopName: "店铺二",
		product: "p-2", productName: "商品二", paid: March(1, 20, 0), paidFen: 5000, creatorBP: 2000, liveBP: 500}
	a3 = order{platform: "douke", account: AccountA, id: "A3", author: "au-2", authorName: "达人二", shop: "sh-1", shopName: "店铺一",
		product: "p-1", productName: "商品一", paid: March(2, 1, 30), paidFen: 3000, creatorBP: 1500, liveBP: 500}
	a4 = order{platform: "douke", account: AccountA, id: "A4", author: "au-2", authorName: "达人二", shop: "sh-1", shopName: "店铺一",
		product: "p-3", productName: "商品三", paid: March(2, 12, 0), paidFen: 8000, creatorBP: 2500, liveBP: 500}
	a5 = order{platform: "douke", account: AccountA, id: "A5", author: "au-1", authorName: "达人一", shop: "sh-1", shopName: "店铺一",
		product: "p-1", productName: "商品一", paid: March(3, 9, 0), paidFen: 20000, creatorBP: 2000, liveBP: 500}
	d0 = order{platform: "douke", account: AccountA, id: "D0", author: "au-1", authorName: "达人一", shop: "sh-1", shopName: "店铺一",
		product: "p-1", productName: "商品一", paid: time.Date(2024, 2, 28, 10, 0, 0, 0, wire.CST), paidFen: 1000, creatorBP: 2000, liveBP: 500}
	t1 = order{platform: "taobao-live", account: AccountB, id: "T1", author: "nick-1", authorName: "nick-1",
		product: "i-1", productName: "宝贝一", paid: March(1, 15, 0), paidFen: 6000, creatorBP: 1000, taobao: true}
	t2 = order{platform: "taobao-live", account: AccountB, id: "T2", author: "nick-2", authorName: "nick-2",
		product: "i-2", productName: "宝贝二", paid: March(2, 10, 0), paidFen: 4000, creatorBP: 1000, taobao: true}
	t3 = order{platform: "taobao-live", account: AccountB, id: "T3", author: "nick-1", authorName: "nick-1",
		product: "i-1", productName: "宝贝一", paid: March(3, 11, 0), paidFen: 2000, creatorBP: 1000, taobao: true}
	t4 = order{platform: "taobao-live", account: AccountB, id: "T4", author: "nick-3", authorName: "nick-3",
		product: "i-3", productName: "宝贝三", paid: March(3, 20, 0), paidFen: 1000, creatorBP: 1000, taobao: true}
)

// ms is added to every vendor time: versions carry milliseconds, DateTime
// columns keep seconds.
const ms = 250 * time.Millisecond

func ptr(t time.Time) *time.Time { return &t }

// paid is o's first state, updated 5 minutes after payment.
func (o order) paidState() order {
	o.status, o.updated = events.StatusPaid, o.paid.Add(5*time.Minute+ms)
	return o
}

func (o order) receivedAt(at time.Time) order {
	o.status, o.updated, o.received = events.StatusReceived, at.Add(ms), ptr(at)
	return o
}

func (o order) settledAt(at time.Time) order {
	if o.received == nil {
		o.received = ptr(at.Add(-time.Hour))
	}
	o.status, o.updated, o.settled = events.StatusSettled, at.Add(ms), ptr(at)
	o.settledBaseFen = o.paidFen
	return o
}

func (o order) refundedAt(at time.Time) order {
	o.status, o.updated, o.refunded = events.StatusRefunded, at.Add(ms), ptr(at)
	o.settledBaseFen, o.refundedFen = 0, o.paidFen
	return o
}

// refundedPart makes a refund partial: the buyer got fen back.
func (o order) refundedPart(fen int64) order {
	o.refundedFen = fen
	return o
}

func (o order) cancelledAt(at time.Time) order {
	o.status, o.updated, o.refunded = events.StatusCancelled, at.Add(ms), ptr(at)
	return o
}

// envelopes are the order.v1 and commission.v1 events of the state.
func (o order) envelopes() []events.Envelope {
	version := o.updated.UnixMilli()
	ord := events.Order{
		Platform: o.platform, Account: o.account, OrderID: o.id,
		ProductID: o.product, ProductName: o.productName, ShopID: o.shop, ShopName: o.shopName,
		AuthorID: o.author, AuthorName: o.authorName, BuyerOpenID: "buyer-" + o.id, Channel: "Live",
		Quantity: 1, Currency: events.CurrencyCNY, PaidFen: o.paidFen, EstimatedBaseFen: o.paidFen,
		SettledBaseFen: o.settledBaseFen, RefundedFen: o.refundedFen, Status: o.status, VendorStatus: "vendor-" + string(o.status),
		PaidAt: o.paid.UTC(), UpdatedAt: o.updated.UTC(), ReceivedAt: o.received, SettledAt: o.settled, RefundedAt: o.refunded,
		Version: version,
	}
	creator := o.paidFen * o.creatorBP / 10000
	type amount struct {
		role events.Role
		bp   int64
		est  int64
	}
	amounts := []amount{{events.RoleCreator, o.creatorBP, creator}}
	if o.taobao {
		amounts = append(amounts, amount{events.RoleServiceProvider, 0, o.paidFen * 300 / 10000})
	} else {
		amounts = append(amounts, amount{events.RoleLiveChannel, o.liveBP, o.paidFen * o.liveBP / 10000},
			amount{events.RolePlatformFee, 0, creator / 10})
	}
	out := []events.Envelope{mustEnvelope(ord)}
	for _, a := range amounts {
		l := events.CommissionLine{
			Platform: o.platform, Account: o.account, OrderID: o.id, Role: a.role, RateBP: a.bp,
			Currency: events.CurrencyCNY, EstimatedFen: a.est, OrderStatus: o.status,
			PaidAt: o.paid.UTC(), UpdatedAt: o.updated.UTC(), Version: version,
		}
		switch o.status {
		case events.StatusSettled:
			if !o.taobao {
				l.SettledFen = a.est
			}
		case events.StatusRefunded, events.StatusCancelled:
			l.EstimatedFen = 0
		}
		out = append(out, mustEnvelope(l))
	}
	return out
}

// The order states, in the order the vendor produced them.
var (
	a1v1 = a1.paidState()
	a1v2 = a1v1.receivedAt(March(2, 10, 0)).settledAt(March(3, 10, 0)) // lag 48 h
	a2v1 = a2.paidState()
	a2v2 = a2v1.settledAt(March(2, 8, 0))  // lag 12 h
	a2v3 = a2v2.refundedAt(March(5, 9, 0)) // refunded after settlement
	a3v1 = a3.paidState()
	a4v1 = a4.paidState()
	a4v2 = a4v1.receivedAt(March(3, 12, 0))
	a4v3 = a4v2.refundedAt(March(4, 12, 0)) // refunded before settlement
	a5v1 = a5.paidState()
	a5v2 = a5v1.settledAt(March(5, 21, 0)) // lag 60 h
	d0v1 = d0.paidState()
	d0v2 = d0v1.settledAt(March(1, 10, 0)) // lag 48 h, paid outside the range
	t1v1 = t1.paidState()
	t2v1 = t2.paidState()
	t2v2 = t2v1.refundedAt(March(3, 10, 0)).refundedPart(1000) // 10 of its 40 yuan
	t3v1 = t3.paidState()
	t3v2 = t3v1.cancelledAt(March(3, 12, 0))
	t4v1 = t4.paidState()
)

// plan is one observation of a Douyin commission plan.
func plan(product, planID string, rateBP int64, observed time.Time) events.Envelope {
	at := observed.Add(ms)
	return mustEnvelope(events.CommissionPlan{
		Platform: "douyin-poi", Account: AccountA, ProductID: product, PlanID: planID,
		RateBP: rateBP, ContentType: 1, ContentTypeLabel: "live", VendorStatus: 1,
		CreatedDate: "2024-01-02", ObservedAt: at.UTC(), Version: at.UnixMilli(),
	})
}

// snap is one observation of a Xingtu creator snapshot of the given CST day.
func snap(author, period string, observed time.Time, indicators ...events.Indicator) events.Envelope {
	at := observed.Add(ms)
	data := map[string]float64{}
	for _, in := range indicators {
		data[in.Name] = in.Value
	}
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	return mustEnvelope(events.CreatorOrderExperience{
		Platform: "xingtu", Account: AccountA, AuthorID: author, Period: period,
		SnapshotDate: observed.In(wire.CST).Format(time.DateOnly), Indicators: indicators, Data: raw,
		ObservedAt: at.UTC(), Version: at.UnixMilli(),
	})
}

func ind(orderCnt, avgPrice float64) []events.Indicator {
	return []events.Indicator{{Name: "avg_order_price", Value: avgPrice}, {Name: "order_cnt", Value: orderCnt}}
}

func mustEnvelope(p interface {
	Envelope() (events.Envelope, error)
}) events.Envelope {
	e, err := p.Envelope()
	if err != nil {
		panic(fmt.Sprintf("analyticsfixture: %v", err))
	}
	return e
}

func cat(parts ...[]events.Envelope) []events.Envelope {
	var out []events.Envelope
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Batches are the Insert batches, in order.
//
// Orders (creator rate; creator commission) and their final states:
//
//	douke mcn-a   A1 paid 03-01 10:00 ¥100 (20%; ¥20)  settled 03-03 10:00
//	douke mcn-a   A2 paid 03-01 20:00 ¥50  (20%; ¥10)  settled 03-02 08:00, refunded 03-05
//	douke mcn-a   A3 paid 03-02 01:30 ¥30  (15%; ¥4.5) paid
//	douke mcn-a   A4 paid 03-02 12:00 ¥80  (25%; ¥20)  received, refunded 03-04
//	douke mcn-a   A5 paid 03-03 09:00 ¥200 (20%; ¥40)  settled 03-05 21:00
//	douke mcn-a   D0 paid 02-28 10:00 ¥10  (20%; ¥2)   settled 03-01 10:00
//	taobao mcn-b  T1 paid 03-01 15:00 ¥60  (10%; ¥6)   paid
//	taobao mcn-b  T2 paid 03-02 10:00 ¥40  (10%; ¥4)   refunded 03-03
//	taobao mcn-b  T3 paid 03-03 11:00 ¥20  (10%; ¥2)   cancelled 03-03
//	taobao mcn-b  T4 paid 03-03 20:00 ¥10  (10%; ¥1)   paid
//
// Authors: A1, A2, A5, D0 au-1 达人一; A3, A4 au-2 达人二; T1, T3 nick-1;
// T2 nick-2; T4 nick-3. Shops: A2 sh-2 店铺二, other douke orders sh-1
// 店铺一, Taobao none. Products: A1, A3, A5, D0 p-1 商品一; A2 p-2; A4 p-3;
// T1, T3 i-1 宝贝一; T2 i-2; T4 i-3.
//
// Plans (douyin-poi, observed at): spu-1/pl-1 1800 (02-29 08:00), 2000
// (03-01 08:00), 2000 (03-02 08:00), 2500 (03-03 08:00); spu-1/pl-2 1500
// (03-01 08:00), 1200 (03-02 08:00); spu-2/pl-3 3000 (03-01 08:00), 3100
// (03-01 20:00), 3100 (03-02 08:00).
//
// Snapshots (xingtu, order_cnt / avg_order_price): x-1 DAY_30 03-01 10/25.5,
// 03-02 11/26 then 12/26.25 (observed 09:00 and 21:00), 03-03 15/30; x-2
// DAY_30 02-29 1/8, 03-01 3/10; x-1 DAY_90 03-01 40/20; x-3 DAY_30 03-02
// only avg_order_price 5.
func Batches() [][]events.Envelope {
	b1 := cat(a1v1.envelopes(), a2v1.envelopes(), a3v1.envelopes(), a3v1.envelopes(), t1v1.envelopes(), d0v1.envelopes(),
		[]events.Envelope{
			plan("spu-1", "pl-1", 1800, time.Date(2024, 2, 29, 8, 0, 0, 0, wire.CST)),
			plan("spu-1", "pl-1", 2000, March(1, 8, 0)),
			plan("spu-1", "pl-2", 1500, March(1, 8, 0)),
			plan("spu-2", "pl-3", 3000, March(1, 8, 0)),
			snap("x-1", "DAY_30", March(1, 9, 0), ind(10, 25.5)...),
			snap("x-2", "DAY_30", time.Date(2024, 2, 29, 9, 0, 0, 0, wire.CST), ind(1, 8)...),
		})
	b2 := cat(a1v2.envelopes(), a2v2.envelopes(), a4v1.envelopes(), a5v2.envelopes(), t2v1.envelopes(),
		t1v1.envelopes(), // re-polled
		a3v1.envelopes(), // redelivered
		[]events.Envelope{
			plan("spu-2", "pl-3", 3100, March(1, 20, 0)),
			plan("spu-1", "pl-1", 2500, March(3, 8, 0)), // before the 03-02 observation
			snap("x-1", "DAY_30", March(2, 9, 0), ind(11, 26)...),
			snap("x-2", "DAY_30", March(1, 9, 0), ind(3, 10)...),
			snap("x-1", "DAY_90", March(1, 9, 0), ind(40, 20)...),
		})
	b3 := cat(a2v3.envelopes(), a4v2.envelopes(),
		a5v1.envelopes(), // older than A5's stored version
		t2v2.envelopes(), t3v1.envelopes(), t3v2.envelopes(), t4v1.envelopes(), d0v2.envelopes(),
		[]events.Envelope{
			plan("spu-1", "pl-1", 2000, March(2, 8, 0)),
			plan("spu-1", "pl-2", 1200, March(2, 8, 0)),
			plan("spu-1", "pl-2", 1200, March(2, 8, 0)), // redelivered in the batch
			plan("spu-2", "pl-3", 3100, March(2, 8, 0)),
			snap("x-1", "DAY_30", March(2, 21, 0), ind(12, 26.25)...),
			snap("x-1", "DAY_30", March(3, 9, 0), ind(15, 30)...),
			snap("x-3", "DAY_30", March(2, 9, 0), events.Indicator{Name: "avg_order_price", Value: 5}),
		})
	b4 := cat(b1, // the first batch redelivered
		a2v2.envelopes(), // an older version again
		a4v3.envelopes(),
		[]events.Envelope{snap("x-1", "DAY_30", March(2, 9, 0), ind(11, 26)...)}, // older observation again
	)
	return [][]events.Envelope{b1, b2, b3, b4}
}
