package vendortest

// Case 9 of issue 11: a vendor (or whatever answers at its address) that
// redirects to another host must not receive the client's credentials there.
// Go's http.Client re-sends custom headers (douyin's access-token) on every
// redirect and, on 307/308, the body too (TOP's session and app_key, the
// douyin token request's client_secret); a redirect that keeps the query
// carries douke's vekey and xingtu's token.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

// redirects is the suite's Case9RedirectsForwardNoCredentials: the vendor's
// sandbox answers with a redirect to another local host (from the first
// request, and from the second on, so a token request and the data requests
// after it are both covered), for 302, 307 and 308. The walk must fail, the
// other host must receive no request at all, and the error wraps
// client.ErrCrossHostRedirect and names no credential.
func redirects(t *testing.T, h Harness) {
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, after := range []int{0, 1} {
			t.Run(fmt.Sprintf("%d/after_%d_requests", code, after), func(t *testing.T) {
				srv, err := sandbox.NewServer(h.Sandbox)
				if err != nil {
					t.Fatal(err)
				}
				if err := srv.Register(h.Handler); err != nil {
					t.Fatal(err)
				}
				other := vendorstest.NewOtherHost(t)
				handler, sent := vendorstest.Redirecting(srv.Handler(), other.URL, code, after)
				ts := httptest.NewServer(handler)
				t.Cleanup(ts.Close)

				acct := accounts(h)[0]
				cfg := h.Source(ts.URL, acct)
				cfg.Account = acct.Name
				cfg.RatePerSecond = 10000
				f, err := h.Vendor.NewFetcher(cfg)
				if err != nil {
					t.Fatalf("NewFetcher: %v", err)
				}
				// a bound only so that a broken client cannot hang the test
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				defer cancel()
				for _, w := range h.Windows {
					if err = f.Walk(ctx, w, func(context.Context, vendors.Page) error { return nil }); err != nil {
						break
					}
				}
				if sent.Load() == 0 {
					t.Fatalf("the walk made %d requests or fewer: no redirect was sent, the case proves nothing", after)
				}
				if got := other.Requests(); len(got) > 0 {
					t.Errorf("the other host received %d request(s) after a %d redirect:%s", len(got), code, other.Describe(cfg.Credentials))
				}
				if err == nil {
					t.Fatalf("the walk succeeded although every request after the first %d was redirected to another host", after)
				}
				if !errors.Is(err, client.ErrCrossHostRedirect) || !errors.Is(err, client.ErrPermanent) {
					t.Errorf("walk error %v; want one wrapping client.ErrCrossHostRedirect and client.ErrPermanent", err)
				}
				for name, secret := range cfg.Credentials {
					if secret != "" && strings.Contains(err.Error(), secret) {
						t.Errorf("the error holds credential %s: %v", name, err)
					}
				}
			})
		}
	}
}
