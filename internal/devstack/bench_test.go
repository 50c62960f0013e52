package devstack_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/devstack"
	"github.com/yongjin-dev/yongjin/internal/natsserver"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/internal/vendorsandbox"
)

const benchOrders = 10000

// BenchmarkPipelineDouke measures the whole pipeline for benchOrders douke
// orders: sandbox HTTP → poller → RAW → normalizer → EVENTS → sink →
// ClickHouse, until the sink acknowledged everything (5 events per order).
// Compare with BenchmarkPipelineBaselineJetStream from the same run.
func BenchmarkPipelineDouke(b *testing.B) {
	addr := testenv.ClickHouseAddr(b)
	user, pass := testenv.ClickHouseCredentials()
	for b.Loop() {
		b.StopTimer()
		db := testenv.NewDatabase(b, addr)
		sc := sandbox.DefaultConfig()
		sc.Orders, sc.From, sc.To, sc.Clock = benchOrders, payFrom, payTo, payTo.Add(24*time.Hour)
		sc.Accounts = vendorsandbox.DemoAccounts("bench")[:1]
		ctx := context.Background()
		st, err := devstack.Start(ctx, devstack.Config{DataDir: b.TempDir(), Sandbox: sc,
			ClickHouse: clickhouse.Config{Addr: addr, Database: db, Username: user, Password: pass}})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := st.PollInitial(ctx, payFrom, sc.Clock); err != nil {
			b.Fatal(err)
		}
		if err := st.WaitCaughtUp(ctx, nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*benchOrders)/b.Elapsed().Seconds(), "orders/s")
	b.ReportMetric(float64(b.N*benchOrders*5)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkPipelineBaselineJetStream is the floor the pipeline stands on: the
// same number of messages (5 per order, ~600 bytes) published asynchronously
// to a file-store stream on an embedded server and fetched and acknowledged
// by a durable consumer, with no HTTP, mapping or ClickHouse.
func BenchmarkPipelineBaselineJetStream(b *testing.B) {
	payload := make([]byte, 600)
	for b.Loop() {
		b.StopTimer()
		srv, err := natsserver.Start(natsserver.Config{StoreDir: b.TempDir(), Port: -1})
		if err != nil {
			b.Fatal(err)
		}
		nc, _ := nats.Connect("", nats.InProcessServer(srv))
		js, _ := jetstream.New(nc)
		ctx := context.Background()
		if _, err := bus.EnsureStream(ctx, js, bus.EventsStreamConfig(bus.StreamOptions{})); err != nil {
			b.Fatal(err)
		}
		cons, err := js.CreateOrUpdateConsumer(ctx, bus.EventsStream, jetstream.ConsumerConfig{Durable: "bench", AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		n := benchOrders * 5
		for i := 0; i < n; i++ {
			m := nats.NewMsg("yongjin.events.order.v1.douke")
			m.Header.Set(nats.MsgIdHdr, fmt.Sprint(i))
			m.Data = payload
			if _, err := js.PublishMsgAsync(m); err != nil {
				b.Fatal(err)
			}
		}
		<-js.PublishAsyncComplete()
		for got := 0; got < n; {
			batch, err := cons.Fetch(5000, jetstream.FetchMaxWait(time.Second))
			if err != nil {
				b.Fatal(err)
			}
			for m := range batch.Messages() {
				_ = m.Ack()
				got++
			}
		}
		b.StopTimer()
		nc.Close()
		srv.Shutdown()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*benchOrders)/b.Elapsed().Seconds(), "orders/s")
	b.ReportMetric(float64(b.N*benchOrders*5)/b.Elapsed().Seconds(), "events/s")
}
