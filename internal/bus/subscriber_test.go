package bus

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// subscriberFixture is a stream SUBTEST with a durable consumer, on an
// embedded server.
func subscriberFixture(t *testing.T, ackWait time.Duration) (jetstream.JetStream, jetstream.Consumer, *nats.Conn) {
	t.Helper()
	nc, err := nats.Connect(startServer(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "SUBTEST", Subjects: []string{"subtest.>"}}); err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, "SUBTEST", jetstream.ConsumerConfig{
		Durable: "w", AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait, MaxAckPending: 64,
	})
	if err != nil {
		t.Fatal(err)
	}
	return js, cons, nc
}

func publishN(t *testing.T, js jetstream.JetStream, n int) {
	t.Helper()
	for i := range n {
		if _, err := js.Publish(context.Background(), "subtest.x", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls cond until it holds or the test's patience (a minute) ends.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSubscriberCloseFinishesInFlightAndHandsBackTheRest: Close while a
// handler holds a message waits for it and acknowledges it; the buffered
// messages are handed back at once (a new subscriber gets them without
// waiting out the ack wait), and every message is processed exactly once.
func TestSubscriberCloseFinishesInFlightAndHandsBackTheRest(t *testing.T) {
	js, cons, _ := subscriberFixture(t, 10*time.Minute) // an ack wait no test waits out
	publishN(t, js, 10)
	sub, err := NewSubscriber(SubscriberConfig{Consumer: cons, AckWait: 10 * time.Minute, Prefetch: 4})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := sub.Subscribe(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	first := <-msgs
	closed := make(chan struct{})
	go func() { _ = sub.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a handler still held a message")
	case <-time.After(50 * time.Millisecond):
	}
	if err := first.Context().Err(); err != nil {
		t.Fatalf("the in-flight message's context ended at Close: %v", err)
	}
	first.Ack()
	<-closed
	if _, ok := <-msgs; ok {
		t.Fatal("a message was delivered after Close")
	}

	seen := map[string]int{string(first.Payload): 1}
	sub2, err := NewSubscriber(SubscriberConfig{Consumer: cons, AckWait: 10 * time.Minute, Prefetch: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Close()
	msgs2, err := sub2.Subscribe(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	for len(seen) < 10 {
		m := <-msgs2
		seen[string(m.Payload)]++
		m.Ack()
	}
	for p, n := range seen {
		if n != 1 {
			t.Errorf("message %s processed %d times", p, n)
		}
	}
	waitFor(t, "every ack to reach the server", func() bool {
		info, err := cons.Info(context.Background())
		return err == nil && info.AckFloor.Stream == 10 && info.NumAckPending == 0
	})
}

// TestSubscriberNackRedeliversAfterDelay: a Nack'ed message comes back with
// its delivery count raised.
func TestSubscriberNackRedeliversAfterDelay(t *testing.T) {
	js, cons, _ := subscriberFixture(t, time.Minute)
	publishN(t, js, 1)
	sub, err := NewSubscriber(SubscriberConfig{Consumer: cons, AckWait: time.Minute, NakDelay: ExpDelay{Base: 10 * time.Millisecond, Max: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	msgs, err := sub.Subscribe(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	m := <-msgs
	if NumDelivered(m) != 1 {
		t.Fatalf("first delivery count %d", NumDelivered(m))
	}
	m.Nack()
	m = <-msgs
	if NumDelivered(m) != 2 {
		t.Fatalf("after a nack the delivery count is %d, want 2", NumDelivered(m))
	}
	m.Ack()
}

// TestRouterStartStopUnderLoadNeverPanics runs a Watermill router with
// several handlers over the subscriber and closes it while messages flow,
// many times: no panic, no message context ended under a running handler,
// and in the end every message was acknowledged. (watermill-nats' own
// subscriber panicked with "send on closed channel" here.)
func TestRouterStartStopUnderLoadNeverPanics(t *testing.T) {
	js, cons, _ := subscriberFixture(t, time.Minute)
	const total = 3000
	go func() {
		for i := range total {
			_, _ = js.PublishAsync("subtest.x", []byte(fmt.Sprint(i)))
		}
	}()
	var mu sync.Mutex
	acked := map[string]bool{}
	var handled atomic.Int64
	for round := 0; ; round++ {
		mu.Lock()
		done := len(acked) == total
		mu.Unlock()
		if done {
			break
		}
		if round > 500 {
			t.Fatalf("after %d rounds only %d of %d messages acknowledged", round, len(acked), total)
		}
		sub, err := NewSubscriber(SubscriberConfig{Consumer: cons, AckWait: time.Minute, Prefetch: 3})
		if err != nil {
			t.Fatal(err)
		}
		r, err := message.NewRouter(message.RouterConfig{CloseTimeout: time.Minute}, watermill.NopLogger{})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			r.AddConsumerHandler(fmt.Sprint("h", i), "subtest.x", sub, func(m *message.Message) error {
				handled.Add(1)
				if m.Context().Err() != nil {
					t.Errorf("message context ended while its handler ran")
				}
				mu.Lock()
				acked[string(m.Payload)] = true
				mu.Unlock()
				return nil
			})
		}
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() { errc <- r.Run(ctx) }()
		<-r.Running()
		before := handled.Load()
		waitFor(t, "the router to handle a message", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return handled.Load() > before || len(acked) == total
		})
		cancel()
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every ack to reach the server", func() bool {
		info, err := cons.Info(context.Background())
		return err == nil && info.AckFloor.Stream == total && info.NumAckPending == 0
	})
}
