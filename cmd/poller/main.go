// Command poller polls vendor APIs and publishes every raw page to the
// JetStream RAW stream.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/app"
	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/cli"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
)

const synopsis = `poller — fetch vendor pages and publish them to JetStream (stream YONGJIN_RAW).

Usage:
  poller [run]  --config sources.yaml   poll every source at its interval until SIGTERM
  poller once   --config sources.yaml   poll every source's range once, then exit
                [--source NAME] [--from T --to T] [--time-type pay|update]

T is "2006-01-02 15:04:05" or "2006-01-02" (China Standard Time) or RFC 3339.
See README.md (Configuration) for the sources file.`

func main() {
	args := os.Args[1:]
	mode := "run"
	if len(args) > 0 && (args[0] == "run" || args[0] == "once") {
		mode, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("poller", flag.ExitOnError)
	var common app.Common
	common.Register(fs, ":9101")
	configPath := fs.String("config", "sources.yaml", "sources file (YAML)")
	only := fs.String("source", "", "poll only this source (once mode)")
	from := fs.String("from", "", "override the range start (once mode)")
	to := fs.String("to", "", "override the range end (once mode)")
	timeType := fs.String("time-type", "", "override the vendor time type the range filters on, e.g. update (once mode)")
	if err := cli.Parse(fs, "YONGJIN_POLLER", synopsis, args); err != nil {
		fmt.Fprintln(os.Stderr, "poller:", err)
		os.Exit(2)
	}
	rt, err := app.Start(common, "poller")
	if err != nil {
		app.Fatal(nil, "poller", err)
	}
	defer rt.Close()
	reg := all.Registry()
	cfg, err := poller.LoadConfig(*configPath, reg)
	if err != nil {
		app.Fatal(rt.Log, "invalid configuration", err)
	}
	srcs := cfg.Sources
	if *only != "" {
		srcs = nil
		for _, s := range cfg.Sources {
			if s.Name == *only {
				srcs = append(srcs, s)
			}
		}
		if len(srcs) == 0 {
			app.Fatal(rt.Log, "invalid --source", fmt.Errorf("no source named %q in %s", *only, *configPath))
		}
	}
	ctx, stop := app.SignalContext()
	defer stop()
	nc, err := rt.Connect(common, "yongjin-poller")
	if err != nil {
		app.Fatal(rt.Log, "nats", err)
	}
	defer nc.Drain()
	js, err := jetstream.New(nc)
	if err != nil {
		app.Fatal(rt.Log, "jetstream", err)
	}
	p := poller.New(js, reg, poller.Options{Streams: bus.StreamOptions{Replicas: common.Replicas}, Logger: rt.Log, Registerer: rt.Registry})
	if err := p.Provision(ctx); err != nil {
		app.Fatal(rt.Log, "provision", err)
	}
	if mode == "run" {
		if err := p.Run(ctx, srcs); err != nil {
			app.Fatal(rt.Log, "poller", err)
		}
		return
	}
	if err := runOnce(ctx, p, srcs, *from, *to, *timeType); err != nil {
		app.Fatal(rt.Log, "poll failed", err)
	}
}

func runOnce(ctx context.Context, p *poller.Poller, srcs []poller.Source, from, to, timeType string) error {
	if from == "" && to == "" && timeType == "" {
		return p.RunOnce(ctx, srcs)
	}
	for _, s := range srcs {
		f, t, err := p.Range(s)
		if err != nil {
			return err
		}
		if from != "" {
			if f, err = poller.ParseTime(from); err != nil {
				return fmt.Errorf("--from: %w", err)
			}
		}
		if to != "" {
			if t, err = poller.ParseTime(to); err != nil {
				return fmt.Errorf("--to: %w", err)
			}
		}
		st, err := p.Poll(ctx, s, f, t, timeType)
		if err != nil {
			return err
		}
		fmt.Printf("%s: %d windows, %d pages, %d records published\n", s.Name, st.Windows, st.Pages, st.Records)
	}
	return nil
}
