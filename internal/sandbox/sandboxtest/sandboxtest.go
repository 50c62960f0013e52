// Package sandboxtest starts vendor sandboxes for tests and sends them
// requests, so the vendor sandboxes' tests (internal/sandbox/<vendor>) do
// not each write their own server start-up and request plumbing.
package sandboxtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
)

// Start serves a sandbox for cfg with handlers registered (see
// sandbox.NewServer) on a loopback httptest server that stops when t ends.
// It returns the sandbox and the server's base URL (no path); any failure
// ends the test.
func Start(t testing.TB, cfg sandbox.Config, handlers ...sandbox.VendorHandler) (*sandbox.Server, string) {
	t.Helper()
	s, err := sandbox.NewServer(cfg, handlers...)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs.URL
}

// Do sends req with http.DefaultClient and returns the response (its body
// already read and closed) and the body; any failure ends the test.
func Do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// Send requests u with the parameters p: for POST as a form body of
// Content-Type formType, for any other method as the query string. It
// returns what Do returns.
func Send(t testing.TB, method, u string, p url.Values, formType string) (*http.Response, []byte) {
	t.Helper()
	var req *http.Request
	var err error
	if method == http.MethodPost {
		req, err = http.NewRequest(method, u, strings.NewReader(p.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", formType)
		}
	} else {
		req, err = http.NewRequest(method, u+"?"+p.Encode(), nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return Do(t, req)
}
