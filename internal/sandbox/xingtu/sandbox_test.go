package xingtu_test

// Tests of the xingtu vendor sandbox. They read responses with their own
// decoding (not this package's decoder) and check the protocol and the
// ground truth. Identifiers start with Sandbox/sandbox.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/sandbox/sandboxtest"
	xingtusandbox "github.com/yongjin-dev/yongjin/internal/sandbox/xingtu"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/xingtu"
)

const (
	sandboxTestToken  = "sandbox-token-1"
	sandboxTestToken2 = "sandbox-token-2"
)

func sandboxTestConfig(seed int64) sandbox.Config {
	cfg := sandbox.DefaultConfig()
	cfg.Seed, cfg.Orders = seed, 0
	cfg.Accounts = []sandbox.Account{
		xingtusandbox.Account("demo", sandboxTestToken),
		xingtusandbox.Account("second", sandboxTestToken2),
	}
	return cfg
}

type sandboxTestEnv struct {
	srv *sandbox.Server
	url string
}

func sandboxStart(t *testing.T, cfg sandbox.Config) *sandboxTestEnv {
	t.Helper()
	s, base := sandboxtest.Start(t, cfg, xingtusandbox.Handler{})
	return &sandboxTestEnv{srv: s, url: base}
}

// get requests the endpoint with query q and returns status and body.
func (e *sandboxTestEnv) get(t *testing.T, q url.Values) (int, []byte) {
	t.Helper()
	res, b := sandboxtest.Send(t, http.MethodGet, e.url+xingtusandbox.Path, q, "")
	return res.StatusCode, b
}

// sandboxEnvelope decodes a body with plain encoding/json.
type sandboxEnvelope struct {
	Code       *int            `json:"code"`
	Message    *string         `json:"message"`
	Data       json.RawMessage `json:"data"`
	RecordTime string          `json:"recordTime"`
	RequestID  string          `json:"requestId"`
}

func sandboxDecode(t *testing.T, b []byte) sandboxEnvelope {
	t.Helper()
	var env sandboxEnvelope
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if env.Code == nil {
		t.Fatalf("no code: %s", b)
	}
	return env
}

func TestSandboxAuthors(t *testing.T) {
	a := xingtusandbox.Authors(1, "demo")
	if len(a) != xingtusandbox.AuthorsPerAccount || xingtusandbox.AuthorsPerAccount != 25 {
		t.Fatalf("%d authors", len(a))
	}
	digits := regexp.MustCompile(`^[1-9][0-9]{18}$`)
	seen := map[string]bool{}
	for _, id := range a {
		if !digits.MatchString(id) || id <= "9007199254740993" && len(id) <= 16 {
			t.Errorf("author %q is not a 19-digit ID", id)
		}
		if seen[id] {
			t.Errorf("author %s twice", id)
		}
		seen[id] = true
	}
	if b := xingtusandbox.Authors(1, "demo"); strings.Join(a, ",") != strings.Join(b, ",") {
		t.Error("Authors is not deterministic")
	}
	for _, other := range [][]string{xingtusandbox.Authors(2, "demo"), xingtusandbox.Authors(1, "second")} {
		for _, id := range other {
			if seen[id] {
				t.Errorf("author %s shared across seeds or accounts", id)
			}
		}
	}
}

func TestSandboxErrors(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(7))
	author := xingtusandbox.Authors(7, "demo")[0]
	otherAccountsAuthor := xingtusandbox.Authors(7, "second")[0]
	tests := []struct {
		name   string
		q      url.Values
		status int
		code   int
		msg    string
	}{
		{"no token", url.Values{"oAuthorId": {author}}, 401, 100, "Invalid or inactive token"},
		{"wrong token", url.Values{"token": {"nope"}, "oAuthorId": {author}}, 401, 100, "Invalid or inactive token"},
		{"token case differs", url.Values{"token": {strings.ToUpper(sandboxTestToken)}, "oAuthorId": {author}}, 401, 100, "Invalid or inactive token"},
		{"no author", url.Values{"token": {sandboxTestToken}}, 400, 400, "oAuthorId is required"},
		{"blank author", url.Values{"token": {sandboxTestToken}, "oAuthorId": {" "}}, 400, 400, "oAuthorId is required"},
		{"bad period", url.Values{"token": {sandboxTestToken}, "oAuthorId": {author}, "period": {"DAY_7"}}, 400, 400, "period must be one of DAY_30, DAY_90"},
		{"lower-case period", url.Values{"token": {sandboxTestToken}, "oAuthorId": {author}, "period": {"day_30"}}, 400, 400, "period must be one of DAY_30, DAY_90"},
		{"unknown author", url.Values{"token": {sandboxTestToken}, "oAuthorId": {"6912345678901234567"}}, 400, 400, "Author not found"},
		{"another account's author", url.Values{"token": {sandboxTestToken}, "oAuthorId": {otherAccountsAuthor}}, 400, 400, "Author not found"},
	}
	clock := e.srv.Clock().Now().Format("2006-01-02 15:04:05")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, b := e.get(t, tc.q)
			env := sandboxDecode(t, b)
			if status != tc.status || *env.Code != tc.code || env.Message == nil || *env.Message != tc.msg {
				t.Fatalf("HTTP %d %s; want HTTP %d code %d %q", status, b, tc.status, tc.code, tc.msg)
			}
			if string(env.Data) != "null" || env.RecordTime != clock || env.RequestID == "" {
				t.Errorf("envelope members: %s", b)
			}
		})
	}
	res, err := http.Post(e.url+xingtusandbox.Path, "application/x-www-form-urlencoded", strings.NewReader("token="+sandboxTestToken))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: HTTP %d, want 405", res.StatusCode)
	}
}

func TestSandboxSuccessShape(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(7))
	clock := e.srv.Clock().Now().Format("2006-01-02 15:04:05")
	withOrders := 0
	for _, author := range xingtusandbox.Authors(7, "second") {
		for _, period := range []string{"", "DAY_30", "DAY_90"} {
			q := url.Values{"token": {sandboxTestToken2}, "oAuthorId": {author}}
			if period != "" {
				q.Set("period", period)
			}
			status, b := e.get(t, q)
			env := sandboxDecode(t, b)
			if status != 200 || *env.Code != 0 || env.Message != nil || env.RecordTime != clock || env.RequestID == "" {
				t.Fatalf("HTTP %d %s", status, b)
			}
			if !bytes.HasPrefix(b, []byte(`{"code":0,"message":null,"data":{"o_author_id":"`+author+`"`)) {
				t.Errorf("wire order or author: %.120s", b)
			}
			var d map[string]json.RawMessage
			if err := json.Unmarshal(env.Data, &d); err != nil {
				t.Fatal(err)
			}
			wantPeriod := period
			if wantPeriod == "" {
				wantPeriod = "DAY_30"
			}
			if string(d["period"]) != `"`+wantPeriod+`"` {
				t.Errorf("period %s, want %s", d["period"], wantPeriod)
			}
			for _, k := range []string{"order_cnt", "finished_order_cnt", "cancelled_order_cnt", "finish_rate", "avg_order_price",
				"total_order_amount", "expected_cpm", "expected_cpe", "play_mid", "is_star_recommended", "price_level", "industry_list", "latest_order", "update_date"} {
				if _, ok := d[k]; !ok {
					t.Errorf("data lacks %s", k)
				}
			}
			if !regexp.MustCompile(`^"[0-9]+\.[0-9]{2}"$`).Match(d["total_order_amount"]) {
				t.Errorf("total_order_amount %s is not a 2-decimal numeric string", d["total_order_amount"])
			}
			if string(d["order_cnt"]) == "0" {
				if string(d["latest_order"]) != "null" || string(d["industry_list"]) != "[]" {
					t.Errorf("an author without orders: %s", env.Data)
				}
				continue
			}
			withOrders++
			var latest map[string]json.RawMessage
			if err := json.Unmarshal(d["latest_order"], &latest); err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`^[1-9][0-9]{18}$`).Match(latest["order_id"]) {
				t.Errorf("latest_order.order_id %s is not a bare 19-digit number", latest["order_id"])
			}
			if !bytes.Contains(d["industry_list"], []byte(`"industry_id":19`)) {
				t.Errorf("industry_list without industry_id: %s", d["industry_list"])
			}
		}
	}
	if withOrders < 30 {
		t.Errorf("only %d answers with orders", withOrders)
	}
}

// sandboxSweep requests every author and period of account demo and
// returns the bodies.
func sandboxSweep(t *testing.T, e *sandboxTestEnv, seed int64) [][]byte {
	t.Helper()
	var out [][]byte
	for _, author := range xingtusandbox.Authors(seed, "demo") {
		for _, period := range xingtusandbox.Periods {
			_, b := e.get(t, url.Values{"token": {sandboxTestToken}, "oAuthorId": {author}, "period": {period}})
			out = append(out, b)
		}
	}
	return out
}

// sandboxData strips everything but data from a body.
func sandboxData(t *testing.T, b []byte) string { return string(sandboxDecode(t, b).Data) }

func TestSandboxDeterministic(t *testing.T) {
	a := sandboxSweep(t, sandboxStart(t, sandboxTestConfig(11)), 11)
	b := sandboxSweep(t, sandboxStart(t, sandboxTestConfig(11)), 11)
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("same seed, different bytes:\n%s\n%s", a[i], b[i])
		}
	}
	// another seed: other authors, other data
	c := sandboxSweep(t, sandboxStart(t, sandboxTestConfig(12)), 12)
	if sandboxData(t, a[0]) == sandboxData(t, c[0]) {
		t.Error("another seed gave the same data")
	}
}

func TestSandboxChangesDayByDay(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(5))
	first := sandboxSweep(t, e, 5)
	e.srv.Clock().Advance(15 * time.Hour) // 2026-11-10 15:00 CST: same day
	sameDay := sandboxSweep(t, e, 5)
	e.srv.Clock().Advance(10 * time.Hour) // next day
	nextDay := sandboxSweep(t, e, 5)
	changed := 0
	for i := range first {
		if sandboxData(t, first[i]) != sandboxData(t, sameDay[i]) {
			t.Fatalf("data changed within a day:\n%s\n%s", first[i], sameDay[i])
		}
		if sandboxDecode(t, sameDay[i]).RecordTime != "2026-11-10 15:00:00" {
			t.Fatalf("recordTime does not follow the clock: %s", sameDay[i])
		}
		if sandboxData(t, first[i]) != sandboxData(t, nextDay[i]) {
			changed++
		}
	}
	if changed < len(first)*9/10 {
		t.Errorf("only %d of %d snapshots changed the next day", changed, len(first))
	}
}

func TestSandboxFaults(t *testing.T) {
	cfg := sandboxTestConfig(3)
	cfg.Faults = sandbox.Faults{ThrottleRate: 1}
	e := sandboxStart(t, cfg)
	author := xingtusandbox.Authors(3, "demo")[0]
	status, b := e.get(t, url.Values{"token": {sandboxTestToken}, "oAuthorId": {author}})
	env := sandboxDecode(t, b)
	if status != http.StatusTooManyRequests || *env.Code != 302 || env.Message == nil || *env.Message != "Rate limited" || string(env.Data) != "null" {
		t.Errorf("throttle: HTTP %d %s", status, b)
	}
	if err := e.srv.SetFaults(sandbox.Faults{ErrorRate5xx: 1}); err != nil {
		t.Fatal(err)
	}
	if status, b := e.get(t, url.Values{"token": {sandboxTestToken}, "oAuthorId": {author}}); status != http.StatusBadGateway || !bytes.Contains(b, []byte("502 Bad Gateway")) {
		t.Errorf("5xx: HTTP %d %s", status, b)
	}
	if st := e.srv.Stats("xingtu"); st.Requests != 2 || st.Throttled != 1 || st.Errors5xx != 1 {
		t.Errorf("stats %+v", st)
	}
}

// sandboxPipeline polls every author and period of every account through
// the vendor and normalizes the pages.
func sandboxPipeline(t *testing.T, e *sandboxTestEnv, cfg sandbox.Config) []events.Envelope {
	t.Helper()
	var v vendors.Vendor = xingtu.New()
	var all []events.Envelope
	for _, acct := range cfg.Accounts {
		f, err := v.NewFetcher(vendors.SourceConfig{
			BaseURL:     e.url,
			Account:     acct.Name,
			Credentials: map[string]string{"token": acct.Credentials[xingtusandbox.Credential]},
			Params: map[string]string{
				"author_ids": strings.Join(xingtusandbox.Authors(cfg.Seed, acct.Name), ","),
				"periods":    "DAY_30,DAY_90",
			},
			RatePerSecond: 1e6,
		})
		if err != nil {
			t.Fatal(err)
		}
		err = f.Walk(context.Background(), vendors.Window{}, func(_ context.Context, p vendors.Page) error {
			envs, err := v.Normalize(events.RawPage{Vendor: v.Name(), Endpoint: v.Endpoint(), Account: acct.Name,
				Cursor: p.Cursor, HTTPStatus: p.HTTPStatus, FetchedAt: time.Now(), Params: p.Params, Body: p.Body})
			all = append(all, envs...)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return all
}

func TestSandboxThroughVendor(t *testing.T) {
	cfg := sandboxTestConfig(21)
	e := sandboxStart(t, cfg)
	for day := range 2 {
		envs := sandboxPipeline(t, e, cfg)
		if len(envs) != 2*2*xingtusandbox.AuthorsPerAccount {
			t.Fatalf("%d events, want one per account, author and period", len(envs))
		}
		got, err := summary.FromEvents(envs)
		if err != nil {
			t.Fatal(err)
		}
		want := e.srv.Truth("xingtu").Summary
		if d := summary.Diff(want, got); len(d) > 0 {
			t.Fatalf("day %d: vendor pipeline disagrees with the sandbox truth:\n%s", day, strings.Join(d, "\n"))
		}
		if len(want.Snapshots) != 2 || len(want.Orders)+len(want.Commissions)+len(want.Plans) != 0 {
			t.Fatalf("truth rows: %+v", want)
		}
		for _, r := range want.Snapshots {
			if r.Platform != "xingtu" || r.Snapshots != 50 || r.Indicators < 50*9 || r.IndicatorMilliSum <= 0 {
				t.Errorf("truth row %+v", r)
			}
		}
		// the snapshot date is the sandbox's CST day
		x, err := events.Decode(envs[0])
		if err != nil {
			t.Fatal(err)
		}
		if d := x.(*events.CreatorOrderExperience).SnapshotDate; d != e.srv.Clock().Now().Format("2006-01-02") {
			t.Errorf("snapshot date %s, clock %s", d, e.srv.Clock().Now())
		}
		e.srv.Clock().Advance(24 * time.Hour)
	}
	// the truth follows the day: another day, another milli-sum
	a := e.srv.TruthAt("xingtu", e.srv.Clock().Now()).Summary
	b := e.srv.TruthAt("xingtu", e.srv.Clock().Now().Add(24*time.Hour)).Summary
	if a.Snapshots[0].IndicatorMilliSum == b.Snapshots[0].IndicatorMilliSum {
		t.Error("the truth does not change from day to day")
	}
}
