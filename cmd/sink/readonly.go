package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/yongjin-dev/yongjin/internal/analytics"
	"github.com/yongjin-dev/yongjin/internal/app"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/dashboard"
)

// dryRunOffline prints every migration as a server of release
// cfg.ServerVersion would run it (cfg.Cluster and cfg.Sharded applied),
// without connecting to any server.
func dryRunOffline(w io.Writer, cfg clickhouse.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	v, err := clickhouse.ParseServerVersion(cfg.ServerVersion)
	if err != nil {
		return fmt.Errorf("--server-version: %w", err)
	}
	return clickhouse.MigrationScript(w, clickhouse.Target{Version: v, Database: cfg.Database, Cluster: cfg.Cluster, Sharded: cfg.Sharded})
}

// dryRun is `migrate --dry-run`: it prints the SQL of the pending
// migrations to w and changes nothing.
func dryRun(ctx context.Context, w io.Writer, cfg clickhouse.Config, rt *app.Runtime) error {
	store, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	n, err := store.DryRunMigrate(ctx, w)
	if err == nil {
		rt.Log.Info("migrate --dry-run: nothing applied", "pending", n)
	}
	return err
}

// serveDashboardOn serves the built-in dashboard page on addr until ctx ends,
// reading only (it never changes the schema).
func serveDashboardOn(ctx context.Context, w io.Writer, cfg clickhouse.Config, rt *app.Runtime, addr string) error {
	store, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	url := dashboard.URL(ln)
	fmt.Fprintf(w, "dashboard: %s (ClickHouse %s, database %s)\n", url, cfg.Addr, store.Database())
	rt.Log.Info("serving the dashboard", "url", url)
	return dashboard.Serve(ctx, ln, dashboard.New(analytics.New(store), dashboard.Config{Logger: rt.Log}))
}
