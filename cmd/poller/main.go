// Command poller polls vendor APIs and publishes every raw page to the
// JetStream RAW stream, keeping per-source checkpoints and replica leases in
// NATS KV.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/app"
	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/cli"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
)

const synopsis = `poller — fetch vendor pages and publish them to JetStream (stream YONGJIN_RAW).

Usage:
  poller [run]    --config sources.yaml   poll every source at its interval from its checkpoint
                                          (minus the look-back) until SIGTERM; replicas share
                                          the sources through leases
  poller once     --config sources.yaml   poll every source's range once (its fixed window, or
                  [--source NAME] [--from T --to T] [--time-type pay|update]
                                          the last look-back), then exit; no checkpoints
  poller sources  --config sources.yaml   list sources with checkpoint, last success, last error, next run
  poller backfill --config sources.yaml --source NAME --from T --to T
                                          walk a historical range window by window with progress;
                                          killed and started again, it resumes where it stopped

T is "2006-01-02 15:04:05" or "2006-01-02" (China Standard Time) or RFC 3339.
See README.md (Configuration, Incremental polling) for the sources file.

NATS secrets come from $YONGJIN_NATS_USER + $YONGJIN_NATS_PASSWORD[_FILE] or
$YONGJIN_NATS_TOKEN[_FILE], or the --nats-creds / --nats-nkey files; TLS from
--nats-ca (and --nats-cert/--nats-key for mutual TLS). See docs/SECURITY.md.`

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

func main() {
	args := os.Args[1:]
	mode := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		mode, args = args[0], args[1:]
	}
	switch mode {
	case "run", "once", "sources", "backfill":
	default:
		fmt.Fprintf(os.Stderr, "poller: unknown command %q (want run, once, sources or backfill; see --help)\n", mode)
		os.Exit(2)
	}
	fs := flag.NewFlagSet("poller "+mode, flag.ExitOnError)
	var o options
	o.common.Register(fs, ":9101")
	fs.StringVar(&o.configPath, "config", "sources.yaml", "sources file (YAML)")
	fs.StringVar(&o.only, "source", "", "only this source (required for backfill)")
	fs.StringVar(&o.from, "from", "", "range start (once: override; backfill: required)")
	fs.StringVar(&o.to, "to", "", "range end (once: override; backfill: required)")
	fs.StringVar(&o.timeType, "time-type", "", "vendor time type to filter on, e.g. update (once; backfill: default all of the vendor's)")
	fs.DurationVar(&o.leaseTTL, "lease-ttl", 30*time.Second, "replica lease length: a dead replica's sources are taken over within it")
	fs.StringVar(&o.replica, "replica", "", "this replica's name in leases and checkpoints (default host name and pid)")
	fs.StringVar(&o.clockURL, "sandbox-clock", "", "take \"now\" from this vendor sandbox clock URL (e.g. http://127.0.0.1:8700/_sandbox/clock) instead of the wall clock")
	if err := cli.Parse(fs, "YONGJIN_POLLER", synopsis, args); err != nil {
		fmt.Fprintln(os.Stderr, "poller:", err)
		os.Exit(2)
	}
	if mode != "run" {
		o.common.MetricsAddr = ""
	}
	if o.replica == "" {
		h, _ := os.Hostname()
		o.replica = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	rt, err := app.Start(o.common, "poller")
	if err != nil {
		app.Fatal(nil, "poller", err)
	}
	defer rt.Close()
	if err := run(mode, o, rt); err != nil {
		app.Fatal(rt.Log, "poller "+mode, err)
	}
}

func run(mode string, o options, rt *app.Runtime) error {
	reg := all.Registry()
	cfg, err := poller.LoadConfig(o.configPath, reg)
	if err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	srcs := cfg.Sources
	if o.only != "" {
		srcs = nil
		for _, s := range cfg.Sources {
			if s.Name == o.only {
				srcs = append(srcs, s)
			}
		}
		if len(srcs) == 0 {
			return fmt.Errorf("no source named %q in %s", o.only, o.configPath)
		}
	}
	if mode == "backfill" && (o.only == "" || o.from == "" || o.to == "") {
		return fmt.Errorf("backfill needs --source, --from and --to")
	}
	ctx, stop := app.SignalContext()
	defer stop()
	nc, err := rt.Connect(o.common, "yongjin-poller")
	if err != nil {
		return err
	}
	defer nc.Drain()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	now := time.Now
	if o.clockURL != "" {
		now = sandboxClock(o.clockURL)
	}
	p := poller.New(js, reg, poller.Options{Streams: bus.StreamOptions{Replicas: o.common.Replicas}, Logger: rt.Log, Registerer: rt.Registry, Now: now, Holder: o.replica})
	if mode == "once" {
		if err := p.Provision(ctx); err != nil {
			return err
		}
		return runOnce(ctx, p, srcs, o.from, o.to, o.timeType)
	}
	cps, err := checkpoint.Open(ctx, js, o.common.Replicas)
	if err != nil {
		return err
	}
	switch mode {
	case "sources":
		return listSources(ctx, os.Stdout, p, cps, srcs)
	case "backfill":
		if err := p.Provision(ctx); err != nil {
			return err
		}
		return backfill(ctx, p, cps, srcs[0], o)
	}
	if err := p.Provision(ctx); err != nil {
		return err
	}
	leases, err := checkpoint.OpenLeases(ctx, js, o.leaseTTL, o.replica, o.common.Replicas)
	if err != nil {
		return err
	}
	rt.Log.Info("poller running", "replica", o.replica, "sources", len(srcs), "lease_ttl", o.leaseTTL.String())
	return (&poller.Scheduler{P: p, Checkpoints: cps, Leases: leases}).Run(ctx, srcs)
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
			if f, err = cli.ParseOperatorTime(from); err != nil {
				return fmt.Errorf("--from: %w", err)
			}
		}
		if to != "" {
			if t, err = cli.ParseOperatorTime(to); err != nil {
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

func backfill(ctx context.Context, p *poller.Poller, cps *checkpoint.Store, src poller.Source, o options) error {
	from, err := cli.ParseOperatorTime(o.from)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	to, err := cli.ParseOperatorTime(o.to)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	if !to.After(from) {
		return fmt.Errorf("--to must be after --from")
	}
	parts, err := p.Parts(src)
	if err != nil {
		return err
	}
	pp := poller.NewProgressPrinter(os.Stderr)
	for _, part := range parts {
		if o.timeType != "" && part.TimeType != o.timeType {
			continue
		}
		if part.TimeType == "update" {
			// a historical range is walked by the time records happened
			part.TimeType = "pay"
		}
		key := poller.BackfillKey(part, from, to)
		if cp, err := cps.Get(ctx, key); err == nil && !cp.Position.IsZero() {
			fmt.Fprintf(os.Stderr, "backfill %s: resuming at %s\n", part.Key(), cp.Position.Format(time.RFC3339))
		}
		st, err := p.RunPart(ctx, cps, part, key, from, to, false, pp.Report)
		if err != nil {
			return err
		}
		fmt.Printf("backfill %s/%s done: %d windows, %d pages, %d records\n", src.Name, part.TimeType, st.Windows, st.Pages, st.Records)
	}
	return nil
}

func listSources(ctx context.Context, w io.Writer, p *poller.Poller, cps *checkpoint.Store, srcs []poller.Source) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tVENDOR\tACCOUNT\tPART\tCHECKPOINT\tLAST SUCCESS\tNEXT RUN\tHOLDER\tLAST ERROR\tSKIPPED")
	show := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, s := range srcs {
		parts, err := p.Parts(s)
		if err != nil {
			return err
		}
		for _, part := range parts {
			cp, err := cps.Get(ctx, part.Key())
			if err != nil {
				return err
			}
			name := part.TimeType
			if part.Snapshot {
				name = "snapshot"
			}
			lastErr := cp.LastError
			if lastErr == "" {
				lastErr = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Vendor, s.Account, name, show(cp.Position), show(cp.LastSuccess), show(cp.NextRun), orDash(cp.Holder), lastErr, orDash(cp.Skipped))
		}
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sandboxClock reads "now" from the vendor sandbox's clock endpoint, so a
// poller can follow the sandbox's virtual time; on an error it falls back
// to the last value read. The returned function is safe for concurrent use
// (every part reads the clock once per page).
func sandboxClock(url string) func() time.Time {
	var last atomic.Pointer[time.Time]
	c := &http.Client{Timeout: 5 * time.Second}
	return func() time.Time {
		res, err := c.Get(url)
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if t, perr := time.Parse(time.RFC3339, strings.TrimSpace(string(b))); perr == nil {
				last.Store(&t)
				return t
			}
		}
		if t := last.Load(); t != nil {
			return *t
		}
		return time.Now()
	}
}
