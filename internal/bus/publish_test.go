package bus

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publishAsyncOnce's ack deadline covers every message, not only the first:
// when no ack ever comes, each message counts as failed once the deadline
// has passed. Before the fix the timer fired once, for the first message,
// and the wait for the second lasted until the context ended.
func TestPublishAsyncOnceDeadlineCoversEveryMessage(t *testing.T) {
	nc, err := nats.Connect(startServer(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	// no stream captures the subject, and a plain subscriber that never
	// answers stands in for one: each publish has a responder and no ack
	if _, err := nc.Subscribe("silent.>", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		n    int
	}{{"one message", 1}, {"three messages", 3}, {"fifty messages", 50}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msgs := make([]*nats.Msg, tc.n)
			for i := range msgs {
				msgs[i] = &nats.Msg{Subject: "silent.x", Data: []byte{byte(i)}, Header: nats.Header{}}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type result struct {
				failed []*nats.Msg
				err    error
			}
			done := make(chan result, 1)
			go func() {
				failed, err := publishAsyncOnce(ctx, js, msgs, 50*time.Millisecond)
				done <- result{failed, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(3 * time.Minute): // only so that the old behaviour fails instead of hanging
				cancel()
				r = <-done
				t.Fatalf("publishAsyncOnce was still waiting 3 minutes after its 50 ms ack deadline (then: %v)", r.err)
			}
			if len(r.failed) != tc.n {
				t.Errorf("%d messages reported failed, want all %d", len(r.failed), tc.n)
			}
			if !errors.Is(r.err, context.DeadlineExceeded) || !strings.Contains(r.err.Error(), "not acknowledged") {
				t.Errorf("error %v; want the ack deadline (context.DeadlineExceeded)", r.err)
			}
		})
	}
}
