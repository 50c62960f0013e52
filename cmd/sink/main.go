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
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/app"
	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/cli"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/internal/sink"
	"github.com/yongjin-dev/yongjin/internal/summary"
)

const synopsis = `sink — write canonical events (YONGJIN_EVENTS) to ClickHouse.

Usage:
  sink [run] [flags]     apply the schema, then consume EVENTS until SIGTERM
  sink migrate [flags]   apply the schema migrations and exit (--dry-run: print their SQL, apply nothing)
  sink summary [flags]   print the commission summary (latest version of every order)
  sink dashboard [flags] serve the commission dashboard at http://<--dashboard-addr>/dashboard (reads only)
  sink dlq list|show SEQ|redrive [...]   inspect and redrive dead-lettered events

The ClickHouse password is read from $YONGJIN_CLICKHOUSE_PASSWORD or the file
named by $YONGJIN_CLICKHOUSE_PASSWORD_FILE, never from a flag; NATS secrets
from $YONGJIN_NATS_USER + $YONGJIN_NATS_PASSWORD[_FILE] or
$YONGJIN_NATS_TOKEN[_FILE] (or --nats-creds / --nats-nkey files). See
docs/SECURITY.md.`

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "dlq" {
		os.Exit(dlq.Command("sink", args[1:], os.Stdout, os.Stderr))
	}
	mode := "run"
	if len(args) > 0 && (args[0] == "run" || args[0] == "migrate" || args[0] == "summary" || args[0] == "dashboard") {
		mode, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("sink", flag.ExitOnError)
	var common app.Common
	common.Register(fs, ":9103")
	var ch clickhouse.Config
	fs.StringVar(&ch.Addr, "clickhouse-addr", "127.0.0.1:9000", "ClickHouse native protocol address host:port; several, comma-separated (a cluster's replicas), are tried in order")
	fs.StringVar(&ch.Database, "clickhouse-database", "yongjin", "ClickHouse database for yongjin's tables")
	fs.StringVar(&ch.Username, "clickhouse-user", "default", "ClickHouse user")
	fs.BoolVar(&ch.Secure, "clickhouse-tls", false, "connect to ClickHouse with TLS (secure native port, usually 9440); the certificate is always verified")
	fs.StringVar(&ch.CAFile, "clickhouse-ca", "", "PEM file of the CA that signs the ClickHouse server certificate (implies --clickhouse-tls; default: system roots)")
	fs.StringVar(&ch.ServerName, "clickhouse-tls-server-name", "", "name the ClickHouse certificate must carry when it differs from the --clickhouse-addr host")
	fs.StringVar(&ch.Cluster, "clickhouse-cluster", "", "cluster of the ClickHouse servers' remote_servers: migrations run ON CLUSTER and create Replicated*MergeTree tables (empty: one server, or ClickHouse Cloud)")
	fs.BoolVar(&ch.Sharded, "clickhouse-sharded", false, "with --clickhouse-cluster: the cluster has several shards; tables become <table>_local behind Distributed tables sharded by a hash of the natural key")
	fs.StringVar(&ch.ServerVersion, "server-version", "", "render the migrations for this ClickHouse release (e.g. 26.7) instead of the server's; with migrate --dry-run, print them without connecting")
	var cfg sink.Config
	fs.StringVar(&cfg.Durable, "consumer", "sink", "durable EVENTS consumer name")
	fs.IntVar(&cfg.BatchSize, "batch-size", 5000, "most events per ClickHouse insert")
	fs.DurationVar(&cfg.FlushInterval, "flush-interval", time.Second, "longest a partial batch waits before it is written")
	fs.DurationVar(&cfg.AckWait, "ack-wait", 60*time.Second, "JetStream ack wait")
	platform := fs.String("platform", "", "summary: only this platform")
	dryRun := fs.Bool("dry-run", false, "migrate: print the SQL of the pending migrations instead of applying them")
	dashAddr := fs.String("dashboard-addr", "127.0.0.1:9104", "dashboard: listen address of the dashboard page")
	migrate := fs.Bool("clickhouse-migrate", true, "apply the schema migrations at start-up; false for a ClickHouse user without DDL rights "+
		"(least privilege: an admin runs `sink migrate`, and the sink then only checks the schema is current)")
	if err := cli.Parse(fs, "YONGJIN_SINK", synopsis, args); err != nil {
		fmt.Fprintln(os.Stderr, "sink:", err)
		os.Exit(2)
	}
	if mode != "run" {
		common.MetricsAddr = ""
	}
	rt, err := app.Start(common, "sink")
	if err != nil {
		app.Fatal(nil, "sink", err)
	}
	defer rt.Close()
	ch.Logger = rt.Log
	if ch.Password, err = cli.Secret("YONGJIN_CLICKHOUSE_PASSWORD"); err != nil {
		app.Fatal(rt.Log, "clickhouse password", err)
	}
	ctx, stop := app.SignalContext()
	defer stop()
	if mode == "migrate" && *dryRun && ch.ServerVersion != "" {
		if err := dryRunOffline(os.Stdout, ch); err != nil {
			app.Fatal(rt.Log, mode, err)
		}
		return
	}
	if mode == "dashboard" || mode == "migrate" && *dryRun {
		if err := readOnly(ctx, mode, ch, rt, *dashAddr); err != nil {
			app.Fatal(rt.Log, mode, err)
		}
		return
	}
	store, err := openStore(ctx, ch, rt, *migrate || mode == "migrate")
	if err != nil {
		app.Fatal(rt.Log, "clickhouse", err)
	}
	defer store.Close()
	switch mode {
	case "migrate":
		return
	case "summary":
		s, err := store.Summary(ctx, *platform)
		if err != nil {
			app.Fatal(rt.Log, "summary", err)
		}
		summary.Print(os.Stdout, "ClickHouse "+ch.Addr+" database "+store.Database(), s)
		return
	}
	rt.Ready.Add("clickhouse", store.Ready)
	nc, err := rt.Connect(common, "yongjin-sink")
	if err != nil {
		app.Fatal(rt.Log, "nats", err)
	}
	defer nc.Drain()
	js, err := jetstream.New(nc)
	if err != nil {
		app.Fatal(rt.Log, "jetstream", err)
	}
	cfg.Logger, cfg.Registerer = rt.Log, rt.Registry
	cfg.IsBadEvent = func(err error) bool { return errors.Is(err, clickhouse.ErrBadEvent) }
	svc, err := sink.New(cfg, js, store)
	if err != nil {
		app.Fatal(rt.Log, "invalid configuration", err)
	}
	cons, err := svc.Provision(ctx)
	if err != nil {
		app.Fatal(rt.Log, "provision", err)
	}
	rt.Registry.MustRegister(bus.NewLagCollector(js, bus.EventsStream, cfg.Durable))
	if err := svc.Run(ctx, cons); err != nil {
		app.Fatal(rt.Log, "sink", err)
	}
}

// openStore connects and migrates (or, without migrate, checks that the
// schema is current), retrying with backoff while ClickHouse is unreachable
// (it may start after the sink) until ctx ends.
func openStore(ctx context.Context, cfg clickhouse.Config, rt *app.Runtime, migrate bool) (*clickhouse.Store, error) {
	wait := 500 * time.Millisecond
	for {
		store, err := clickhouse.Open(ctx, cfg)
		if err == nil {
			if migrate {
				err = store.Migrate(ctx)
			} else {
				err = checkSchema(ctx, store)
			}
			if err == nil {
				return store, nil
			}
			store.Close()
		}
		if !clickhouse.IsTransient(err) || ctx.Err() != nil {
			return nil, err
		}
		rt.Log.Warn("clickhouse not reachable yet, retrying", "addr", cfg.Addr, "retry_in", wait.String(), "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 15*time.Second)
	}
}

// checkSchema requires every migration this sink knows to be applied, for a
// sink that may not run DDL itself (--clickhouse-migrate=false).
func checkSchema(ctx context.Context, store *clickhouse.Store) error {
	applied, err := store.AppliedMigrations(ctx)
	if err != nil {
		return fmt.Errorf("check schema (--clickhouse-migrate=false): %w", err)
	}
	done := make(map[uint32]bool, len(applied))
	for _, v := range applied {
		done[v] = true
	}
	for _, m := range clickhouse.Migrations {
		if !done[m.Version] {
			return fmt.Errorf("clickhouse %s database %s: migration %d (%s) not applied and --clickhouse-migrate=false: "+
				"run `sink migrate` as a user allowed to create tables", store.Addr(), store.Database(), m.Version, m.Name)
		}
	}
	return nil
}
