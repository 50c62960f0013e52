package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"
)

// SubscriberConfig configures a Subscriber.
type SubscriberConfig struct {
	// Consumer is the durable pull consumer the subscriber reads (provisioned
	// with EnsureConsumer; the subscriber never creates or deletes it).
	Consumer jetstream.Consumer
	// AckWait bounds how long a delivered message waits for its handler's
	// Ack or Nack; it should equal the consumer's ack wait (after it the
	// server redelivers anyway).
	AckWait time.Duration
	// Prefetch is how many messages each subscription keeps buffered ahead of
	// its handler (default 1). The consumer's MaxAckPending must leave room
	// for Prefetch+1 per subscription.
	Prefetch int
	// NakDelay is the delay of a Nack'ed message's redelivery, by delivery
	// count (nil: redeliver at once).
	NakDelay wmjs.Delay
	// Unmarshaler turns JetStream messages into Watermill messages (default
	// Unmarshaler{}).
	Unmarshaler wmjs.Unmarshaler
	// Logger receives warnings (default slog.Default()).
	Logger *slog.Logger
}

// Subscriber is a Watermill message.Subscriber over one durable JetStream
// pull consumer. Each Subscribe call is one pull iterator delivering one
// message at a time, and waiting for its Ack or Nack before the next, as
// Watermill's router expects.
//
// It replaces watermill-nats' jetstream subscriber for two behaviours a
// pipeline cannot have: that subscriber's consumer monitor closes the output
// channel when its context ends while a delivery callback may still be
// sending on it (a "send on closed channel" panic at shutdown), and Close
// abandons a message whose handler is still running. Here the only sender
// closes its channel, and Close stops fetching, hands buffered messages back
// (Nak, so another replica takes them at once), lets each in-flight handler
// finish (bounded by AckWait) and acknowledges what it acknowledged before
// returning. Message contexts are not cancelled by the Subscribe context, so
// a page being processed at SIGTERM is finished, not failed half-way.
type Subscriber struct {
	cfg     SubscriberConfig
	closing chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

// NewSubscriber validates cfg and returns a Subscriber.
func NewSubscriber(cfg SubscriberConfig) (*Subscriber, error) {
	if cfg.Consumer == nil {
		return nil, errors.New("bus subscriber: no consumer")
	}
	if cfg.AckWait <= 0 {
		return nil, errors.New("bus subscriber: ack wait must be positive")
	}
	if cfg.Prefetch <= 0 {
		cfg.Prefetch = 1
	}
	if cfg.Unmarshaler == nil {
		cfg.Unmarshaler = Unmarshaler{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Subscriber{cfg: cfg, closing: make(chan struct{})}, nil
}

// ErrSubscriberClosed is returned by Subscribe after Close.
var ErrSubscriberClosed = errors.New("bus subscriber: closed")

// Subscribe implements message.Subscriber: it starts one pull iterator on
// the consumer (topic is ignored: the consumer's filter decides) and returns
// its messages. The channel is closed after ctx ends or Close is called and
// the last delivered message was settled.
func (s *Subscriber) Subscribe(ctx context.Context, _ string) (<-chan *message.Message, error) {
	select {
	case <-s.closing:
		return nil, ErrSubscriberClosed
	default:
	}
	it, err := s.cfg.Consumer.Messages(jetstream.PullMaxMessages(s.cfg.Prefetch))
	if err != nil {
		return nil, fmt.Errorf("bus subscriber: %w", err)
	}
	out := make(chan *message.Message)
	s.wg.Add(1)
	go s.deliver(ctx, it, out)
	return out, nil
}

// Close implements message.Subscriber: it stops every subscription and
// returns once each has settled its in-flight message.
func (s *Subscriber) Close() error {
	s.once.Do(func() { close(s.closing) })
	s.wg.Wait()
	return nil
}

// deliver is one subscription: the only goroutine that sends on out, and the
// one that closes it.
func (s *Subscriber) deliver(ctx context.Context, it jetstream.MessagesContext, out chan<- *message.Message) {
	defer s.wg.Done()
	defer close(out)
	stop, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.closing:
		case <-stop.Done():
		}
		cancel()
	}()
	defer func() { s.handBack(it) }()
	failures := 0
	for stop.Err() == nil {
		jm, err := it.Next(jetstream.NextContext(stop))
		if err != nil {
			if stop.Err() != nil {
				return
			}
			failures++
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				s.cfg.Logger.Warn("jetstream iterator closed; reopening", "err", err)
				if it, err = s.reopen(stop); err != nil {
					return
				}
				continue
			}
			// Missed heartbeats and the like: the iterator recovers by
			// itself; an error that repeats at once is waited out.
			s.cfg.Logger.Warn("jetstream pull", "err", err, "consecutive", failures)
			if failures > 1 && !sleepCtx(stop, min(50*time.Millisecond<<min(failures, 7), 5*time.Second)) {
				return
			}
			continue
		}
		failures = 0
		s.settle(stop, jm, out)
	}
}

// reopen replaces a closed iterator (its connection or consumer went away),
// retrying until stop ends.
func (s *Subscriber) reopen(stop context.Context) (jetstream.MessagesContext, error) {
	wait := 100 * time.Millisecond
	for {
		it, err := s.cfg.Consumer.Messages(jetstream.PullMaxMessages(s.cfg.Prefetch))
		if err == nil {
			return it, nil
		}
		s.cfg.Logger.Warn("jetstream iterator cannot be reopened, retrying", "retry_in", wait.String(), "err", err)
		if !sleepCtx(stop, wait) {
			return nil, stop.Err()
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// settle hands jm to the handler through out and acknowledges it as the
// handler says. Once delivered, the message is settled even if stop ends:
// the handler is finishing it.
func (s *Subscriber) settle(stop context.Context, jm jetstream.Msg, out chan<- *message.Message) {
	m, err := s.cfg.Unmarshaler.Unmarshal(jm)
	if err != nil || m == nil {
		s.cfg.Logger.Error("jetstream message cannot be read; redelivering it", "subject", jm.Subject(), "err", err)
		s.nak(jm)
		return
	}
	mctx, cancel := context.WithCancel(context.WithoutCancel(stop))
	defer cancel()
	m.SetContext(mctx)
	select {
	case out <- m:
	case <-stop.Done():
		_ = jm.Nak()
		return
	}
	timer := time.NewTimer(s.cfg.AckWait)
	defer timer.Stop()
	select {
	case <-m.Acked():
		if err := jm.Ack(); err != nil {
			s.cfg.Logger.Warn("ack failed; the message will be redelivered", "subject", jm.Subject(), "err", err)
		}
	case <-m.Nacked():
		s.nak(jm)
	case <-timer.C:
		s.cfg.Logger.Warn("handler exceeded the ack wait; JetStream redelivers the message", "subject", jm.Subject(), "ack_wait", s.cfg.AckWait.String())
	}
}

// nak asks for a redelivery after the configured delay.
func (s *Subscriber) nak(jm jetstream.Msg) {
	var delay time.Duration
	if s.cfg.NakDelay != nil {
		if md, err := jm.Metadata(); err == nil {
			delay = s.cfg.NakDelay.WaitTime(md.NumDelivered)
		}
	}
	var err error
	if delay > 0 {
		err = jm.NakWithDelay(delay)
	} else {
		err = jm.Nak()
	}
	if err != nil {
		s.cfg.Logger.Warn("nak failed; the message will be redelivered after the ack wait", "subject", jm.Subject(), "err", err)
	}
}

// handBack stops it and returns its buffered, never delivered messages to
// the server at once.
func (s *Subscriber) handBack(it jetstream.MessagesContext) {
	if it == nil {
		return
	}
	it.Drain()
	for {
		jm, err := it.Next(jetstream.NextMaxWait(time.Second))
		if err != nil {
			return
		}
		_ = jm.Nak()
	}
}

// sleepCtx waits d; it returns false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
