// Command poller polls vendor APIs and publishes every raw page to the
// JetStream RAW stream, keeping per-source checkpoints and replica leases in
// NATS KV.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/app"
	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/cli"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second signal kills the process the default way
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

var program = cli.Program{
	Name:    "poller",
	Summary: "fetch vendor pages and publish them to JetStream (stream YONGJIN_RAW).",
	Default: "run",
	Commands: []cli.Command{
		{Name: "run", Summary: "--config sources.yaml: poll every source at its interval from its checkpoint (minus the look-back) until SIGTERM; replicas share the sources through leases", Run: command("run")},
		{Name: "once", Summary: "--config sources.yaml [--source NAME] [--from T --to T] [--time-type pay|update]: poll every source's range once (its fixed window, or the last look-back), then exit; no checkpoints", Run: command("once")},
		{Name: "sources", Summary: "--config sources.yaml: list sources with checkpoint, last success, last error, next run", Run: command("sources")},
		{Name: "backfill", Summary: "--config sources.yaml --source NAME --from T --to T: walk a historical range window by window with progress; killed and started again, it resumes where it stopped", Run: command("backfill")},
	},
	Notes: `T is "2006-01-02 15:04:05" or "2006-01-02" (China Standard Time) or RFC 3339.
See README.md (Configuration, Incremental polling) for the sources file.

NATS secrets come from $YONGJIN_NATS_USER + $YONGJIN_NATS_PASSWORD[_FILE] or
$YONGJIN_NATS_TOKEN[_FILE], or the --nats-creds / --nats-nkey files; TLS from
--nats-ca (and --nats-cert/--nats-key for mutual TLS). See docs/SECURITY.md.`,
}

// run is the command: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program.Run(ctx, args, stdout, stderr)
}

// options are the flags every poller subcommand accepts.
type options struct {
	common     app.Common
	configPath string
	only       string
	from, to   string
	timeType   string
	leaseTTL   time.Duration
	replica    string
	clockURL   string
}

func parse(mode string, args []string, stderr io.Writer) (o options, code int, ok bool) {
	fs := flag.NewFlagSet("poller "+mode, flag.ContinueOnError)
	o.common.Register(fs, ":9101")
	fs.StringVar(&o.configPath, "config", "sources.yaml", "sources file (YAML)")
	fs.StringVar(&o.only, "source", "", "only this source (required for backfill)")
	fs.StringVar(&o.from, "from", "", "range start (once: override; backfill: required)")
	fs.StringVar(&o.to, "to", "", "range end (once: override; backfill: required)")
	fs.StringVar(&o.timeType, "time-type", "", "vendor time type to filter on, e.g. update (once; backfill: default all of the vendor's)")
	fs.DurationVar(&o.leaseTTL, "lease-ttl", 30*time.Second, "replica lease length: a dead replica's sources are taken over within it")
	fs.StringVar(&o.replica, "replica", "", "this replica's name in leases and checkpoints (default host name and pid)")
	fs.StringVar(&o.clockURL, "sandbox-clock", "", "take \"now\" from this vendor sandbox clock URL (e.g. http://127.0.0.1:8700/_sandbox/clock) instead of the wall clock")
	if code, ok := cli.ParseArgs(fs, "YONGJIN_POLLER", "usage: poller "+mode+" [flags]", args, stderr); !ok {
		return o, code, false
	}
	if mode != "run" {
		o.common.MetricsAddr = ""
	}
	if o.replica == "" {
		h, _ := os.Hostname()
		o.replica = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	return o, 0, true
}

// command returns the Run of `poller mode`.
func command(mode string) func(context.Context, []string, io.Writer, io.Writer) int {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		o, code, ok := parse(mode, args, stderr)
		if !ok {
			return code
		}
		rt, err := app.Start(o.common, "poller", stderr)
		if err != nil {
			return cli.Fail(stderr, "poller", err)
		}
		defer rt.Close()
		if err := poll(ctx, mode, o, rt, stdout, stderr); err != nil {
			return rt.Fail("poller "+mode, err)
		}
		return 0
	}
}

// poll is the wiring of every mode: sources → NATS → poller → mode.
func poll(ctx context.Context, mode string, o options, rt *app.Runtime, stdout, stderr io.Writer) error {
	reg := all.Registry()
	file, err := poller.LoadSources(o.configPath, reg)
	if err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	srcs, err := poller.SelectSources(file.Sources, o.only)
	if err != nil {
		return fmt.Errorf("%w in %s", err, o.configPath)
	}
	if mode == "backfill" && (o.only == "" || o.from == "" || o.to == "") {
		return errors.New("backfill needs --source, --from and --to")
	}
	nc, err := rt.Connect(o.common, "yongjin-poller")
	if err != nil {
		return err
	}
	defer nc.Drain()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	cfg := poller.Config{Streams: bus.StreamOptions{Replicas: o.common.Replicas}, Logger: rt.Log, Registerer: rt.Registry, Holder: o.replica}
	if o.clockURL != "" {
		cfg.Now = poller.HTTPClock(o.clockURL)
	}
	p := poller.New(js, reg, cfg)
	if mode != "sources" {
		if err := p.Provision(ctx); err != nil {
			return err
		}
	}
	if mode == "once" {
		return p.PollOnce(ctx, stdout, srcs, o.from, o.to, o.timeType)
	}
	cps, err := checkpoint.Open(ctx, js, o.common.Replicas)
	if err != nil {
		return err
	}
	switch mode {
	case "sources":
		return p.PrintSources(ctx, stdout, cps, srcs)
	case "backfill":
		return p.Backfill(ctx, cps, srcs[0], o.from, o.to, o.timeType, stdout, stderr)
	}
	leases, err := checkpoint.OpenLeases(ctx, js, o.leaseTTL, o.replica, o.common.Replicas)
	if err != nil {
		return err
	}
	rt.Log.Info("poller running", "replica", o.replica, "sources", len(srcs), "lease_ttl", o.leaseTTL.String())
	return (&poller.Scheduler{P: p, Checkpoints: cps, Leases: leases}).Run(ctx, srcs)
}
