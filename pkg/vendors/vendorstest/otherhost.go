package vendorstest

// The other host of the credential-forwarding tests (issue 11, case 9): a
// vendor, or whatever answers at its address, that redirects to another
// host must not receive the client's credentials there.

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// OtherHost is a second local HTTP server, on another loopback address
// (127.0.0.2, or another port of 127.0.0.1 where that address cannot be
// bound), that records every request it receives and answers 404: the host a
// redirect names in the credential-forwarding tests.
type OtherHost struct {
	// URL is the server's base URL (scheme and host, no path).
	URL  string
	mu   sync.Mutex
	reqs []Received
}

// Received is one request an OtherHost got.
type Received struct {
	Method string
	URL    string // request URI, query included
	Header http.Header
	Body   []byte
}

// NewOtherHost starts an OtherHost; it stops when t ends.
func NewOtherHost(t testing.TB) *OtherHost {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Logf("127.0.0.2 cannot be bound (%v): the other host is another port of 127.0.0.1", err)
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	o := &OtherHost{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		o.mu.Lock()
		o.reqs = append(o.reqs, Received{Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})
		o.mu.Unlock()
		http.NotFound(w, r)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	o.URL = srv.URL
	return o
}

// Requests returns the requests received so far.
func (o *OtherHost) Requests() []Received {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]Received(nil), o.reqs...)
}

// Describe lists every request received, each with the names of the secrets
// (by name → value) it carried in its URL, a header or its body, and whether
// it had an access-token header. It never prints a secret's value.
func (o *OtherHost) Describe(secrets map[string]string) string {
	var b strings.Builder
	for _, r := range o.Requests() {
		var carried []string
		for name, v := range secrets {
			if v == "" {
				continue
			}
			var where []string
			if strings.Contains(r.URL, v) {
				where = append(where, "URL")
			}
			for k, vs := range r.Header {
				for _, hv := range vs {
					if strings.Contains(hv, v) {
						where = append(where, "header "+k)
					}
				}
			}
			if strings.Contains(string(r.Body), v) {
				where = append(where, "body")
			}
			if len(where) > 0 {
				carried = append(carried, name+" ("+strings.Join(where, ", ")+")")
			}
		}
		if r.Header.Get("access-token") != "" {
			carried = append(carried, "an access-token header")
		}
		sort.Strings(carried)
		if len(carried) == 0 {
			carried = []string{"no credential recognised"}
		}
		path, _, _ := strings.Cut(r.URL, "?")
		fmt.Fprintf(&b, "\n  %s %s carrying: %s", r.Method, path, strings.Join(carried, "; "))
	}
	return b.String()
}

// Redirecting passes the first after requests to next and answers every
// later one with a redirect (status code) to the same request URI, query
// included, at base. It returns the handler and a counter of the redirects
// it sent.
func Redirecting(next http.Handler, base string, code, after int) (http.Handler, *atomic.Int64) {
	var seen, sent atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= int64(after) {
			next.ServeHTTP(w, r)
			return
		}
		sent.Add(1)
		http.Redirect(w, r, base+r.URL.RequestURI(), code)
	}), &sent
}
