package sink

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ackPayload is JetStream's positive acknowledgement.
var ackPayload = []byte("+ACK")

// ackBatch acknowledges msgs, whose rows ClickHouse holds, and makes sure
// the acknowledgements arrived. Acks are fire-and-forget messages to the
// consumer's leader; while a JetStream cluster elects a new leader they reach
// nobody and are lost without a word, and every message of the batch would
// be redelivered (and rewritten) after the ack wait. So the batch's acks are
// sent without waiting and the last one as a request the leader answers;
// acks travel one connection in order, so the answer confirms the batch.
// Until an answer comes, every ack of the batch is sent again (the server
// takes a repeated ack as a no-op), with backoff, until ctx ends (bounded by
// the ack wait, after which the server has redelivered them anyway).
// It returns whether the batch was confirmed.
func (s *Service) ackBatch(ctx context.Context, msgs []jetstream.Msg) bool {
	if len(msgs) == 0 {
		return true
	}
	nc := s.js.Conn()
	last := msgs[len(msgs)-1]
	for _, m := range msgs[:len(msgs)-1] {
		_ = m.Ack()
	}
	wait := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			for _, m := range msgs[:len(msgs)-1] {
				_ = nc.Publish(m.Reply(), ackPayload)
			}
		}
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := nc.RequestWithContext(rctx, last.Reply(), ackPayload)
		cancel()
		if err == nil {
			if attempt > 0 {
				s.cfg.Logger.Info("batch acknowledgement confirmed after a retry", "events", len(msgs), "attempts", attempt+1)
			}
			return true
		}
		s.m.ackRetries.Inc()
		if attempt == 0 {
			s.cfg.Logger.Warn("batch acknowledgement not confirmed (consumer leader unavailable?); acknowledging again until it is", "events", len(msgs), "err", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			s.cfg.Logger.Warn("batch acknowledgement never confirmed; its events will be redelivered and rewritten idempotently", "events", len(msgs), "err", err)
			return false
		case <-t.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}
