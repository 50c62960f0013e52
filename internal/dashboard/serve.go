package dashboard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// Path is where Mux serves the dashboard.
const Path = "/dashboard"

// Mux serves h at Path, redirects / there and answers /healthz.
func Mux(h http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(Path, h)
	mux.Handle("/{$}", http.RedirectHandler(Path, http.StatusFound))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	return mux
}

// Serve serves h (under Mux) on ln until ctx ends, then shuts down,
// letting in-flight requests finish for up to five seconds.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: Mux(h), ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-done
		return nil
	}
	return err
}

// URL is the dashboard's address on a listener.
func URL(ln net.Listener) string { return "http://" + ln.Addr().String() + Path }
