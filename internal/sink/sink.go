// Package sink is the last stage: a durable JetStream consumer of EVENTS that
// batches events by count and by time, writes each batch to ClickHouse, and
// acknowledges the batch's messages only after ClickHouse accepted it. While
// ClickHouse is unreachable it keeps the batch, retries with backoff and tells
// JetStream the messages are still in progress, so nothing is redelivered
// early and nothing is lost. Events that can never be written (undecodable,
// unknown type) go to the DLQ with the reason.
package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

// Stage is this stage's name in DLQ subjects and headers.
const Stage = "sink"

// Store is where batches go. Insert must be atomic enough that a retry of the
// same batch is harmless (the ClickHouse model is idempotent by natural key and
// version), and must return an error wrapping ErrBadEvent when an event can
// never be written.
type Store interface {
	Insert(ctx context.Context, envs []events.Envelope) error
}

// ErrBadEvent is what a Store wraps for an event no retry can write.
var ErrBadEvent = errors.New("bad event")

// BadEventIndexer is implemented by a Store's bad-event error that names the
// bad event's position in the slice passed to Insert (as
// clickhouse.BadEventError does). The sink then dead-letters exactly that
// event and inserts the rest of the batch in one insert; without it, it has
// to find the bad events by inserting one event at a time.
type BadEventIndexer interface {
	BatchIndex() int
}

// Config configures the sink.
type Config struct {
	// Durable is the EVENTS consumer name (default "sink").
	Durable string
	// FilterSubjects restricts which events are consumed (default all).
	FilterSubjects []string
	// BatchSize is the most events per ClickHouse insert (default 5000).
	BatchSize int
	// FlushInterval is the longest a partial batch waits (default 1 s).
	FlushInterval time.Duration
	// AckWait is the consumer ack wait (default 60 s); in-progress signals are
	// sent at a third of it while a batch is being retried.
	AckWait time.Duration
	// MaxRetryWait caps one backoff wait while ClickHouse is down (default 30 s).
	MaxRetryWait time.Duration
	// IsBadEvent reports whether a Store error means a bad event (default:
	// errors.Is(err, ErrBadEvent)).
	IsBadEvent func(error) bool
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

// DefaultConfig is the configuration of a sink with every default value
// set: the flags of `sink run` start from it, and New fills each zero field
// of the Config it is given from it.
func DefaultConfig() Config {
	return Config{
		Durable: "sink", BatchSize: 5000, FlushInterval: time.Second, AckWait: 60 * time.Second, MaxRetryWait: 30 * time.Second,
		IsBadEvent: func(err error) bool { return errors.Is(err, ErrBadEvent) },
	}
}

// setDefaults fills every zero field from DefaultConfig (and the logger with
// slog.Default()).
func (c *Config) setDefaults() {
	d := DefaultConfig()
	if c.Durable == "" {
		c.Durable = d.Durable
	}
	if c.BatchSize == 0 {
		c.BatchSize = d.BatchSize
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = d.FlushInterval
	}
	if c.AckWait == 0 {
		c.AckWait = d.AckWait
	}
	if c.MaxRetryWait == 0 {
		c.MaxRetryWait = d.MaxRetryWait
	}
	if c.IsBadEvent == nil {
		c.IsBadEvent = d.IsBadEvent
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports a configuration error.
func (c Config) Validate() error {
	if c.BatchSize < 1 || c.BatchSize > 100000 {
		return fmt.Errorf("batch size must be 1..100000, got %d", c.BatchSize)
	}
	if c.FlushInterval < 10*time.Millisecond {
		return fmt.Errorf("flush interval %s is too short (minimum 10ms)", c.FlushInterval)
	}
	if c.AckWait < 5*time.Second {
		return fmt.Errorf("ack wait %s is too short (minimum 5s)", c.AckWait)
	}
	return nil
}

type metrics struct {
	rows       *prometheus.CounterVec
	batches    prometheus.Counter
	retries    prometheus.Counter
	deadLetter *prometheus.CounterVec
	batchSize  prometheus.Histogram
	ackRetries prometheus.Counter
}

func newMetrics(r prometheus.Registerer) *metrics {
	m := &metrics{
		rows:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_sink_events_written_total", Help: "Events written to ClickHouse and acknowledged, by type."}, []string{"type"}),
		batches:    prometheus.NewCounter(prometheus.CounterOpts{Name: "yongjin_sink_batches_total", Help: "Batches ClickHouse accepted."}),
		retries:    prometheus.NewCounter(prometheus.CounterOpts{Name: "yongjin_sink_insert_retries_total", Help: "Retried ClickHouse inserts."}),
		deadLetter: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_sink_dead_letters_total", Help: "Events dead-lettered by the sink, by reason class."}, []string{"reason"}),
		ackRetries: prometheus.NewCounter(prometheus.CounterOpts{Name: "yongjin_sink_ack_retries_total", Help: "Batch acknowledgements sent again because the consumer leader did not confirm them (a leader election)."}),
		batchSize:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "yongjin_sink_batch_size", Help: "Events per ClickHouse insert.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
	}
	if r != nil {
		r.MustRegister(m.rows, m.batches, m.retries, m.deadLetter, m.batchSize, m.ackRetries)
	}
	return m
}

// Service is a running sink.
type Service struct {
	cfg   Config
	js    jetstream.JetStream
	store Store
	m     *metrics
}

// New validates cfg and returns a sink reading through js into store.
func New(cfg Config, js jetstream.JetStream, store Store) (*Service, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sink config: %w", err)
	}
	return &Service{cfg: cfg, js: js, store: store, m: newMetrics(cfg.Registerer)}, nil
}

// Provision creates or updates the durable EVENTS consumer, waiting for the
// normalizer to create the stream.
func (s *Service) Provision(ctx context.Context) (jetstream.Consumer, error) {
	return bus.EnsureConsumer(ctx, s.js, bus.EventsStream, bus.ConsumerOptions{
		Durable:        s.cfg.Durable,
		FilterSubjects: s.cfg.FilterSubjects,
		AckWait:        s.cfg.AckWait,
		MaxDeliver:     -1, // the sink never gives up on a writable event; bad ones are dead-lettered
		MaxAckPending:  4 * s.cfg.BatchSize,
	}, s.cfg.Logger)
}

// Run fetches, writes and acknowledges batches until ctx ends. The next
// batch is fetched while the current one is written (MaxAckPending leaves
// room for both). A batch that is being written when ctx ends is finished
// (bounded by AckWait) before Run returns; a fetched batch not yet started
// is left unacknowledged and redelivered after AckWait.
func (s *Service) Run(ctx context.Context, cons jetstream.Consumer) error {
	s.cfg.Logger.Info("sink running", "consumer", s.cfg.Durable, "batch_size", s.cfg.BatchSize, "flush_interval", s.cfg.FlushInterval.String())
	batches := make(chan []jetstream.Msg, 1)
	go s.fetchLoop(ctx, cons, batches)
	for msgs := range batches {
		// Finish the batch even if shutdown starts now: its messages are ours.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AckWait)
		err := s.writeBatch(wctx, ctx, msgs)
		cancel()
		if err != nil {
			s.cfg.Logger.Error("batch not written; it will be redelivered", "events", len(msgs), "err", err)
		}
	}
	s.cfg.Logger.Info("sink stopped")
	return nil
}

// fetchLoop fetches batches into out until ctx ends, then closes out.
func (s *Service) fetchLoop(ctx context.Context, cons jetstream.Consumer, out chan<- []jetstream.Msg) {
	defer close(out)
	for ctx.Err() == nil {
		batch, err := cons.Fetch(s.cfg.BatchSize, jetstream.FetchMaxWait(s.cfg.FlushInterval))
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.cfg.Logger.Warn("fetch failed, retrying", "err", err)
			sleep(ctx, s.cfg.FlushInterval)
			continue
		}
		msgs := make([]jetstream.Msg, 0, s.cfg.BatchSize)
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			s.cfg.Logger.Debug("fetch ended early", "err", err)
		}
		if len(msgs) == 0 {
			continue
		}
		select {
		case out <- msgs:
		case <-ctx.Done():
			return
		}
	}
}

// writeBatch writes msgs to the store and acks them. stop ends the retrying
// (the messages then stay unacknowledged and are redelivered).
func (s *Service) writeBatch(ctx, stop context.Context, msgs []jetstream.Msg) error {
	envs := make([]events.Envelope, 0, len(msgs))
	good := make([]jetstream.Msg, 0, len(msgs))
	for _, m := range msgs {
		e, err := decodeEvent(m.Subject(), m.Data())
		if err != nil {
			if err := s.deadLetter(ctx, m, err); err != nil {
				return err
			}
			continue
		}
		envs = append(envs, e)
		good = append(good, m)
	}
	if len(envs) > 0 {
		var err error
		if good, envs, err = s.insertWithRetry(ctx, stop, good, envs); err != nil {
			return err
		}
	}
	// The rows are in ClickHouse; an unconfirmed ack means a redelivery that
	// rewrites the same versions.
	s.ackBatch(ctx, good)
	for i := range good {
		s.m.rows.WithLabelValues(envs[i].Type).Inc()
	}
	s.m.batches.Inc()
	s.m.batchSize.Observe(float64(len(envs)))
	return nil
}

func (s *Service) insertWithRetry(ctx, stop context.Context, msgs []jetstream.Msg, envs []events.Envelope) ([]jetstream.Msg, []events.Envelope, error) {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = 200 * time.Millisecond
	b.MaxInterval = s.cfg.MaxRetryWait
	b.RandomizationFactor = 0.5
	b.MaxElapsedTime = 0
	for len(envs) > 0 {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.AckWait/2)
		err := s.store.Insert(actx, envs)
		cancel()
		if err == nil {
			return msgs, envs, nil
		}
		if s.cfg.IsBadEvent(err) {
			var ix BadEventIndexer
			if errors.As(err, &ix) && ix.BatchIndex() >= 0 && ix.BatchIndex() < len(envs) {
				// The store names the bad event: dead-letter it, insert the rest.
				i := ix.BatchIndex()
				if err := s.deadLetter(ctx, msgs[i], err); err != nil {
					return nil, nil, err
				}
				msgs = append(msgs[:i:i], msgs[i+1:]...)
				envs = append(envs[:i:i], envs[i+1:]...)
				continue
			}
			return s.isolateBadEvents(ctx, msgs, envs)
		}
		s.m.retries.Inc()
		wait := b.NextBackOff()
		s.cfg.Logger.Warn("clickhouse insert failed, retrying", "events", len(envs), "retry_in", wait.String(), "err", err)
		if !s.holdWhileWaiting(stop, msgs, wait) {
			return nil, nil, fmt.Errorf("stopping: %w", err)
		}
	}
	return msgs, envs, nil
}

// holdWhileWaiting waits d while telling JetStream, at least every third of
// the ack wait, that msgs are still being worked on. It returns false if stop
// ended first.
func (s *Service) holdWhileWaiting(stop context.Context, msgs []jetstream.Msg, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		for _, m := range msgs {
			_ = m.InProgress()
		}
		left := time.Until(deadline)
		if left <= 0 {
			return true
		}
		t := time.NewTimer(min(left, s.cfg.AckWait/3))
		select {
		case <-stop.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// isolateBadEvents is for a Store whose bad-event errors do not say which
// event is bad: it writes the batch one event at a time (telling JetStream
// the rest is still in progress), dead-letters the ones the store refuses as
// bad and fails on anything else. It returns what was written.
func (s *Service) isolateBadEvents(ctx context.Context, msgs []jetstream.Msg, envs []events.Envelope) ([]jetstream.Msg, []events.Envelope, error) {
	var okMsgs []jetstream.Msg
	var okEnvs []events.Envelope
	last := time.Now()
	for i, e := range envs {
		if time.Since(last) > s.cfg.AckWait/3 {
			for _, m := range msgs[i:] {
				_ = m.InProgress()
			}
			last = time.Now()
		}
		err := s.store.Insert(ctx, []events.Envelope{e})
		switch {
		case err == nil:
			okMsgs, okEnvs = append(okMsgs, msgs[i]), append(okEnvs, e)
		case s.cfg.IsBadEvent(err):
			if err := s.deadLetter(ctx, msgs[i], err); err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, err
		}
	}
	return okMsgs, okEnvs, nil
}

// decodeEvent decodes an event message of the given subject and checks its
// type. The envelope and payload are decoded in one pass where the subject
// names the kind (events.DecodeMessage); a payload that does not decode is
// left to the Store, which reports it as a bad event, isolated and
// dead-lettered like this function's errors.
func decodeEvent(subject string, data []byte) (events.Envelope, error) {
	e, err := events.DecodeMessage(events.KindOfSubject(subject), data)
	if err != nil {
		return e, fmt.Errorf("undecodable event: %w", err)
	}
	for _, k := range events.Kinds {
		if e.Type == events.Type(k) {
			return e, nil
		}
	}
	return e, fmt.Errorf("event %s: %w %q", e.ID, events.ErrUnknownType, e.Type)
}

// deadLetter stores m in the DLQ with the reason and acknowledges it.
func (s *Service) deadLetter(ctx context.Context, m jetstream.Msg, reason error) error {
	letter := dlq.MsgSpec(Stage, bus.EventsStream, m, reason)
	if err := dlq.Publish(ctx, s.js, letter); err != nil {
		return fmt.Errorf("dead-letter event seq %d: %w", letter.StreamSeq, err)
	}
	s.m.deadLetter.WithLabelValues("bad_event").Inc()
	s.cfg.Logger.Error("event dead-lettered", "seq", letter.StreamSeq, "reason", reason.Error())
	return m.Ack()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
