package dlq

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
)

// Reason classes Middleware reports to MiddlewareConfig.OnDeadLetter.
const (
	// ClassPermanent: the handler's error said no retry can fix the message.
	ClassPermanent = "permanent"
	// ClassRetriesExhausted: the message failed on its MaxDeliver-th delivery.
	ClassRetriesExhausted = "retries_exhausted"
)

// MiddlewareConfig configures Middleware. JS, Stage and OriginalStream are
// required; the callbacks may be nil.
type MiddlewareConfig struct {
	// JS is where letters are published (the DLQ stream must exist).
	JS jetstream.JetStream
	// Stage is the stage giving up (the DLQ subject's second token).
	Stage string
	// OriginalStream is the stream the handled messages come from.
	OriginalStream string
	// MaxDeliver is the delivery on which a message whose handler keeps
	// failing is dead-lettered instead of redelivered (1 or less: the first).
	MaxDeliver int
	// Permanent reports an error no retry can fix: its message is
	// dead-lettered at once. Nil: every error is retried up to MaxDeliver.
	Permanent func(error) bool
	// Vendor names a message's vendor (the DLQ subject's last token).
	// Nil: the original subject's last token.
	Vendor func(*message.Message) string
	// Timeout bounds the publish of one letter (default 30 s).
	Timeout time.Duration
	// OnRetry is called when a failed message is left to be redelivered
	// (delivery is how often it has been delivered, err the handler's error).
	OnRetry func(msg *message.Message, delivery uint64, err error)
	// OnDeadLetter is called once msg was dead-lettered with reason; class
	// is ClassPermanent or ClassRetriesExhausted.
	OnDeadLetter func(msg *message.Message, class string, reason error)
	// OnPublishError is called when the letter could not be stored: the
	// message is then redelivered, and dead-lettered on a later delivery.
	OnPublishError func(msg *message.Message, err error)
}

// Middleware returns a Watermill handler middleware that dead-letters a
// message its handler fails on, for good — with an error cfg.Permanent
// accepts, or on its cfg.MaxDeliver-th delivery ("gave up after N
// deliveries: " then goes in front of the reason) — and then reports
// success, so the router acknowledges it only once the letter is stored.
// Any other failure is returned as is and the message is redelivered; a
// message whose letter could not be published is redelivered too, with the
// publish error. Like Watermill's poison-queue
// middleware it owns the letter's metadata and its publish, but the letter
// is this package's format (Build): the original headers and body, the
// subject and stream sequence (read from bus.Unmarshaler's metadata), and
// MsgID(Stage, sequence, NoRecord, message UUID) for de-duplication.
func Middleware(cfg MiddlewareConfig) message.HandlerMiddleware {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	return cfg.middleware
}

func (cfg MiddlewareConfig) middleware(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		if err == nil {
			return out, nil
		}
		class := ClassPermanent
		if cfg.Permanent == nil || !cfg.Permanent(err) {
			n := bus.NumDelivered(msg)
			if n < uint64(cfg.MaxDeliver) {
				if cfg.OnRetry != nil {
					cfg.OnRetry(msg, n, err)
				}
				return nil, err
			}
			class = ClassRetriesExhausted
			err = fmt.Errorf("gave up after %d deliveries: %w", n, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
		defer cancel()
		if pubErr := Publish(ctx, cfg.JS, cfg.spec(msg, err)); pubErr != nil {
			if cfg.OnPublishError != nil {
				cfg.OnPublishError(msg, pubErr)
			}
			return nil, pubErr
		}
		if cfg.OnDeadLetter != nil {
			cfg.OnDeadLetter(msg, class, err)
		}
		return nil, nil
	}
}

// spec is the letter of msg, a Watermill message made by bus.Unmarshaler.
func (cfg MiddlewareConfig) spec(msg *message.Message, reason error) Spec {
	s := Spec{Stage: cfg.Stage, Reason: reason, Data: msg.Payload, Header: make(map[string][]string, len(msg.Metadata)),
		OriginalSubject: msg.Metadata.Get(bus.MetaSubject), OriginalStream: cfg.OriginalStream, Record: NoRecord}
	s.StreamSeq, _ = strconv.ParseUint(msg.Metadata.Get(bus.MetaStreamSeq), 10, 64)
	for k, v := range msg.Metadata {
		s.Header[k] = []string{v}
	}
	if cfg.Vendor != nil {
		s.Vendor = cfg.Vendor(msg)
	} else {
		s.Vendor = VendorOf(s.OriginalSubject)
	}
	s.MsgID = MsgID(cfg.Stage, s.StreamSeq, NoRecord, msg.UUID)
	return s
}
