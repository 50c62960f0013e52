// Command sink writes canonical events from the EVENTS stream to ClickHouse in
// batches; `sink migrate` applies the schema (`--dry-run` prints it), `sink
// summary` prints the commission summary the shipped queries compute and
// `sink dashboard` serves the built-in commission dashboard.
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

	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/app"
	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/cli"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/internal/sink"
	"github.com/yongjin-dev/yongjin/internal/summary"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second signal kills the process the default way
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

var program = cli.Program{
	Name:    "sink",
	Summary: "write canonical events (YONGJIN_EVENTS) to ClickHouse.",
	Default: "run",
	Commands: []cli.Command{
		{Name: "run", Summary: "apply the schema, then consume EVENTS until SIGTERM", Run: command("run", consume)},
		{Name: "migrate", Summary: "apply the schema migrations and exit (--dry-run: print their SQL, apply nothing)", Run: command("migrate", migrate)},
		{Name: "summary", Summary: "print the commission summary (latest version of every order)", Run: command("summary", printSummary)},
		{Name: "dashboard", Summary: "serve the commission dashboard at http://<--dashboard-addr>/dashboard (reads only)", Run: command("dashboard", serveDashboard)},
		{Name: "dlq", Summary: "list|show SEQ|redrive [...]: inspect and redrive dead-lettered events", Run: func(_ context.Context, args []string, stdout, stderr io.Writer) int {
			return dlq.Command("sink", args, stdout, stderr)
		}},
	},
	Notes: `The ClickHouse password is read from $YONGJIN_CLICKHOUSE_PASSWORD or the file
named by $YONGJIN_CLICKHOUSE_PASSWORD_FILE, never from a flag; NATS secrets
from $YONGJIN_NATS_USER + $YONGJIN_NATS_PASSWORD[_FILE] or
$YONGJIN_NATS_TOKEN[_FILE] (or --nats-creds / --nats-nkey files). See
docs/SECURITY.md.`,
}

// run is the command: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program.Run(ctx, args, stdout, stderr)
}

// options are the flags every sink subcommand accepts.
type options struct {
	common   app.Common
	ch       clickhouse.Config
	sink     sink.Config
	platform string
	dryRun   bool
	dashAddr string
	migrate  bool
}

// parse parses the flags of `sink name`; ok false means return code.
func parse(name string, args []string, stderr io.Writer) (o options, code int, ok bool) {
	fs := flag.NewFlagSet("sink "+name, flag.ContinueOnError)
	o.common.Register(fs, ":9103")
	o.common.GC = app.HotStageGC
	o.ch = clickhouse.DefaultConfig()
	fs.StringVar(&o.ch.Addr, "clickhouse-addr", o.ch.Addr, "ClickHouse native protocol address host:port; several, comma-separated (a cluster's replicas), are tried in order")
	fs.StringVar(&o.ch.Database, "clickhouse-database", o.ch.Database, "ClickHouse database for yongjin's tables")
	fs.StringVar(&o.ch.Username, "clickhouse-user", o.ch.Username, "ClickHouse user")
	fs.BoolVar(&o.ch.Secure, "clickhouse-tls", o.ch.Secure, "connect to ClickHouse with TLS (secure native port, usually 9440); the certificate is always verified")
	fs.StringVar(&o.ch.CAFile, "clickhouse-ca", o.ch.CAFile, "PEM file of the CA that signs the ClickHouse server certificate (implies --clickhouse-tls; default: system roots)")
	fs.StringVar(&o.ch.ServerName, "clickhouse-tls-server-name", o.ch.ServerName, "name the ClickHouse certificate must carry when it differs from the --clickhouse-addr host")
	fs.StringVar(&o.ch.Cluster, "clickhouse-cluster", o.ch.Cluster, "cluster of the ClickHouse servers' remote_servers: migrations run ON CLUSTER and create Replicated*MergeTree tables (empty: one server, or ClickHouse Cloud)")
	fs.BoolVar(&o.ch.Sharded, "clickhouse-sharded", o.ch.Sharded, "with --clickhouse-cluster: the cluster has several shards; tables become <table>_local behind Distributed tables sharded by a hash of the natural key")
	fs.StringVar(&o.ch.ServerVersion, "server-version", o.ch.ServerVersion, "render the migrations for this ClickHouse release (e.g. 26.7) instead of the server's; with migrate --dry-run, print them without connecting")
	o.sink = sink.DefaultConfig()
	fs.StringVar(&o.sink.Durable, "consumer", o.sink.Durable, "durable EVENTS consumer name")
	fs.IntVar(&o.sink.BatchSize, "batch-size", o.sink.BatchSize, "most events per ClickHouse insert")
	fs.DurationVar(&o.sink.FlushInterval, "flush-interval", o.sink.FlushInterval, "longest a partial batch waits before it is written")
	fs.DurationVar(&o.sink.AckWait, "ack-wait", o.sink.AckWait, "JetStream ack wait")
	fs.StringVar(&o.platform, "platform", "", "summary: only this platform")
	fs.BoolVar(&o.dryRun, "dry-run", false, "migrate: print the SQL of the pending migrations instead of applying them")
	fs.StringVar(&o.dashAddr, "dashboard-addr", "127.0.0.1:9104", "dashboard: listen address of the dashboard page")
	fs.BoolVar(&o.migrate, "clickhouse-migrate", true, "apply the schema migrations at start-up; false for a ClickHouse user without DDL rights "+
		"(least privilege: an admin runs `sink migrate`, and the sink then only checks the schema is current)")
	if code, ok := cli.ParseArgs(fs, "YONGJIN_SINK", "usage: sink "+name+" [flags]", args, stderr); !ok {
		return o, code, false
	}
	if name != "run" {
		o.common.MetricsAddr = ""
	}
	var err error
	if o.ch.Password, err = cli.Secret("YONGJIN_CLICKHOUSE_PASSWORD"); err != nil {
		return o, cli.Fail(stderr, "sink: clickhouse password", err), false
	}
	return o, 0, true
}

// command returns the Run of `sink name`: flags → logger and health server
// → fn; fn's error is logged and the exit status 1.
func command(name string, fn func(ctx context.Context, o options, rt *app.Runtime, stdout io.Writer) error) func(context.Context, []string, io.Writer, io.Writer) int {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
		o, code, ok := parse(name, args, stderr)
		if !ok {
			return code
		}
		rt, err := app.Start(o.common, "sink", stderr)
		if err != nil {
			return cli.Fail(stderr, "sink", err)
		}
		defer rt.Close()
		o.ch.Logger = rt.Log
		if err := fn(ctx, o, rt, stdout); err != nil {
			return rt.Fail("sink "+name, err)
		}
		return 0
	}
}

// migrate is `sink migrate`: apply the migrations, or print them
// (--dry-run), without a server with --server-version.
func migrate(ctx context.Context, o options, rt *app.Runtime, stdout io.Writer) error {
	switch {
	case o.dryRun && o.ch.ServerVersion != "":
		return dryRunOffline(stdout, o.ch)
	case o.dryRun:
		return dryRun(ctx, stdout, o.ch, rt)
	}
	store, err := clickhouse.OpenReady(ctx, o.ch, true, rt.Log)
	if err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	store.Close()
	return nil
}

// printSummary is `sink summary`.
func printSummary(ctx context.Context, o options, rt *app.Runtime, stdout io.Writer) error {
	store, err := clickhouse.OpenReady(ctx, o.ch, o.migrate, rt.Log)
	if err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	defer store.Close()
	s, err := store.Summary(ctx, o.platform)
	if err != nil {
		return err
	}
	summary.Print(stdout, "ClickHouse "+o.ch.Addr+" database "+store.Database(), s)
	return nil
}

// serveDashboard is `sink dashboard`.
func serveDashboard(ctx context.Context, o options, rt *app.Runtime, stdout io.Writer) error {
	return serveDashboardOn(ctx, stdout, o.ch, rt, o.dashAddr)
}

// consume is `sink run`: ClickHouse → NATS → consume EVENTS until ctx ends.
func consume(ctx context.Context, o options, rt *app.Runtime, _ io.Writer) error {
	store, err := clickhouse.OpenReady(ctx, o.ch, o.migrate, rt.Log)
	if err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	defer store.Close()
	rt.Ready.Add("clickhouse", store.Ready)
	nc, err := rt.Connect(o.common, "yongjin-sink")
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	defer nc.Drain()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	cfg := o.sink
	cfg.Logger, cfg.Registerer = rt.Log, rt.Registry
	cfg.IsBadEvent = func(err error) bool { return errors.Is(err, clickhouse.ErrBadEvent) }
	svc, err := sink.New(cfg, js, store)
	if err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	cons, err := svc.Provision(ctx)
	if err != nil {
		return fmt.Errorf("provision: %w", err)
	}
	rt.Registry.MustRegister(bus.NewLagCollector(js, bus.EventsStream, cfg.Durable))
	return svc.Run(ctx, cons)
}
