// Package vendortest is the conformance suite every vendor passes, the way
// Watermill runs one suite against every Pub/Sub: a vendor's client walks its
// own sandbox protocol, its normalizer maps every page, and the canonical
// result must equal the sandbox's ground truth — with and without injected
// faults — while credentials never leak and bad input fails cleanly.
package vendortest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
)

// Harness describes one vendor to the suite.
type Harness struct {
	// Vendor is the implementation under test.
	Vendor vendors.Vendor
	// Handler is the vendor's sandbox protocol.
	Handler sandbox.VendorHandler
	// Sandbox is the sandbox configuration (seed, orders, pay range, clock);
	// its Accounts must hold this vendor's accounts with their credentials.
	Sandbox sandbox.Config
	// Source returns the source configuration that polls account acct of the
	// sandbox at baseURL: credentials (all of them, exactly as the sandbox
	// accepts) and the params that cover all of the account's data.
	Source func(baseURL string, acct sandbox.Account) vendors.SourceConfig
	// Windows are the windows that together cover every record visible at
	// the sandbox clock (for snapshot vendors one window is enough; its
	// times may be anything the vendor accepts).
	Windows []vendors.Window
	// WrongCredentials returns cfg with credentials the sandbox refuses.
	WrongCredentials func(cfg vendors.SourceConfig) vendors.SourceConfig
}

// Run runs the conformance suite.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Vendor == nil || h.Handler == nil || h.Source == nil || len(h.Windows) == 0 || len(h.Sandbox.Accounts) == 0 {
		t.Fatal("vendortest: Harness needs Vendor, Handler, Source, Windows and Sandbox.Accounts")
	}
	if h.Vendor.Name() != h.Handler.Name() {
		t.Fatalf("vendor %q and sandbox handler %q disagree on the name", h.Vendor.Name(), h.Handler.Name())
	}
	t.Run("MatchesTruth", func(t *testing.T) { matchesTruth(t, h, sandbox.Faults{}) })
	t.Run("MatchesTruthWithFaults", func(t *testing.T) {
		matchesTruth(t, h, sandbox.Faults{ErrorRate5xx: 0.15, ThrottleRate: 0.04})
	})
	t.Run("WrongCredentials", func(t *testing.T) { wrongCredentials(t, h) })
	t.Run("NormalizeIsDeterministic", func(t *testing.T) { deterministic(t, h) })
	t.Run("BadPages", func(t *testing.T) { badPages(t, h) })
	t.Run("Case9RedirectsForwardNoCredentials", func(t *testing.T) { redirects(t, h) })
}

type sandboxRun struct {
	srv *sandbox.Server
	url string
}

func startSandbox(t *testing.T, h Harness, f sandbox.Faults) sandboxRun {
	t.Helper()
	cfg := h.Sandbox
	cfg.Faults = f
	srv, err := sandbox.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Register(h.Handler); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return sandboxRun{srv: srv, url: ts.URL}
}

func accounts(h Harness) []sandbox.Account {
	var out []sandbox.Account
	for _, a := range h.Sandbox.Accounts {
		if a.Vendor == h.Vendor.Name() {
			out = append(out, a)
		}
	}
	return out
}

// walkAll fetches every page of every account and window and returns the
// raw pages as the poller would publish them.
func walkAll(t *testing.T, h Harness, run sandboxRun) []events.RawPage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var pages []events.RawPage
	for _, acct := range accounts(h) {
		cfg := h.Source(run.url, acct)
		cfg.Account = acct.Name
		if cfg.RatePerSecond == 0 {
			cfg.RatePerSecond = 10000
		}
		f, err := h.Vendor.NewFetcher(cfg)
		if err != nil {
			t.Fatalf("NewFetcher(%s): %v", acct.Name, err)
		}
		for _, w := range h.Windows {
			err := f.Walk(ctx, w, func(_ context.Context, p vendors.Page) error {
				pages = append(pages, events.RawPage{
					SourceID: "conformance", Vendor: h.Vendor.Name(), Endpoint: h.Vendor.Endpoint(), Account: acct.Name,
					WindowStart: w.Start, WindowEnd: w.End, TimeType: w.TimeType, Cursor: p.Cursor,
					HTTPStatus: p.HTTPStatus, FetchedAt: time.Now().UTC(), Params: p.Params, Body: p.Body,
				})
				return nil
			})
			if err != nil {
				t.Fatalf("walk %s %s..%s: %v", acct.Name, w.Start, w.End, err)
			}
		}
	}
	if len(pages) == 0 {
		t.Fatal("the walk returned no pages")
	}
	return pages
}

func matchesTruth(t *testing.T, h Harness, f sandbox.Faults) {
	run := startSandbox(t, h, f)
	pages := walkAll(t, h, run)
	var all []events.Envelope
	for _, p := range pages {
		// a raw page survives the trip through NATS headers unchanged
		hdr := p.Headers()
		back, err := events.RawPageFromHeaders(func(k string) string { return hdr[k] }, p.Body)
		if err != nil {
			t.Fatalf("raw page header round trip: %v", err)
		}
		envs, err := h.Vendor.Normalize(back)
		if err != nil {
			t.Fatalf("normalize page %s: %v", p.Cursor, err)
		}
		for _, e := range envs {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			if err := events.Validate(b); err != nil {
				t.Fatalf("event fails its schema: %v\n%s", err, b)
			}
		}
		all = append(all, envs...)
	}
	got, err := summary.FromEvents(all)
	if err != nil {
		t.Fatal(err)
	}
	want := run.srv.Truth(h.Vendor.Name()).Summary
	if diff := summary.Diff(want, got); len(diff) > 0 {
		t.Fatalf("events differ from the sandbox truth:\n%s", strings.Join(diff, "\n"))
	}
	if empty(want) {
		t.Fatal("the sandbox truth is empty; the test would prove nothing")
	}
	st := run.srv.Stats(h.Vendor.Name())
	if f.ErrorRate5xx > 0 && st.Errors5xx == 0 {
		t.Fatalf("faults were configured but none were injected (%+v)", st)
	}
	// no credential in any page body or param
	for _, acct := range accounts(h) {
		for _, secret := range acct.Credentials {
			if len(secret) < 6 {
				continue
			}
			for _, p := range pages {
				if strings.Contains(string(p.Body), secret) {
					t.Fatalf("a raw page body contains a credential")
				}
				for _, v := range p.Params {
					if strings.Contains(v, secret) {
						t.Fatalf("a raw page param contains a credential")
					}
				}
			}
			for _, e := range all {
				if strings.Contains(string(e.Data), secret) {
					t.Fatalf("an event contains a credential")
				}
			}
		}
	}
}

func empty(s summary.Summary) bool {
	return len(s.Orders)+len(s.Commissions)+len(s.Plans)+len(s.Snapshots) == 0
}

func wrongCredentials(t *testing.T, h Harness) {
	if h.WrongCredentials == nil {
		t.Fatal("Harness.WrongCredentials is required")
	}
	run := startSandbox(t, h, sandbox.Faults{})
	acct := accounts(h)[0]
	cfg := h.WrongCredentials(h.Source(run.url, acct))
	cfg.Account = acct.Name
	f, err := h.Vendor.NewFetcher(cfg)
	if err != nil {
		t.Fatalf("NewFetcher: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = f.Walk(ctx, h.Windows[0], func(context.Context, vendors.Page) error {
		t.Fatal("a page was emitted with wrong credentials")
		return nil
	})
	if !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("walk with wrong credentials: %v; want ErrUnauthorized", err)
	}
	for _, secret := range cfg.Credentials {
		if len(secret) >= 6 && strings.Contains(err.Error(), secret) {
			t.Fatalf("the error contains a credential: %v", err)
		}
	}
}

func deterministic(t *testing.T, h Harness) {
	run := startSandbox(t, h, sandbox.Faults{})
	pages := walkAll(t, h, run)
	for _, p := range pages[:min(len(pages), 20)] {
		a, errA := h.Vendor.Normalize(p)
		b, errB := h.Vendor.Normalize(p)
		if errA != nil || errB != nil {
			t.Fatalf("normalize: %v / %v", errA, errB)
		}
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if string(ja) != string(jb) {
			t.Fatalf("normalizing the same page twice differs")
		}
	}
}

func badPages(t *testing.T, h Harness) {
	for _, body := range []string{"", "null", "{", "[]", "<html>502</html>", `{"error":`, "\x00\x01"} {
		_, err := h.Vendor.Normalize(events.RawPage{Vendor: h.Vendor.Name(), Endpoint: h.Vendor.Endpoint(), Account: "x", Body: []byte(body),
			Params: map[string]string{}, FetchedAt: time.Now()})
		if err == nil {
			continue // some vendors accept an empty envelope as an empty page; no panic is the contract
		}
		if !errors.Is(err, vendors.ErrMalformedPage) && !errors.Is(err, vendors.ErrVendorError) {
			t.Fatalf("Normalize(%q) = %v; want an error wrapping ErrMalformedPage or ErrVendorError", body, err)
		}
	}
}
