package doukecsj

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	csjsandbox "github.com/yongjin-dev/yongjin/internal/sandbox/doukecsj"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
)

const testVekey = "csj-test-vekey-0001"

// testSandbox serves the csj sandbox and records every request's query.
type testSandbox struct {
	srv  *sandbox.Server
	url  string
	mu   sync.Mutex
	reqs []url.Values
}

func startSandbox(t *testing.T, f sandbox.Faults) *testSandbox {
	t.Helper()
	cfg := sandbox.DefaultConfig()
	cfg.Orders, cfg.Faults = 200, f
	cfg.Accounts = []sandbox.Account{csjsandbox.Account("demo", testVekey)}
	srv, err := sandbox.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Register(csjsandbox.Handler{}); err != nil {
		t.Fatal(err)
	}
	s := &testSandbox{srv: srv}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r.URL.Query())
		s.mu.Unlock()
		srv.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	s.url = hs.URL
	return s
}

func (s *testSandbox) requests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.reqs...)
}

func newTestFetcher(t *testing.T, s *testSandbox, params map[string]string, size int, now time.Time) *Fetcher {
	t.Helper()
	f, err := fetcherWith(vendors.SourceConfig{BaseURL: s.url, Account: "demo", Credentials: map[string]string{"vekey": testVekey},
		Params: params, PageSize: size}, &client.Hooks{Tune: func(c *client.Config) {
		c.RatePerSecond, c.InitialBackoff, c.MaxBackoff = 1e6, time.Millisecond, 2*time.Millisecond
	}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func walk(t *testing.T, f *Fetcher, w vendors.Window) (pages []vendors.Page, err error) {
	t.Helper()
	err = f.Walk(context.Background(), w, func(_ context.Context, p vendors.Page) error {
		pages = append(pages, p)
		return nil
	})
	return pages, err
}

var (
	winStart = time.Date(2026, 10, 1, 0, 0, 0, 0, sandbox.CST)
	winEnd   = time.Date(2026, 11, 10, 0, 0, 0, 0, sandbox.CST)
	later    = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) // a clock far past the window
)

func TestWalkPagesUntilEmptyCursor(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	for _, size := range []int{0, 7} {
		first := len(s.requests())
		pages, err := walk(t, newTestFetcher(t, s, nil, size, later), vendors.Window{Start: winStart, End: winEnd})
		if err != nil {
			t.Fatal(err)
		}
		want := size
		if size == 0 {
			want = MaxPageSize
		}
		total := 0
		for i, p := range pages {
			total += p.Records
			if i < len(pages)-1 && p.Records != want {
				t.Fatalf("size %d: page %d holds %d orders", size, i, p.Records)
			}
		}
		if len(pages) < 2 || total == 0 {
			t.Fatalf("size %d: %d pages, %d orders", size, len(pages), total)
		}
		if got := s.requests()[first].Get("size"); got != map[int]string{0: "50", 7: "7"}[size] {
			t.Fatalf("size sent %q", got)
		}
	}
}

func TestWindowTimeFormats(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	if _, err := walk(t, newTestFetcher(t, s, map[string]string{"time_format": "unix"}, 0, later), vendors.Window{Start: winStart, End: winEnd}); err != nil {
		t.Fatal(err)
	}
	if _, err := walk(t, newTestFetcher(t, s, nil, 0, later), vendors.Window{Start: winStart, End: winEnd}); err != nil {
		t.Fatal(err)
	}
	reqs := s.requests()
	if got := reqs[0].Get("start_time"); got != "1790784000" {
		t.Fatalf("unix start_time %q", got)
	}
	if got := reqs[len(reqs)-1].Get("start_time"); got != "2026-10-01 00:00:00" {
		t.Fatalf("datetime start_time %q", got)
	}
}

func TestUpdateWindowsKeepBehindTheRefreshLag(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	now := time.Date(2026, 11, 9, 12, 0, 0, 0, sandbox.CST)
	f := newTestFetcher(t, s, nil, 0, now)
	if _, err := walk(t, f, vendors.Window{Start: now.Add(-time.Hour), End: now, TimeType: "update"}); err != nil {
		t.Fatal(err)
	}
	if got := s.requests()[0].Get("end_time"); got != "2026-11-09 11:59:50" {
		t.Fatalf("update end_time %q, want 10 s behind now", got)
	}
	// pay windows are not moved
	if _, err := walk(t, f, vendors.Window{Start: now.Add(-time.Hour), End: now, TimeType: "pay"}); err != nil {
		t.Fatal(err)
	}
	if got := s.requests()[1].Get("end_time"); got != "2026-11-09 12:00:00" {
		t.Fatalf("pay end_time %q", got)
	}
	// a window wholly within the lag asks for nothing
	n := len(s.requests())
	if pages, err := walk(t, f, vendors.Window{Start: now.Add(-5 * time.Second), End: now, TimeType: "update"}); err != nil || len(pages) != 0 || len(s.requests()) != n {
		t.Fatalf("window within the lag: %d pages, %v", len(pages), err)
	}
}

func TestWindowRules(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	f := newTestFetcher(t, s, nil, 0, later)
	for _, tc := range []struct {
		name string
		w    vendors.Window
		want string
	}{
		{"end before start", vendors.Window{Start: winEnd, End: winStart}, "before start"},
		{"longer than 90 days", vendors.Window{Start: winStart, End: winStart.Add(MaxWindow + time.Second)}, "spans more than"},
		{"bad time type", vendors.Window{Start: winStart, End: winEnd, TimeType: "confirm"}, "want pay or update"},
	} {
		if _, err := walk(t, f, tc.w); !errors.Is(err, client.ErrPermanent) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if len(s.requests()) != 0 {
		t.Fatalf("%d requests for invalid windows", len(s.requests()))
	}
}

func TestOrderIDsMode(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{})
	pages, err := walk(t, newTestFetcher(t, s, nil, 0, later), vendors.Window{Start: winStart, End: winEnd})
	if err != nil {
		t.Fatal(err)
	}
	p, err := DecodePage(pages[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	ids := string(p.Orders[0].OrderID) + "," + string(p.Orders[1].OrderID)
	got, err := walk(t, newTestFetcher(t, s, map[string]string{"order_ids": ids}, 0, later), vendors.Window{Start: winStart, End: winEnd})
	if err != nil || len(got) != 1 || got[0].Records != 2 {
		t.Fatalf("order_ids walk: %d pages, %v", len(got), err)
	}
}

func TestFaultsAreRetriedAndClassified(t *testing.T) {
	s := startSandbox(t, sandbox.Faults{ErrorRate5xx: 0.3, ThrottleRate: 0.2})
	if _, err := walk(t, newTestFetcher(t, s, nil, 0, later), vendors.Window{Start: winStart, End: winEnd}); err != nil {
		t.Fatalf("walk with faults: %v", err)
	}
	st := s.srv.Stats(Name)
	if st.Errors5xx == 0 || st.Throttled == 0 {
		t.Fatalf("no fault was injected: %+v", st)
	}
	err := classifyBody(t, `{"error":"40001","msg":"vekey错误或已失效","data":null}`)
	if !errors.Is(err, client.ErrUnauthorized) {
		t.Fatalf("vekey error: %v", err)
	}
	if err := classifyBody(t, `{"error":"40029","msg":"请求过于频繁,请稍后再试","data":null}`); !errors.Is(err, client.ErrRateLimited) {
		t.Fatalf("throttle: %v", err)
	}
}

// classifyBody classifies one answer body as the fetch step does.
func classifyBody(t *testing.T, body string) error {
	t.Helper()
	_, err := DecodePage([]byte(body))
	if err == nil {
		t.Fatalf("%s decoded", body)
	}
	return classifyAnswer(err)
}

func TestNewFetcherRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  vendors.SourceConfig
		want string
	}{
		{"no vekey", vendors.SourceConfig{}, `missing credential "vekey"`},
		{"unknown credential", vendors.SourceConfig{Credentials: map[string]string{"vekey": testVekey, "token": "x"}}, `unknown credential "token"`},
		{"size", vendors.SourceConfig{Credentials: map[string]string{"vekey": testVekey}, PageSize: 51}, "page size 51"},
		{"unknown param", vendors.SourceConfig{Credentials: map[string]string{"vekey": testVekey}, Params: map[string]string{"cursor": "1"}}, `unknown param "cursor"`},
		{"order_type", vendors.SourceConfig{Credentials: map[string]string{"vekey": testVekey}, Params: map[string]string{"order_type": "4"}}, "want 0, 1, 2 or 3"},
		{"time_format", vendors.SourceConfig{Credentials: map[string]string{"vekey": testVekey}, Params: map[string]string{"time_format": "ms"}}, "want datetime or unix"},
		{"order_ids", vendors.SourceConfig{Credentials: map[string]string{"vekey": testVekey}, Params: map[string]string{"order_ids": "1,2,3,4,5,6,7,8,9,10,11"}}, "at most 10"},
		{"vekey in a param", vendors.SourceConfig{Credentials: map[string]string{"vekey": testVekey}, Params: map[string]string{"time_type": testVekey}}, "[REDACTED]"},
	} {
		_, err := NewFetcher(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), testVekey) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
