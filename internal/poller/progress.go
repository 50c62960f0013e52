package poller

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// ProgressPrinter renders backfill progress: a redrawn bar on a terminal,
// one plain line per window otherwise (logs, CI).
type ProgressPrinter struct {
	W   io.Writer
	TTY bool
}

// NewProgressPrinter writes to w, as a bar when w is a terminal.
func NewProgressPrinter(w io.Writer) *ProgressPrinter {
	pp := &ProgressPrinter{W: w}
	if f, ok := w.(*os.File); ok {
		st, err := f.Stat()
		pp.TTY = err == nil && st.Mode()&os.ModeCharDevice != 0
	}
	return pp
}

// Report prints one progress update.
func (pp *ProgressPrinter) Report(p Progress) {
	elapsed := p.Now.Sub(p.Started)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.Records) / elapsed.Seconds()
	}
	eta := "?"
	if p.WindowsDone > 0 {
		left := time.Duration(float64(elapsed) / float64(p.WindowsDone) * float64(p.WindowsTotal-p.WindowsDone))
		eta = left.Round(time.Second).String()
	}
	name := p.Part.Source.Name
	if p.Part.TimeType != "" {
		name += "/" + p.Part.TimeType
	}
	if !pp.TTY {
		fmt.Fprintf(pp.W, "backfill %s: window %d/%d up to %s, %d pages, %d records, %.0f records/s, ETA %s\n",
			name, p.WindowsDone, p.WindowsTotal, p.Position.Format(time.RFC3339), p.Pages, p.Records, rate, eta)
		return
	}
	const width = 30
	filled := width * p.WindowsDone / max(p.WindowsTotal, 1)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	fmt.Fprintf(pp.W, "\r%s %s %d/%d windows  %d pages  %d records  %.0f/s  ETA %s   ", name, bar, p.WindowsDone, p.WindowsTotal, p.Pages, p.Records, rate, eta)
	if p.WindowsDone == p.WindowsTotal {
		fmt.Fprintln(pp.W)
	}
}
