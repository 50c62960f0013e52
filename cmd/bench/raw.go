package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
)

// rawJSRun is the raw JetStream floor: plain nats.go, no yongjin code.
type rawJSRun struct {
	Msgs               uint64  `json:"msgs"`
	PubMsgsPerS        float64 `json:"publish_msgs_per_s"`
	PubOrdersPerS      float64 `json:"publish_orders_per_s"`
	PubServerUSPerMsg  float64 `json:"publish_server_us_per_msg"`
	BothMsgsPerS       float64 `json:"pub_fetch_ack_msgs_per_s"`
	BothOrdersPerS     float64 `json:"pub_fetch_ack_orders_per_s"`
	BothServerUSPerMsg float64 `json:"pub_fetch_ack_server_us_per_msg"`
	ServerPeakRSSMiB   float64 `json:"server_peak_rss_mib"`
}

// rawJetStream publishes as many messages as the catch-up's EVENTS holds,
// of the same data and header sizes, to a file-store R1 stream on a fresh
// server, asynchronously (4096 in flight): once alone (the publish floor)
// and once while a durable pull consumer fetches 500 at a time and acks
// each (the publish + consume floor).
func (b *bench) rawJetStream(ctx context.Context) error {
	shape := b.res.EventMsg
	if shape == nil {
		return fmt.Errorf("no event message shape (run the catchup phase first)")
	}
	dir := b.runDir("rawjs")
	_ = os.RemoveAll(dir)
	n, err := b.startNATS(ctx, "nats-rawjs", filepath.Join(dir, "nats"))
	if err != nil {
		return err
	}
	defer n.stop()
	js, err := jetstream.New(n.nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return err
	}
	data := make([]byte, shape.DataBytes)
	for i := range data {
		data[i] = 'a' + byte(i%26)
	}
	// Headers: a 32-hex Nats-Msg-Id like the events' and one header padding
	// to the events' average header size.
	pad := max(0, shape.HeaderBytes-len(nats.MsgIdHdr)-32-4-len("Bench-Pad")-4)
	padValue := strings.Repeat("p", pad)
	prefix := make([]byte, 8)
	_, _ = rand.Read(prefix)
	total := shape.Count
	orders := float64(b.res.Orders)
	r := &rawJSRun{Msgs: total}
	publish := func(subject string) error {
		for i := uint64(0); i < total; i++ {
			m := nats.NewMsg(subject)
			m.Header.Set(nats.MsgIdHdr, fmt.Sprintf("%s%016x", hex.EncodeToString(prefix), i))
			m.Header.Set("Bench-Pad", padValue)
			m.Data = data
			if _, err := js.PublishMsgAsync(m, jetstream.WithStallWait(30*time.Second)); err != nil {
				return fmt.Errorf("publish %d: %w", i, err)
			}
		}
		select {
		case <-js.PublishAsyncComplete():
			return nil
		case <-time.After(5 * time.Minute):
			return fmt.Errorf("publishes not acknowledged")
		}
	}
	for _, s := range []string{"BENCH_PUB", "BENCH_BOTH"} {
		if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: s, Subjects: []string{strings.ToLower(s) + ".>"},
			Storage: jetstream.FileStorage, Replicas: 1, Duplicates: time.Hour}); err != nil {
			return err
		}
	}
	// 1. Publish alone.
	c0, _ := cpuTime(n.pid())
	t0 := time.Now()
	if err := publish("bench_pub.x"); err != nil {
		return err
	}
	el := time.Since(t0).Seconds()
	c1, _ := cpuTime(n.pid())
	r.PubMsgsPerS, r.PubOrdersPerS = float64(total)/el, orders/el
	r.PubServerUSPerMsg = float64((c1 - c0).Microseconds()) / float64(total)
	b.logf("raw jetstream publish: %.0f msgs/s", r.PubMsgsPerS)
	// Free the disk and the server's memory before the second pass.
	if err := js.DeleteStream(ctx, "BENCH_PUB"); err != nil {
		return err
	}
	// 2. Publish while a consumer fetches and acks, on a connection of its
	// own (as the stages have).
	cnc, err := nats.Connect(n.url, nats.Name("yongjin-bench-consumer"))
	if err != nil {
		return err
	}
	defer cnc.Close()
	cjs, err := jetstream.New(cnc)
	if err != nil {
		return err
	}
	cons, err := cjs.CreateOrUpdateConsumer(ctx, "BENCH_BOTH", jetstream.ConsumerConfig{Durable: "bench", AckPolicy: jetstream.AckExplicitPolicy,
		MaxAckPending: 20000, AckWait: time.Minute})
	if err != nil {
		return err
	}
	var acked atomic.Uint64
	consErr := make(chan error, 1)
	c0, _ = cpuTime(n.pid())
	t0 = time.Now()
	go func() {
		for acked.Load() < total {
			batch, err := cons.Fetch(500, jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				consErr <- err
				return
			}
			for m := range batch.Messages() {
				if err := m.Ack(); err != nil {
					consErr <- err
					return
				}
				acked.Add(1)
			}
		}
		consErr <- nil
	}()
	if err := publish("bench_both.x"); err != nil {
		return err
	}
	if err := <-consErr; err != nil {
		return err
	}
	// The acks are fire-and-forget: wait until the server has them all.
	if err := waitDone(ctx, "raw acks", 5*time.Minute, 20*time.Millisecond, func() (bool, error) {
		info, err := cons.Info(ctx)
		return err == nil && info.NumAckPending == 0 && info.NumPending == 0, err
	}); err != nil {
		return err
	}
	el = time.Since(t0).Seconds()
	c1, _ = cpuTime(n.pid())
	r.BothMsgsPerS, r.BothOrdersPerS = float64(total)/el, orders/el
	r.BothServerUSPerMsg = float64((c1 - c0).Microseconds()) / float64(total)
	if v, err := peakRSS(n.pid()); err == nil {
		r.ServerPeakRSSMiB = float64(v) / (1 << 20)
	}
	b.res.RawJS = r
	b.logf("raw jetstream publish + fetch/ack: %.0f msgs/s", r.BothMsgsPerS)
	return nil
}

// rawCHRun is the raw ClickHouse floor.
type rawCHRun struct {
	Orders      int     `json:"orders"`
	Lines       int     `json:"lines"`
	BatchOrders int     `json:"batch_orders"`
	Seconds     float64 `json:"seconds"`
	RowsPerS    float64 `json:"rows_per_s"`
	OrdersPerS  float64 `json:"orders_per_s"`
}

// rawOrderCols and rawLineCols are the columns the floor writes: the same
// ones the sink writes (ingested_at takes its default).
var (
	rawOrderCols = "platform, account, order_id, parent_order_id, product_id, product_name, shop_id, shop_name, author_id, author_name, " +
		"buyer_open_id, channel, quantity, currency, paid_fen, estimated_base_fen, settled_base_fen, status, vendor_status, " +
		"paid_at, updated_at, received_at, settled_at, refunded_at, version, event_id"
	rawLineCols = "platform, account, order_id, role, rate_bp, currency, estimated_fen, settled_fen, order_status, paid_at, updated_at, version, event_id"
)

// rawClickHouse inserts the backlog's rows (mapped in the bench, outside
// the timing) with clickhouse-go columnar batches: for each batch of
// orders, one orders batch and one commission_lines batch, each column
// appended as one slice. Only appending and sending are timed.
func (b *bench) rawClickHouse(ctx context.Context) error {
	db, err := b.freshDatabase(ctx, "rawch")
	if err != nil {
		return err
	}
	if err := b.migrate(db); err != nil {
		return err
	}
	const batchOrders = 5000
	r := &rawCHRun{BatchOrders: batchOrders}
	var oc orderCols
	var lc lineCols
	var spent time.Duration
	flush := func() error {
		if len(oc.orderID) == 0 {
			return nil
		}
		t0 := time.Now()
		if err := b.sendColumns(ctx, db+".orders", rawOrderCols, oc.columns()); err != nil {
			return err
		}
		if err := b.sendColumns(ctx, db+".commission_lines", rawLineCols, lc.columns()); err != nil {
			return err
		}
		spent += time.Since(t0)
		r.Orders += len(oc.orderID)
		r.Lines += len(lc.orderID)
		oc, lc = orderCols{}, lineCols{}
		return nil
	}
	err = b.eachRawPage(ctx, 0, func(p rawPage) error {
		page, err := douke.DecodePage(p.data)
		if err != nil {
			return err
		}
		for _, w := range page.Orders {
			o, lines, err := douke.MapOrder("bench", w, time.Time{})
			if err != nil {
				return err
			}
			oc.add(o)
			for _, l := range lines {
				lc.add(l)
			}
		}
		if len(oc.orderID) >= batchOrders {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	r.Seconds = spent.Seconds()
	r.RowsPerS = float64(r.Orders+r.Lines) / r.Seconds
	r.OrdersPerS = float64(r.Orders) / r.Seconds
	b.res.RawCH = r
	b.logf("raw clickhouse insert: %.0f rows/s", r.RowsPerS)
	return nil
}

func (b *bench) sendColumns(ctx context.Context, table, cols string, columns []any) error {
	bt, err := b.ch.PrepareBatch(ctx, "INSERT INTO "+table+" ("+cols+")")
	if err != nil {
		return err
	}
	for i, c := range columns {
		if err := bt.Column(i).Append(c); err != nil {
			_ = bt.Abort()
			return fmt.Errorf("%s column %d: %w", table, i, err)
		}
	}
	return bt.Send()
}

type orderCols struct {
	platform, account, orderID, parentID, productID, productName, shopID, shopName, authorID, authorName,
	buyer, channel, currency, status, vendorStatus, eventID []string
	quantity, paid, estBase, setBase []int64
	paidAt, updatedAt                []time.Time
	receivedAt, settledAt, refundAt  []*time.Time
	version                          []uint64
}

func (c *orderCols) add(o events.Order) {
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
	c.status = append(c.status, string(o.Status))
	c.vendorStatus = append(c.vendorStatus, o.VendorStatus)
	c.paidAt = append(c.paidAt, o.PaidAt)
	c.updatedAt = append(c.updatedAt, o.UpdatedAt)
	c.receivedAt = append(c.receivedAt, o.ReceivedAt)
	c.settledAt = append(c.settledAt, o.SettledAt)
	c.refundAt = append(c.refundAt, o.RefundedAt)
	c.version = append(c.version, uint64(o.Version))
	c.eventID = append(c.eventID, events.NewID(events.KindOrder, o.Platform, o.Account, o.Key(), o.Version))
}

func (c *orderCols) columns() []any {
	return []any{c.platform, c.account, c.orderID, c.parentID, c.productID, c.productName, c.shopID, c.shopName, c.authorID, c.authorName,
		c.buyer, c.channel, c.quantity, c.currency, c.paid, c.estBase, c.setBase, c.status, c.vendorStatus,
		c.paidAt, c.updatedAt, c.receivedAt, c.settledAt, c.refundAt, c.version, c.eventID}
}

type lineCols struct {
	platform, account, orderID, role, currency, status, eventID []string
	rate, est, settled                                          []int64
	paidAt, updatedAt                                           []time.Time
	version                                                     []uint64
}

func (c *lineCols) add(l events.CommissionLine) {
	c.platform = append(c.platform, l.Platform)
	c.account = append(c.account, l.Account)
	c.orderID = append(c.orderID, l.OrderID)
	c.role = append(c.role, string(l.Role))
	c.rate = append(c.rate, l.RateBP)
	c.currency = append(c.currency, l.Currency)
	c.est = append(c.est, l.EstimatedFen)
	c.settled = append(c.settled, l.SettledFen)
	c.status = append(c.status, string(l.OrderStatus))
	c.paidAt = append(c.paidAt, l.PaidAt)
	c.updatedAt = append(c.updatedAt, l.UpdatedAt)
	c.version = append(c.version, uint64(l.Version))
	c.eventID = append(c.eventID, events.NewID(events.KindCommission, l.Platform, l.Account, l.Key(), l.Version))
}

func (c *lineCols) columns() []any {
	return []any{c.platform, c.account, c.orderID, c.role, c.rate, c.currency, c.est, c.settled, c.status, c.paidAt, c.updatedAt, c.version, c.eventID}
}

// httpGetOK reports whether GET u answers 200.
func httpGetOK(ctx context.Context, u string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}
