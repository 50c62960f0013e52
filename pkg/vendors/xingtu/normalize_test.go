package xingtu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

var (
	readTestdata = vendorstest.ReadTestdata
	update       = vendorstest.Update // the -update flag (TestSandboxFixturesCurrent)
)

// testFetchedAt is the fetch time of the test pages: 2026-11-10 09:15 CST.
var testFetchedAt = time.Date(2026, 11, 10, 1, 15, 0, 0, time.UTC)

func rawPage(body []byte, author, period string) events.RawPage {
	p := vendorstest.RawPage(Name, Endpoint, author+":"+period, testFetchedAt, body)
	p.Params = map[string]string{ParamAuthor: author}
	if period != "" {
		p.Params[ParamPeriod] = period
	}
	return p
}

type goldenPage struct{ file, author, period string }

// goldenPages are the fixtures that map to events, with the params they were
// (or would have been) fetched with.
var goldenPages = []goldenPage{
	{"sandbox_day30.json", "7175462503452054614", Period30},
	{"sandbox_day90_no_orders.json", "6923424278372373731", Period90},
	{"handwritten.json", "7012345678901234567", Period90},
	{"root_array_rfc3339.json", "author_x-1", ""},
	{"no_record_time.json", "42", Period30},
}

func TestGolden(t *testing.T) {
	var names []string
	byName := map[string]goldenPage{}
	for _, g := range goldenPages {
		name := strings.TrimSuffix(g.file, ".json")
		names = append(names, name)
		byName[name] = g
	}
	vendorstest.GoldenPages(t, names, func(name string, body []byte) ([]events.Envelope, error) {
		g := byName[name]
		envs, err := Normalize(rawPage(body, g.author, g.period))
		if err == nil && len(envs) != 1 {
			err = fmt.Errorf("%d envelopes, want 1", len(envs))
		}
		return envs, err
	})
}

// decodeSnapshot normalizes one page and returns its single snapshot.
func decodeSnapshot(t *testing.T, p events.RawPage) *events.CreatorOrderExperience {
	t.Helper()
	envs, err := Normalize(p)
	vendorstest.Count(t, envs, err, 1)
	return vendorstest.DecodeAs[events.CreatorOrderExperience](t, envs[0])
}

// dataMember returns the exact bytes of a fixture's data member.
func dataMember(t *testing.T, body []byte) []byte {
	t.Helper()
	var env struct{ Data json.RawMessage }
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	return env.Data
}

func TestHandwrittenMapping(t *testing.T) {
	body := readTestdata(t, "handwritten.json")
	envs, err := Normalize(rawPage(body, "7012345678901234567", Period90))
	if err != nil {
		t.Fatal(err)
	}
	e := envs[0]
	if e.Type != "creator_experience.v1" || e.Source != "yongjin/xingtu/demo" || e.Subject != "7012345678901234567/DAY_90/2026-11-10" {
		t.Errorf("envelope type/source/subject = %s / %s / %s", e.Type, e.Source, e.Subject)
	}
	// 2026-11-10 00:30:00 CST is 2026-11-09 16:30 UTC: the snapshot date is the CST day
	observed := time.Date(2026, 11, 9, 16, 30, 0, 0, time.UTC)
	if !e.Time.Equal(observed) {
		t.Errorf("envelope time %s, want %s", e.Time, observed)
	}
	if want := events.NewID(events.KindCreatorExperience, "xingtu", "demo", e.Subject, observed.UnixMilli()); e.ID != want {
		t.Errorf("id %s, want %s", e.ID, want)
	}
	c := decodeSnapshot(t, rawPage(body, "7012345678901234567", Period90))
	vendorstest.Checks{
		{"platform", c.Platform, "xingtu"},
		{"account", c.Account, "demo"},
		{"author_id", c.AuthorID, "7012345678901234567"},
		{"period", c.Period, "DAY_90"},
		{"snapshot_date", c.SnapshotDate, "2026-11-10"},
		{"observed_at", c.ObservedAt, observed},
		{"version", c.Version, observed.UnixMilli()},
	}.Verify(t)
	want := []events.Indicator{
		{Name: "PAID", Value: 8},
		{Name: "avg_price", Value: 25000.5},
		{Name: "deep.a.b.c[0].d", Value: 0},
		{Name: "dup", Value: 2},
		{Name: "exp", Value: 0.0025},
		{Name: "fifteen", Value: 123456789012345},
		{Name: "finish_rate", Value: 0.9286},
		{Name: "industry_list[0].order_cnt", Value: 12},
		{Name: "industry_list[0].ratio", Value: 0.2857},
		{Name: "industry_list[1].order_cnt", Value: 30},
		{Name: "industry_list[1].ratio", Value: 0.7143},
		{Name: "matrix[0][0]", Value: 1},
		{Name: "matrix[0][1]", Value: 2},
		{Name: "matrix[1][0]", Value: 3},
		{Name: "neg", Value: -12.25},
		{Name: "order_cnt", Value: 42},
		{Name: "paid", Value: 3},
		{Name: "price.avg", Value: 310.5},
		{Name: "price.min", Value: 100},
		{Name: "total", Value: 1000},
		{Name: "valid", Value: 17},
		{Name: "zero_pad", Value: 0.1},
	}
	if !reflect.DeepEqual(c.Indicators, want) {
		t.Errorf("indicators:\n got %v\nwant %v", c.Indicators, want)
	}
}

// The payload keeps the vendor's data member, compacted, with numbers beyond
// ±(2^53-1) as strings (SafeNumbers) and nothing else changed.
func TestDataVerbatimExceptUnsafeNumbers(t *testing.T) {
	for _, g := range goldenPages {
		body := readTestdata(t, g.file)
		s, err := MapSnapshot("demo", g.author, DefaultPeriod, mustDecode(t, body), testFetchedAt)
		if err != nil {
			t.Fatalf("%s: %v", g.file, err)
		}
		want, err := SafeNumbers(dataMember(t, body))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.Data, want) {
			t.Errorf("%s: data:\n got %s\nwant %s", g.file, s.Data, want)
		}
	}
}

func TestSafeNumbers(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"latest_order": {"order_id": 3727001234567890123, "amount": 12.5}}`, `{"latest_order":{"order_id":"3727001234567890123","amount":12.5}}`},
		{`[9007199254740991, 9007199254740992, -9007199254740992, 1e300, 0.5]`, `[9007199254740991,"9007199254740992","-9007199254740992","1e300",0.5]`},
		{`{"s": "<b>&", "t": true, "n": null, "e": [], "o": {}}`, `{"s":"<b>&","t":true,"n":null,"e":[],"o":{}}`},
		{`"3727001234567890123"`, `"3727001234567890123"`},
	}
	for _, tc := range tests {
		got, err := SafeNumbers([]byte(tc.in))
		if err != nil || string(got) != tc.want {
			t.Errorf("SafeNumbers(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`{"a": 1`, `1 2`, ``} {
		if _, err := SafeNumbers([]byte(bad)); err == nil {
			t.Errorf("SafeNumbers(%q) accepted invalid JSON", bad)
		}
	}
}

func mustDecode(t *testing.T, body []byte) *Envelope {
	t.Helper()
	env, err := DecodeEnvelope(body)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestSandboxFixtureMapping(t *testing.T) {
	c := decodeSnapshot(t, rawPage(readTestdata(t, "sandbox_day30.json"), "7175462503452054614", Period30))
	names := make([]string, len(c.Indicators))
	for i, in := range c.Indicators {
		names[i] = in.Name
	}
	want := []string{
		"avg_order_price", "cancelled_order_cnt", "expected_cpe", "expected_cpm", "finish_rate", "finished_order_cnt",
		"industry_list[0].order_cnt", "industry_list[0].order_ratio", "industry_list[1].order_cnt", "industry_list[1].order_ratio",
		"industry_list[2].order_cnt", "industry_list[2].order_ratio", "latest_order.order_price", "order_cnt", "play_mid", "total_order_amount",
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("indicator names:\n got %q\nwant %q", names, want)
	}
	values := map[string]float64{}
	for _, in := range c.Indicators {
		values[in.Name] = in.Value
	}
	for name, v := range map[string]float64{"total_order_amount": 718793.30, "order_cnt": 7, "finish_rate": 0.7142, "latest_order.order_price": 107981} {
		if values[name] != v {
			t.Errorf("%s = %v, want %v", name, values[name], v)
		}
	}
	if c.SnapshotDate != "2026-11-10" || !c.ObservedAt.Equal(time.Date(2026, 11, 9, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("snapshot date %s observed %s", c.SnapshotDate, c.ObservedAt)
	}
}

func TestObservedAt(t *testing.T) {
	fetched := time.Date(2026, 11, 10, 17, 0, 0, 0, time.UTC) // 2026-11-11 01:00 CST
	tests := []struct {
		recordTime string // JSON value
		want       time.Time
		date       string
	}{
		{`"2026-11-10 08:00:00"`, time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC), "2026-11-10"},
		{`"2026-11-10 07:59:59.250"`, time.Date(2026, 11, 9, 23, 59, 59, 250e6, time.UTC), "2026-11-10"},
		{`"2026-11-09T23:59:59Z"`, time.Date(2026, 11, 9, 23, 59, 59, 0, time.UTC), "2026-11-10"},
		{`"2026-11-09T15:59:59.5+00:00"`, time.Date(2026, 11, 9, 15, 59, 59, 5e8, time.UTC), "2026-11-09"},
		{`null`, fetched, "2026-11-11"},
		{`""`, fetched, "2026-11-11"},
		{`"yesterday"`, fetched, "2026-11-11"},
		{`1762732800000`, fetched, "2026-11-11"},
		{`"1969-12-31 23:59:59"`, fetched, "2026-11-11"},
	}
	for _, tc := range tests {
		body := []byte(`{"code":0,"data":{"n":1},"recordTime":` + tc.recordTime + `}`)
		p := rawPage(body, "a1", Period30)
		p.FetchedAt = fetched
		c := decodeSnapshot(t, p)
		if !c.ObservedAt.Equal(tc.want) || c.ObservedAt.Location() != time.UTC || c.SnapshotDate != tc.date || c.Version != tc.want.UnixMilli() {
			t.Errorf("recordTime %s: observed %s (%s), date %s, version %d; want %s, %s", tc.recordTime,
				c.ObservedAt, c.ObservedAt.Location(), c.SnapshotDate, c.Version, tc.want, tc.date)
		}
	}
}

func TestNormalizeNoData(t *testing.T) {
	for _, body := range []string{
		string(readTestdata(t, "data_null.json")),
		`{"code":0,"message":null,"recordTime":"2026-11-10 00:00:00"}`,
		`{"code":"0","data": null }`,
	} {
		envs, err := Normalize(rawPage([]byte(body), "a1", Period30))
		if err != nil || len(envs) != 0 {
			t.Errorf("Normalize(%s) = %d envelopes, %v; want none and no error", body, len(envs), err)
		}
	}
}

func TestNormalizeVendorErrors(t *testing.T) {
	tests := []struct {
		file string
		code int64
		text []string
	}{
		{"error_100.json", 100, []string{"code 100", "invalid or inactive token", `"Invalid or inactive token"`, `"req-100"`}},
		{"error_202.json", 202, []string{"code 202", "not supported", "req-202"}},
		{"error_301.json", 301, []string{"code 301", "collection failed", "req-301"}},
		{"error_302.json", 302, []string{"code 302", "rate limited", "req-302"}},
		{"error_303.json", 303, []string{"code 303", "daily quota exceeded", "req-303"}},
		{"error_400.json", 400, []string{"code 400", "validation error", "oAuthorId is required", "req-400"}},
		{"error_500.json", 500, []string{"code 500", "internal error", "req-500"}},
		{"error_600.json", 600, []string{"code 600", "permission denied", "req-600"}},
		{"error_601.json", 601, []string{"code 601", "insufficient balance", "req-601"}},
		{"error_999.json", 999, []string{"code 999", "unknown code", "Something new", "req-999"}},
		{"error_string_code.json", 601, []string{"code 601", "req-str"}},
	}
	for _, tc := range tests {
		envs, err := Normalize(rawPage(readTestdata(t, tc.file), "a1", Period30))
		if envs != nil || !errors.Is(err, vendors.ErrVendorError) || errors.Is(err, vendors.ErrMalformedPage) {
			t.Errorf("%s: %d envelopes, %v; want a vendor error", tc.file, len(envs), err)
			continue
		}
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != tc.code {
			t.Errorf("%s: error %v does not carry code %d", tc.file, err, tc.code)
		}
		for _, s := range tc.text {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q lacks %q", tc.file, err, s)
			}
		}
	}
}

func TestNormalizeMalformed(t *testing.T) {
	good := readTestdata(t, "sandbox_day30.json")
	tests := []struct {
		name   string
		mutate func(p *events.RawPage)
		want   string
	}{
		{"no account", func(p *events.RawPage) { p.Account = "" }, "no account label"},
		{"control char in account", func(p *events.RawPage) { p.Account = "a\nb" }, "control characters"},
		{"no params", func(p *events.RawPage) { p.Params = nil }, "no oAuthorId"},
		{"blank author", func(p *events.RawPage) { p.Params[ParamAuthor] = "  " }, "no oAuthorId"},
		{"author with slash", func(p *events.RawPage) { p.Params[ParamAuthor] = "a/b" }, `oAuthorId "a/b"`},
		{"author too long", func(p *events.RawPage) { p.Params[ParamAuthor] = strings.Repeat("1", 65) }, "oAuthorId"},
		{"period with space", func(p *events.RawPage) { p.Params[ParamPeriod] = "DAY 30" }, `period "DAY 30"`},
		{"period with slash", func(p *events.RawPage) { p.Params[ParamPeriod] = "DAY/30" }, "period"},
		{"data number", func(p *events.RawPage) { p.Body = []byte(`{"code":0,"data":12}`) }, "want an object or an array, got a number"},
		{"data string", func(p *events.RawPage) { p.Body = []byte(`{"code":0,"data":""}`) }, "got a string"},
		{"data bool", func(p *events.RawPage) { p.Body = []byte(`{"code":0,"data":false}`) }, "got a boolean"},
		{"data not utf-8", func(p *events.RawPage) { p.Body = []byte("{\"code\":0,\"data\":{\"n\":\"\xff\"}}") }, "UTF-8"},
		{"no time at all", func(p *events.RawPage) {
			p.Body = []byte(`{"code":0,"data":{"n":1}}`)
			p.FetchedAt = time.Time{}
		}, "no observation time"},
		{"empty body", func(p *events.RawPage) { p.Body = nil }, "want a JSON object, got nothing"},
		{"html", func(p *events.RawPage) { p.Body = []byte("<html>502</html>") }, "invalid JSON"},
		{"array body", func(p *events.RawPage) { p.Body = []byte(`[]`) }, "got an array"},
		{"truncated", func(p *events.RawPage) { p.Body = good[:len(good)/2] }, "envelope"},
		{"no code", func(p *events.RawPage) { p.Body = []byte(`{"data":{"n":1}}`) }, "no code"},
		{"null code", func(p *events.RawPage) { p.Body = []byte(`{"code":null,"data":{"n":1}}`) }, "no code"},
		{"bool code", func(p *events.RawPage) { p.Body = []byte(`{"code":false}`) }, "want an integer, got a boolean"},
		{"fraction code", func(p *events.RawPage) { p.Body = []byte(`{"code":0.5}`) }, "not an integer"},
		{"text code", func(p *events.RawPage) { p.Body = []byte(`{"code":"ok"}`) }, "not an integer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := rawPage(append([]byte(nil), good...), "7175462503452054614", Period30)
			tc.mutate(&p)
			envs, err := Normalize(p)
			if envs != nil || !errors.Is(err, vendors.ErrMalformedPage) {
				t.Fatalf("%d envelopes, %v; want ErrMalformedPage", len(envs), err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "xingtu normalize: ") {
				t.Errorf("error %q lacks %q or the prefix", err, tc.want)
			}
		})
	}
}

func TestNormalizePeriodDefault(t *testing.T) {
	for _, params := range []map[string]string{
		{ParamAuthor: "a1"},
		{ParamAuthor: "a1", ParamPeriod: ""},
	} {
		p := rawPage(readTestdata(t, "no_record_time.json"), "", "")
		p.Params = params
		if c := decodeSnapshot(t, p); c.Period != DefaultPeriod || c.AuthorID != "a1" {
			t.Errorf("params %v: period %q author %q", params, c.Period, c.AuthorID)
		}
	}
	// a period the fetcher does not send is kept as the page says
	p := rawPage(readTestdata(t, "no_record_time.json"), "a1", "DAY_7")
	if c := decodeSnapshot(t, p); c.Period != "DAY_7" {
		t.Errorf("period %q, want DAY_7", c.Period)
	}
}

// TestEmptyDataSnapshot: an empty object is a snapshot without indicators,
// [] not null. (The golden pages' envelopes are validated against their
// schema by TestGolden.)
func TestEmptyDataSnapshot(t *testing.T) {
	c := decodeSnapshot(t, rawPage([]byte(`{"code":0,"data":{},"recordTime":"2026-11-10 00:00:00"}`), "a1", Period30))
	if c.Indicators == nil || len(c.Indicators) != 0 {
		t.Errorf("indicators %#v, want an empty list", c.Indicators)
	}
}

func TestDeterministicIDs(t *testing.T) {
	body := readTestdata(t, "sandbox_day30.json")
	first, err := Normalize(rawPage(body, "7175462503452054614", Period30))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Normalize(rawPage(body, "7175462503452054614", Period30))
	if first[0].ID != again[0].ID || !bytes.Equal(first[0].Data, again[0].Data) {
		t.Fatal("the same page gave different events")
	}
	later := bytes.Replace(body, []byte(`"recordTime":"2026-11-10 00:00:00"`), []byte(`"recordTime":"2026-11-10 18:00:00"`), 1)
	sameDay, _ := Normalize(rawPage(later, "7175462503452054614", Period30))
	if sameDay[0].Subject != first[0].Subject || sameDay[0].ID == first[0].ID {
		t.Errorf("a later observation on the same day must keep the key (%s vs %s) and change the ID", sameDay[0].Subject, first[0].Subject)
	}
	nextDay := bytes.Replace(body, []byte(`"recordTime":"2026-11-10 00:00:00"`), []byte(`"recordTime":"2026-11-11 00:00:00"`), 1)
	other, _ := Normalize(rawPage(nextDay, "7175462503452054614", Period30))
	if other[0].Subject == first[0].Subject {
		t.Error("an observation on the next day must have a new key")
	}
	p90, _ := Normalize(rawPage(body, "7175462503452054614", Period90))
	if p90[0].Subject == first[0].Subject || p90[0].ID == first[0].ID {
		t.Error("another period must have another key")
	}
}

func TestVendor(t *testing.T) {
	var v vendors.Vendor = New()
	if v.Name() != "xingtu" || v.Endpoint() != "author_order_experience" || v.MaxWindow() != 0 {
		t.Errorf("vendor = %s/%s/%s", v.Name(), v.Endpoint(), v.MaxWindow())
	}
	if events.RawSubject(v.Name(), v.Endpoint()) != "yongjin.raw.xingtu.author_order_experience" {
		t.Error("raw subject")
	}
	if _, err := v.NewFetcher(vendors.SourceConfig{}); err == nil {
		t.Error("NewFetcher without credentials succeeded")
	} else if f, _ := v.NewFetcher(vendors.SourceConfig{}); f != nil {
		t.Error("a failed NewFetcher returned a non-nil fetcher")
	}
	envs, err := v.Normalize(rawPage(readTestdata(t, "sandbox_day30.json"), "7175462503452054614", Period30))
	if err != nil || len(envs) != 1 {
		t.Errorf("Normalize through the interface: %d, %v", len(envs), err)
	}
}
