package poller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/cli"
)

// This file holds what the `poller once`, `poller sources` and `poller
// backfill` commands do, and the clock `--sandbox-clock` reads.

// SelectSources returns the sources named only, or all of srcs when only is
// "". It is an error when no source has that name.
func SelectSources(srcs []Source, only string) ([]Source, error) {
	if only == "" {
		return srcs, nil
	}
	var sel []Source
	for _, s := range srcs {
		if s.Name == only {
			sel = append(sel, s)
		}
	}
	if len(sel) == 0 {
		return nil, fmt.Errorf("no source named %q", only)
	}
	return sel, nil
}

// PollOnce is `poller once`: without from, to and timeType it polls every
// source over its range concurrently (RunOnce); otherwise one source after
// the other over its range with from and to (config times, "" = keep) put
// in, on vendor time type timeType ("" = the source's), writing one line per
// source to w. No checkpoint is read or written.
func (p *Poller) PollOnce(ctx context.Context, w io.Writer, srcs []Source, from, to, timeType string) error {
	if from == "" && to == "" && timeType == "" {
		return p.RunOnce(ctx, srcs)
	}
	for _, s := range srcs {
		f, t, err := p.Range(s)
		if err != nil {
			return err
		}
		if from != "" {
			if f, err = cli.ParseOperatorTime(from); err != nil {
				return fmt.Errorf("--from: %w", err)
			}
		}
		if to != "" {
			if t, err = cli.ParseOperatorTime(to); err != nil {
				return fmt.Errorf("--to: %w", err)
			}
		}
		st, err := p.Poll(ctx, s, f, t, timeType)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s: %d windows, %d pages, %d records published\n", s.Name, st.Windows, st.Pages, st.Records)
	}
	return nil
}

// Backfill is `poller backfill`: it walks src's historical range [from, to)
// (config times) window by window for every part of src (only those of
// vendor time type timeType when set), keeping its position under a
// checkpoint key of its own, so a backfill killed and started again resumes
// where it stopped. An incremental "update" part is walked by pay time: a
// historical range is read by the time records happened. Progress goes to
// progress, one line per finished part to w.
func (p *Poller) Backfill(ctx context.Context, cps *checkpoint.Store, src Source, from, to, timeType string, w, progress io.Writer) error {
	if from == "" || to == "" {
		return errors.New("backfill needs --source, --from and --to")
	}
	f, err := cli.ParseOperatorTime(from)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	t, err := cli.ParseOperatorTime(to)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	if !t.After(f) {
		return errors.New("--to must be after --from")
	}
	parts, err := p.Parts(src)
	if err != nil {
		return err
	}
	pp := NewProgressPrinter(progress)
	for _, part := range parts {
		if timeType != "" && part.TimeType != timeType {
			continue
		}
		if part.TimeType == "update" {
			part.TimeType = "pay"
		}
		key := BackfillKey(part, f, t)
		if cp, err := cps.Get(ctx, key); err == nil && !cp.Position.IsZero() {
			fmt.Fprintf(progress, "backfill %s: resuming at %s\n", part.Key(), cp.Position.Format(time.RFC3339))
		}
		st, err := p.RunPart(ctx, cps, part, key, f, t, false, pp.Report)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "backfill %s/%s done: %d windows, %d pages, %d records\n", src.Name, part.TimeType, st.Windows, st.Pages, st.Records)
	}
	return nil
}

// PrintSources is `poller sources`: one table row per part of each source
// with its checkpoint, last success, next run, lease holder, last error and
// skipped range.
func (p *Poller) PrintSources(ctx context.Context, w io.Writer, cps *checkpoint.Store, srcs []Source) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tVENDOR\tACCOUNT\tPART\tCHECKPOINT\tLAST SUCCESS\tNEXT RUN\tHOLDER\tLAST ERROR\tSKIPPED")
	show := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, s := range srcs {
		parts, err := p.Parts(s)
		if err != nil {
			return err
		}
		for _, part := range parts {
			cp, err := cps.Get(ctx, part.Key())
			if err != nil {
				return err
			}
			name := part.TimeType
			if part.Snapshot {
				name = "snapshot"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Vendor, s.Account, name,
				show(cp.Position), show(cp.LastSuccess), show(cp.NextRun), orDash(cp.Holder), orDash(cp.LastError), orDash(cp.Skipped))
		}
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// HTTPClock returns a clock that reads "now" from url, which answers an
// RFC 3339 time (the vendor sandbox's /_sandbox/clock), so a poller can
// follow the sandbox's virtual time. On an error it answers the last value
// read (the wall clock before the first). It is safe for concurrent use:
// every part reads the clock once per page.
func HTTPClock(url string) func() time.Time {
	var last atomic.Pointer[time.Time]
	c := &http.Client{Timeout: 5 * time.Second}
	return func() time.Time {
		res, err := c.Get(url)
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if t, perr := time.Parse(time.RFC3339, strings.TrimSpace(string(b))); perr == nil {
				last.Store(&t)
				return t
			}
		}
		if t := last.Load(); t != nil {
			return *t
		}
		return time.Now()
	}
}
