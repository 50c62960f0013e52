// Package bus is yongjin's JetStream plumbing shared by the three services:
// connecting, provisioning the RAW, EVENTS and DLQ streams and the durable
// consumers, and publishing with de-duplication IDs and confirmed acks.
//
// Streams and consumers are provisioned here with nats.go's jetstream API, never
// by Watermill's initializers (which create non-durable consumers or delete
// consumers on close; see the README's operations notes).
package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// Stream names and the subjects they capture.
const (
	RawStream    = "YONGJIN_RAW"
	EventsStream = "YONGJIN_EVENTS"
	DLQStream    = "YONGJIN_DLQ"

	// DLQSubjectPrefix is followed by the stage and vendor:
	// yongjin.dlq.normalizer.douke (the letters' format is internal/dlq's).
	DLQSubjectPrefix = "yongjin.dlq"
)

// StreamOptions are the operator-tunable stream settings.
type StreamOptions struct {
	// Replicas is the stream replication factor (1 for a single server, 3 in production clusters).
	Replicas int
	// MaxAge bounds how long messages are kept (0 = stream default below).
	MaxAge time.Duration
	// Duplicates is the de-duplication window (0 = stream default below).
	Duplicates time.Duration
}

func (o StreamOptions) orDefault(age, dup time.Duration) StreamOptions {
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.MaxAge == 0 {
		o.MaxAge = age
	}
	if o.Duplicates == 0 {
		o.Duplicates = dup
	}
	return o
}

// RawStreamConfig is the RAW stream: every fetched vendor page, kept 30 days by
// default as the replay log, file storage, 10-minute de-duplication window.
func RawStreamConfig(o StreamOptions) jetstream.StreamConfig {
	o = o.orDefault(30*24*time.Hour, 10*time.Minute)
	return jetstream.StreamConfig{
		Name:        RawStream,
		Description: "yongjin raw vendor pages (replay log)",
		Subjects:    []string{events.RawSubjectPrefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		MaxAge:      o.MaxAge,
		Duplicates:  o.Duplicates,
		Discard:     jetstream.DiscardOld,
	}
}

// EventsStreamConfig is the EVENTS stream: canonical events for the sink and
// downstream subscribers, kept 7 days by default, 1-hour de-duplication window
// (event IDs are deterministic, so a re-derived event within the window is
// stored once; beyond it the ClickHouse model absorbs the copy).
func EventsStreamConfig(o StreamOptions) jetstream.StreamConfig {
	o = o.orDefault(7*24*time.Hour, time.Hour)
	return jetstream.StreamConfig{
		Name:        EventsStream,
		Description: "yongjin canonical events",
		Subjects:    []string{events.SubjectPrefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		MaxAge:      o.MaxAge,
		Duplicates:  o.Duplicates,
		Discard:     jetstream.DiscardOld,
	}
}

// DLQStreamConfig is the dead-letter stream: messages a stage could not
// process, with the reason, kept 30 days by default.
func DLQStreamConfig(o StreamOptions) jetstream.StreamConfig {
	o = o.orDefault(30*24*time.Hour, 10*time.Minute)
	return jetstream.StreamConfig{
		Name:        DLQStream,
		Description: "yongjin dead letters (original message + reason)",
		Subjects:    []string{DLQSubjectPrefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
		MaxAge:      o.MaxAge,
		Duplicates:  o.Duplicates,
		Discard:     jetstream.DiscardOld,
	}
}

// EnsureStream creates the stream or updates it to cfg (idempotent),
// retrying with backoff for up to ProvisionBound (or until ctx ends) while
// JetStream answers with a timeout or not at all (see EnsureKeyValue); each
// retry is logged as a warning on slog.Default(). A server that denies the
// JetStream API subjects fails it at once with a *PermissionError.
func EnsureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	var s jetstream.Stream
	err := retryProvision(ctx, ProvisionBound, func(ctx context.Context) error {
		return guarded(ctx, js.Conn(), jsAPIFor(cfg.Name, ""), func(ctx context.Context) error {
			var err error
			s, err = js.CreateOrUpdateStream(ctx, cfg)
			return err
		})
	}, func(err error, d time.Duration) {
		slog.Warn("provisioning stream, retrying", "stream", cfg.Name, "replicas", cfg.Replicas, "err", err, "retry_in", d.String())
	})
	if err != nil {
		return nil, fmt.Errorf("provision stream %s: %w", cfg.Name, err)
	}
	return s, nil
}

// ConsumerOptions configure a durable pull consumer.
type ConsumerOptions struct {
	// Durable is the consumer name; it survives restarts of every client.
	Durable string
	// FilterSubjects restricts the consumer (empty = whole stream).
	FilterSubjects []string
	// AckWait is how long the server waits for an ack before redelivering.
	AckWait time.Duration
	// MaxDeliver bounds deliveries (-1 = unlimited; the stage dead-letters itself).
	MaxDeliver int
	// MaxAckPending bounds unacknowledged messages in flight.
	MaxAckPending int
}

// EnsureConsumer creates or updates a durable, explicit-ack pull consumer on
// stream. The stream is owned by another service, so EnsureConsumer waits for it
// (with backoff, logging) until ctx ends; a permission violation
// (*PermissionError) ends it at once.
func EnsureConsumer(ctx context.Context, js jetstream.JetStream, stream string, o ConsumerOptions, log *slog.Logger) (jetstream.Consumer, error) {
	if o.Durable == "" {
		return nil, errors.New("consumer needs a durable name")
	}
	cfg := jetstream.ConsumerConfig{
		Durable:        o.Durable,
		Description:    "yongjin " + o.Durable,
		AckPolicy:      jetstream.AckExplicitPolicy,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckWait:        o.AckWait,
		MaxDeliver:     o.MaxDeliver,
		MaxAckPending:  o.MaxAckPending,
		FilterSubjects: o.FilterSubjects,
	}
	var c jetstream.Consumer
	err := retryProvision(ctx, 0, func(ctx context.Context) error {
		return guarded(ctx, js.Conn(), jsAPIFor(stream, o.Durable), func(ctx context.Context) error {
			var err error
			c, err = js.CreateOrUpdateConsumer(ctx, stream, cfg)
			return err
		})
	}, func(err error, d time.Duration) {
		if log != nil {
			log.Warn("waiting for stream", "stream", stream, "consumer", o.Durable, "err", err, "retry_in", d.String())
		}
	})
	if err != nil {
		return nil, fmt.Errorf("provision consumer %s on %s: %w", o.Durable, stream, err)
	}
	return c, nil
}

// ProvisionBound bounds how long EnsureKeyValue and EnsureStream retry: a JetStream
// cluster that is electing leaders (replicas starting at once, a restarted
// server) answers within seconds to a minute.
const ProvisionBound = 5 * time.Minute

// EnsureKeyValue creates the key-value bucket or updates it to cfg
// (idempotent), retrying with backoff for up to ProvisionBound (or until
// ctx ends) while JetStream answers with a timeout or not at all, as a
// cluster does while it places a new replicated bucket or elects its
// leader; every retry is logged on log (a warning naming the bucket, the
// error and the wait). A permission violation (*PermissionError) or any
// other API error ends it at once.
func EnsureKeyValue(ctx context.Context, js jetstream.JetStream, cfg jetstream.KeyValueConfig, log *slog.Logger) (jetstream.KeyValue, error) {
	var kv jetstream.KeyValue
	err := retryProvision(ctx, ProvisionBound, func(ctx context.Context) error {
		return guarded(ctx, js.Conn(), jsAPIFor("KV_"+cfg.Bucket, ""), func(ctx context.Context) error {
			var err error
			kv, err = js.CreateOrUpdateKeyValue(ctx, cfg)
			return err
		})
	}, func(err error, d time.Duration) {
		if log != nil {
			log.Warn("provisioning key-value bucket, retrying", "bucket", cfg.Bucket, "replicas", cfg.Replicas, "err", err, "retry_in", d.String())
		}
	})
	if err != nil {
		return nil, fmt.Errorf("provision key-value bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// provisionAttempt bounds one provisioning request: a server without a
// JetStream meta leader answers nothing, and the request must not wait for
// the caller's whole deadline.
const provisionAttempt = 10 * time.Second

// retryProvision runs op, each attempt bounded by provisionAttempt, with
// exponential backoff (200 ms doubling to 5 s) for up to bound (0: until ctx ends) while it fails transiently: a missing
// stream, a request timeout, no JetStream response or a cluster not ready
// (clusterNotReady). A permission
// violation or any other error is returned at once. notify is called
// before every wait.
func retryProvision(ctx context.Context, bound time.Duration, op func(context.Context) error, notify func(error, time.Duration)) error {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 200 * time.Millisecond
	b.MaxInterval = 5 * time.Second
	b.MaxElapsedTime = bound
	return backoff.RetryNotify(func() error {
		actx, cancel := context.WithTimeout(ctx, provisionAttempt)
		err := op(actx)
		cancel()
		switch {
		case err == nil:
			return nil
		case errors.Is(err, nats.ErrPermissionViolation):
			return backoff.Permanent(err)
		case ctx.Err() != nil:
			return backoff.Permanent(err)
		case errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
			errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) || clusterNotReady(err):
			return err
		}
		return backoff.Permanent(err)
	}, backoff.WithContext(b, ctx), notify)
}

// clusterNotReady reports a JetStream API error a cluster answers while it
// has no meta leader or too few peers up yet: "no suitable peers for
// placement" (10005, while peers are still offline), "JetStream system
// temporarily unavailable" (10008) and "insufficient resources" (10023).
func clusterNotReady(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == 10005 || apiErr.ErrorCode == 10008 || apiErr.ErrorCode == 10023)
}

// PublishBackoff is the bounded retry policy for publishes: jittered
// exponential from 100 ms, capped at 5 s per wait and 2 minutes overall.
func PublishBackoff(ctx context.Context) backoff.BackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 100 * time.Millisecond
	b.MaxInterval = 5 * time.Second
	b.RandomizationFactor = 0.5
	b.MaxElapsedTime = 2 * time.Minute
	return backoff.WithContext(b, ctx)
}

// PublishSync publishes one message and waits for JetStream to store it,
// retrying with PublishBackoff. msgID (if set) is the Nats-Msg-Id, so a retry
// that follows a lost ack is stored once. onRetry may be nil. A subject the
// server denies fails at once with a *PermissionError.
func PublishSync(ctx context.Context, js jetstream.JetStream, msg *nats.Msg, msgID string, onRetry func(error)) error {
	match := publishOf(map[string]bool{msg.Subject: true})
	return backoff.RetryNotify(func() error {
		err := guarded(ctx, js.Conn(), match, func(ctx context.Context) error {
			_, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID(msgID))
			return err
		})
		if err != nil && isPermanentPublishErr(err) {
			return backoff.Permanent(err)
		}
		return err
	}, PublishBackoff(ctx), func(err error, _ time.Duration) {
		if onRetry != nil {
			onRetry(err)
		}
	})
}

// PublishAll publishes msgs asynchronously (each with its Nats-Msg-Id header
// already set) and returns nil only when JetStream acknowledged every one.
// Messages whose publish failed are retried with PublishBackoff; it is safe to
// resend all of them because JetStream de-duplicates by message ID. A subject
// the server denies fails it at once with a *PermissionError.
func PublishAll(ctx context.Context, js jetstream.JetStream, msgs []*nats.Msg, onRetry func(error)) error {
	pending := msgs
	subjects := make(map[string]bool)
	for _, m := range msgs {
		subjects[m.Subject] = true
	}
	match := publishOf(subjects)
	return backoff.RetryNotify(func() error {
		var failed []*nats.Msg
		err := guarded(ctx, js.Conn(), match, func(ctx context.Context) error {
			var err error
			failed, err = publishAsyncOnce(ctx, js, pending, publishAckWait)
			return err
		})
		pending = failed
		if err != nil && isPermanentPublishErr(err) {
			return backoff.Permanent(err)
		}
		return err
	}, PublishBackoff(ctx), func(err error, _ time.Duration) {
		if onRetry != nil {
			onRetry(err)
		}
	})
}

// publishAckWait is how long PublishAll waits, per attempt, for JetStream to
// acknowledge the messages it published asynchronously; those still
// unacknowledged then are resent by the next attempt.
const publishAckWait = 30 * time.Second

// publishAsyncOnce publishes msgs asynchronously and waits until each is
// acknowledged, fails, or ackWait has passed since the publishing ended; it
// returns the messages that were not acknowledged (all of them when ctx
// ends). The wait is one deadline for the whole batch: once it has passed,
// every message not yet acknowledged counts as failed without waiting any
// longer.
func publishAsyncOnce(ctx context.Context, js jetstream.JetStream, msgs []*nats.Msg, ackWait time.Duration) ([]*nats.Msg, error) {
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	var failed []*nats.Msg
	var firstErr error
	for i, m := range msgs {
		f, err := js.PublishMsgAsync(m, jetstream.WithStallWait(5*time.Second))
		if err != nil {
			failed = append(failed, msgs[i:]...)
			firstErr = err
			break
		}
		futures = append(futures, f)
	}
	expired, stop := context.WithTimeout(ctx, ackWait)
	defer stop()
	for _, f := range futures {
		var err error
		select {
		case <-f.Ok():
			continue
		case err = <-f.Err():
		case <-expired.Done():
			if ctx.Err() != nil {
				return msgs, ctx.Err()
			}
			// past the deadline: take what has arrived, wait for nothing more
			select {
			case <-f.Ok():
				continue
			case err = <-f.Err():
			default:
				err = fmt.Errorf("publish ack not received within %s: %w", ackWait, context.DeadlineExceeded)
			}
		}
		failed = append(failed, f.Msg())
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return failed, fmt.Errorf("%d of %d publishes not acknowledged: %w", len(failed), len(msgs), firstErr)
	}
	return nil, nil
}

// isPermanentPublishErr reports errors no retry can fix: no stream captures
// the subject, or the server denied the subject (permissions).
func isPermanentPublishErr(err error) bool {
	return errors.Is(err, nats.ErrPermissionViolation) || errors.Is(err, jetstream.ErrMsgIteratorClosed)
}
