// Command subscriber is an example downstream subscriber of yongjin's event
// stream: it keeps a running commission total per creator from the
// order.v1 and commission.v1 events on YONGJIN_EVENTS, through a durable
// consumer of its own, and prints the totals when it exits.
//
// It shows the rules every subscriber follows (docs/EVENTS.md): its own
// durable, explicit-ack consumer; de-duplication by event ID; the latest
// version of each record wins (so status changes and refunds after
// settlement replace earlier amounts, whatever order they arrive in); state
// saved before messages are acknowledged. It uses only the public contract
// (pkg/events) and nats.go.
//
//	go run ./examples/subscriber --nats-url nats://127.0.0.1:4222 --state totals.json
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// EventsStream is the stream yongjin publishes its canonical events on.
const EventsStream = "YONGJIN_EVENTS"

// Subjects are the subjects this subscriber reads: every vendor's orders
// (for the creator of each order) and commission lines.
var Subjects = []string{
	events.Subject(events.KindOrder, "*"),      // yongjin.events.order.v1.*
	events.Subject(events.KindCommission, "*"), // yongjin.events.commission.v1.*
}

// ConsumerConfig is the durable consumer this subscriber reads through:
// explicit acks (a message is redelivered until the subscriber has applied
// it), every message from the start of the stream — or from start, to
// replay only a recent part — and a bounded number in flight.
func ConsumerConfig(durable string, start *time.Time) jetstream.ConsumerConfig {
	cfg := jetstream.ConsumerConfig{
		Durable:        durable,
		Description:    "example subscriber: commission totals per creator",
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        30 * time.Second,
		MaxAckPending:  1000,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		FilterSubjects: Subjects,
	}
	if start != nil {
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, start
	}
	return cfg
}

// EnsureConsumer returns the durable consumer named durable on stream,
// creating it with ConsumerConfig when it does not exist. An existing
// consumer is used as it is — it remembers how far this subscriber got — so
// start only matters on creation; to replay, create another durable.
func EnsureConsumer(ctx context.Context, js jetstream.JetStream, stream, durable string, start *time.Time) (jetstream.Consumer, error) {
	if _, err := js.Stream(ctx, stream); err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, fmt.Errorf("stream %s does not exist: is yongjin's normalizer running against this NATS server?", stream)
		}
		return nil, fmt.Errorf("stream %s: %w", stream, err)
	}
	cons, err := js.Consumer(ctx, stream, durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		cons, err = js.CreateConsumer(ctx, stream, ConsumerConfig(durable, start))
	}
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %s: %w", durable, stream, err)
	}
	return cons, nil
}

// ConsumeOptions tune Consume.
type ConsumeOptions struct {
	// BatchSize is how many messages are fetched, applied, saved and
	// acknowledged together (default 500).
	BatchSize int
	// MaxWait bounds one fetch (default 2 s); it is also how soon Consume
	// notices that ctx ended.
	MaxWait time.Duration
	// StopWhenCaughtUp makes Consume return once the consumer has nothing
	// pending; otherwise it runs until ctx ends.
	StopWhenCaughtUp bool
	// Save persists the totals after a batch is applied and before it is
	// acknowledged (nil keeps them in memory only). If the process dies in
	// between, the batch is delivered again and de-duplicated.
	Save func(*Totals) error
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Consume reads cons until ctx ends (or, with StopWhenCaughtUp, until
// nothing is pending), applying every event to t, saving t and only then
// acknowledging each batch. It returns the number of messages acknowledged.
// A message that is not a decodable event is terminated (never redelivered)
// and logged: no retry can fix it.
func Consume(ctx context.Context, cons jetstream.Consumer, t *Totals, o ConsumeOptions) (int, error) {
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 2 * time.Second
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	acked := 0
	for ctx.Err() == nil {
		batch, err := cons.Fetch(o.BatchSize, jetstream.FetchMaxWait(o.MaxWait))
		if err != nil {
			return acked, fmt.Errorf("fetch: %w", err)
		}
		var applied []jetstream.Msg
		caughtUp := false
		for m := range batch.Messages() {
			if meta, err := m.Metadata(); err == nil && meta.NumPending == 0 {
				caughtUp = true
			}
			var env events.Envelope
			err := json.Unmarshal(m.Data(), &env)
			if err == nil {
				_, err = t.Apply(env)
			}
			if err != nil {
				log.Error("not an event this subscriber can apply; terminated", "subject", m.Subject(), "err", err)
				if err := m.TermWithReason(err.Error()); err != nil {
					return acked, fmt.Errorf("terminate: %w", err)
				}
				continue
			}
			applied = append(applied, m)
		}
		if err := batch.Error(); err != nil {
			return acked, fmt.Errorf("fetch: %w", err)
		}
		if len(applied) > 0 && o.Save != nil {
			if err := o.Save(t); err != nil {
				return acked, err // not acknowledged: redelivered after AckWait
			}
		}
		// Acknowledge the whole batch even when ctx ended meanwhile (SIGINT):
		// it is applied and saved. DoubleAck waits for the server to confirm;
		// once it returns, the message is not delivered to this consumer again.
		ackCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		for _, m := range applied {
			if err := m.DoubleAck(ackCtx); err != nil {
				cancel()
				return acked, fmt.Errorf("ack: %w", err)
			}
			acked++
		}
		cancel()
		if o.StopWhenCaughtUp {
			if caughtUp {
				return acked, nil
			}
			if len(applied) == 0 {
				info, err := cons.Info(ctx)
				if err != nil {
					return acked, fmt.Errorf("consumer info: %w", err)
				}
				if info.NumPending == 0 && info.NumAckPending == 0 {
					return acked, nil
				}
			}
		}
	}
	return acked, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run implements the command; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("subscriber", flag.ContinueOnError)
	fs.SetOutput(stderr)
	natsURL := fs.String("nats-url", nats.DefaultURL, "NATS server URL")
	creds := fs.String("creds", "", "NATS user credentials file (.creds), if the server requires one")
	durable := fs.String("durable", "commission-totals", "durable consumer name: one per subscriber application, kept across restarts")
	statePath := fs.String("state", "commission-totals.json", "state file, saved before every acknowledgement and read at start")
	since := fs.String("since", "", "RFC 3339 time to start from when the durable is created (default: the whole stream)")
	once := fs.Bool("once", false, "exit when caught up instead of waiting for new events")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var start *time.Time
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			fmt.Fprintln(stderr, "subscriber: --since:", err)
			return 2
		}
		start = &t
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	opts := []nats.Option{nats.Name("example-subscriber"), nats.MaxReconnects(-1)}
	if *creds != "" {
		opts = append(opts, nats.UserCredentials(*creds))
	}
	nc, err := nats.Connect(*natsURL, opts...)
	if err != nil {
		fmt.Fprintln(stderr, "subscriber: connect:", err)
		return 1
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		fmt.Fprintln(stderr, "subscriber:", err)
		return 1
	}
	totals, err := LoadTotals(*statePath)
	if err != nil {
		fmt.Fprintln(stderr, "subscriber:", err)
		return 1
	}
	cons, err := EnsureConsumer(ctx, js, EventsStream, *durable, start)
	if err != nil {
		fmt.Fprintln(stderr, "subscriber:", err)
		return 1
	}
	n, err := Consume(ctx, cons, totals, ConsumeOptions{
		StopWhenCaughtUp: *once,
		Save:             func(t *Totals) error { return t.Save(*statePath) },
		Logger:           log,
	})
	log.Info("stopped", "acknowledged", n)
	if werr := totals.WriteTable(stdout); werr != nil && err == nil {
		err = werr
	}
	if err != nil {
		fmt.Fprintln(stderr, "subscriber:", err)
		return 1
	}
	return 0
}
