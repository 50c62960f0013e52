// Package normalizer is the middle stage: a durable JetStream consumer of RAW
// that maps each vendor page to canonical events, publishes them to EVENTS with
// their deterministic IDs, and acknowledges the page only after JetStream has
// stored every event. Pages that cannot be mapped, or that keep failing, go to
// the DLQ stream with the reason; nothing is dropped silently.
package normalizer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// Stage is this stage's name in DLQ subjects and headers.
const Stage = "normalizer"

// ErrPermanent marks a page that no retry can fix (it is dead-lettered at once).
var ErrPermanent = errors.New("permanent")

// Config configures the normalizer.
type Config struct {
	// Durable is the RAW consumer name (default "normalizer").
	Durable string
	// AckWait is the consumer's ack wait (default 60 s); one page's work,
	// retries included, is bounded to 80% of it.
	AckWait time.Duration
	// MaxDeliver is how many deliveries a failing page gets before it is
	// dead-lettered (default 10).
	MaxDeliver int
	// Workers is how many pages are processed concurrently (default 4).
	Workers int
	// Streams tunes the EVENTS and DLQ streams this service owns.
	Streams bus.StreamOptions
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics (nil = not registered).
	Registerer prometheus.Registerer
}

func (c *Config) setDefaults() {
	if c.Durable == "" {
		c.Durable = "normalizer"
	}
	if c.AckWait == 0 {
		c.AckWait = 60 * time.Second
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = 10
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports a configuration error.
func (c Config) Validate() error {
	if c.AckWait < 5*time.Second {
		return fmt.Errorf("ack wait %s is too short (minimum 5s)", c.AckWait)
	}
	if c.MaxDeliver < 1 {
		return fmt.Errorf("max deliver must be at least 1, got %d", c.MaxDeliver)
	}
	if c.Workers < 1 || c.Workers > 256 {
		return fmt.Errorf("workers must be 1..256, got %d", c.Workers)
	}
	return nil
}

type metrics struct {
	pages      *prometheus.CounterVec
	events     *prometheus.CounterVec
	deadLetter *prometheus.CounterVec
	retries    prometheus.Counter
}

func newMetrics(r prometheus.Registerer) *metrics {
	m := &metrics{
		pages:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_normalizer_pages_total", Help: "Raw pages handled, by vendor and outcome (ok, dead_letter, retry)."}, []string{"vendor", "outcome"}),
		events:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_normalizer_events_published_total", Help: "Canonical events acknowledged by JetStream, by vendor and type."}, []string{"vendor", "type"}),
		deadLetter: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_dead_letters_total", Help: "Messages dead-lettered, by stage and reason class."}, []string{"stage", "reason"}),
		retries:    prometheus.NewCounter(prometheus.CounterOpts{Name: "yongjin_normalizer_publish_retries_total", Help: "Retried EVENTS publishes."}),
	}
	if r != nil {
		r.MustRegister(m.pages, m.events, m.deadLetter, m.retries)
	}
	return m
}

// Service is a running normalizer.
type Service struct {
	cfg Config
	reg *vendors.Registry
	js  jetstream.JetStream
	m   *metrics
}

// New validates cfg and returns a Service that publishes through js.
func New(cfg Config, reg *vendors.Registry, js jetstream.JetStream) (*Service, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("normalizer config: %w", err)
	}
	return &Service{cfg: cfg, reg: reg, js: js, m: newMetrics(cfg.Registerer)}, nil
}

// Provision creates or updates the streams this service owns (EVENTS, DLQ)
// and its durable RAW consumer (waiting for the poller to create RAW).
func (s *Service) Provision(ctx context.Context) error {
	if _, err := bus.EnsureStream(ctx, s.js, bus.EventsStreamConfig(s.cfg.Streams)); err != nil {
		return err
	}
	if _, err := bus.EnsureStream(ctx, s.js, bus.DLQStreamConfig(s.cfg.Streams)); err != nil {
		return err
	}
	_, err := bus.EnsureConsumer(ctx, s.js, bus.RawStream, bus.ConsumerOptions{
		Durable:       s.cfg.Durable,
		AckWait:       s.cfg.AckWait,
		MaxDeliver:    -1, // the stage dead-letters after cfg.MaxDeliver itself
		MaxAckPending: 4 * s.cfg.Workers,
	}, s.cfg.Logger)
	return err
}

// Run consumes RAW through subConn until ctx ends, then stops taking pages
// and waits for in-flight ones. subConn must be a connection of its own:
// Watermill's subscriber drains and closes it on shutdown.
func (s *Service) Run(ctx context.Context, subConn *nats.Conn) error {
	wlog := watermill.NewSlogLoggerWithLevelMapping(s.cfg.Logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	sub, err := wmjs.NewSubscriber(wmjs.SubscriberConfig{
		Conn:                subConn,
		Logger:              wlog,
		AckWaitTimeout:      s.cfg.AckWait,
		ResourceInitializer: bus.BoundConsumer(bus.RawStream, s.cfg.Durable),
		NakDelay:            bus.ExpDelay{Base: time.Second, Max: time.Minute},
		ConsumeOptions:      []jetstream.PullConsumeOpt{jetstream.PullMaxMessages(1)},
		AckAsync:            true,
		Unmarshaler:         bus.Unmarshaler{},
	})
	if err != nil {
		return fmt.Errorf("normalizer subscriber: %w", err)
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: s.cfg.AckWait}, wlog)
	if err != nil {
		return err
	}
	router.AddMiddleware(s.deadLetterMiddleware, middleware.Recoverer)
	for i := 0; i < s.cfg.Workers; i++ {
		router.AddConsumerHandler(fmt.Sprintf("normalize-%d", i), bus.RawStream, sub, s.handle)
	}
	s.cfg.Logger.Info("normalizer running", "consumer", s.cfg.Durable, "workers", s.cfg.Workers)
	return router.Run(ctx)
}

// handle maps one raw page and publishes its events; an error wrapping
// ErrPermanent is dead-lettered at once, any other error is retried by
// redelivery.
func (s *Service) handle(msg *message.Message) error {
	page, err := events.RawPageFromHeaders(msg.Metadata.Get, msg.Payload)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	envs, err := Normalize(s.reg, page)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	msgs, err := EventMessages(page.Vendor, envs)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	ctx, cancel := context.WithTimeout(msg.Context(), s.cfg.AckWait*8/10)
	defer cancel()
	if err := bus.PublishAll(ctx, s.js, msgs, func(error) { s.m.retries.Inc() }); err != nil {
		return fmt.Errorf("publish %d events of %s page %s: %w", len(msgs), page.Vendor, page.Cursor, err)
	}
	for _, e := range envs {
		s.m.events.WithLabelValues(page.Vendor, e.Type).Inc()
	}
	s.m.pages.WithLabelValues(page.Vendor, "ok").Inc()
	return nil
}

// deadLetterMiddleware sends a failed page to the DLQ when its error is
// permanent or it has been delivered MaxDeliver times, and then lets it be
// acknowledged; otherwise the error propagates and the page is redelivered
// after a growing delay.
func (s *Service) deadLetterMiddleware(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		if err == nil {
			return out, nil
		}
		vendor := msg.Metadata.Get(events.HdrVendor)
		n := bus.NumDelivered(msg)
		reasonClass := "permanent"
		if !errors.Is(err, ErrPermanent) {
			if n < uint64(s.cfg.MaxDeliver) {
				s.m.pages.WithLabelValues(vendor, "retry").Inc()
				s.cfg.Logger.Warn("page failed, will be redelivered", "vendor", vendor, "delivery", n, "err", err)
				return nil, err
			}
			reasonClass = "retries_exhausted"
			err = fmt.Errorf("gave up after %d deliveries: %w", n, err)
		}
		if dlqErr := s.deadLetter(msg, err); dlqErr != nil {
			s.cfg.Logger.Error("dead-letter publish failed, page will be redelivered", "vendor", vendor, "err", dlqErr)
			return nil, dlqErr
		}
		s.m.deadLetter.WithLabelValues(Stage, reasonClass).Inc()
		s.m.pages.WithLabelValues(vendor, "dead_letter").Inc()
		s.cfg.Logger.Error("page dead-lettered", "vendor", vendor, "seq", msg.Metadata.Get(bus.MetaStreamSeq), "reason", err.Error())
		return nil, nil
	}
}

func (s *Service) deadLetter(msg *message.Message, reason error) error {
	vendor := msg.Metadata.Get(events.HdrVendor)
	if vendor == "" {
		vendor = "unknown"
	}
	dl := nats.NewMsg(bus.DLQSubject(Stage, vendor))
	for k, v := range msg.Metadata {
		switch k {
		case bus.MetaSubject, bus.MetaStreamSeq, bus.MetaNumDelivered, nats.MsgIdHdr:
			continue
		}
		dl.Header.Set(k, v)
	}
	seq := msg.Metadata.Get(bus.MetaStreamSeq)
	dl.Header.Set(bus.HdrDLQStage, Stage)
	dl.Header.Set(bus.HdrDLQReason, reason.Error())
	dl.Header.Set(bus.HdrDLQSubject, msg.Metadata.Get(bus.MetaSubject))
	dl.Header.Set(bus.HdrDLQStreamSeq, seq)
	dl.Header.Set(bus.HdrDLQAt, time.Now().UTC().Format(time.RFC3339Nano))
	dl.Data = msg.Payload
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.AckWait/2)
	defer cancel()
	return bus.PublishSync(ctx, s.js, dl, "dlq-"+Stage+"-"+seq+"-"+msg.UUID, nil)
}

// Normalize maps one raw page to canonical events with the page's vendor.
func Normalize(reg *vendors.Registry, page events.RawPage) ([]events.Envelope, error) {
	v, err := reg.Get(page.Vendor)
	if err != nil {
		return nil, err
	}
	return v.Normalize(page)
}

// EventMessages encodes envelopes as NATS messages on their subjects, in the
// CloudEvents NATS protocol binding's structured content mode: the body is
// the JSON event format, the header Content-Type is events.ContentTypeHeader's
// value, and no ce-* header is set (a ce-specversion header would mark the
// message binary-mode to CloudEvents SDKs). Each message's Nats-Msg-Id is its
// event ID (JetStream de-duplication).
func EventMessages(vendor string, envs []events.Envelope) ([]*nats.Msg, error) {
	out := make([]*nats.Msg, 0, len(envs))
	for _, e := range envs {
		data, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
		}
		m := nats.NewMsg(events.Subject(e.Kind(), vendor))
		m.Header.Set(nats.MsgIdHdr, e.ID)
		m.Header.Set(events.ContentTypeHeader, events.StructuredContentType)
		m.Data = data
		out = append(out, m)
	}
	return out, nil
}
