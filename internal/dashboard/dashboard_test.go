package dashboard

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// requireContains fails for every want the page lacks.
func requireContains(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %s", w)
		}
	}
}

func kpiHTML(id, value, sub string) string {
	return `id="` + id + `"><div class="label">` + map[string]string{
		"kpi-estimated": "Estimated commission", "kpi-settled": "Settled commission", "kpi-refunded": "Refunded commission",
		"kpi-refund-rate": "Refund rate", "kpi-orders": "Orders", "kpi-lag": "Settlement lag",
	}[id] + `</div><div class="value">` + value + `</div><div class="sub">` + sub + `</div>`
}

func point(series, day, value string) string {
	return `data-series="` + series + `" data-x="` + day + `" data-value="` + value + `"`
}

// fixturePageWants are the numbers of the fixture's 2024-03-01..03 page on
// every platform: see analyticsfixture for the orders they come from.
var fixturePageWants = []string{
	kpiHTML("kpi-estimated", "¥71.50", "orders neither refunded nor cancelled"),
	kpiHTML("kpi-settled", "¥60.00", "83.9% of estimated"),
	kpiHTML("kpi-refunded", "¥34.00", "3 refunded orders, 1 after settlement"),
	kpiHTML("kpi-refund-rate", "33.3%", "3 of 9 orders"),
	kpiHTML("kpi-orders", "9", "paid ¥590.00; 1 cancelled"),
	kpiHTML("kpi-lag", "40.0 h", "mean paid → settled, 3 orders"),
	// Commission over time by platform.
	point("douke", "2024-03-01", "20.00"), point("douke", "2024-03-02", "4.50"), point("douke", "2024-03-03", "40.00"),
	point("taobao-live", "2024-03-01", "6.00"), point("taobao-live", "2024-03-02", "0.00"), point("taobao-live", "2024-03-03", "1.00"),
	// Estimated vs settled vs refunded.
	point("estimated", "2024-03-01", "26.00"), point("settled", "2024-03-01", "20.00"), point("refunded", "2024-03-01", "10.00"),
	point("estimated", "2024-03-02", "4.50"), point("settled", "2024-03-02", "0.00"), point("refunded", "2024-03-02", "24.00"),
	point("estimated", "2024-03-03", "41.00"), point("settled", "2024-03-03", "40.00"), point("refunded", "2024-03-03", "0.00"),
	// Refund rate.
	`data-label="douke" data-value="40.0"`, `40.0% (2 of 5 orders)`,
	`data-label="taobao-live" data-value="25.0"`, `25.0% (1 of 4 orders)`,
	// Top creators, estimated and settled.
	`data-label="达人一 · douke" data-value="60.00"`, `data-label="达人一 · douke" data-over="60.00"`,
	`data-label="nick-1 · taobao-live" data-value="6.00"`,
	`data-label="达人二 · douke" data-value="4.50"`, `data-label="达人二 · douke" data-over="0.00"`,
	`data-label="nick-3 · taobao-live" data-value="1.00"`,
	`data-label="nick-2 · taobao-live" data-value="0.00"`,
	// Tables.
	`<tr><td>douke</td><td>商品一</td><td class="num">3</td><td class="num">0</td><td class="num">¥64.50</td><td class="num">¥60.00</td><td class="num">¥0.00</td></tr>`,
	`<tr><td>douke</td><td>商品三</td><td class="num">1</td><td class="num">1</td><td class="num">¥0.00</td><td class="num">¥0.00</td><td class="num">¥20.00</td></tr>`,
	`<tr><td>douke</td><td class="num">3</td><td class="num">40.0</td><td class="num">48.0</td><td class="num">60.0</td></tr>`,
	`<tr><td>yongjin/douke/mcn-a</td><td>order</td><td class="num">6</td><td>2024-03-05 21:00:00</td>`,
	`<tr><td>yongjin/xingtu/mcn-a</td><td>creator_experience</td><td class="num">7</td><td>2024-03-03 09:00:00</td>`,
}

// TestDashboardPage renders the fixture's three days on every platform and
// checks every number the page shows.
func TestDashboardPage(t *testing.T) {
	h := New(fixtureStore(t), Config{Now: fixedNow})
	code, hdr, body := get(t, h, http.MethodGet, "/dashboard?from=2024-03-01&to=2024-03-03")
	if code != http.StatusOK {
		t.Fatalf("status %d:\n%s", code, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if csp := hdr.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	requireContains(t, body, fixturePageWants...)
	requireContains(t, body,
		`<form method="get" action="/dashboard">`,
		`<input type="date" name="from" value="2024-03-01">`, `<input type="date" name="to" value="2024-03-03">`,
		`<option value="" selected>All platforms</option>`, `<option value="taobao-live">taobao-live</option>`,
		`Orders paid 2024-03-01 to 2024-03-03 (China Standard Time) on all platforms`,
	)
	// Four charts, each an inline SVG; every day of the range on the x axes.
	if n := strings.Count(body, `<svg class="chart"`); n != 4 {
		t.Errorf("page has %d charts, want 4", n)
	}
	for _, id := range []string{"commission-by-platform", "settled-vs-estimated", "refund-rate", "top-creators"} {
		requireContains(t, body, `data-chart="`+id+`"`)
	}
	if n := strings.Count(body, `class="point"`); n != 6 {
		t.Errorf("line chart has %d points, want 2 platforms × 3 days", n)
	}
	// Nothing from the network.
	for _, bad := range []string{"http://", "https://", "<script", "<link", "@import", "url("} {
		if strings.Contains(strings.ReplaceAll(body, `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("page refers to %q", bad)
		}
	}
	// Top creators in order.
	if i, j := strings.Index(body, `data-label="nick-1 · taobao-live"`), strings.Index(body, `data-label="达人二 · douke"`); i < 0 || j < i {
		t.Error("top creators out of order")
	}
	// HEAD: headers only.
	if code, _, body := get(t, h, http.MethodHead, "/dashboard"); code != http.StatusOK || body != "" {
		t.Errorf("HEAD = %d with %d bytes", code, len(body))
	}
}

// TestDashboardPlatformFilter shows one platform.
func TestDashboardPlatformFilter(t *testing.T) {
	h := New(fixtureStore(t), Config{Now: fixedNow})
	code, _, body := get(t, h, http.MethodGet, "/d?from=2024-03-01&to=2024-03-03&platform=taobao-live")
	if code != http.StatusOK {
		t.Fatalf("status %d:\n%s", code, body)
	}
	requireContains(t, body,
		kpiHTML("kpi-estimated", "¥7.00", "orders neither refunded nor cancelled"),
		kpiHTML("kpi-settled", "¥0.00", "0.0% of estimated"),
		kpiHTML("kpi-refunded", "¥4.00", "1 refunded orders, 0 after settlement"),
		kpiHTML("kpi-refund-rate", "25.0%", "1 of 4 orders"),
		kpiHTML("kpi-orders", "4", "paid ¥130.00; 1 cancelled"),
		kpiHTML("kpi-lag", "—", "mean paid → settled, 0 orders"),
		`<option value="taobao-live" selected>taobao-live</option>`,
		point("taobao-live", "2024-03-01", "6.00"),
		`on taobao-live;`,
		`No order paid in this range is settled.`,
	)
	if strings.Contains(body, `data-series="douke"`) || strings.Contains(body, "yongjin/douke/") {
		t.Error("the taobao-live page shows douke")
	}
}

// TestDashboardDefaultRange: without dates the page shows every pay day up
// to the last one (D0, paid 2024-02-28, joins: ¥2 estimated and settled).
func TestDashboardDefaultRange(t *testing.T) {
	h := New(fixtureStore(t), Config{Now: fixedNow})
	code, _, body := get(t, h, http.MethodGet, "/")
	if code != http.StatusOK {
		t.Fatalf("status %d:\n%s", code, body)
	}
	requireContains(t, body,
		`<input type="date" name="from" value="2024-02-28">`, `<input type="date" name="to" value="2024-03-03">`,
		kpiHTML("kpi-estimated", "¥73.50", "orders neither refunded nor cancelled"),
		kpiHTML("kpi-settled", "¥62.00", "84.4% of estimated"),
		kpiHTML("kpi-orders", "10", "paid ¥600.00; 1 cancelled"),
		kpiHTML("kpi-lag", "42.0 h", "mean paid → settled, 4 orders"),
		point("douke", "2024-02-28", "2.00"), point("douke", "2024-02-29", "0.00"),
	)
	// MaxDays shortens the default range to the last days.
	h = New(fixtureStore(t), Config{Now: fixedNow, MaxDays: 2, Top: 1})
	_, _, body = get(t, h, http.MethodGet, "/?platform=douke")
	requireContains(t, body,
		`<input type="date" name="from" value="2024-03-02">`, `<input type="date" name="to" value="2024-03-03">`,
		kpiHTML("kpi-estimated", "¥44.50", "orders neither refunded nor cancelled"),
		"Top 1 creators",
	)
	if n := strings.Count(body, `class="bar" data-label=`); n != 1+1 {
		t.Errorf("Top 1: %d horizontal bars, want 1 refund-rate bar and 1 creator", n)
	}
	// One end alone narrows the default range.
	_, _, body = get(t, h, http.MethodGet, "/?from=2024-03-03")
	requireContains(t, body, `<input type="date" name="from" value="2024-03-03">`, `<input type="date" name="to" value="2024-03-03">`)
}

func TestDashboardBadRequests(t *testing.T) {
	h := New(fixtureStore(t), Config{Now: fixedNow})
	for target, want := range map[string]string{
		"/?from=2024-3-1&to=2024-03-03":       `The from date &#34;2024-3-1&#34; is not a date (YYYY-MM-DD).`,
		"/?from=2024-03-03&to=2024-03-01":     `The range ends (2024-03-01) before it starts (2024-03-03).`,
		"/?from=2020-01-01&to=2024-03-01":     `The range spans 1522 days; at most 366 are shown at once.`,
		"/?platform=%3Cscript%3Ealert(1)%3C/": `Unknown platform &#34;&lt;script&gt;alert(1)&lt;/&#34;; the data has: douke, douyin-poi, taobao-live, xingtu.`,
	} {
		code, _, body := get(t, h, http.MethodGet, target)
		if code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", target, code)
		}
		requireContains(t, body, `<div class="error" id="error">`+want+`</div>`)
		if strings.Contains(body, "<script>") {
			t.Errorf("%s: unescaped input in the page", target)
		}
	}
	if code, hdr, _ := get(t, h, http.MethodPost, "/"); code != http.StatusMethodNotAllowed || hdr.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST = %d, Allow %q", code, hdr.Get("Allow"))
	}
}

// TestDashboardEmpty: a database without data still renders.
func TestDashboardEmpty(t *testing.T) {
	h := New(openStore(t), Config{Now: fixedNow})
	code, _, body := get(t, h, http.MethodGet, "/")
	if code != http.StatusOK {
		t.Fatalf("status %d:\n%s", code, body)
	}
	requireContains(t, body, `No orders stored yet.`, `No orders paid in this range.`, `Nothing stored yet.`,
		`<input type="date" name="from" value="2023-12-06">`, `<input type="date" name="to" value="2024-03-06">`,
		kpiHTML("kpi-estimated", "¥0.00", "orders neither refunded nor cancelled"))
}

// TestDashboardEscapes: vendor data cannot inject markup into the page or its SVG.
func TestDashboardEscapes(t *testing.T) {
	paid := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	o := events.Order{
		Platform: "douke", Account: "a", OrderID: "X1", ProductID: "p", ProductName: `<img src=x onerror=alert(1)>`,
		AuthorID: "au", AuthorName: `<script>alert("x")</script>&`, Currency: "CNY", PaidFen: 1000, EstimatedBaseFen: 1000,
		Status: events.StatusPaid, PaidAt: paid, UpdatedAt: paid, Version: paid.UnixMilli(),
	}
	l := events.CommissionLine{Platform: "douke", Account: "a", OrderID: "X1", Role: events.RoleCreator, RateBP: 1000,
		EstimatedFen: 100, OrderStatus: events.StatusPaid, PaidAt: paid, UpdatedAt: paid, Version: paid.UnixMilli()}
	oe, _ := o.Envelope()
	le, _ := l.Envelope()
	h := New(openStore(t, []events.Envelope{oe, le}), Config{Now: fixedNow})
	code, _, body := get(t, h, http.MethodGet, "/")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if regexp.MustCompile(`<script|<img`).MatchString(body) {
		t.Error("vendor data reached the page unescaped")
	}
	requireContains(t, body, `data-label="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp; · douke" data-value="1.00"`,
		`<td>&lt;img src=x onerror=alert(1)&gt;</td>`)
}
