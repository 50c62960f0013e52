// Package normalizer is the middle stage: a durable JetStream consumer of RAW
// that maps each vendor page to canonical events, publishes them to EVENTS with
// their deterministic IDs, and acknowledges the page only after JetStream has
// stored every event. Pages that cannot be mapped, or that keep failing, go to
// the DLQ stream with the reason; nothing is dropped silently.
package normalizer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/dlq"
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
	// CommissionEvents also publishes one commission.v1 event per commission
	// line. Off by default: every order.v1 event carries its lines
	// (Order.CommissionLines), one message per order, which is what the sink
	// needs; turn it on for subscribers that want the lines as events of
	// their own (five messages per douke order instead of one).
	CommissionEvents bool
	// ReplayTimeout bounds one Replay run as a whole (default 1 h).
	ReplayTimeout time.Duration
	// Streams tunes the EVENTS and DLQ streams this service owns.
	Streams bus.StreamOptions
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Registerer receives the metrics (nil = not registered).
	Registerer prometheus.Registerer
}

// DefaultConfig is the configuration of a normalizer with every default
// value set: the flags of `normalizer run` start from it, and New fills each
// zero field of the Config it is given from it.
func DefaultConfig() Config {
	return Config{Durable: "normalizer", AckWait: 60 * time.Second, MaxDeliver: 10, Workers: 4, ReplayTimeout: time.Hour}
}

// setDefaults fills every zero field from DefaultConfig (and the logger with
// slog.Default()).
func (c *Config) setDefaults() {
	d := DefaultConfig()
	if c.Durable == "" {
		c.Durable = d.Durable
	}
	if c.AckWait == 0 {
		c.AckWait = d.AckWait
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = d.MaxDeliver
	}
	if c.Workers == 0 {
		c.Workers = d.Workers
	}
	if c.ReplayTimeout == 0 {
		c.ReplayTimeout = d.ReplayTimeout
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
	if c.ReplayTimeout < 0 {
		return fmt.Errorf("replay timeout must not be negative, got %s", c.ReplayTimeout)
	}
	return nil
}

type metrics struct {
	pages      *prometheus.CounterVec
	events     *prometheus.CounterVec
	deadLetter *prometheus.CounterVec
	records    *prometheus.CounterVec
	retries    prometheus.Counter
}

func newMetrics(r prometheus.Registerer) *metrics {
	m := &metrics{
		pages:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_normalizer_pages_total", Help: "Raw pages handled, by vendor and outcome (ok, dead_letter, retry)."}, []string{"vendor", "outcome"}),
		events:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_normalizer_events_published_total", Help: "Canonical events acknowledged by JetStream, by vendor and type."}, []string{"vendor", "type"}),
		deadLetter: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_dead_letters_total", Help: "Messages dead-lettered, by stage and reason class."}, []string{"stage", "reason"}),
		records:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "yongjin_normalizer_bad_records_total", Help: "Records that could not be mapped and were dead-lettered alone (their page's other records flowed), by vendor."}, []string{"vendor"}),
		retries:    prometheus.NewCounter(prometheus.CounterOpts{Name: "yongjin_normalizer_publish_retries_total", Help: "Retried EVENTS publishes."}),
	}
	if r != nil {
		r.MustRegister(m.pages, m.events, m.deadLetter, m.records, m.retries)
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
		MaxAckPending: (prefetch + 1) * s.cfg.Workers,
	}, s.cfg.Logger)
	return err
}

// prefetch is how many RAW pages each worker holds buffered ahead of the page
// it is mapping, so a worker never waits a pull round trip between pages.
const prefetch = 3

// Run consumes RAW through subConn until ctx ends, then stops taking pages,
// hands buffered ones back, finishes in-flight ones (bounded by the ack wait)
// and drains subConn, which must be a connection of its own.
func (s *Service) Run(ctx context.Context, subConn *nats.Conn) error {
	wlog := watermill.NewSlogLoggerWithLevelMapping(s.cfg.Logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	subJS, err := jetstream.New(subConn)
	if err != nil {
		return fmt.Errorf("normalizer subscriber: %w", err)
	}
	defer subConn.Drain()
	cons, err := subJS.Consumer(ctx, bus.RawStream, s.cfg.Durable)
	if err != nil {
		return fmt.Errorf("normalizer subscriber: consumer %s on %s: %w", s.cfg.Durable, bus.RawStream, err)
	}
	sub, err := bus.NewSubscriber(bus.SubscriberConfig{
		Consumer: cons,
		AckWait:  s.cfg.AckWait,
		Prefetch: prefetch,
		NakDelay: DefaultRedeliveryDelay,
		Logger:   s.cfg.Logger,
	})
	if err != nil {
		return fmt.Errorf("normalizer subscriber: %w", err)
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: s.cfg.AckWait}, wlog)
	if err != nil {
		return err
	}
	router.AddMiddleware(s.deadLetters(), middleware.Recoverer)
	for i := 0; i < s.cfg.Workers; i++ {
		router.AddConsumerHandler(fmt.Sprintf("normalize-%d", i), bus.RawStream, sub, s.handle)
	}
	s.cfg.Logger.Info("normalizer running", "consumer", s.cfg.Durable, "workers", s.cfg.Workers)
	return router.Run(ctx)
}

// handle maps one raw page and publishes its events; an error wrapping
// ErrPermanent is dead-lettered at once, any other error is retried by
// redelivery. A record of the page that cannot be mapped is dead-lettered
// alone (with the page, its stream sequence, the record's index and the
// reason) after the page's good records were published; the page is then
// acknowledged.
func (s *Service) handle(msg *message.Message) error {
	o := originOf(msg)
	ctx, cancel := context.WithTimeout(msg.Context(), s.cfg.AckWait*8/10)
	defer cancel()
	res, err := s.process(ctx, o, "", "")
	if err != nil {
		return err
	}
	for _, e := range res.envs {
		s.m.events.WithLabelValues(res.vendor, e.Type).Inc()
	}
	s.m.pages.WithLabelValues(res.vendor, "ok").Inc()
	return nil
}

// origin is a RAW message as both the live consumer and replay see it.
type origin struct {
	subject string
	seq     uint64
	uuid    string
	header  map[string][]string
	data    []byte
}

// originOf reads a Watermill message made by bus.Unmarshaler.
func originOf(msg *message.Message) origin {
	o := origin{subject: msg.Metadata.Get(bus.MetaSubject), uuid: msg.UUID, data: msg.Payload, header: make(map[string][]string, len(msg.Metadata))}
	o.seq, _ = strconv.ParseUint(msg.Metadata.Get(bus.MetaStreamSeq), 10, 64)
	for k, v := range msg.Metadata {
		o.header[k] = []string{v}
	}
	return o
}

func (o origin) get(k string) string {
	if v := o.header[k]; len(v) > 0 {
		return strings.Join(v, ", ")
	}
	return ""
}

// processed is what process did with one page.
type processed struct {
	vendor string
	// envs are the published events.
	envs []events.Envelope
	// badRecords is how many records were dead-lettered.
	badRecords int
}

// process maps one RAW message record by record, publishes the good records'
// events (their Nats-Msg-Id prefixed with idPrefix, "" for the live
// consumer) and dead-letters each bad record. A page-level failure is
// returned wrapping ErrPermanent; a failed publish of events or dead letters
// is returned as is (transient: the page is redelivered, and both publishes
// are de-duplicated by ID). reasonPrefix is put in front of dead-letter
// reasons ("replay: ").
func (s *Service) process(ctx context.Context, o origin, idPrefix, reasonPrefix string) (processed, error) {
	page, err := events.RawPageFromHeaders(o.get, o.data)
	if err != nil {
		return processed{}, fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	only, err := redriveRecords(o.get(dlq.HdrRedriveRecords))
	if err != nil {
		return processed{}, fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	v, err := s.reg.Get(page.Vendor)
	if err != nil {
		return processed{}, fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	recs, err := Records(v, page, s.cfg.CommissionEvents)
	if err != nil {
		return processed{}, fmt.Errorf("%w: %v", ErrPermanent, err)
	}
	res := processed{vendor: page.Vendor}
	var msgs []*nats.Msg
	var bad []vendors.Record
	for _, r := range recs {
		if only != nil && !only[r.Index] {
			continue
		}
		if r.Err == nil {
			r.Events = Granularity(r.Events, s.cfg.CommissionEvents)
			rm, err := EventMessages(page.Vendor, r.Events)
			if err == nil {
				err = s.fits(rm)
			}
			if err == nil {
				msgs = append(msgs, rm...)
				res.envs = append(res.envs, r.Events...)
				continue
			}
			r.Err = fmt.Errorf("%s %s page %s record %d: %w", page.Vendor, page.Endpoint, page.Cursor, r.Index, err)
		}
		bad = append(bad, r)
	}
	if idPrefix != "" {
		for _, m := range msgs {
			m.Header.Set(nats.MsgIdHdr, idPrefix+m.Header.Get(nats.MsgIdHdr))
		}
	}
	if len(msgs) > 0 {
		if err := bus.PublishAll(ctx, s.js, msgs, func(error) { s.m.retries.Inc() }); err != nil {
			return processed{}, fmt.Errorf("publish %d events of %s page %s: %w", len(msgs), page.Vendor, page.Cursor, err)
		}
	}
	for _, r := range bad {
		reason := fmt.Errorf("%s%w", reasonPrefix, r.Err)
		if err := s.deadLetter(ctx, o, r.Index, reason); err != nil {
			return processed{}, fmt.Errorf("dead-letter record %d of %s page %s: %w", r.Index, page.Vendor, page.Cursor, err)
		}
		s.m.deadLetter.WithLabelValues(Stage, "bad_record").Inc()
		s.m.records.WithLabelValues(page.Vendor).Inc()
		s.cfg.Logger.Error("record dead-lettered", "vendor", page.Vendor, "seq", o.seq, "record", r.Index, "reason", reason.Error())
	}
	res.badRecords = len(bad)
	return res, nil
}

// fits reports an event message too large for the server: permanent for
// its record, which is dead-lettered rather than retried.
func (s *Service) fits(msgs []*nats.Msg) error {
	for _, m := range msgs {
		if err := dlq.TooLarge(s.js, m); err != nil {
			return fmt.Errorf("event %s: %w", m.Header.Get(nats.MsgIdHdr), err)
		}
	}
	return nil
}

// redriveRecords parses dlq.HdrRedriveRecords: nil (every record) when
// absent.
func redriveRecords(v string) (map[int]bool, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	out := map[int]bool{}
	for _, f := range strings.Split(v, ",") {
		i, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || i < 0 {
			return nil, fmt.Errorf("header %s: %q is not a record index", dlq.HdrRedriveRecords, f)
		}
		out[i] = true
	}
	return out, nil
}

// deadLetters is the router's dead-letter middleware: a page whose error is
// permanent, or that has been delivered MaxDeliver times, goes to the DLQ
// and is then acknowledged; otherwise the error propagates and the page is
// redelivered after a growing delay.
func (s *Service) deadLetters() message.HandlerMiddleware {
	return dlq.Middleware(dlq.MiddlewareConfig{
		JS: s.js, Stage: Stage, OriginalStream: bus.RawStream, MaxDeliver: s.cfg.MaxDeliver, Timeout: s.cfg.AckWait / 2,
		Permanent: func(err error) bool { return errors.Is(err, ErrPermanent) },
		Vendor:    func(msg *message.Message) string { return msg.Metadata.Get(events.HdrVendor) },
		OnRetry: func(msg *message.Message, n uint64, err error) {
			vendor := msg.Metadata.Get(events.HdrVendor)
			s.m.pages.WithLabelValues(vendor, "retry").Inc()
			s.cfg.Logger.Warn("page failed, will be redelivered", "vendor", vendor, "delivery", n, "err", err)
		},
		OnPublishError: func(msg *message.Message, err error) {
			s.cfg.Logger.Error("dead-letter publish failed, page will be redelivered", "vendor", msg.Metadata.Get(events.HdrVendor), "err", err)
		},
		OnDeadLetter: func(msg *message.Message, class string, reason error) {
			vendor := msg.Metadata.Get(events.HdrVendor)
			s.m.deadLetter.WithLabelValues(Stage, class).Inc()
			s.m.pages.WithLabelValues(vendor, "dead_letter").Inc()
			s.cfg.Logger.Error("page dead-lettered", "vendor", vendor, "seq", msg.Metadata.Get(bus.MetaStreamSeq), "reason", reason.Error())
		},
	})
}

// deadLetter stores o (a whole page when record is dlq.NoRecord, else one of
// its records) in the DLQ with the reason. The same failure stored twice
// (after a redelivery) is kept once.
func (s *Service) deadLetter(ctx context.Context, o origin, record int, reason error) error {
	return dlq.Publish(ctx, s.js, dlq.Spec{
		Stage: Stage, Vendor: o.get(events.HdrVendor), Reason: reason, Header: o.header, Data: o.data,
		OriginalSubject: o.subject, OriginalStream: bus.RawStream, StreamSeq: o.seq, Record: record,
		MsgID: dlq.MsgID(Stage, o.seq, record, o.uuid),
	})
}

// Normalize maps one raw page to canonical events with the page's vendor.
func Normalize(reg *vendors.Registry, page events.RawPage) ([]events.Envelope, error) {
	v, err := reg.Get(page.Vendor)
	if err != nil {
		return nil, err
	}
	return v.Normalize(page)
}

// Records maps page with v record by record, as process does before
// Granularity: vendors.NormalizeRecords with commissionEvents, else
// vendors.NormalizeCarriedRecords (order vendors then skip building the
// commission.v1 envelopes that Granularity would drop).
func Records(v vendors.Vendor, page events.RawPage, commissionEvents bool) ([]vendors.Record, error) {
	if commissionEvents {
		return vendors.NormalizeRecords(v, page)
	}
	return vendors.NormalizeCarriedRecords(v, page)
}

// Granularity returns the envelopes to publish: all of them with
// commissionEvents, else all but the commission.v1 ones (their lines travel
// in the order.v1 events; an order without CommissionLines keeps its
// commission.v1 events, so no line is ever lost). It filters envs in place.
func Granularity(envs []events.Envelope, commissionEvents bool) []events.Envelope {
	if commissionEvents {
		return envs
	}
	carried := map[string]bool{}
	for _, e := range envs {
		if e.Type == orderType && bytes.Contains(e.Data, commissionLinesKey) {
			carried[e.Subject] = true
		}
	}
	out := envs[:0]
	for _, e := range envs {
		if e.Type == commissionType {
			if order, _, _ := strings.Cut(e.Subject, "/"); carried[order] {
				continue
			}
		}
		out = append(out, e)
	}
	return out
}

var (
	orderType          = events.Type(events.KindOrder)
	commissionType     = events.Type(events.KindCommission)
	commissionLinesKey = []byte(`"commission_lines":[`)
)

// EventMessages encodes envelopes as NATS messages on their subjects, in the
// CloudEvents NATS protocol binding's structured content mode: the body is
// the JSON event format, the header Content-Type is events.ContentTypeHeader's
// value, and no ce-* header is set (a ce-specversion header would mark the
// message binary-mode to CloudEvents SDKs). Each message's Nats-Msg-Id is its
// event ID (JetStream de-duplication).
func EventMessages(vendor string, envs []events.Envelope) ([]*nats.Msg, error) {
	out := make([]*nats.Msg, 0, len(envs))
	for _, e := range envs {
		data := e.AppendJSON(make([]byte, 0, len(e.Data)+512))
		m := nats.NewMsg(events.Subject(e.Kind(), vendor))
		m.Header.Set(nats.MsgIdHdr, e.ID)
		m.Header.Set(events.ContentTypeHeader, events.StructuredContentType)
		m.Data = data
		out = append(out, m)
	}
	return out, nil
}

// DefaultRedeliveryDelay is how long a failed page waits before it is
// delivered again: 1 s doubling per delivery up to 1 min, each wait drawn
// from its upper half.
var DefaultRedeliveryDelay = RedeliveryDelay{ExpDelay: bus.ExpDelay{Base: time.Second, Max: time.Minute}, Jitter: 0.5}

// RedeliveryDelay is the normalizer's NakDelay: bus.ExpDelay's growing delay
// with jitter, so pages that failed together (a NATS or vendor hiccup) are
// not redelivered together again. The wait for delivery n is drawn
// uniformly from (1-Jitter, 1] × ExpDelay.WaitTime(n): never longer than the
// un-jittered delay, so the cap still holds.
type RedeliveryDelay struct {
	bus.ExpDelay
	// Jitter is the spread, in (0, 1]; 0 means none.
	Jitter float64
	// Rand returns a number in [0, 1) (nil: math/rand/v2).
	Rand func() float64
}

// WaitTime implements the Watermill jetstream Delay.
func (d RedeliveryDelay) WaitTime(n uint64) time.Duration {
	w := d.ExpDelay.WaitTime(n)
	if d.Jitter <= 0 {
		return w
	}
	r := d.Rand
	if r == nil {
		r = rand.Float64
	}
	return time.Duration(float64(w) * (1 - d.Jitter*r()))
}
