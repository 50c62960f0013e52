// Command devstack is yongjin's all-in-one dev mode (what `make demo` runs):
// an embedded NATS JetStream server, the vendor sandbox, and the poller,
// normalizer and sink in one process against a local ClickHouse. It polls
// the sandbox, lets the sandbox clock move so orders change state, polls the
// changes, waits until the sink has caught up, and prints the ClickHouse
// commission summary next to the sandbox's ground truth. It exits 1 if they
// differ. The built-in dashboard is served while it runs (--dashboard-addr)
// and, with --serve, until Ctrl-C after the demo.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/internal/app"
	"github.com/yongjin-dev/yongjin/internal/cli"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/dashboard"
	"github.com/yongjin-dev/yongjin/internal/devstack"
	"github.com/yongjin-dev/yongjin/internal/obs"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/summary"
)

const synopsis = `devstack — run the whole yongjin pipeline in one process against the vendor sandbox.

Polls douke orders paid in [--from, --to) at sandbox time --clock, advances the
sandbox clock by --advance so orders are received, settled and refunded, polls
the changes (time_type=update), waits for the sink, and compares ClickHouse
with the sandbox's ground truth. Running it again changes nothing.

The commission dashboard is served at http://<--dashboard-addr>/dashboard while
the demo runs; --serve keeps serving it afterwards, until Ctrl-C.`

func main() {
	fs := flag.NewFlagSet("devstack", flag.ExitOnError)
	ch := clickhouse.Config{}
	fs.StringVar(&ch.Addr, "clickhouse-addr", "127.0.0.1:9000", "ClickHouse native address")
	fs.StringVar(&ch.Database, "clickhouse-database", "yongjin_demo", "ClickHouse database")
	dataDir := fs.String("data-dir", ".data/demo", "directory for the embedded NATS store")
	seed := fs.Int64("seed", 1, "sandbox seed (same seed, same orders)")
	orders := fs.Int("orders", 5000, "orders the sandbox generates")
	from := fs.String("from", "2026-10-01", "first pay day of the generated orders (CST)")
	to := fs.String("to", "2026-11-01", "end of the pay range (CST, exclusive)")
	clock := fs.String("clock", "2026-11-05", "sandbox time of the first poll (CST)")
	advance := fs.Duration("advance", 20*24*time.Hour, "how far the sandbox clock moves before the second poll")
	logLevel := fs.String("log-level", "error", "log level (warn shows retries, e.g. the Taobao clock correction against the sandbox)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	dashAddr := fs.String("dashboard-addr", "127.0.0.1:8790", "listen address of the commission dashboard (another free port if busy; empty: no dashboard)")
	serve := fs.Bool("serve", false, "keep serving the dashboard after the demo, until Ctrl-C")
	if err := cli.Parse(fs, "YONGJIN_DEVSTACK", synopsis, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(2)
	}
	log, err := obs.NewLogger(os.Stderr, *logLevel, "devstack")
	if err != nil {
		app.Fatal(nil, "devstack", err)
	}
	if ch.Password, err = cli.Secret("YONGJIN_CLICKHOUSE_PASSWORD"); err != nil {
		app.Fatal(nil, "devstack", err)
	}
	sc := sandbox.DefaultConfig()
	sc.Seed, sc.Orders = *seed, *orders
	for _, p := range []struct {
		dst  *time.Time
		v, n string
	}{{&sc.From, *from, "--from"}, {&sc.To, *to, "--to"}, {&sc.Clock, *clock, "--clock"}} {
		if *p.dst, err = poller.ParseTime(p.v); err != nil {
			app.Fatal(nil, p.n, err)
		}
	}
	sigCtx, stop := app.SignalContext()
	defer stop()
	url, stopDash, err := startDashboard(sigCtx, ch, *dashAddr)
	if err != nil {
		app.Fatal(nil, "dashboard", err)
	}
	ctx, cancel := context.WithTimeout(sigCtx, *timeout)
	err = run(ctx, devstack.Options{DataDir: *dataDir, ClickHouse: ch, Sandbox: sc, Logger: log}, *advance, url)
	cancel()
	if err == nil && url != "" {
		err = checkDashboard(sigCtx, url, *serve, ch)
	}
	if err == nil && *serve && url != "" {
		fmt.Printf("Serving the dashboard at %s until Ctrl-C.\n", url)
		<-sigCtx.Done()
	}
	stopDash()
	if err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

// startDashboard serves the commission dashboard on addr (or, when that is
// taken, on another free loopback port) from a store of its own, so it
// outlives the pipeline with --serve. It returns the page's URL ("" when addr
// is empty) and a function that stops serving.
func startDashboard(ctx context.Context, cfg clickhouse.Config, addr string) (string, func(), error) {
	if addr == "" {
		return "", func() {}, nil
	}
	store, err := clickhouse.Open(ctx, cfg)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			store.Close()
			return "", nil, fmt.Errorf("listen: %w", err)
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = dashboard.Serve(sctx, ln, dashboard.New(store, dashboard.Options{}))
	}()
	return dashboard.URL(ln), func() { cancel(); <-done; store.Close() }, nil
}

var kpiRE = regexp.MustCompile(`id="kpi-estimated"><div class="label">[^<]*</div><div class="value">([^<]*)</div>`)

// checkDashboard loads the dashboard page once, as a browser would, and
// prints where to find it.
func checkDashboard(ctx context.Context, url string, serve bool, cfg clickhouse.Config) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	m := kpiRE.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		return fmt.Errorf("dashboard %s answered %s without the commission figures", url, resp.Status)
	}
	fmt.Printf("\nDashboard: %s (estimated commission %s on its default range).\n", url, m[1])
	if !serve {
		fmt.Printf("It stops with this demo: run `bash scripts/demo.sh --serve` to keep it up, or later\n"+
			"  go run ./cmd/sink dashboard --clickhouse-addr %s --clickhouse-database %s\n", cfg.Addr, cfg.Database)
	}
	return nil
}

func run(ctx context.Context, o devstack.Options, advance time.Duration, dashURL string) error {
	step := func(format string, a ...any) { fmt.Printf("==> "+format+"\n", a...) }
	step("starting embedded NATS JetStream (%s), vendor sandbox (%d orders, seed %d), normalizer and sink; ClickHouse %s",
		o.DataDir, o.Sandbox.Orders, o.Sandbox.Seed, o.ClickHouse.Addr)
	if dashURL != "" {
		step("commission dashboard (live while the demo runs): %s", dashURL)
	}
	st, err := devstack.Start(ctx, o)
	if err != nil {
		return err
	}
	defer st.Close()
	clock1 := st.Sandbox.Clock().Now()
	step("sandbox clock at %s CST: polling %d sources (%s) for everything paid since %s",
		clock1.In(sandbox.CST).Format(time.DateTime), len(st.Sources), sourceNames(st), o.Sandbox.From.In(sandbox.CST).Format(time.DateOnly))
	s1, err := st.PollInitial(ctx, o.Sandbox.From, clock1)
	if err != nil {
		return err
	}
	step("published %d pages, %d records to YONGJIN_RAW", s1.Pages, s1.Records)
	clock2 := st.Sandbox.Clock().Advance(advance)
	step("sandbox clock advanced to %s CST: orders were received, settled and refunded, plans and creator indicators changed", clock2.In(sandbox.CST).Format(time.DateTime))
	s2, err := st.PollChanges(ctx, o.Sandbox.From, clock1, clock2)
	if err != nil {
		return err
	}
	step("polled the changes (douke and douke-csj by update time, Taobao by re-scanning its pay range, snapshots again): %d pages, %d records", s2.Pages, s2.Records)
	step("waiting for the normalizer and the sink to catch up")
	last := ""
	if err := st.WaitCaughtUp(ctx, func(stage string, pending uint64) {
		if line := fmt.Sprintf("    %s: %d messages left", stage, pending); line != last && pending > 0 {
			fmt.Println(line)
			last = line
		}
	}); err != nil {
		return err
	}
	got, err := st.Summary(ctx, "")
	if err != nil {
		return err
	}
	want := st.Truth()
	fmt.Println()
	summary.Print(os.Stdout, "ClickHouse (shipped query, latest version of each order):", got)
	fmt.Println()
	summary.Print(os.Stdout, "Vendor sandbox ground truth:", want)
	fmt.Println()
	dlq, err := st.DeadLetters(ctx)
	if err != nil {
		return err
	}
	if diff := summary.Diff(want, got); len(diff) > 0 {
		for _, d := range diff {
			fmt.Println("MISMATCH", d)
		}
		return fmt.Errorf("ClickHouse differs from the sandbox ground truth in %d rows", len(diff))
	}
	fmt.Printf("OK: ClickHouse matches the sandbox ground truth: %d orders, %d plans, %d creator snapshots; %d dead letters.\n",
		got.TotalOrders(), totalPlans(got), totalSnapshots(got), dlq)
	return nil
}

func sourceNames(st *devstack.Stack) string {
	names := make([]string, len(st.Sources))
	for i, s := range st.Sources {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

func totalPlans(s summary.Summary) (n int64) {
	for _, r := range s.Plans {
		n += r.Plans
	}
	return n
}

func totalSnapshots(s summary.Summary) (n int64) {
	for _, r := range s.Snapshots {
		n += r.Snapshots
	}
	return n
}
