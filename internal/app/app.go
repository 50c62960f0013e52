// Package app is the wiring every yongjin command shares: the common flags
// (NATS, logging, health server), the signal-aware context, and the start-up
// of logger, metrics registry and health endpoints. Commands stay thin:
// flags → app.Start → wiring → service.Run.
package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime/debug"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/obs"
)

// Common are the flags every service has.
type Common struct {
	NATSURL string
	// NATS holds the credential and TLS file flags; the user, password and
	// token come from the environment (NATSConfig reads them).
	NATS        bus.Auth
	MetricsAddr string
	// PprofAddr, when set, serves net/http/pprof's /debug/pprof/ there (a
	// loopback address: profiles reveal internals; off by default).
	PprofAddr string
	LogLevel  string
	Replicas  int
	// GC is the service's garbage-collector default (zero: Go's own).
	GC GC
}

// GC is a service's default garbage-collector setting, applied by Start
// unless the operator set Go's own GOGC or GOMEMLIMIT, which always win.
// The hot stages allocate short-lived garbage per message and hold little
// live heap, so a higher GOGC trades a few MiB for a third less CPU, and a
// soft memory limit keeps the peak RSS bounded (docs/PERFORMANCE.md).
type GC struct {
	// Percent is the GOGC value (0: leave Go's 100).
	Percent int
	// MemoryLimit is the GOMEMLIMIT in bytes (0: none).
	MemoryLimit int64
}

// HotStageGC is the GC default of the normalizer and the sink: GOGC 400
// under a 200 MiB soft limit (measured in docs/PERFORMANCE.md, run H).
var HotStageGC = GC{Percent: 400, MemoryLimit: 200 << 20}

// apply sets g where the environment does not, and returns what it set.
func (g GC) apply() (percent int, limit int64) {
	if g.Percent > 0 && os.Getenv("GOGC") == "" {
		debug.SetGCPercent(g.Percent)
		percent = g.Percent
	}
	if g.MemoryLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(g.MemoryLimit)
		limit = g.MemoryLimit
	}
	return percent, limit
}

// Register defines the common flags on fs.
func (c *Common) Register(fs *flag.FlagSet, defaultMetricsAddr string) {
	fs.StringVar(&c.NATSURL, "nats-url", "nats://127.0.0.1:4222", "NATS server URL or comma-separated list (tls://... for TLS with the system roots); never credentials: "+
		"$YONGJIN_NATS_USER with $YONGJIN_NATS_PASSWORD[_FILE], $YONGJIN_NATS_TOKEN[_FILE], --nats-creds or --nats-nkey (docs/SECURITY.md)")
	c.NATS.RegisterFlags(fs)
	fs.StringVar(&c.MetricsAddr, "metrics-addr", defaultMetricsAddr, "listen address for /metrics, /healthz and /readyz (empty disables); "+
		"the default "+defaultMetricsAddr+" has no host, so it listens on EVERY interface (for Kubernetes probes and Prometheus): "+
		"use 127.0.0.1"+defaultMetricsAddr+" to keep it local, and see docs/SECURITY.md")
	fs.StringVar(&c.PprofAddr, "pprof-addr", "", "listen address for Go profiling (/debug/pprof/: CPU, heap, goroutines), e.g. 127.0.0.1:6060; empty disables")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.IntVar(&c.Replicas, "stream-replicas", 1, "replicas of the JetStream streams this service owns (3 on a production cluster)")
}

// Runtime is what Start sets up.
type Runtime struct {
	Log      *slog.Logger
	Registry *prometheus.Registry
	Ready    *obs.Readiness
	health   *obs.Server
	pprof    *http.Server
}

// Start builds the logger (writing to logTo), the metrics registry and the
// health server.
func Start(c Common, service string, logTo io.Writer) (*Runtime, error) {
	log, err := obs.NewLogger(logTo, c.LogLevel, service)
	if err != nil {
		return nil, err
	}
	slog.SetDefault(log)
	if percent, limit := c.GC.apply(); percent > 0 || limit > 0 {
		log.Debug("garbage collector", "gogc", percent, "gomemlimit_bytes", limit)
	}
	reg := obs.NewRegistry()
	ready := &obs.Readiness{}
	h, err := obs.Listen(c.MetricsAddr, reg, ready, log)
	if err != nil {
		return nil, err
	}
	rt := &Runtime{Log: log, Registry: reg, Ready: ready, health: h}
	if c.PprofAddr != "" {
		if rt.pprof, err = servePprof(c.PprofAddr, log); err != nil {
			_ = h.Shutdown(context.Background())
			return nil, err
		}
	}
	return rt, nil
}

// servePprof serves the Go profiling endpoints on addr until Close.
func servePprof(addr string, log *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Error("pprof server stopped", "err", err)
		}
	}()
	log.Info("pprof serving", "addr", ln.Addr().String())
	return srv, nil
}

// NATSConfig is the connection configuration the flags in c describe, with
// the user, password and token read from the environment or the files it
// names (bus.Auth.FromEnv).
func (c Common) NATSConfig(name string, log *slog.Logger) (bus.ConnConfig, error) {
	auth := c.NATS
	if err := auth.FromEnv(); err != nil {
		return bus.ConnConfig{}, err
	}
	if err := auth.Validate(); err != nil {
		return bus.ConnConfig{}, err
	}
	if err := bus.CheckURL(c.NATSURL); err != nil {
		return bus.ConnConfig{}, err
	}
	return bus.ConnConfig{URL: c.NATSURL, Name: name, Auth: auth, Logger: log}, nil
}

// Connect opens a NATS connection for this service (authenticated and over
// TLS as the flags and environment say) and registers a readiness check on it.
func (r *Runtime) Connect(c Common, name string) (*nats.Conn, error) {
	cfg, err := c.NATSConfig(name, r.Log)
	if err != nil {
		return nil, err
	}
	nc, err := bus.Connect(cfg)
	if err != nil {
		return nil, err
	}
	r.Log.Info("nats connected", "server", nc.ConnectedUrlRedacted(), "name", name, "auth", cfg.Auth.Method(), "tls", nc.TLSRequired() || cfg.Auth.CAFile != "")
	r.Ready.Add("nats:"+name, func(context.Context) error {
		if !nc.IsConnected() {
			return fmt.Errorf("not connected (%s)", nc.Status())
		}
		return nil
	})
	return nc, nil
}

// Fail logs err as the service's last word (msg, the structured log line
// every other line of the service is) and returns exit status 1, for a
// command's run.
func (r *Runtime) Fail(msg string, err error) int {
	r.Log.Error(msg, "err", err)
	return 1
}

// Close stops the health server.
func (r *Runtime) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = r.health.Shutdown(ctx)
	if r.pprof != nil {
		_ = r.pprof.Shutdown(ctx)
	}
}
