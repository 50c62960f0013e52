package events

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleRawPage() RawPage {
	return RawPage{
		SourceID:    "douke-main",
		Vendor:      "douke",
		Endpoint:    "kol_orderads",
		Account:     "main",
		WindowStart: time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC),
		WindowEnd:   time.Date(2026, 10, 3, 16, 0, 0, 0, time.UTC),
		TimeType:    "update",
		Cursor:      "5049400731628700001",
		HTTPStatus:  200,
		FetchedAt:   time.Date(2026, 10, 3, 16, 0, 1, 123456789, time.UTC),
		Body:        []byte(`{"error":"0","data":{}}`),
	}
}

func getter(h map[string]string) func(string) string {
	return func(k string) string { return h[k] }
}

func TestRawPageHeadersRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		page func() RawPage
	}{
		{"full", sampleRawPage},
		{"times in another zone", func() RawPage {
			p := sampleRawPage()
			cst := time.FixedZone("CST", 8*3600)
			p.WindowStart, p.WindowEnd, p.FetchedAt = p.WindowStart.In(cst), p.WindowEnd.In(cst), p.FetchedAt.In(cst)
			return p
		}},
		{"error status, empty cursor", func() RawPage {
			p := sampleRawPage()
			p.HTTPStatus, p.Cursor = 503, ""
			return p
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.page()
			h := p.Headers()
			got, err := RawPageFromHeaders(getter(h), p.Body)
			if err != nil {
				t.Fatal(err)
			}
			if got.SourceID != p.SourceID || got.Vendor != p.Vendor || got.Endpoint != p.Endpoint ||
				got.Account != p.Account || got.TimeType != p.TimeType || got.Cursor != p.Cursor ||
				got.HTTPStatus != p.HTTPStatus || string(got.Body) != string(p.Body) {
				t.Errorf("round trip = %+v, want %+v", got, p)
			}
			for _, c := range []struct {
				name      string
				got, want time.Time
			}{{"window start", got.WindowStart, p.WindowStart}, {"window end", got.WindowEnd, p.WindowEnd}, {"fetched at", got.FetchedAt, p.FetchedAt}} {
				if !c.got.Equal(c.want) {
					t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
				}
				if c.got.Location() != time.UTC {
					t.Errorf("%s = %v, want UTC", c.name, c.got)
				}
			}
			// a page rebuilt from its headers is the same page for de-duplication
			if got.MsgID() != p.MsgID() {
				t.Errorf("MsgID changed over the header round trip: %s → %s", p.MsgID(), got.MsgID())
			}
		})
	}
}

func TestRawPageHeaderValues(t *testing.T) {
	h := sampleRawPage().Headers()
	want := map[string]string{
		HdrSource:      "douke-main",
		HdrVendor:      "douke",
		HdrEndpoint:    "kol_orderads",
		HdrAccount:     "main",
		HdrWindowStart: "2026-09-30T16:00:00Z",
		HdrWindowEnd:   "2026-10-03T16:00:00Z",
		HdrTimeType:    "update",
		HdrCursor:      "5049400731628700001",
		HdrHTTPStatus:  "200",
		HdrFetchedAt:   "2026-10-03T16:00:01.123456789Z",
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("Headers() =\n%v\nwant\n%v", h, want)
	}
}

func TestRawPageFromHeadersErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(h map[string]string)
		want   string // substring of the error
	}{
		{"missing vendor", func(h map[string]string) { delete(h, HdrVendor) }, HdrVendor},
		{"missing endpoint", func(h map[string]string) { h[HdrEndpoint] = "" }, HdrEndpoint},
		{"malformed window start", func(h map[string]string) { h[HdrWindowStart] = "2026-10-01 00:00:00" }, HdrWindowStart},
		{"malformed window end", func(h map[string]string) { h[HdrWindowEnd] = "yesterday" }, HdrWindowEnd},
		{"malformed fetched at", func(h map[string]string) { h[HdrFetchedAt] = "1759276800" }, HdrFetchedAt},
		{"malformed status", func(h map[string]string) { h[HdrHTTPStatus] = "OK" }, HdrHTTPStatus},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := sampleRawPage().Headers()
			tc.mutate(h)
			_, err := RawPageFromHeaders(getter(h), nil)
			if err == nil {
				t.Fatal("RawPageFromHeaders accepted bad headers")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s", err, tc.want)
			}
		})
	}
}

func TestRawPageFromHeadersOptional(t *testing.T) {
	// only vendor and endpoint are required; absent times and status stay zero
	h := map[string]string{HdrVendor: "douke", HdrEndpoint: "kol_orderads"}
	p, err := RawPageFromHeaders(getter(h), []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if !p.WindowStart.IsZero() || !p.WindowEnd.IsZero() || !p.FetchedAt.IsZero() || p.HTTPStatus != 0 || string(p.Body) != "x" {
		t.Errorf("page = %+v", p)
	}
}

func TestRawPageMsgID(t *testing.T) {
	base := sampleRawPage()
	id := base.MsgID()
	if !strings.HasPrefix(id, "raw-") || len(id) != len("raw-")+32 {
		t.Fatalf("MsgID = %q, want raw-<32 hex>", id)
	}
	if again := sampleRawPage().MsgID(); again != id {
		t.Fatalf("MsgID not deterministic: %s then %s", id, again)
	}
	// the fetch time and HTTP status are not part of the request identity
	same := sampleRawPage()
	same.FetchedAt = same.FetchedAt.Add(time.Hour)
	if same.MsgID() != id {
		t.Errorf("MsgID depends on FetchedAt")
	}
	tests := []struct {
		name   string
		mutate func(p *RawPage)
	}{
		{"body", func(p *RawPage) { p.Body = append([]byte(nil), `{"error":"0","data":{"x":1}}`...) }},
		{"empty body", func(p *RawPage) { p.Body = nil }},
		{"cursor", func(p *RawPage) { p.Cursor = "5049400731628700002" }},
		{"source", func(p *RawPage) { p.SourceID = "douke-other" }},
		{"account", func(p *RawPage) { p.Account = "other" }},
		{"window start", func(p *RawPage) { p.WindowStart = p.WindowStart.Add(time.Second) }},
		{"window end", func(p *RawPage) { p.WindowEnd = p.WindowEnd.Add(time.Second) }},
		{"time type", func(p *RawPage) { p.TimeType = "pay" }},
		// a cursor byte moved into the body must not collide
		{"cursor/body boundary", func(p *RawPage) { p.Body = append([]byte("1"), p.Body...); p.Cursor = p.Cursor[:len(p.Cursor)-1] }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := sampleRawPage()
			tc.mutate(&p)
			if got := p.MsgID(); got == id {
				t.Errorf("changing the %s kept MsgID %s", tc.name, id)
			}
		})
	}
}
