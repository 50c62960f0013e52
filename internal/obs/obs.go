// Package obs is the observability plumbing every yongjin service shares: JSON
// logs through log/slog, a Prometheus registry, and an HTTP server with
// /metrics, /healthz (the process is alive) and /readyz (its dependencies are
// reachable).
package obs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewLogger returns a JSON logger writing to w at level ("debug", "info",
// "warn", "error"), tagged with the service name.
func NewLogger(w io.Writer, level, service string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})).With("service", service), nil
}

// NewRegistry returns a Prometheus registry with the Go and process collectors.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Readiness collects named readiness checks; /readyz is 200 only when all pass.
type Readiness struct {
	mu     sync.Mutex
	checks map[string]func(context.Context) error
	last   string // the failures last logged ("" = ready)
}

// Add registers a check; it must return quickly (it gets a 2 s context).
func (r *Readiness) Add(name string, check func(context.Context) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.checks == nil {
		r.checks = map[string]func(context.Context) error{}
	}
	r.checks[name] = check
}

// Check runs every check, in name order, and returns the failures joined,
// each prefixed with its check's name.
func (r *Readiness) Check(ctx context.Context) error {
	_, err := r.failing(ctx)
	return err
}

// failing runs every check and returns the names of those that failed,
// sorted, and their errors joined.
func (r *Readiness) failing(ctx context.Context) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.checks))
	for name := range r.checks {
		names = append(names, name)
	}
	sort.Strings(names)
	var failed []string
	var errs []error
	for _, name := range names {
		if err := r.checks[name](ctx); err != nil {
			failed = append(failed, name)
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	return failed, errors.Join(errs...)
}

// serveReady answers /readyz: "ready" (200), or "not ready: " and the names of
// the failing checks (503). The checks' errors, which may name servers,
// users or paths, are logged instead of answered, once each time they
// change, as is the return to ready.
func (r *Readiness) serveReady(log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
		defer cancel()
		failed, err := r.failing(ctx)
		detail := ""
		if err != nil {
			detail = err.Error()
		}
		r.mu.Lock()
		changed := detail != r.last
		wasFailing := r.last != ""
		r.last = detail
		r.mu.Unlock()
		if err != nil {
			if changed {
				log.Warn("not ready", "failing", failed, "err", detail)
			}
			http.Error(w, "not ready: "+strings.Join(failed, ", "), http.StatusServiceUnavailable)
			return
		}
		if changed && wasFailing {
			log.Info("ready again")
		}
		io.WriteString(w, "ready\n")
	}
}

// Server serves /metrics, /healthz and /readyz.
type Server struct {
	srv *http.Server
	ln  net.Listener
}

// Listen starts serving on addr ("" disables the server and returns nil, nil).
// An address without a host (":9101", the services' defaults) listens on
// every interface, so that Kubernetes probes and Prometheus can reach it;
// /readyz answers only the names of failing checks and logs their errors.
func Listen(addr string, reg *prometheus.Registry, ready *Readiness, log *slog.Logger) (*Server, error) {
	if addr == "" {
		return nil, nil
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/readyz", ready.serveReady(log))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics/health on %s: %w", addr, err)
	}
	s := &Server{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln: ln}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("health server stopped", "err", err)
		}
	}()
	log.Info("serving /metrics /healthz /readyz", "addr", ln.Addr().String())
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Shutdown stops the server, waiting for in-flight requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if s == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}
