package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Charts are drawn on the server as inline SVG: no script, no font or style
// sheet from the network. Every mark carries its exact value in data-*
// attributes and a <title> (the browser's tooltip), so tests and curious
// users can read the numbers the marks stand for.

// palette colours series in order; platform colours follow the sorted
// platform list so a platform keeps its colour from chart to chart.
var palette = []string{"#2563eb", "#f97316", "#16a34a", "#9333ea", "#dc2626", "#0891b2", "#ca8a04", "#db2777"}

func colour(i int) string { return palette[i%len(palette)] }

// series is one line or one kind of bar: a value per x position. Labels
// are the exact values as shown (data-value), Values their magnitudes.
type series struct {
	Name   string
	Colour string
	Values []float64
	Labels []string
}

// chartBox is the drawing area of a chart with axes.
type chartBox struct {
	W, H                     float64
	Left, Right, Top, Bottom float64
}

func (b chartBox) plotW() float64 { return b.W - b.Left - b.Right }
func (b chartBox) plotH() float64 { return b.H - b.Top - b.Bottom }

// niceScale returns a round upper bound for values up to max and the step
// of about five ticks.
func niceScale(max float64) (top, step float64) {
	if max <= 0 || math.IsNaN(max) || math.IsInf(max, 0) {
		return 1, 0.2
	}
	raw := max / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	return math.Ceil(max/step-1e-9) * step, step
}

func esc(s string) string { return html.EscapeString(s) }

func f1(v float64) string { return fmt.Sprintf("%.1f", v) }

// svgOpen starts a chart's SVG element.
func svgOpen(b *strings.Builder, id, title string, w, h float64) {
	fmt.Fprintf(b, `<svg class="chart" id="%s" data-chart="%s" role="img" aria-label="%s" viewBox="0 0 %s %s" width="%s" height="%s" xmlns="http://www.w3.org/2000/svg">`,
		esc(id), esc(id), esc(title), f1(w), f1(h), f1(w), f1(h))
	fmt.Fprintf(b, `<title>%s</title>`, esc(title))
}

// yAxis draws horizontal grid lines with labels and returns the y of a value.
func yAxis(b *strings.Builder, box chartBox, max float64, format func(float64) string) func(float64) float64 {
	top, step := niceScale(max)
	y := func(v float64) float64 { return box.Top + box.plotH()*(1-v/top) }
	for v := 0.0; v <= top+step/2; v += step {
		yy := y(v)
		fmt.Fprintf(b, `<line class="grid" x1="%s" x2="%s" y1="%s" y2="%s" stroke="#e5e7eb"/>`, f1(box.Left), f1(box.W-box.Right), f1(yy), f1(yy))
		fmt.Fprintf(b, `<text class="tick" x="%s" y="%s" text-anchor="end" dominant-baseline="middle">%s</text>`, f1(box.Left-6), f1(yy), esc(format(v)))
	}
	return y
}

// xLabels writes the x labels, thinned so they do not overlap.
func xLabels(b *strings.Builder, box chartBox, labels []string, x func(int) float64) {
	every := int(math.Ceil(float64(len(labels)) * 48 / box.plotW()))
	if every < 1 {
		every = 1
	}
	for i, l := range labels {
		if i%every != 0 && i != len(labels)-1 {
			continue
		}
		fmt.Fprintf(b, `<text class="tick" x="%s" y="%s" text-anchor="middle">%s</text>`, f1(x(i)), f1(box.H-box.Bottom+16), esc(l))
	}
}

// legend writes the series names along the top.
func legend(b *strings.Builder, box chartBox, ss []series) {
	x := box.Left
	for _, s := range ss {
		fmt.Fprintf(b, `<rect x="%s" y="8" width="12" height="12" rx="2" fill="%s"/>`, f1(x), s.Colour)
		fmt.Fprintf(b, `<text class="legend" x="%s" y="18">%s</text>`, f1(x+16), esc(s.Name))
		x += 28 + 7.5*float64(len([]rune(s.Name)))
	}
}

func maxOf(ss []series) float64 {
	m := 0.0
	for _, s := range ss {
		for _, v := range s.Values {
			m = math.Max(m, v)
		}
	}
	return m
}

func emptyChart(b *strings.Builder, box chartBox, msg string) {
	fmt.Fprintf(b, `<text class="empty" x="%s" y="%s" text-anchor="middle">%s</text></svg>`, f1(box.W/2), f1(box.H/2), esc(msg))
}

// lineChart draws one line per series over the x labels.
// keys identify the x positions (data-x), xs are their axis labels.
func lineChart(id, title string, w, h float64, keys, xs []string, ss []series, format func(float64) string, empty string) template.HTML {
	var b strings.Builder
	box := chartBox{W: w, H: h, Left: 72, Right: 16, Top: 32, Bottom: 28}
	svgOpen(&b, id, title, w, h)
	if len(xs) == 0 || len(ss) == 0 {
		emptyChart(&b, box, empty)
		return template.HTML(b.String())
	}
	legend(&b, box, ss)
	y := yAxis(&b, box, maxOf(ss), format)
	x := func(i int) float64 {
		if len(xs) == 1 {
			return box.Left + box.plotW()/2
		}
		return box.Left + box.plotW()*float64(i)/float64(len(xs)-1)
	}
	xLabels(&b, box, xs, x)
	for _, s := range ss {
		pts := make([]string, len(s.Values))
		for i, v := range s.Values {
			pts[i] = f1(x(i)) + "," + f1(y(v))
		}
		fmt.Fprintf(&b, `<polyline class="series" data-series="%s" fill="none" stroke="%s" stroke-width="2" points="%s"/>`, esc(s.Name), s.Colour, strings.Join(pts, " "))
		for i, v := range s.Values {
			fmt.Fprintf(&b, `<circle class="point" data-series="%s" data-x="%s" data-value="%s" cx="%s" cy="%s" r="3" fill="%s"><title>%s %s: ¥%s</title></circle>`,
				esc(s.Name), esc(keys[i]), esc(s.Labels[i]), f1(x(i)), f1(y(v)), s.Colour, esc(s.Name), esc(keys[i]), esc(s.Labels[i]))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// barChart draws, per x label, one bar per series side by side.
// keys identify the x positions (data-x), xs are their axis labels.
func barChart(id, title string, w, h float64, keys, xs []string, ss []series, format func(float64) string, empty string) template.HTML {
	var b strings.Builder
	box := chartBox{W: w, H: h, Left: 72, Right: 16, Top: 32, Bottom: 28}
	svgOpen(&b, id, title, w, h)
	if len(xs) == 0 || len(ss) == 0 {
		emptyChart(&b, box, empty)
		return template.HTML(b.String())
	}
	legend(&b, box, ss)
	y := yAxis(&b, box, maxOf(ss), format)
	group := box.plotW() / float64(len(xs))
	bar := group * 0.8 / float64(len(ss))
	x := func(i int) float64 { return box.Left + group*(float64(i)+0.5) }
	xLabels(&b, box, xs, x)
	for si, s := range ss {
		for i, v := range s.Values {
			left := box.Left + group*float64(i) + group*0.1 + bar*float64(si)
			top := y(v)
			fmt.Fprintf(&b, `<rect class="bar" data-series="%s" data-x="%s" data-value="%s" x="%s" y="%s" width="%s" height="%s" fill="%s"><title>%s %s: ¥%s</title></rect>`,
				esc(s.Name), esc(keys[i]), esc(s.Labels[i]), f1(left), f1(top), f1(math.Max(bar-1, 1)), f1(box.Top+box.plotH()-top), s.Colour,
				esc(s.Name), esc(keys[i]), esc(s.Labels[i]))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// hbar is one row of a horizontal bar chart: a main bar, optionally a
// second one drawn over it (e.g. settled over estimated).
type hbar struct {
	Label       string
	Value       float64
	ValueLabel  string // exact value, data-value
	Text        string // shown after the bar
	Over        float64
	OverLabel   string
	Colour      string
	OverColour  string
	Description string // tooltip
}

// hbarChart draws one horizontal bar per row, scaled to the largest.
func hbarChart(id, title string, w float64, rows []hbar, empty string) template.HTML {
	const rowH, top, labelW = 30.0, 8.0, 190.0
	h := top*2 + rowH*math.Max(float64(len(rows)), 2)
	// Room for the longest value text (about 6.5 px a character at 11 px).
	textW := 60.0
	for _, r := range rows {
		textW = math.Max(textW, 6.5*float64(len([]rune(r.Text)))+12)
	}
	textW = math.Min(textW, w/2-labelW/2)
	var b strings.Builder
	svgOpen(&b, id, title, w, h)
	if len(rows) == 0 {
		emptyChart(&b, chartBox{W: w, H: h}, empty)
		return template.HTML(b.String())
	}
	max := 0.0
	for _, r := range rows {
		max = math.Max(max, math.Max(r.Value, r.Over))
	}
	if max <= 0 {
		max = 1
	}
	plotW := w - labelW - textW
	for i, r := range rows {
		y := top + rowH*float64(i)
		fmt.Fprintf(&b, `<text class="label" x="%s" y="%s" text-anchor="end" dominant-baseline="middle">%s</text>`, f1(labelW-8), f1(y+rowH/2), esc(truncate(r.Label, 24)))
		bw := plotW * r.Value / max
		fmt.Fprintf(&b, `<rect class="bar" data-label="%s" data-value="%s" x="%s" y="%s" width="%s" height="%s" rx="2" fill="%s"><title>%s</title></rect>`,
			esc(r.Label), esc(r.ValueLabel), f1(labelW), f1(y+5), f1(math.Max(bw, 1)), f1(rowH-10), r.Colour, esc(r.Description))
		if r.OverLabel != "" {
			ow := plotW * r.Over / max
			fmt.Fprintf(&b, `<rect class="bar over" data-label="%s" data-over="%s" x="%s" y="%s" width="%s" height="%s" rx="2" fill="%s"><title>%s</title></rect>`,
				esc(r.Label), esc(r.OverLabel), f1(labelW), f1(y+10), f1(math.Max(ow, 0)), f1(rowH-20), r.OverColour, esc(r.Description))
		}
		fmt.Fprintf(&b, `<text class="value" x="%s" y="%s" dominant-baseline="middle">%s</text>`, f1(labelW+math.Max(bw, 1)+6), f1(y+rowH/2), esc(r.Text))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
