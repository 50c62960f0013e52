// Command normalizer maps raw vendor pages from the RAW stream to canonical
// events on the EVENTS stream; `normalizer inspect` shows the mapping of one
// page without any server.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/app"
	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/cli"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/internal/normalizer"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
)

const synopsis = `normalizer — map raw vendor pages (YONGJIN_RAW) to canonical events (YONGJIN_EVENTS).

Usage:
  normalizer [run] [flags]                        consume RAW until SIGTERM
  normalizer replay --since T [--vendor V]        re-derive events from RAW pages stored since T
                                                  (after a normalizer fix); never double-counts
  normalizer dlq list|show SEQ|redrive [...]     inspect and redrive dead-lettered pages
  normalizer schema [TYPE]                        print the JSON Schema of an event type (order.v1, ...,
                                                  envelope); without TYPE, list the types and subjects
  normalizer inspect --vendor V [--account A] FILE|-
                                                  print the canonical events one vendor
                                                  response body maps to, one JSON per line

NATS secrets come from $YONGJIN_NATS_USER + $YONGJIN_NATS_PASSWORD[_FILE] or
$YONGJIN_NATS_TOKEN[_FILE], or the --nats-creds / --nats-nkey files; TLS from
--nats-ca (and --nats-cert/--nats-key for mutual TLS). See docs/SECURITY.md.`

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "dlq" {
		os.Exit(dlq.Command("normalizer", args[1:], os.Stdout, os.Stderr))
	}
	if len(args) > 0 && args[0] == "schema" {
		os.Exit(schemaCommand(args[1:], os.Stdout, os.Stderr))
	}
	if len(args) > 0 && args[0] == "inspect" {
		os.Exit(inspect(args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	mode := "run"
	if len(args) > 0 && (args[0] == "run" || args[0] == "replay") {
		mode, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("normalizer", flag.ExitOnError)
	var common app.Common
	common.Register(fs, ":9102")
	var cfg normalizer.Config
	fs.StringVar(&cfg.Durable, "consumer", "normalizer", "durable RAW consumer name")
	fs.DurationVar(&cfg.AckWait, "ack-wait", 60*time.Second, "JetStream ack wait per page")
	fs.IntVar(&cfg.MaxDeliver, "max-deliver", 10, "deliveries of a failing page before it is dead-lettered")
	fs.IntVar(&cfg.Workers, "workers", 4, "pages processed concurrently")
	fs.BoolVar(&cfg.CommissionEvents, "commission-events", false, "also publish one commission.v1 event per commission line (order.v1 events always carry their lines; docs/EVENTS.md)")
	replayVendor := fs.String("vendor", "", "replay: only this vendor's pages")
	replaySince := fs.String("since", "", "replay: pages stored in RAW since this time (required for replay)")
	fs.DurationVar(&cfg.ReplayTimeout, "replay-timeout", time.Hour, "replay: give up (exit non-zero) when the whole replay takes longer")
	if err := cli.Parse(fs, "YONGJIN_NORMALIZER", synopsis, args); err != nil {
		fmt.Fprintln(os.Stderr, "normalizer:", err)
		os.Exit(2)
	}
	rt, err := app.Start(common, "normalizer")
	if err != nil {
		app.Fatal(nil, "normalizer", err)
	}
	defer rt.Close()
	ctx, stop := app.SignalContext()
	defer stop()
	pubConn, err := rt.Connect(common, "yongjin-normalizer-pub")
	if err != nil {
		app.Fatal(rt.Log, "nats", err)
	}
	defer pubConn.Drain()
	subConn, err := rt.Connect(common, "yongjin-normalizer-sub")
	if err != nil {
		app.Fatal(rt.Log, "nats", err)
	}
	js, err := jetstream.New(pubConn)
	if err != nil {
		app.Fatal(rt.Log, "jetstream", err)
	}
	cfg.Logger, cfg.Registerer, cfg.Streams = rt.Log, rt.Registry, bus.StreamOptions{Replicas: common.Replicas}
	svc, err := normalizer.New(cfg, all.Registry(), js)
	if err != nil {
		app.Fatal(rt.Log, "invalid configuration", err)
	}
	if mode == "replay" {
		if *replaySince == "" {
			app.Fatal(rt.Log, "replay", fmt.Errorf("--since is required"))
		}
		since, err := cli.ParseOperatorTime(*replaySince)
		if err != nil {
			app.Fatal(rt.Log, "replay --since", err)
		}
		st, err := svc.Replay(ctx, *replayVendor, since, nil)
		fmt.Printf("replayed %d pages into %d events; %d pages and %d records dead-lettered\n", st.Pages, st.Events, st.DeadLettered, st.BadRecords)
		if err != nil {
			app.Fatal(rt.Log, "replay", err)
		}
		return
	}
	if err := svc.Provision(ctx); err != nil {
		app.Fatal(rt.Log, "provision", err)
	}
	rt.Registry.MustRegister(bus.NewLagCollector(js, bus.RawStream, cfg.Durable))
	if err := svc.Run(ctx, subConn); err != nil {
		app.Fatal(rt.Log, "normalizer", err)
	}
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
