package vendorstest

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
)

// Recorder records the requests a test's fake vendor server receives; the
// zero value is ready and it is safe for concurrent use. A fake embeds it
// and calls Record first thing in ServeHTTP.
type Recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

// Record appends r and returns how many requests have arrived, r included
// (so the first request is 1).
func (rec *Recorder) Record(r *http.Request) int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.reqs = append(rec.reqs, r)
	return len(rec.reqs)
}

// Requests returns a copy of the requests recorded so far, in arrival order.
func (rec *Recorder) Requests() []*http.Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]*http.Request(nil), rec.reqs...)
}

// WalkAll walks window w with f and returns every page it emitted, with
// Walk's error.
func WalkAll(ctx context.Context, f vendors.Fetcher, w vendors.Window) ([]vendors.Page, error) {
	var pages []vendors.Page
	err := f.Walk(ctx, w, func(_ context.Context, p vendors.Page) error {
		pages = append(pages, p)
		return nil
	})
	return pages, err
}

// Tune returns a client.Hooks Tune function that applies base and then, when
// it is not nil, a test's own tune.
func Tune(base, tune func(*client.Config)) func(*client.Config) {
	return func(c *client.Config) {
		base(c)
		if tune != nil {
			tune(c)
		}
	}
}

// CancelledInEmit walks window w with f, cancelling the walk's context from
// the first emit, and fails t unless Walk returns context.Canceled.
func CancelledInEmit(t testing.TB, f vendors.Fetcher, w vendors.Window) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := f.Walk(ctx, w, func(context.Context, vendors.Page) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// Endpoints checks a fetcher's endpoint for each base URL: bases maps a
// source's BaseURL to the endpoint URL the fetcher newFetcher builds from
// cfg with that BaseURL must have (endpoint reads it off the fetcher).
func Endpoints[F any](t *testing.T, bases map[string]string, cfg vendors.SourceConfig, newFetcher func(vendors.SourceConfig) (F, error), endpoint func(F) string) {
	t.Helper()
	for base, want := range bases {
		cfg.BaseURL = base
		f, err := newFetcher(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := endpoint(f); got != want {
			t.Errorf("base %q → %q, want %q", base, got, want)
		}
	}
}

// Fetcher builds a test's fetcher: it applies mod (when not nil) to cfg and
// builds the fetcher with fetcherWith and hooks, failing t when that fails.
func Fetcher[F any](t testing.TB, cfg vendors.SourceConfig, mod func(*vendors.SourceConfig), hooks *client.Hooks, fetcherWith func(vendors.SourceConfig, *client.Hooks) (F, error)) F {
	t.Helper()
	if mod != nil {
		mod(&cfg)
	}
	f, err := fetcherWith(cfg, hooks)
	if err != nil {
		t.Fatalf("fetcherWith: %v", err)
	}
	return f
}
