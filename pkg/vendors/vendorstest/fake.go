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
// source's BaseURL to the endpoint URL endpoint(base) must give (endpoint
// builds the fetcher; it fails t itself when it cannot).
func Endpoints(t *testing.T, bases map[string]string, endpoint func(t *testing.T, base string) string) {
	t.Helper()
	for base, want := range bases {
		if got := endpoint(t, base); got != want {
			t.Errorf("base %q → %q, want %q", base, got, want)
		}
	}
}
