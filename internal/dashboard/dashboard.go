// Package dashboard is yongjin's built-in commission dashboard: one HTML
// page, rendered on the server from the shipped analytics queries, with the
// main charts as inline SVG (commission over time by platform, settled vs
// estimated, refund rate, top creators), the headline numbers, top
// products, settlement lag and source freshness, and a form to filter by
// CST pay-day range and platform. The page needs nothing from the network:
// no script, no external style sheet, font or image (its Content Security
// Policy forbids them).
//
// Serve it with `sink dashboard` or from devstack; mount the Handler on any
// path (the form submits to the path it was served from).
package dashboard

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/internal/analytics"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// Source is what the dashboard reads; *analytics.Reader implements it.
type Source interface {
	Platforms(ctx context.Context) ([]string, error)
	PayTimeRange(ctx context.Context, f analytics.Filter) (first, last time.Time, ok bool, err error)
	CommissionByPlatformDay(ctx context.Context, f analytics.Filter) ([]analytics.PlatformDay, error)
	RefundsDaily(ctx context.Context, f analytics.Filter) ([]analytics.RefundDay, error)
	SettlementLags(ctx context.Context, f analytics.Filter) ([]analytics.SettlementLag, error)
	TopCreators(ctx context.Context, f analytics.Filter, top int) ([]analytics.TopCreator, error)
	TopProducts(ctx context.Context, f analytics.Filter, top int) ([]analytics.TopProduct, error)
	SourceFreshnesses(ctx context.Context, f analytics.Filter) ([]analytics.SourceFreshness, error)
}

var _ Source = (*analytics.Reader)(nil)

// MaxRangeDays bounds the range a request may ask for.
const MaxRangeDays = 366

// Config configures a Handler. The zero value is usable: New fills each zero
// field from DefaultConfig.
type Config struct {
	// Title heads the page. Default "yongjin — commission".
	Title string
	// MaxDays is the length of the default range: the last MaxDays CST days
	// up to the last pay day in the data. Default 92.
	MaxDays int
	// Top is how many creators and products the page lists. Default 10.
	Top int
	// Timeout bounds the queries of one request. Default 30 s.
	Timeout time.Duration
	// Now is the clock used when there is no data yet. Default time.Now.
	Now func() time.Time
	// Logger receives query errors. Default slog.Default().
	Logger *slog.Logger
}

// DefaultConfig is the configuration of a dashboard with every default value
// set (the logger is slog.Default() at the time New runs).
func DefaultConfig() Config {
	return Config{Title: "yongjin — commission", MaxDays: 92, Top: 10, Timeout: 30 * time.Second, Now: time.Now}
}

// Handler serves the dashboard page for GET and HEAD requests.
type Handler struct {
	src Source
	o   Config
}

// New returns the dashboard handler reading from src.
func New(src Source, o Config) *Handler {
	d := DefaultConfig()
	if o.Title == "" {
		o.Title = d.Title
	}
	if o.MaxDays <= 0 {
		o.MaxDays = d.MaxDays
	}
	if o.Top <= 0 {
		o.Top = d.Top
	}
	if o.Timeout <= 0 {
		o.Timeout = d.Timeout
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Handler{src: src, o: o}
}

//go:embed page.html.tmpl
var pageTemplate string

var tmpl = template.Must(template.New("page").Parse(pageTemplate))

// ServeHTTP renders the page. Query parameters: from and to (CST days,
// YYYY-MM-DD, both included) and platform (empty: all).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.o.Timeout)
	defer cancel()
	p, status := h.build(ctx, r)
	p.Action = r.URL.Path
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, p); err != nil {
		h.o.Logger.Error("dashboard: render", "err", err)
		http.Error(w, "dashboard: render failed", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		_, _ = w.Write(buf.Bytes())
	}
}

// page is what the template shows.
type page struct {
	Title     string
	Action    string
	From, To  string
	Platform  string
	Platforms []string
	Error     string
	Notice    string
	Roles     string
	KPIs      []kpi
	Charts    []chart
	Products  []productRow
	Lags      []lagRow
	Sources   []sourceRow
	Generated string
}

type kpi struct {
	ID, Label, Value, Sub string
}

type chart struct {
	ID, Title, Note string
	SVG             template.HTML
	Half            bool
}

type productRow struct {
	Platform, Product, Orders, Refunded, Estimated, Settled, RefundedYuan string
}

type lagRow struct {
	Platform, Orders, Avg, Median, P90 string
}

type sourceRow struct {
	Source, Kind, Records, LastEvent, LastWritten string
}

// badRequest is an error in the request's parameters.
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

// build loads everything the page shows for the request.
func (h *Handler) build(ctx context.Context, r *http.Request) (page, int) {
	p := page{Title: h.o.Title, Roles: strings.Join(analytics.DefaultRoles, ", "), Generated: h.o.Now().In(wire.CST).Format("2006-01-02 15:04:05 CST")}
	fail := func(err error) (page, int) {
		var br badRequest
		if errors.As(err, &br) {
			p.Error = br.msg
			return p, http.StatusBadRequest
		}
		h.o.Logger.Error("dashboard: query", "err", err)
		p.Error = "Could not read ClickHouse: " + err.Error()
		return p, http.StatusBadGateway
	}
	platforms, err := h.src.Platforms(ctx)
	if err != nil {
		return fail(err)
	}
	p.Platforms = platforms
	q := r.URL.Query()
	p.Platform = strings.TrimSpace(q.Get("platform"))
	var f analytics.Filter
	if p.Platform != "" {
		if !contains(platforms, p.Platform) {
			return fail(badRequest{fmt.Sprintf("Unknown platform %q; the data has: %s.", p.Platform, strings.Join(platforms, ", "))})
		}
		f.Platforms = []string{p.Platform}
	}
	first, last, err := h.dayRange(ctx, f, q.Get("from"), q.Get("to"), &p)
	if err != nil {
		return fail(err)
	}
	p.From, p.To = first.Format(time.DateOnly), last.Format(time.DateOnly)
	dr := analytics.DayRange(first, last)
	f.From, f.To = dr.From, dr.To
	if err := h.fill(ctx, f, first, last, &p); err != nil {
		return fail(err)
	}
	return p, http.StatusOK
}

// dayRange resolves the requested CST days, or the default range: the last
// MaxDays days up to the last pay day (today when there is no data).
func (h *Handler) dayRange(ctx context.Context, f analytics.Filter, fromS, toS string, p *page) (first, last time.Time, err error) {
	parse := func(name, s string) (time.Time, error) {
		t, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(s), wire.CST)
		if err != nil {
			return t, badRequest{fmt.Sprintf("The %s date %q is not a date (YYYY-MM-DD).", name, s)}
		}
		return t, nil
	}
	if fromS != "" && toS != "" {
		if first, err = parse("from", fromS); err != nil {
			return
		}
		if last, err = parse("to", toS); err != nil {
			return
		}
		if last.Before(first) {
			return first, last, badRequest{fmt.Sprintf("The range ends (%s) before it starts (%s).", toS, fromS)}
		}
		if days := int(last.Sub(first).Hours()/24) + 1; days > MaxRangeDays {
			return first, last, badRequest{fmt.Sprintf("The range spans %d days; at most %d are shown at once.", days, MaxRangeDays)}
		}
		return first, last, nil
	}
	day := func(t time.Time) time.Time {
		y, m, d := t.In(wire.CST).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, wire.CST)
	}
	firstPaid, lastPaid, ok, err := h.src.PayTimeRange(ctx, f)
	if err != nil {
		return first, last, err
	}
	if !ok {
		last = day(h.o.Now())
		p.Notice = "No orders stored yet."
	} else {
		last = day(lastPaid)
	}
	first = last.AddDate(0, 0, -(h.o.MaxDays - 1))
	if ok && day(firstPaid).After(first) {
		first = day(firstPaid)
	}
	// Either end alone narrows the default.
	if fromS != "" {
		if first, err = parse("from", fromS); err != nil {
			return
		}
	}
	if toS != "" {
		if last, err = parse("to", toS); err != nil {
			return
		}
	}
	if last.Before(first) {
		return first, last, badRequest{"The range ends before it starts."}
	}
	return first, last, nil
}

// fill runs the queries and lays out the page.
func (h *Handler) fill(ctx context.Context, f analytics.Filter, first, last time.Time, p *page) error {
	days, err := h.src.CommissionByPlatformDay(ctx, f)
	if err != nil {
		return err
	}
	refunds, err := h.src.RefundsDaily(ctx, f)
	if err != nil {
		return err
	}
	lags, err := h.src.SettlementLags(ctx, f)
	if err != nil {
		return err
	}
	creators, err := h.src.TopCreators(ctx, f, h.o.Top)
	if err != nil {
		return err
	}
	products, err := h.src.TopProducts(ctx, f, h.o.Top)
	if err != nil {
		return err
	}
	fresh, err := h.src.SourceFreshnesses(ctx, analytics.Filter{Platforms: f.Platforms})
	if err != nil {
		return err
	}

	// Days of the range, and the platforms shown (with a stable colour each).
	var keys, xs []string
	index := map[string]int{}
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		index[d.Format(time.DateOnly)] = len(xs)
		keys = append(keys, d.Format(time.DateOnly))
		xs = append(xs, d.Format("01-02"))
	}
	colourOf := map[string]string{}
	for i, pl := range p.Platforms {
		colourOf[pl] = colour(i)
	}

	// Totals, per platform and per day.
	var total analytics.Commission
	perPlatform := map[string]*analytics.Commission{}
	perDayFen := map[string][]int64{}
	estDay, setDay, refDay := make([]int64, len(xs)), make([]int64, len(xs)), make([]int64, len(xs))
	for _, d := range days {
		i, ok := index[d.Day.Format(time.DateOnly)]
		if !ok {
			continue
		}
		total.Add(d.Commission)
		if perPlatform[d.Platform] == nil {
			perPlatform[d.Platform] = &analytics.Commission{}
			perDayFen[d.Platform] = make([]int64, len(xs))
		}
		perPlatform[d.Platform].Add(d.Commission)
		perDayFen[d.Platform][i] += d.EstimatedFen
		estDay[i] += d.EstimatedFen
		setDay[i] += d.SettledFen
		refDay[i] += d.RefundedFen
	}
	var refundedAfter, cancelled int64
	for _, rd := range refunds {
		refundedAfter += rd.RefundedAfterSettlement
		cancelled += rd.CancelledOrders
	}
	var lagOrders int64
	var lagSum float64
	for _, l := range lags {
		lagOrders += l.SettledOrders
		lagSum += l.AvgHours * float64(l.SettledOrders)
	}

	settledShare := "—"
	if total.EstimatedFen > 0 {
		settledShare = pct(float64(total.SettledFen)/float64(total.EstimatedFen)) + " of estimated"
	}
	avgLag := "—"
	if lagOrders > 0 {
		avgLag = fmt.Sprintf("%.1f h", lagSum/float64(lagOrders))
	}
	p.KPIs = []kpi{
		{"kpi-estimated", "Estimated commission", yuan(total.EstimatedFen), "orders neither refunded nor cancelled"},
		{"kpi-settled", "Settled commission", yuan(total.SettledFen), settledShare},
		{"kpi-refunded", "Refunded commission", yuan(total.RefundedFen), fmt.Sprintf("%d refunded orders, %d after settlement", total.RefundedOrders, refundedAfter)},
		{"kpi-refund-rate", "Refund rate", pct(total.RefundRate()), fmt.Sprintf("%d of %d orders", total.RefundedOrders, total.Orders)},
		{"kpi-orders", "Orders", fmt.Sprint(total.Orders), fmt.Sprintf("paid %s; %d cancelled", yuan(total.PaidFen), cancelled)},
		{"kpi-lag", "Settlement lag", avgLag, fmt.Sprintf("mean paid → settled, %d orders", lagOrders)},
	}

	empty := "No orders paid in this range."
	var lines []series
	for _, pl := range sortedKeys(perDayFen) {
		lines = append(lines, fenSeries(pl, colourOf[pl], perDayFen[pl]))
	}
	bars := []series{
		fenSeries("estimated", "#93c5fd", estDay),
		fenSeries("settled", "#1d4ed8", setDay),
		fenSeries("refunded", "#ef4444", refDay),
	}
	if total.Orders == 0 {
		lines, bars = nil, nil
	}
	var rates []hbar
	for _, pl := range sortedKeys(perPlatform) {
		c := perPlatform[pl]
		rates = append(rates, hbar{
			Label: pl, Value: c.RefundRate() * 100, ValueLabel: fmt.Sprintf("%.1f", c.RefundRate()*100),
			Text:   fmt.Sprintf("%s (%d of %d orders)", pct(c.RefundRate()), c.RefundedOrders, c.Orders),
			Colour: colourOf[pl], Description: fmt.Sprintf("%s: %d of %d orders refunded", pl, c.RefundedOrders, c.Orders),
		})
	}
	var top []hbar
	for _, c := range creators {
		name := c.AuthorName
		if name == "" {
			name = c.AuthorID
		}
		label := name + " · " + c.Platform
		top = append(top, hbar{
			Label: label, Value: fenF(c.EstimatedFen), ValueLabel: analytics.FormatYuan(c.EstimatedFen),
			Over: fenF(c.SettledFen), OverLabel: analytics.FormatYuan(c.SettledFen),
			Text:   yuan(c.EstimatedFen) + " (settled " + yuan(c.SettledFen) + ")",
			Colour: "#93c5fd", OverColour: "#1d4ed8",
			Description: fmt.Sprintf("%s (%s, %s): estimated %s, settled %s, refunded %s, %d orders",
				name, c.AuthorID, c.Platform, yuan(c.EstimatedFen), yuan(c.SettledFen), yuan(c.RefundedFen), c.Orders),
		})
	}
	p.Charts = []chart{
		{ID: "commission-by-platform", Title: "Estimated commission per day by platform",
			Note: "CST pay day; commission still expected (orders neither refunded nor cancelled).",
			SVG:  lineChart("commission-by-platform", "Estimated commission per day by platform", 1180, 280, keys, xs, lines, yuanAxis, empty)},
		{ID: "settled-vs-estimated", Title: "Estimated vs settled vs refunded per day",
			Note: "All selected platforms. Refunded: the commission the refunded orders would have earned.",
			SVG:  barChart("settled-vs-estimated", "Estimated vs settled vs refunded per day", 1180, 260, keys, xs, bars, yuanAxis, empty)},
		{ID: "refund-rate", Title: "Refund rate by platform", Half: true,
			Note: "Refunded orders / orders paid in the range.",
			SVG:  hbarChart("refund-rate", "Refund rate by platform", 575, rates, empty)},
		{ID: "top-creators", Title: fmt.Sprintf("Top %d creators by estimated commission", h.o.Top), Half: true,
			Note: "Light: estimated; dark: settled.",
			SVG:  hbarChart("top-creators", "Top creators by estimated commission", 575, top, empty)},
	}
	for _, pr := range products {
		name := pr.ProductName
		if name == "" {
			name = pr.ProductID
		}
		p.Products = append(p.Products, productRow{pr.Platform, name, fmt.Sprint(pr.Orders), fmt.Sprint(pr.RefundedOrders),
			yuan(pr.EstimatedFen), yuan(pr.SettledFen), yuan(pr.RefundedFen)})
	}
	for _, l := range lags {
		p.Lags = append(p.Lags, lagRow{l.Platform, fmt.Sprint(l.SettledOrders), hours(l.AvgHours), hours(l.MedianHours), hours(l.P90Hours)})
	}
	for _, s := range fresh {
		p.Sources = append(p.Sources, sourceRow{s.Source(), s.Kind, fmt.Sprint(s.Records),
			s.LastEventAt.In(wire.CST).Format("2006-01-02 15:04:05"), s.LastIngestedAt.In(wire.CST).Format("2006-01-02 15:04:05")})
	}
	return nil
}

func fenSeries(name, colour string, fen []int64) series {
	s := series{Name: name, Colour: colour, Values: make([]float64, len(fen)), Labels: make([]string, len(fen))}
	for i, v := range fen {
		s.Values[i], s.Labels[i] = fenF(v), analytics.FormatYuan(v)
	}
	return s
}

func fenF(fen int64) float64 { return float64(fen) / 100 }

// yuan formats fen as "¥1,234.56".
func yuan(fen int64) string {
	s := analytics.FormatYuan(fen)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return sign + "¥" + b.String() + "." + frac
}

// yuanAxis labels a chart axis in whole yuan (or cents below ¥1).
func yuanAxis(v float64) string {
	if v != float64(int64(v)) {
		return fmt.Sprintf("¥%.2f", v)
	}
	return strings.TrimSuffix(yuan(int64(v)*100), ".00")
}

func pct(r float64) string { return fmt.Sprintf("%.1f%%", r*100) }

func hours(h float64) string { return fmt.Sprintf("%.1f", h) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
