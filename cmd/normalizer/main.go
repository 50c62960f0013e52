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
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/app"
	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/cli"
	"github.com/yongjin-dev/yongjin/internal/normalizer"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
)

const synopsis = `normalizer — map raw vendor pages (YONGJIN_RAW) to canonical events (YONGJIN_EVENTS).

Usage:
  normalizer [run] [flags]                        consume RAW until SIGTERM
  normalizer inspect --vendor V [--account A] FILE|-
                                                  print the canonical events one vendor
                                                  response body maps to, one JSON per line`

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "inspect" {
		os.Exit(inspect(args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	if len(args) > 0 && args[0] == "run" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("normalizer", flag.ExitOnError)
	var common app.Common
	common.Register(fs, ":9102")
	var cfg normalizer.Config
	fs.StringVar(&cfg.Durable, "consumer", "normalizer", "durable RAW consumer name")
	fs.DurationVar(&cfg.AckWait, "ack-wait", 60*time.Second, "JetStream ack wait per page")
	fs.IntVar(&cfg.MaxDeliver, "max-deliver", 10, "deliveries of a failing page before it is dead-lettered")
	fs.IntVar(&cfg.Workers, "workers", 4, "pages processed concurrently")
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
	if err := svc.Provision(ctx); err != nil {
		app.Fatal(rt.Log, "provision", err)
	}
	if err := svc.Run(ctx, subConn); err != nil {
		app.Fatal(rt.Log, "normalizer", err)
	}
}

// inspect implements `normalizer inspect`; it returns the exit status.
func inspect(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("normalizer inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	vendor := fs.String("vendor", "", "vendor whose response body FILE holds (required), e.g. douke")
	account := fs.String("account", "inspect", "account label to put in the events")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: normalizer inspect --vendor V [--account A] FILE|-\n\nReads one raw vendor response body from FILE (or - for stdin) and prints the\ncanonical events it maps to, one JSON object per line.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *vendor == "" || fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	reg := all.Registry()
	v, err := reg.Get(*vendor)
	if err != nil {
		fmt.Fprintln(stderr, "normalizer inspect:", err)
		return 2
	}
	var body []byte
	if name := fs.Arg(0); name == "-" {
		body, err = io.ReadAll(stdin)
	} else {
		body, err = os.ReadFile(name)
	}
	if err != nil {
		fmt.Fprintln(stderr, "normalizer inspect:", err)
		return 1
	}
	page := events.RawPage{Vendor: v.Name(), Endpoint: v.Endpoint(), Account: *account, SourceID: "inspect", HTTPStatus: 200, Body: body}
	envs, err := v.Normalize(page)
	if err != nil {
		fmt.Fprintf(stderr, "normalizer inspect: cannot read %s page %s: %v\n", *vendor, fs.Arg(0), err)
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
