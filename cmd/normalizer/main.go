// Command normalizer maps raw vendor pages from the RAW stream to canonical
// events on the EVENTS stream; `normalizer inspect` shows the mapping of one
// page without any server.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/app"
	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/cli"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/internal/normalizer"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second signal kills the process the default way
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

var program = cli.Program{
	Name:    "normalizer",
	Summary: "map raw vendor pages (YONGJIN_RAW) to canonical events (YONGJIN_EVENTS).",
	Default: "run",
	Commands: []cli.Command{
		{Name: "run", Summary: "consume RAW until SIGTERM", Run: command("run", consume)},
		{Name: "replay", Summary: "--since T [--vendor V]: re-derive events from RAW pages stored since T (after a normalizer fix); never double-counts", Run: command("replay", replay)},
		{Name: "dlq", Summary: "list|show SEQ|redrive [...]: inspect and redrive dead-lettered pages", Run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
			return dlq.Command("normalizer", args, stdout, stderr)
		}},
		{Name: "schema", Summary: "[TYPE]: print the JSON Schema of an event type (order.v1, ..., envelope); without TYPE, list the types and subjects", Run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
			return schemaCommand(args, stdout, stderr)
		}},
		{Name: "inspect", Summary: "--vendor V [--account A] FILE|-: print the canonical events one vendor response body maps to, one JSON per line", Run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
			return inspect(args, os.Stdin, stdout, stderr)
		}},
	},
	Notes: `NATS secrets come from $YONGJIN_NATS_USER + $YONGJIN_NATS_PASSWORD[_FILE] or
$YONGJIN_NATS_TOKEN[_FILE], or the --nats-creds / --nats-nkey files; TLS from
--nats-ca (and --nats-cert/--nats-key for mutual TLS). See docs/SECURITY.md.`,
}

// run is the command: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program.Run(ctx, args, stdout, stderr)
}

// options are the flags of `normalizer run` and `normalizer replay`.
type options struct {
	common       app.Common
	cfg          normalizer.Config
	replayVendor string
	replaySince  string
}

func parse(name string, args []string, stderr io.Writer) (o options, code int, ok bool) {
	fs := flag.NewFlagSet("normalizer "+name, flag.ContinueOnError)
	o.common.Register(fs, ":9102")
	o.common.GC = app.HotStageGC
	o.cfg = normalizer.DefaultConfig()
	fs.StringVar(&o.cfg.Durable, "consumer", o.cfg.Durable, "durable RAW consumer name")
	fs.DurationVar(&o.cfg.AckWait, "ack-wait", o.cfg.AckWait, "JetStream ack wait per page")
	fs.IntVar(&o.cfg.MaxDeliver, "max-deliver", o.cfg.MaxDeliver, "deliveries of a failing page before it is dead-lettered")
	fs.IntVar(&o.cfg.Workers, "workers", o.cfg.Workers, "pages processed concurrently")
	fs.BoolVar(&o.cfg.CommissionEvents, "commission-events", o.cfg.CommissionEvents, "also publish one commission.v1 event per commission line (order.v1 events always carry their lines; docs/EVENTS.md)")
	fs.StringVar(&o.replayVendor, "vendor", "", "replay: only this vendor's pages")
	fs.StringVar(&o.replaySince, "since", "", "replay: pages stored in RAW since this time (required for replay)")
	fs.DurationVar(&o.cfg.ReplayTimeout, "replay-timeout", o.cfg.ReplayTimeout, "replay: give up (exit non-zero) when the whole replay takes longer")
	code, ok = cli.ParseArgs(fs, "YONGJIN_NORMALIZER", "usage: normalizer "+name+" [flags]", args, stderr)
	return o, code, ok
}

// command returns the Run of `normalizer name`: flags → logger and health
// server → connections → normalizer service → fn; an error is logged and
// the exit status 1.
func command(name string, fn func(ctx context.Context, o options, w *wiring, stdout io.Writer) error) func(context.Context, []string, io.Writer, io.Writer) int {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		o, code, ok := parse(name, args, stderr)
		if !ok {
			return code
		}
		var since time.Time
		if name == "replay" {
			var err error
			if o.replaySince == "" {
				err = errors.New("--since is required")
			} else if since, err = cli.ParseOperatorTime(o.replaySince); err != nil {
				err = fmt.Errorf("--since: %w", err)
			}
			if err != nil {
				fmt.Fprintln(stderr, "normalizer replay:", err)
				return 2
			}
		}
		rt, err := app.Start(o.common, "normalizer", stderr)
		if err != nil {
			return cli.Fail(stderr, "normalizer", err)
		}
		defer rt.Close()
		w := &wiring{rt: rt, since: since}
		err = w.connect(o)
		defer w.close()
		if err == nil {
			err = fn(ctx, o, w, stdout)
		}
		if err != nil {
			return rt.Fail("normalizer "+name, err)
		}
		return 0
	}
}

// wiring is what run and replay share: the runtime, the connections and
// the normalizer service.
type wiring struct {
	rt       *app.Runtime
	since    time.Time // replay: --since
	js       jetstream.JetStream
	pub, sub *nats.Conn
	svc      *normalizer.Service
}

func (w *wiring) connect(o options) error {
	var err error
	if w.pub, err = w.rt.Connect(o.common, "yongjin-normalizer-pub"); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	if w.sub, err = w.rt.Connect(o.common, "yongjin-normalizer-sub"); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	if w.js, err = jetstream.New(w.pub); err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	cfg := o.cfg
	cfg.Logger, cfg.Registerer, cfg.Streams = w.rt.Log, w.rt.Registry, bus.StreamOptions{Replicas: o.common.Replicas}
	if w.svc, err = normalizer.New(cfg, all.Registry(), w.js); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	return nil
}

func (w *wiring) close() {
	if w.pub != nil {
		w.pub.Drain()
	}
}

// consume is `normalizer run`.
func consume(ctx context.Context, o options, w *wiring, _ io.Writer) error {
	if err := w.svc.Provision(ctx); err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	w.rt.Registry.MustRegister(bus.NewLagCollector(w.js, bus.RawStream, o.cfg.Durable))
	return w.svc.Run(ctx, w.sub)
}

// replay is `normalizer replay`.
func replay(ctx context.Context, o options, w *wiring, stdout io.Writer) error {
	st, err := w.svc.Replay(ctx, o.replayVendor, w.since, nil)
	fmt.Fprintf(stdout, "replayed %d pages into %d events; %d pages and %d records dead-lettered\n", st.Pages, st.Events, st.DeadLettered, st.BadRecords)
	return err
}

// paramFlag collects repeated --param key=value flags.
type paramFlag map[string]string

func (p paramFlag) String() string { return fmt.Sprint(map[string]string(p)) }

func (p paramFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	p[k] = val
	return nil
}

// rawEnvelopeFile is a raw page as the poller publishes it: the envelope
// headers and the vendor body (a JSON string holding the exact bytes, or the
// body's JSON itself).
type rawEnvelopeFile struct {
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// inspect implements `normalizer inspect`; it returns the exit status.
func inspect(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("normalizer inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vendor := fs.String("vendor", "", "vendor whose page FILE holds: "+strings.Join(all.Registry().Names(), ", ")+" (required unless FILE is a raw-page envelope)")
	account := fs.String("account", "inspect", "account label to put in the events")
	params := paramFlag{}
	fs.Var(params, "param", "request parameter the body does not carry, key=value (repeatable), e.g. spu_id=7089053269443495980 or oAuthorId=...")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: normalizer inspect [--vendor V] [--account A] [--param k=v ...] FILE|-

Reads one page from FILE (or - for stdin) and prints the canonical events it
maps to, one JSON object per line. FILE is either the vendor's response body,
or a raw-page envelope as the poller publishes it:
  {"headers": {"Yongjin-Vendor": "douke", "Yongjin-Endpoint": "kol_orderads", ...}, "body": "<exact body>"}
A vendor error envelope or an unreadable page exits with status 1.`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	var data []byte
	var err error
	if name := fs.Arg(0); name == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		fmt.Fprintln(stderr, "normalizer inspect:", err)
		return 1
	}
	page := events.RawPage{Account: *account, SourceID: "inspect", HTTPStatus: 200, FetchedAt: time.Now().UTC(), Body: data}
	var env rawEnvelopeFile
	if json.Unmarshal(data, &env) == nil && env.Headers != nil && env.Body != nil {
		var body []byte
		var s string
		if json.Unmarshal(env.Body, &s) == nil {
			body = []byte(s)
		} else {
			body = env.Body
		}
		if page, err = events.RawPageFromHeaders(func(k string) string { return env.Headers[k] }, body); err != nil {
			fmt.Fprintln(stderr, "normalizer inspect: raw-page envelope:", err)
			return 1
		}
		if page.FetchedAt.IsZero() {
			page.FetchedAt = time.Now().UTC()
		}
	}
	reg := all.Registry()
	if page.Vendor == "" {
		page.Vendor = *vendor
	}
	if page.Vendor == "" {
		fmt.Fprintln(stderr, "normalizer inspect: --vendor is required for a bare vendor body")
		return 2
	}
	v, err := reg.Get(page.Vendor)
	if err != nil {
		fmt.Fprintln(stderr, "normalizer inspect:", err)
		return 2
	}
	page.Endpoint = v.Endpoint()
	if len(params) > 0 && page.Params == nil {
		page.Params = map[string]string{}
	}
	for k, val := range params {
		page.Params[k] = val
	}
	envs, err := v.Normalize(page)
	if err != nil {
		fmt.Fprintf(stderr, "normalizer inspect: cannot read %s page %s: %v\n", page.Vendor, fs.Arg(0), err)
		return 1
	}
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, e := range envs {
		if err := enc.Encode(e); err != nil {
			fmt.Fprintln(stderr, "normalizer inspect:", err)
			return 1
		}
	}
	if err := w.Flush(); err != nil {
		return 1
	}
	fmt.Fprintf(stderr, "%d events\n", len(envs))
	return 0
}
