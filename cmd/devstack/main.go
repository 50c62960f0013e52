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
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/yongjin-dev/yongjin/internal/analytics"
	"github.com/yongjin-dev/yongjin/internal/cli"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/dashboard"
	"github.com/yongjin-dev/yongjin/internal/devstack"
	"github.com/yongjin-dev/yongjin/internal/obs"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second signal kills the process the default way
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

var program = cli.Program{
	Name:    "devstack",
	Summary: "run the whole yongjin pipeline in one process against the vendor sandbox.",
	Default: "run",
	Commands: []cli.Command{
		{Name: "run", Summary: "poll the sandbox, move its clock, poll the changes and compare ClickHouse with the sandbox's ground truth (make demo)", Run: demo},
	},
	Notes: `devstack run polls douke orders paid in [--from, --to) at sandbox time --clock,
advances the sandbox clock by --advance so orders are received, settled and
refunded, polls the changes (time_type=update), waits for the sink, and
compares ClickHouse with the sandbox's ground truth (exit 1 if they differ).
Running it again changes nothing.

The commission dashboard is served at http://<--dashboard-addr>/dashboard while
the demo runs; --serve keeps serving it afterwards, until Ctrl-C.`,
}

// run is the command: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program.Run(ctx, args, stdout, stderr)
}

// demo is `devstack run`: flags → stack → demo → dashboard.
func demo(sigCtx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devstack run", flag.ContinueOnError)
	cfg := devstack.DefaultConfig()
	fs.StringVar(&cfg.ClickHouse.Addr, "clickhouse-addr", cfg.ClickHouse.Addr, "ClickHouse native address")
	fs.StringVar(&cfg.ClickHouse.Database, "clickhouse-database", cfg.ClickHouse.Database, "ClickHouse database")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the embedded NATS store")
	fs.Int64Var(&cfg.Sandbox.Seed, "seed", cfg.Sandbox.Seed, "sandbox seed (same seed, same orders)")
	fs.IntVar(&cfg.Sandbox.Orders, "orders", cfg.Sandbox.Orders, "orders the sandbox generates")
	cli.TimeVar(fs, &cfg.Sandbox.From, "from", cli.ParseOperatorTime, time.DateOnly, wire.CST, "first pay day of the generated orders (CST)")
	cli.TimeVar(fs, &cfg.Sandbox.To, "to", cli.ParseOperatorTime, time.DateOnly, wire.CST, "end of the pay range (CST, exclusive)")
	cli.TimeVar(fs, &cfg.Sandbox.Clock, "clock", cli.ParseOperatorTime, time.DateOnly, wire.CST, "sandbox time of the first poll (CST)")
	advance := fs.Duration("advance", 20*24*time.Hour, "how far the sandbox clock moves before the second poll")
	logLevel := fs.String("log-level", "error", "log level (warn shows retries, e.g. the Taobao clock correction against the sandbox)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	dashAddr := fs.String("dashboard-addr", "127.0.0.1:8790", "listen address of the commission dashboard (another free port if busy; empty: no dashboard)")
	serve := fs.Bool("serve", false, "keep serving the dashboard after the demo, until Ctrl-C")
	if code, ok := cli.ParseArgs(fs, "YONGJIN_DEVSTACK", "usage: devstack run [flags]", args, stderr); !ok {
		return code
	}
	// as the flags give them (cli.ParseOperatorTime answers UTC), defaults included
	cfg.Sandbox.From, cfg.Sandbox.To, cfg.Sandbox.Clock = cfg.Sandbox.From.UTC(), cfg.Sandbox.To.UTC(), cfg.Sandbox.Clock.UTC()
	var err error
	if cfg.Logger, err = obs.NewLogger(stderr, *logLevel, "devstack"); err != nil {
		fmt.Fprintln(stderr, "devstack:", err)
		return 2
	}
	if cfg.ClickHouse.Password, err = cli.Secret("YONGJIN_CLICKHOUSE_PASSWORD"); err != nil {
		return cli.Fail(stderr, "devstack", err)
	}
	url, stopDash, err := startDashboard(sigCtx, cfg.ClickHouse, *dashAddr)
	if err != nil {
		return cli.Fail(stderr, "devstack: dashboard", err)
	}
	ctx, cancel := context.WithTimeout(sigCtx, *timeout)
	err = runDemo(ctx, stdout, cfg, *advance, url)
	cancel()
	if err == nil && url != "" {
		err = checkDashboard(sigCtx, stdout, url, *serve, cfg.ClickHouse)
	}
	if err == nil && *serve && url != "" {
		fmt.Fprintf(stdout, "Serving the dashboard at %s until Ctrl-C.\n", url)
		<-sigCtx.Done()
	}
	stopDash()
	if err != nil {
		return cli.Fail(stderr, "devstack", err)
	}
	return 0
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
		_ = dashboard.Serve(sctx, ln, dashboard.New(analytics.New(store), dashboard.Config{}))
	}()
	return dashboard.URL(ln), func() { cancel(); <-done; store.Close() }, nil
}

var kpiRE = regexp.MustCompile(`id="kpi-estimated"><div class="label">[^<]*</div><div class="value">([^<]*)</div>`)

// checkDashboard loads the dashboard page once, as a browser would, and
// prints where to find it.
func checkDashboard(ctx context.Context, w io.Writer, url string, serve bool, cfg clickhouse.Config) error {
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
	fmt.Fprintf(w, "\nDashboard: %s (estimated commission %s on its default range).\n", url, m[1])
	if !serve {
		fmt.Fprintf(w, "It stops with this demo: run `bash scripts/demo.sh --serve` to keep it up, or later\n"+
			"  go run ./cmd/sink dashboard --clickhouse-addr %s --clickhouse-database %s\n", cfg.Addr, cfg.Database)
	}
	return nil
}

// runDemo runs the demo on a stack of configuration o, printing its steps
// and both summaries to w.
func runDemo(ctx context.Context, w io.Writer, o devstack.Config, advance time.Duration, dashURL string) error {
	step := func(format string, a ...any) { fmt.Fprintf(w, "==> "+format+"\n", a...) }
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
		clock1.In(wire.CST).Format(time.DateTime), len(st.Sources), sourceNames(st), o.Sandbox.From.In(wire.CST).Format(time.DateOnly))
	s1, err := st.PollInitial(ctx, o.Sandbox.From, clock1)
	if err != nil {
		return err
	}
	step("published %d pages, %d records to YONGJIN_RAW", s1.Pages, s1.Records)
	clock2 := st.Sandbox.Clock().Advance(advance)
	step("sandbox clock advanced to %s CST: orders were received, settled and refunded, plans and creator indicators changed", clock2.In(wire.CST).Format(time.DateTime))
	s2, err := st.PollChanges(ctx, o.Sandbox.From, clock1, clock2)
	if err != nil {
		return err
	}
	step("polled the changes (douke and douke-csj by update time, Taobao by re-scanning its pay range, snapshots again): %d pages, %d records", s2.Pages, s2.Records)
	step("waiting for the normalizer and the sink to catch up")
	last := ""
	if err := st.WaitCaughtUp(ctx, func(stage string, pending uint64) {
		if line := fmt.Sprintf("    %s: %d messages left", stage, pending); line != last && pending > 0 {
			fmt.Fprintln(w, line)
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
	fmt.Fprintln(w)
	summary.Print(w, "ClickHouse (shipped query, latest version of each order):", got)
	fmt.Fprintln(w)
	summary.Print(w, "Vendor sandbox ground truth:", want)
	fmt.Fprintln(w)
	dlq, err := st.DeadLetters(ctx)
	if err != nil {
		return err
	}
	if diff := summary.Diff(want, got); len(diff) > 0 {
		for _, d := range diff {
			fmt.Fprintln(w, "MISMATCH", d)
		}
		return fmt.Errorf("ClickHouse differs from the sandbox ground truth in %d rows", len(diff))
	}
	fmt.Fprintf(w, "OK: ClickHouse matches the sandbox ground truth: %d orders, %d plans, %d creator snapshots; %d dead letters.\n",
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
