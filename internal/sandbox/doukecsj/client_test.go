package doukecsj_test

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
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
	"github.com/yongjin-dev/yongjin/pkg/vendors/doukecsj"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// The douke-csj client's rules walked against its sandbox.

const clientVekey = "csj-client-vekey-0001"

// recorded serves the csj sandbox and records every request's query.
type recorded struct {
	srv  *sandbox.Server
	url  string
	mu   sync.Mutex
	reqs []url.Values
}

func startRecorded(t *testing.T, f sandbox.Faults) *recorded {
	t.Helper()
	cfg := sandbox.DefaultConfig()
	cfg.Orders, cfg.Faults = 200, f
	cfg.Accounts = []sandbox.Account{csjsandbox.Account("demo", clientVekey)}
	srv, err := sandbox.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Register(csjsandbox.Handler{}); err != nil {
		t.Fatal(err)
	}
	s := &recorded{srv: srv}
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

func (s *recorded) requests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.reqs...)
}

func fetcher(t *testing.T, s *recorded, params map[string]string, size int) vendors.Fetcher {
	t.Helper()
	f, err := doukecsj.New().NewFetcher(vendors.SourceConfig{BaseURL: s.url, Account: "demo", Credentials: map[string]string{"vekey": clientVekey},
		Params: params, PageSize: size, RatePerSecond: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func walkPages(t *testing.T, f vendors.Fetcher, w vendors.Window) ([]vendors.Page, error) {
	t.Helper()
	var pages []vendors.Page
	err := f.Walk(context.Background(), w, func(_ context.Context, p vendors.Page) error {
		pages = append(pages, p)
		return nil
	})
	return pages, err
}

var (
	payStart = time.Date(2026, 10, 1, 0, 0, 0, 0, wire.CST)
	payEnd   = time.Date(2026, 11, 10, 0, 0, 0, 0, wire.CST)
)

func TestClientPagesUntilEmptyCursor(t *testing.T) {
	s := startRecorded(t, sandbox.Faults{})
	for _, size := range []int{0, 7} {
		first := len(s.requests())
		pages, err := walkPages(t, fetcher(t, s, nil, size), vendors.Window{Start: payStart, End: payEnd})
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]int{0: doukecsj.MaxPageSize, 7: 7}[size]
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

func TestClientTimeFormats(t *testing.T) {
	s := startRecorded(t, sandbox.Faults{})
	if _, err := walkPages(t, fetcher(t, s, map[string]string{"time_format": "unix"}, 0), vendors.Window{Start: payStart, End: payEnd}); err != nil {
		t.Fatal(err)
	}
	n := len(s.requests())
	if _, err := walkPages(t, fetcher(t, s, nil, 0), vendors.Window{Start: payStart, End: payEnd}); err != nil {
		t.Fatal(err)
	}
	reqs := s.requests()
	if got := reqs[0].Get("start_time"); got != "1790784000" {
		t.Fatalf("unix start_time %q", got)
	}
	if got := reqs[n].Get("start_time"); got != "2026-10-01 00:00:00" {
		t.Fatalf("datetime start_time %q", got)
	}
}

func TestClientKeepsUpdateWindowsBehindTheRefreshLag(t *testing.T) {
	s := startRecorded(t, sandbox.Faults{})
	f := fetcher(t, s, nil, 0)
	now := time.Now()
	if _, err := walkPages(t, f, vendors.Window{Start: now.Add(-time.Hour), End: now.Add(time.Hour), TimeType: "update"}); err != nil {
		t.Fatal(err)
	}
	end, err := time.ParseInLocation(sandbox.WallLayout, s.requests()[0].Get("end_time"), wire.CST)
	if err != nil || end.After(time.Now().Add(-doukecsj.RefreshLag)) || end.Before(now.Add(-doukecsj.RefreshLag-time.Minute)) {
		t.Fatalf("update end_time %s (%v): want about now minus %s", end, err, doukecsj.RefreshLag)
	}
	// a window wholly within the lag asks for nothing
	n := len(s.requests())
	if pages, err := walkPages(t, f, vendors.Window{Start: time.Now().Add(-time.Second), End: time.Now().Add(time.Minute), TimeType: "update"}); err != nil || len(pages) != 0 || len(s.requests()) != n {
		t.Fatalf("window within the lag: %d pages, %v", len(pages), err)
	}
	// pay windows are not moved
	if _, err := walkPages(t, f, vendors.Window{Start: payStart, End: payEnd, TimeType: "pay"}); err != nil {
		t.Fatal(err)
	}
	if got := s.requests()[n].Get("end_time"); got != "2026-11-10 00:00:00" {
		t.Fatalf("pay end_time %q", got)
	}
}

func TestClientOrderIDsMode(t *testing.T) {
	s := startRecorded(t, sandbox.Faults{})
	pages, err := walkPages(t, fetcher(t, s, nil, 0), vendors.Window{Start: payStart, End: payEnd})
	if err != nil {
		t.Fatal(err)
	}
	p, err := doukecsj.DecodePage(pages[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	ids := string(p.Orders[0].OrderID) + "," + string(p.Orders[1].OrderID)
	got, err := walkPages(t, fetcher(t, s, map[string]string{"order_ids": ids}, 0), vendors.Window{Start: payStart, End: payEnd})
	if err != nil || len(got) != 1 || got[0].Records != 2 {
		t.Fatalf("order_ids walk: %d pages, %v", len(got), err)
	}
}

func TestClientRetriesAndClassifiesFaults(t *testing.T) {
	s := startRecorded(t, sandbox.Faults{ErrorRate5xx: 0.5})
	if _, err := walkPages(t, fetcher(t, s, nil, 0), vendors.Window{Start: payStart, End: payEnd}); err != nil {
		t.Fatalf("walk with faults: %v", err)
	}
	if st := s.srv.Stats(doukecsj.Name); st.Errors5xx == 0 {
		t.Fatalf("no fault was injected: %+v", st)
	}
	for body, want := range map[string]error{
		`{"error":"40001","msg":"vekey错误或已失效","data":null}`:      client.ErrUnauthorized,
		`{"error":"40029","msg":"请求过于频繁,请稍后再试","data":null}`:     client.ErrRateLimited,
		`{"error":"40002","msg":"size取值区间为[1, 50]","data":null}`: client.ErrPermanent,
	} {
		_, err := doukecsj.DecodePage([]byte(body))
		if got := douke.Faults.Classify(err); !errors.Is(got, want) || !strings.Contains(got.Error(), "error") {
			t.Errorf("%s: %v, want %v", body, got, want)
		}
	}
}
