package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// fakeHandler is a minimal vendor: GET /fake/orders?key=K lists the IDs of
// the account's first page by pay time; a throttled call answers 429.
type fakeHandler struct{ name string }

func (h fakeHandler) Name() string { return h.name }

func (h fakeHandler) Mount(mux *http.ServeMux, env *Env) {
	mux.HandleFunc("/"+h.name+"/orders", func(w http.ResponseWriter, r *http.Request) {
		call, ok := env.Admit(w, r)
		if !ok {
			return
		}
		if call.Throttled {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		for _, b := range env.Books() {
			if b.Account.Credentials["key"] == r.URL.Query().Get("key") {
				for _, v := range b.Page(Query{At: call.Now, Limit: 5}) {
					fmt.Fprintf(w, "%s %s\n", v.Order.IDString(), v.State.Status)
				}
				fmt.Fprintf(w, "request %s\n", call.RequestID)
				return
			}
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
}

func newTestServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Register(fakeHandler{"fake"}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}

func do(t *testing.T, method, u string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

func TestAdminClock(t *testing.T) {
	s, hs := newTestServer(t, testConfig(1, 100))
	if code, body := do(t, "GET", hs.URL+"/_sandbox/clock"); code != 200 || body != "2026-11-10T00:00:00+08:00\n" {
		t.Fatalf("GET clock: %d %q", code, body)
	}
	if code, body := do(t, "POST", hs.URL+"/_sandbox/clock?advance=36h"); code != 200 || body != "2026-11-11T12:00:00+08:00\n" {
		t.Fatalf("advance: %d %q", code, body)
	}
	if code, body := do(t, "POST", hs.URL+"/_sandbox/clock?set=2026-10-05T01:02:03Z"); code != 200 || body != "2026-10-05T09:02:03+08:00\n" {
		t.Fatalf("set: %d %q", code, body)
	}
	if !s.Clock().Now().Equal(time.Date(2026, 10, 5, 1, 2, 3, 0, time.UTC)) {
		t.Fatalf("server clock %s", s.Clock().Now())
	}
	if code, _ := do(t, "POST", hs.URL+"/_sandbox/clock?set="+url.QueryEscape("2026-10-06 00:00:00")); code != 200 || !s.Clock().Now().Equal(time.Date(2026, 10, 6, 0, 0, 0, 0, wire.CST)) {
		t.Fatalf("set wall-clock: %d %s", code, s.Clock().Now())
	}
	for _, q := range []string{"", "?advance=soon", "?set=yesterday", "?set=2026-10-05T01:02:03Z&advance=1h"} {
		if code, _ := do(t, "POST", hs.URL+"/_sandbox/clock"+q); code != 400 {
			t.Errorf("POST clock%s: %d, want 400", q, code)
		}
	}
	if code, body := do(t, "GET", hs.URL+"/_sandbox/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	if code, body := do(t, "GET", hs.URL+"/_sandbox/"); code != 200 || !strings.Contains(body, "/_sandbox/truth") {
		t.Fatalf("index: %d %q", code, body)
	}
}

func TestAdminTruth(t *testing.T) {
	s, hs := newTestServer(t, testConfig(3, 500))
	code, body := do(t, "GET", hs.URL+"/_sandbox/truth?vendor=fake")
	if code != 200 {
		t.Fatalf("truth: %d %s", code, body)
	}
	var got Truth
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := s.Truth("fake")
	if d := summary.Diff(want.Summary, got.Summary); len(d) > 0 || !got.At.Equal(want.At) || len(got.Orders) != 1000 {
		t.Fatalf("truth over HTTP differs: %v (orders %d)", d, len(got.Orders))
	}
	for i := range want.Orders {
		w, g := want.Orders[i], got.Orders[i]
		if !w.PaidAt.Equal(g.PaidAt) || !w.UpdatedAt.Equal(g.UpdatedAt) {
			t.Fatalf("order %d times differ", i)
		}
		w.PaidAt, w.UpdatedAt, g.PaidAt, g.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(w, g) {
			t.Fatalf("order %d: %+v != %+v", i, g, w)
		}
	}
	at := "2026-10-10T00:00:00+08:00"
	_, body = do(t, "GET", hs.URL+"/_sandbox/truth?vendor=fake&orders=false&at="+url.QueryEscape(at))
	got = Truth{}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	atT, _ := time.Parse(time.RFC3339, at)
	if d := summary.Diff(s.Model().Truth("fake", atT), got.Summary); len(d) > 0 || got.Orders != nil {
		t.Fatalf("truth at %s: %v, %d orders", at, d, len(got.Orders))
	}
	if code, _ := do(t, "GET", hs.URL+"/_sandbox/truth?vendor=nope"); code != 404 {
		t.Fatalf("unknown vendor: %d", code)
	}
	if code, _ := do(t, "GET", hs.URL+"/_sandbox/truth"); code != 404 {
		t.Fatalf("ambiguous vendor: %d", code)
	}
}

func TestRegister(t *testing.T) {
	s, err := NewServer(testConfig(1, 10))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Register(fakeHandler{"fake"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Register(fakeHandler{"fake"}); err == nil {
		t.Fatal("duplicate vendor registered")
	}
	if err := s.Register(fakeHandler{"other"}); err != nil {
		t.Fatal(err)
	}
	if v := s.Vendors(); !reflect.DeepEqual(v, []string{"fake", "other"}) {
		t.Fatalf("vendors %v", v)
	}
	if _, err := NewServer(Config{}); err == nil {
		t.Fatal("empty config accepted")
	}
}

// faultRun sends n requests and returns the status sequence.
func faultRun(t *testing.T, f Faults, n int) (string, Stats) {
	t.Helper()
	cfg := testConfig(99, 50)
	cfg.Faults = f
	s, hs := newTestServer(t, cfg)
	var sb strings.Builder
	for i := 0; i < n; i++ {
		code, body := do(t, "GET", hs.URL+"/fake/orders?key=ka")
		switch code {
		case 200:
			sb.WriteByte('.')
		case 502:
			if !strings.Contains(body, "<h1>502 Bad Gateway</h1>") {
				t.Fatalf("502 body %q", body)
			}
			sb.WriteByte('E')
		case 429:
			sb.WriteByte('T')
		default:
			t.Fatalf("status %d", code)
		}
	}
	return sb.String(), s.Stats("fake")
}

func TestFaultInjection(t *testing.T) {
	f := Faults{ErrorRate5xx: 0.2, ThrottleRate: 0.1}
	const n = 1000
	a, st := faultRun(t, f, n)
	b, _ := faultRun(t, f, n)
	if a != b {
		t.Fatal("same seed gave different fault sequences")
	}
	e, th := strings.Count(a, "E"), strings.Count(a, "T")
	if math.Abs(float64(e)/n-0.2) > 0.04 || math.Abs(float64(th)/n-0.1) > 0.03 {
		t.Fatalf("%d 502s and %d throttles in %d requests, want about 20%% and 10%%", e, th, n)
	}
	if st != (Stats{Requests: n, Errors5xx: int64(e), Throttled: int64(th)}) {
		t.Fatalf("stats %+v", st)
	}
	if none, _ := faultRun(t, Faults{}, 200); strings.Trim(none, ".") != "" {
		t.Fatal("faults injected with zero rates")
	}
}

func TestFaultSlowAndAdmin(t *testing.T) {
	s, hs := newTestServer(t, testConfig(1, 10))
	code, body := do(t, "POST", hs.URL+"/_sandbox/faults?slow_rate=0.5&slow_for=1ms&error_rate_5xx=0.1")
	if code != 200 || !strings.Contains(body, `"slow_for":"1ms"`) {
		t.Fatalf("POST faults: %d %s", code, body)
	}
	if f := s.Faults(); f != (Faults{ErrorRate5xx: 0.1, SlowRate: 0.5, SlowFor: time.Millisecond}) {
		t.Fatalf("faults %+v", f)
	}
	for i := 0; i < 100; i++ {
		do(t, "GET", hs.URL+"/fake/orders?key=ka")
	}
	st := s.Stats("fake")
	if st.Requests != 100 || st.Slowed < 30 || st.Slowed > 70 || st.Errors5xx == 0 {
		t.Fatalf("stats %+v", st)
	}
	_, body = do(t, "GET", hs.URL+"/_sandbox/stats")
	var all map[string]Stats
	if err := json.Unmarshal([]byte(body), &all); err != nil || all["fake"] != st {
		t.Fatalf("stats endpoint %s (%v)", body, err)
	}
	if code, _ := do(t, "POST", hs.URL+"/_sandbox/faults?error_rate_5xx=2"); code != 400 {
		t.Fatalf("invalid rate accepted: %d", code)
	}
	if code, body := do(t, "GET", hs.URL+"/_sandbox/faults"); code != 200 || !strings.Contains(body, `"error_rate_5xx":0.1`) {
		t.Fatalf("GET faults: %d %s", code, body)
	}
}

func TestVendorSeesClock(t *testing.T) {
	s, hs := newTestServer(t, testConfig(4, 200))
	s.Clock().Set(DefaultConfig().From.Add(-time.Hour))
	if _, body := do(t, "GET", hs.URL+"/fake/orders?key=ka"); strings.Count(body, "\n") != 1 {
		t.Fatalf("orders visible before the first payment: %q", body)
	}
	s.Clock().Set(DefaultConfig().To)
	_, b1 := do(t, "GET", hs.URL+"/fake/orders?key=ka")
	_, b2 := do(t, "GET", hs.URL+"/fake/orders?key=kb")
	if strings.Count(b1, "\n") != 6 || b1 == b2 {
		t.Fatalf("accounts: %q / %q", b1, b2)
	}
	if code, _ := do(t, "GET", hs.URL+"/fake/orders?key=nope"); code != 401 {
		t.Fatalf("bad key: %d", code)
	}
}
