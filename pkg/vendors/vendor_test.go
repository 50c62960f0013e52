package vendors

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

func TestSplitWindow(t *testing.T) {
	t0 := time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	type span struct{ start, end time.Duration } // offsets from t0
	tests := []struct {
		name       string
		start, end time.Time
		max        time.Duration
		want       []span // nil = no windows
	}{
		{name: "empty range", start: t0, end: t0, max: day},
		{name: "negative range", start: t0.Add(time.Hour), end: t0, max: day},
		{name: "negative range, unlimited", start: t0.Add(time.Hour), end: t0, max: 0},
		{name: "max zero is one window", start: t0, end: t0.Add(400 * day), max: 0, want: []span{{0, 400 * day}}},
		{name: "max negative is one window", start: t0, end: t0.Add(3 * day), max: -time.Hour, want: []span{{0, 3 * day}}},
		{name: "shorter than max", start: t0, end: t0.Add(time.Hour), max: day, want: []span{{0, time.Hour}}},
		{name: "exactly max", start: t0, end: t0.Add(day), max: day, want: []span{{0, day}}},
		{name: "exact multiple", start: t0, end: t0.Add(3 * day), max: day, want: []span{{0, day}, {day, 2 * day}, {2 * day, 3 * day}}},
		{name: "remainder window", start: t0, end: t0.Add(2*day + 90*time.Minute), max: day,
			want: []span{{0, day}, {day, 2 * day}, {2 * day, 2*day + 90*time.Minute}}},
		{name: "one second past a multiple", start: t0, end: t0.Add(2*day + time.Second), max: day,
			want: []span{{0, day}, {day, 2 * day}, {2 * day, 2*day + time.Second}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SplitWindow(tc.start, tc.end, tc.max, "update")
			if tc.want == nil {
				if got != nil {
					t.Fatalf("SplitWindow = %v, want nil", got)
				}
				return
			}
			if len(got) != len(tc.want) {
				t.Fatalf("SplitWindow gave %d windows %v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range got {
				if !w.Start.Equal(t0.Add(tc.want[i].start)) || !w.End.Equal(t0.Add(tc.want[i].end)) {
					t.Errorf("window %d = [%s, %s], want [%s, %s]", i, w.Start, w.End, t0.Add(tc.want[i].start), t0.Add(tc.want[i].end))
				}
				if w.TimeType != "update" {
					t.Errorf("window %d TimeType = %q, want update", i, w.TimeType)
				}
			}
		})
	}
}

// Property: for many ranges and limits the windows are non-empty, no longer
// than max, contiguous (each starts where the previous ended) and cover
// exactly [start, end].
func TestSplitWindowCoversRange(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, max := range []time.Duration{time.Second, 7 * time.Minute, time.Hour, 90 * 24 * time.Hour} {
		for _, length := range []time.Duration{time.Second, 59 * time.Minute, time.Hour, 25 * time.Hour, 91 * 24 * time.Hour, 400*24*time.Hour + 13*time.Second} {
			if length/max > 100000 {
				continue
			}
			name := fmt.Sprintf("max=%s/len=%s", max, length)
			end := start.Add(length)
			ws := SplitWindow(start, end, max, "pay")
			if len(ws) == 0 {
				t.Errorf("%s: no windows", name)
				continue
			}
			if !ws[0].Start.Equal(start) || !ws[len(ws)-1].End.Equal(end) {
				t.Errorf("%s: windows span [%s, %s], want [%s, %s]", name, ws[0].Start, ws[len(ws)-1].End, start, end)
			}
			wantN := int((length + max - 1) / max)
			if len(ws) != wantN {
				t.Errorf("%s: %d windows, want %d", name, len(ws), wantN)
			}
			for i, w := range ws {
				if !w.End.After(w.Start) || w.End.Sub(w.Start) > max {
					t.Errorf("%s: window %d = [%s, %s] empty or longer than max", name, i, w.Start, w.End)
				}
				if i > 0 && !w.Start.Equal(ws[i-1].End) {
					t.Errorf("%s: window %d starts at %s, previous ended at %s", name, i, w.Start, ws[i-1].End)
				}
				if w.TimeType != "pay" {
					t.Errorf("%s: window %d TimeType = %q", name, i, w.TimeType)
				}
			}
		}
	}
}

// fakeVendor is the smallest Vendor: only its name matters to the registry.
type fakeVendor struct{ name string }

func (f fakeVendor) Name() string                           { return f.name }
func (fakeVendor) Endpoint() string                         { return "orders" }
func (fakeVendor) MaxWindow() time.Duration                 { return 0 }
func (fakeVendor) NewFetcher(SourceConfig) (Fetcher, error) { return nil, nil }
func (fakeVendor) Normalize(events.RawPage) ([]events.Envelope, error) {
	return nil, nil
}

func TestRegistryGet(t *testing.T) {
	r := NewRegistry(fakeVendor{"zeta"}, fakeVendor{"alpha"}, fakeVendor{"douke"})
	if got := strings.Join(r.Names(), ","); got != "alpha,douke,zeta" {
		t.Errorf("Names() = %s, want sorted alpha,douke,zeta", got)
	}
	v, err := r.Get("douke")
	if err != nil {
		t.Fatal(err)
	}
	if v.Name() != "douke" {
		t.Errorf("Get(douke) = %s", v.Name())
	}
	for _, name := range []string{"taobao", "", "Douke"} {
		v, err := r.Get(name)
		if err == nil {
			t.Errorf("Get(%q) = %v, want error", name, v)
			continue
		}
		if v != nil {
			t.Errorf("Get(%q) returned a vendor with its error", name)
		}
		msg := err.Error()
		if !strings.Contains(msg, fmt.Sprintf("%q", name)) {
			t.Errorf("Get(%q) error %q does not name the vendor asked for", name, msg)
		}
		for _, known := range []string{"alpha", "douke", "zeta"} {
			if !strings.Contains(msg, known) {
				t.Errorf("Get(%q) error %q does not list known vendor %s", name, msg, known)
			}
		}
	}
}

func TestRegistryEmpty(t *testing.T) {
	r := NewRegistry()
	if n := r.Names(); len(n) != 0 {
		t.Errorf("Names() = %v, want none", n)
	}
	if _, err := r.Get("douke"); err == nil {
		t.Error("empty registry found a vendor")
	}
}

func TestNewRegistryPanicsOnDuplicate(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("NewRegistry accepted two vendors called douke")
		}
		if !strings.Contains(fmt.Sprint(r), "douke") {
			t.Errorf("panic %v does not name the duplicate", r)
		}
	}()
	NewRegistry(fakeVendor{"douke"}, fakeVendor{"other"}, fakeVendor{"douke"})
}
