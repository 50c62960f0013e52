// Command yongjin-tail prints the canonical events on YONGJIN_EVENTS (or the
// messages of any other stream) as they arrive, or from a point in the past.
//
// It reads through an ordered consumer: ephemeral, server-side cleaned up,
// never acknowledging anything, so it cannot disturb the sink or any other
// durable subscriber. It is a debugging and inspection tool; services build
// their own durable consumers (docs/EVENTS.md, examples/subscriber).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/cli"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

const synopsis = `yongjin-tail — print yongjin's canonical events as they arrive (read-only).

Usage:
  yongjin-tail [run] [--nats-url URL] [--stream YONGJIN_EVENTS] [--subject FILTER[,FILTER...]]
               [--since new|all|RFC3339|DURATION] [--format json|table] [--count N] [--follow=false]

Examples:
  yongjin-tail                                            new events, one JSON envelope per line
  yongjin-tail --since 1h --format table                  the last hour, then new ones, as a table
  yongjin-tail --subject 'yongjin.events.order.v1.>' --since all --follow=false | jq .data.status
  yongjin-tail --subject 'yongjin.events.*.v1.douke' --since 2026-11-01T00:00:00Z --count 10
  yongjin-tail --stream YONGJIN_DLQ --since 24h --format table  dead-lettered pages of the last day

--since: "new" (default) only events stored from now on; "all" the whole stream
(EVENTS keeps 7 days); an RFC 3339 time; or a duration back from now (90s, 1h,
7d). It selects by the time the event was stored in the stream, not the
vendor's time in the envelope. The command stops after --count events, at the
end of the stream with --follow=false, or on SIGINT/SIGTERM.`

// tailOptions configure one tail.
type tailOptions struct {
	Stream   string
	Subjects []string
	// Policy and StartTime say where to start (see parseSince).
	Policy    jetstream.DeliverPolicy
	StartTime *time.Time
	Format    string
	// Count stops after this many messages (0 = no limit).
	Count int
	// Follow keeps waiting for new messages at the end of the stream.
	Follow bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second signal kills the process the default way
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

var program = cli.Program{
	Name:     "yongjin-tail",
	Summary:  "print yongjin's canonical events as they arrive (read-only).",
	Default:  "run",
	Commands: []cli.Command{{Name: "run", Summary: "print the messages of a stream from --since, until --count, the end (--follow=false) or SIGINT/SIGTERM", Run: tailCommand}},
}

// run is the command; it returns the exit status (0 done, 1 error, 2 usage).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program.Run(ctx, args, stdout, stderr)
}

// tailCommand is `yongjin-tail run`: flags → connection → tail.
func tailCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("yongjin-tail", flag.ContinueOnError)
	natsURL := fs.String("nats-url", "nats://127.0.0.1:4222", "NATS server URL or comma-separated list (tls://... for TLS); never credentials: "+
		"$YONGJIN_NATS_USER with $YONGJIN_NATS_PASSWORD[_FILE], $YONGJIN_NATS_TOKEN[_FILE], --nats-creds or --nats-nkey")
	var auth bus.Auth
	auth.RegisterFlags(fs)
	stream := fs.String("stream", bus.EventsStream, "stream to read")
	subject := fs.String("subject", "", "subject filter, wildcards allowed, comma-separated for several (default: the whole stream, yongjin.events.> on YONGJIN_EVENTS)")
	since := fs.String("since", "new", `where to start: "new", "all", an RFC 3339 time or a duration back from now (1h, 7d)`)
	format := fs.String("format", "json", "output: json (one envelope per line) or table")
	count := fs.Int("count", 0, "exit after N messages (0 = no limit)")
	follow := fs.Bool("follow", true, "wait for new messages at the end of the stream (false: exit there)")
	wait := fs.Duration("connect-timeout", 10*time.Second, "how long to wait for the NATS server")
	if code, ok := cli.ParseArgs(fs, "YONGJIN_TAIL", synopsis, args, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "yongjin-tail: unexpected argument %q (see --help)\n", fs.Arg(0))
		return 2
	}
	o := tailOptions{Stream: *stream, Format: *format, Count: *count, Follow: *follow}
	for _, s := range strings.Split(*subject, ",") {
		if s = strings.TrimSpace(s); s != "" {
			o.Subjects = append(o.Subjects, s)
		}
	}
	var err error
	if o.Policy, o.StartTime, err = parseSince(*since, time.Now()); err != nil {
		fmt.Fprintln(stderr, "yongjin-tail: --since:", err)
		return 2
	}
	if o.Format != "json" && o.Format != "table" {
		fmt.Fprintf(stderr, "yongjin-tail: --format %q: want json or table\n", o.Format)
		return 2
	}
	if o.Count < 0 {
		fmt.Fprintln(stderr, "yongjin-tail: --count must not be negative")
		return 2
	}
	if err := auth.FromEnv(); err != nil {
		fmt.Fprintln(stderr, "yongjin-tail:", err)
		return 2
	}
	if err := auth.Validate(); err != nil {
		fmt.Fprintln(stderr, "yongjin-tail:", err)
		return 2
	}
	if err := bus.CheckURL(*natsURL); err != nil {
		fmt.Fprintln(stderr, "yongjin-tail:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	nc, err := bus.Connect(bus.ConnConfig{URL: *natsURL, Name: "yongjin-tail", Auth: auth, Logger: log, FirstConnectWait: *wait})
	if err != nil {
		fmt.Fprintln(stderr, "yongjin-tail:", err)
		return 1
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		fmt.Fprintln(stderr, "yongjin-tail:", err)
		return 1
	}
	if _, err := tail(ctx, js, o, stdout); err != nil {
		fmt.Fprintln(stderr, "yongjin-tail:", err)
		return 1
	}
	return 0
}

// parseSince turns --since into a deliver policy: "new" (or "") → new
// messages only, "all" → the whole stream, an RFC 3339 time or a duration
// back from now (Go syntax, plus whole days: "7d") → by start time.
func parseSince(s string, now time.Time) (jetstream.DeliverPolicy, *time.Time, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "new":
		return jetstream.DeliverNewPolicy, nil, nil
	case "all":
		return jetstream.DeliverAllPolicy, nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		t = t.UTC()
		return jetstream.DeliverByStartTimePolicy, &t, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if n, err = strconv.Atoi(days); err == nil {
			d = time.Duration(n) * 24 * time.Hour
		}
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, nil, fmt.Errorf(`%q: want "new", "all", an RFC 3339 time (2026-11-01T00:00:00Z) or a positive duration (90s, 1h, 7d)`, s)
	}
	t := now.Add(-d).UTC()
	return jetstream.DeliverByStartTimePolicy, &t, nil
}

// tail prints the messages of o.Stream matching o.Subjects (all of them
// when empty) to out until
// o.Count messages were printed, the end of the stream is reached (without
// o.Follow) or ctx ends, and returns how many it printed. Ending by ctx is
// not an error.
func tail(ctx context.Context, js jetstream.JetStream, o tailOptions, out io.Writer) (int, error) {
	if o.Stream == "" {
		o.Stream = bus.EventsStream
	}
	stream, err := js.Stream(ctx, o.Stream)
	if err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			hint := "pick an existing stream with --stream"
			switch o.Stream {
			case bus.EventsStream, bus.DLQStream:
				hint = "the normalizer creates it when it starts: is it running against this NATS server?"
			case bus.RawStream:
				hint = "the poller creates it when it starts: is it running against this NATS server?"
			}
			return 0, fmt.Errorf("stream %s does not exist on this NATS server (%s)", o.Stream, hint)
		}
		return 0, fmt.Errorf("stream %s: %w", o.Stream, err)
	}
	if subjects := stream.CachedInfo().Config.Subjects; len(subjects) > 0 {
		for _, f := range o.Subjects {
			if !overlapsAny(f, subjects) {
				return 0, fmt.Errorf("subject filter %s does not match stream %s, which holds %s (see --subject and --stream)",
					f, o.Stream, strings.Join(subjects, ", "))
			}
		}
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: o.Subjects, DeliverPolicy: o.Policy, OptStartTime: o.StartTime}
	cons, err := js.OrderedConsumer(ctx, o.Stream, cfg)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", o.Stream, err)
	}
	if !o.Follow {
		if info := cons.CachedInfo(); info != nil && info.NumPending == 0 {
			return 0, nil
		}
	}
	it, err := cons.Messages()
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", o.Stream, err)
	}
	defer it.Stop()
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
			it.Stop()
		case <-stopped:
		}
	}()
	r := newRenderer(o.Format, out)
	n := 0
	for o.Count == 0 || n < o.Count {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return n, nil
			}
			return n, fmt.Errorf("read %s: %w", o.Stream, err)
		}
		rec := record{Subject: m.Subject(), Headers: m.Headers(), Data: m.Data()}
		meta, merr := m.Metadata()
		if merr == nil {
			rec.Seq, rec.Stored = meta.Sequence.Stream, meta.Timestamp
		}
		if err := r.render(rec); err != nil {
			return n, err
		}
		n++
		if !o.Follow && merr == nil && meta.NumPending == 0 {
			break
		}
	}
	return n, nil
}

// overlapsAny reports whether some subject matches both filter and one of
// subjects (NATS wildcards: * one token, > the rest).
func overlapsAny(filter string, subjects []string) bool {
	for _, s := range subjects {
		if overlaps(strings.Split(filter, "."), strings.Split(s, ".")) {
			return true
		}
	}
	return false
}

func overlaps(a, b []string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		switch {
		case a[i] == ">" || b[i] == ">":
			return true
		case a[i] == "*" || b[i] == "*" || a[i] == b[i]:
		default:
			return false
		}
	}
	return len(a) == len(b)
}

// record is one message as tail shows it.
type record struct {
	Subject string
	Seq     uint64
	Stored  time.Time
	Headers nats.Header
	Data    []byte
}

// renderer writes records in one output format.
type renderer struct {
	format string
	w      io.Writer
	header bool
}

func newRenderer(format string, w io.Writer) *renderer { return &renderer{format: format, w: w} }

// tableHeader is the first line of the table format.
const tableHeader = "TIME                  TYPE                   VENDOR       KEY                                       SUMMARY"

func (r *renderer) render(rec record) error {
	var line string
	if r.format == "table" {
		if !r.header {
			r.header = true
			if _, err := fmt.Fprintln(r.w, tableHeader); err != nil {
				return err
			}
		}
		line = tableRow(rec)
	} else {
		line = jsonLine(rec.Data)
	}
	_, err := fmt.Fprintln(r.w, line)
	return err
}

// jsonLine is the message data on one line: an event's envelope as JSON
// (compacted), or any other data as a JSON string.
func jsonLine(data []byte) string {
	var buf bytes.Buffer
	if json.Valid(data) && json.Compact(&buf, data) == nil {
		return buf.String()
	}
	b, _ := json.Marshal(string(data))
	return string(b)
}

// tableRow is one compact line: time, type, vendor, key and a summary of
// the payload. Messages that are not events (RAW pages, dead letters) show
// their stored time, subject and size.
func tableRow(rec record) string {
	var env events.Envelope
	if err := json.Unmarshal(rec.Data, &env); err != nil || env.Type == "" || env.SpecVersion == "" {
		vendor := rec.Headers.Get(events.HdrVendor)
		kind := rec.Headers.Get(events.HdrEndpoint)
		summary := fmt.Sprintf("%d bytes, seq %d", len(rec.Data), rec.Seq)
		if reason := rec.Headers.Get(dlq.HdrReason); reason != "" {
			kind = "dead-letter"
			summary = "reason: " + reason
		}
		return fmt.Sprintf("%-20s  %-21s  %-11s  %-40s  %s", timeCol(rec.Stored), orDash(kind), orDash(vendor), rec.Subject, summary)
	}
	vendor := rec.Subject[strings.LastIndexByte(rec.Subject, '.')+1:]
	if parts := strings.SplitN(env.Source, "/", 3); len(parts) == 3 && parts[0] == "yongjin" {
		vendor = parts[1]
	}
	return fmt.Sprintf("%-20s  %-21s  %-11s  %-40s  %s", timeCol(env.Time), env.Type, vendor, env.Subject, summarize(env))
}

// summarize gives the fields that matter of each event type.
func summarize(env events.Envelope) string {
	p, err := events.Decode(env)
	if err != nil {
		if errors.Is(err, events.ErrUnknownType) {
			return "(type unknown to this build of yongjin-tail)"
		}
		return "(undecodable data: " + err.Error() + ")"
	}
	switch v := p.(type) {
	case *events.Order:
		return fmt.Sprintf("status=%s paid=%s %s author=%s", v.Status, yuan(v.PaidFen), v.Currency, orDash(v.AuthorID))
	case *events.CommissionLine:
		return fmt.Sprintf("role=%s est=%s settled=%s %s rate=%s order=%s", v.Role, yuan(v.EstimatedFen), yuan(v.SettledFen), v.Currency, percent(v.RateBP), v.OrderStatus)
	case *events.CommissionPlan:
		return fmt.Sprintf("rate=%s content=%s vendor_status=%d", percent(v.RateBP), v.ContentTypeLabel, v.VendorStatus)
	case *events.CreatorOrderExperience:
		return fmt.Sprintf("period=%s date=%s indicators=%d", v.Period, v.SnapshotDate, len(v.Indicators))
	}
	return "-"
}

func timeCol(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// yuan formats fen as yuan with two decimals: 1290 → "12.90", -5 → "-0.05".
func yuan(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign, u = "-", uint64(-fen)
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// percent formats basis points as a percentage: 3500 → "35.00%".
func percent(bp int64) string {
	return yuan(bp) + "%"
}
