package client_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

const redirectSecret = "redirect-secret-4d1e"

// The core's redirect policy (issue 11 case 9): a redirect to another origin
// is refused with a typed permanent error, before anything reaches that
// origin and without a retry; a redirect within the origin is followed, and a
// caller's own policy still applies after the core's.
func TestRedirectPolicy(t *testing.T) {
	other := vendorstest.NewOtherHost(t)
	tests := []struct {
		name string
		// location is where the first request is redirected ("" = no
		// redirect); "OTHER" is replaced by the other host's URL, "SELF" by
		// the server's own.
		location string
		code     int
		policy   func(*http.Request, []*http.Request) error // the caller's CheckRedirect
		wantErr  error                                      // nil = success
	}{
		{name: "307 to another host", location: "OTHER/api?key=" + redirectSecret, code: 307, wantErr: client.ErrCrossHostRedirect},
		{name: "308 to another host", location: "OTHER/api", code: 308, wantErr: client.ErrCrossHostRedirect},
		{name: "302 to another host", location: "OTHER/api", code: 302, wantErr: client.ErrCrossHostRedirect},
		{name: "301 to another host", location: "OTHER/", code: 301, wantErr: client.ErrCrossHostRedirect},
		{name: "same host, another path", location: "/moved", code: 307},
		{name: "same host, absolute URL", location: "SELF/moved", code: 308},
		{name: "same host, refused by the caller's policy", location: "/moved", code: 307,
			policy: func(*http.Request, []*http.Request) error { return errors.New("caller says no") }, wantErr: client.ErrTransient},
		{name: "same-host loop", location: "/loop", code: 302, wantErr: client.ErrPermanent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(other.Requests())
			var requests atomic.Int64
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				if r.URL.Path == "/moved" {
					body := new(bytes.Buffer)
					body.ReadFrom(r.Body)
					w.Write([]byte("moved:" + body.String()))
					return
				}
				loc := strings.NewReplacer("OTHER", other.URL, "SELF", srv.URL).Replace(tc.location)
				http.Redirect(w, r, loc, tc.code)
			}))
			t.Cleanup(srv.Close)
			hc := &http.Client{Timeout: time.Minute, CheckRedirect: tc.policy}
			core := client.New(client.Config{HTTPClient: hc, RatePerSecond: 1000, MaxAttempts: 3,
				InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Secrets: []string{redirectSecret}})
			resp, err := core.Do(context.Background(), func(ctx context.Context) (*http.Request, error) {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api?session="+redirectSecret, strings.NewReader("secret="+redirectSecret))
				if err == nil {
					req.Header.Set("access-token", redirectSecret)
				}
				return req, err
			}, nil)
			if got := other.Requests()[before:]; len(got) > 0 {
				t.Fatalf("the other host received %d request(s)", len(got))
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				if want := "moved:secret=" + redirectSecret; string(resp.Body) != want {
					t.Errorf("body %q, want %q (307/308 re-send the body within the host)", resp.Body, want)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Do: %v; want %v", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), redirectSecret) {
				t.Errorf("the error holds the secret: %v", err)
			}
			if errors.Is(tc.wantErr, client.ErrCrossHostRedirect) {
				var re *client.RedirectError
				if !errors.As(err, &re) || re.Status != tc.code || !strings.HasPrefix(other.URL, re.To) || re.From != srv.URL {
					t.Errorf("error %#v: want a *RedirectError from %s to %s with status %d", re, srv.URL, other.URL, tc.code)
				}
				if !errors.Is(err, client.ErrPermanent) || client.Retryable(err) {
					t.Errorf("a refused redirect must be permanent and not retried: %v", err)
				}
				if n := requests.Load(); n != 1 {
					t.Errorf("%d requests; a refused redirect is not retried", n)
				}
			}
			if hc.CheckRedirect == nil && tc.policy != nil || hc.CheckRedirect != nil && tc.policy == nil {
				t.Error("New changed the caller's http.Client")
			}
		})
	}
}
