// Command bench is yongjin's throughput benchmark (`make bench`, see
// docs/PERFORMANCE.md). It builds a RAW backlog of douke pages once with the
// real poller against the real sandbox, then measures, each from a copy of
// the same JetStream store (or a fresh one) and a fresh ClickHouse database:
//
//   - catch-up: the real `normalizer run` + `sink run` binaries draining the
//     backlog into ClickHouse (orders/s, CPU µs per order of every process
//     from /proc, peak RSS of each);
//   - sink alone: `sink run` draining the EVENTS the catch-up produced;
//   - raw floors: plain nats.go async publish and fetch/ack of the same
//     number of messages of the same size on a file-store R1 stream, and a
//     clickhouse-go columnar batch insert of the same rows;
//   - end to end: sandbox → poller → RAW → normalizer → EVENTS → sink →
//     ClickHouse;
//   - latency: raw publish → row visible, p50/p99, at a steady rate.
//
// It prints one line per figure and the ratio lines; the figures also go to
// a JSON file next to the logs.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/yongjin-dev/yongjin/internal/cli"
)

// bench is one run's settings and shared state.
type bench struct {
	root, dir, logs, bin string
	pages                int
	chAddr, chUser       string
	chPID                int
	normFlags, sinkFlags []string
	latencyRate          int
	latencyFor           time.Duration
	profileSecs          int
	phases               map[string]bool
	started              time.Time

	ch        ch.Conn
	databases []string
	sandbox   *proc
	sbURL     string
	src       *natsProc // the catch-up server: its RAW is the backlog, its EVENTS what the normalizer made
	res       results
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second signal kills the process the default way
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

var program = cli.Program{
	Name:     "bench",
	Summary:  "yongjin's throughput benchmark (make bench, docs/PERFORMANCE.md).",
	Default:  "run",
	Commands: []cli.Command{{Name: "run", Summary: "build the RAW backlog once, then measure each of --phases; one line per figure, the figures also in results.json", Run: runBench}},
}

// run is the command: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program.Run(ctx, args, stdout, stderr)
}

// phaseNames are the phases in the order they run.
var phaseNames = []string{"catchup", "sink", "raw-clickhouse", "raw-jetstream", "e2e", "latency"}

// runBench is `bench run`: flags → settings → phases → report.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	b := &bench{started: time.Now()}
	fs := flag.NewFlagSet("bench run", flag.ContinueOnError)
	fs.StringVar(&b.root, "root", ".", "repository root (bin/ and .data/ live there)")
	fs.IntVar(&b.pages, "pages", 20000, "backlog size in full douke pages of 20 orders")
	fs.StringVar(&b.chAddr, "clickhouse-addr", os.Getenv("YONGJIN_CLICKHOUSE_ADDR"), "ClickHouse native address (scripts/clickhouse.sh start prints the private one)")
	fs.StringVar(&b.chUser, "clickhouse-user", "default", "ClickHouse user (password from $YONGJIN_CLICKHOUSE_PASSWORD)")
	fs.IntVar(&b.chPID, "clickhouse-pid", 0, "pid of the ClickHouse server, to count its CPU (0: read .data/clickhouse/pid)")
	normFlags := fs.String("normalizer-flags", "", "extra flags for `normalizer run`, space-separated")
	sinkFlags := fs.String("sink-flags", "", "extra flags for `sink run`, space-separated")
	fs.IntVar(&b.latencyRate, "latency-rate", 5000, "latency phase: orders per second published to RAW")
	fs.DurationVar(&b.latencyFor, "latency-for", 30*time.Second, "latency phase: how long to publish")
	fs.IntVar(&b.profileSecs, "profile", 0, "take CPU profiles of normalizer, sink and nats-server for this many seconds during the catch-up (0: none)")
	phases := fs.String("phases", strings.Join(phaseNames, ","), "phases to run, comma-separated")
	if code, ok := cli.ParseArgs(fs, "YONGJIN_BENCH", "usage: bench run [flags]", args, stderr); !ok {
		return code
	}
	b.normFlags, b.sinkFlags = strings.Fields(*normFlags), strings.Fields(*sinkFlags)
	b.phases = map[string]bool{}
	for _, p := range strings.Split(*phases, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(phaseNames, p) {
			fmt.Fprintf(stderr, "bench: --phases: unknown phase %q (the phases are %s)\n", p, strings.Join(phaseNames, ", "))
			return 2
		}
		b.phases[p] = true
	}
	if b.chAddr == "" {
		fmt.Fprintln(stderr, "bench: --clickhouse-addr (or $YONGJIN_CLICKHOUSE_ADDR) is required")
		return 2
	}
	root, err := filepath.Abs(b.root)
	if err != nil {
		return cli.Fail(stderr, "bench", err)
	}
	b.root, b.bin = root, filepath.Join(root, "bin")
	b.dir = filepath.Join(root, ".data", "bench")
	b.logs = filepath.Join(b.dir, "logs", b.started.UTC().Format("20060102T150405"))
	if err := os.MkdirAll(b.logs, 0o755); err != nil {
		return cli.Fail(stderr, "bench", err)
	}
	if b.chPID == 0 {
		if s, err := os.ReadFile(filepath.Join(root, ".data", "clickhouse", "pid")); err == nil {
			b.chPID, _ = strconv.Atoi(strings.TrimSpace(string(s)))
		}
	}
	err = b.run(ctx)
	b.teardown()
	if err != nil {
		fmt.Fprintln(stderr, "bench: FAILED:", err)
		fmt.Fprintln(stderr, "bench: logs in", b.logs)
		return 1
	}
	return 0
}

func (b *bench) logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench %s: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func (b *bench) run(ctx context.Context) error {
	var err error
	if b.ch, err = b.chConn(ctx); err != nil {
		return err
	}
	b.dropStale(ctx)
	b.res.Machine = machine()
	b.res.Started = b.started.UTC()
	b.res.Pages, b.res.NormalizerFlags, b.res.SinkFlags = b.pages, b.normFlags, b.sinkFlags
	if err := b.backlog(ctx); err != nil {
		return fmt.Errorf("backlog: %w", err)
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"catchup", b.catchup},
		{"sink", b.sinkAlone},
		{"raw-clickhouse", b.rawClickHouse},
		{"raw-jetstream", b.rawJetStream},
		{"e2e", b.endToEnd},
		{"latency", b.latency},
	}
	for _, s := range steps {
		if !b.phases[s.name] {
			continue
		}
		if s.name != "catchup" && s.name != "e2e" && b.src == nil {
			if err := b.openSource(ctx); err != nil {
				return err
			}
		}
		b.logf("phase %s", s.name)
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	b.report()
	return nil
}

// dropStale drops the databases of earlier bench runs before anything is
// measured (dropping big ones takes ClickHouse 18.16 a while, and would
// otherwise count as the catch-up's ClickHouse CPU).
func (b *bench) dropStale(ctx context.Context) {
	rows, err := b.ch.Query(ctx, "SELECT name FROM system.databases WHERE startsWith(name, 'yongjin_bench_')")
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			stale = append(stale, n)
		}
	}
	rows.Close()
	if len(stale) > 0 {
		b.logf("dropping %d databases of earlier runs", len(stale))
	}
	for _, n := range stale {
		if err := b.ch.Exec(ctx, "DROP DATABASE IF EXISTS `"+n+"`"); err != nil {
			b.logf("drop %s: %v", n, err)
		}
	}
}

func (b *bench) teardown() {
	for _, p := range []*proc{b.sandbox} {
		if p != nil {
			p.stop(30 * time.Second)
		}
	}
	b.src.stop()
	if b.ch != nil {
		b.ch.Close()
	}
}

// results is everything one run measured.
type results struct {
	Started         time.Time `json:"started"`
	Machine         string    `json:"machine"`
	Pages           int       `json:"pages"`
	Orders          int       `json:"orders"`
	Lines           int       `json:"lines"`
	NormalizerFlags []string  `json:"normalizer_flags"`
	SinkFlags       []string  `json:"sink_flags"`

	Catchup  *pipelineRun `json:"catchup,omitempty"`
	Sink     *pipelineRun `json:"sink_alone,omitempty"`
	E2E      *pipelineRun `json:"e2e,omitempty"`
	EventMsg *msgShape    `json:"event_messages,omitempty"`
	RawJS    *rawJSRun    `json:"raw_jetstream,omitempty"`
	RawCH    *rawCHRun    `json:"raw_clickhouse,omitempty"`
	Latency  *latencyRun  `json:"latency,omitempty"`
}

// pipelineRun is one timed run of real binaries.
type pipelineRun struct {
	Seconds    float64            `json:"seconds"`
	OrdersPerS float64            `json:"orders_per_s"`
	CPUus      map[string]float64 `json:"cpu_us_per_order"`
	PeakRSSMiB map[string]float64 `json:"peak_rss_mib"`
	Profiles   []string           `json:"profiles,omitempty"`
}

func (p *pipelineRun) totalCPU() float64 {
	var t float64
	for _, v := range p.CPUus {
		t += v
	}
	return t
}

// msgShape is the shape of the event messages the normalizer produced.
type msgShape struct {
	Count       uint64  `json:"count"`
	PerOrder    float64 `json:"per_order"`
	DataBytes   int     `json:"avg_data_bytes"`
	HeaderBytes int     `json:"avg_header_bytes"`
}

func (b *bench) report() {
	r := &b.res
	fmt.Printf("machine %s\n", r.Machine)
	fmt.Printf("backlog %d douke pages, %d orders, %d commission lines\n", r.Pages, r.Orders, r.Lines)
	if len(r.NormalizerFlags)+len(r.SinkFlags) > 0 {
		fmt.Printf("flags normalizer %q sink %q\n", strings.Join(r.NormalizerFlags, " "), strings.Join(r.SinkFlags, " "))
	}
	pr := func(name string, p *pipelineRun) {
		if p == nil {
			return
		}
		fmt.Printf("%-8s %9.0f orders/s  %6.1f s  cpu_us_per_order total %.1f (%s)  peak_rss_mib %s\n",
			name, p.OrdersPerS, p.Seconds, p.totalCPU(), kv(p.CPUus, "%.1f"), kv(p.PeakRSSMiB, "%.0f"))
	}
	pr("catchup", r.Catchup)
	pr("sink", r.Sink)
	pr("e2e", r.E2E)
	if m := r.EventMsg; m != nil {
		fmt.Printf("events   %d messages, %.2f per order, avg data %d B, headers %d B\n", m.Count, m.PerOrder, m.DataBytes, m.HeaderBytes)
	}
	if j := r.RawJS; j != nil {
		fmt.Printf("raw_jetstream_publish %9.0f msgs/s = %9.0f orders/s  nats-server cpu %.1f us/msg\n", j.PubMsgsPerS, j.PubOrdersPerS, j.PubServerUSPerMsg)
		fmt.Printf("raw_jetstream         %9.0f msgs/s = %9.0f orders/s  (async publish + fetch/ack at once)  nats-server cpu %.1f us/msg, peak_rss_mib %.0f\n",
			j.BothMsgsPerS, j.BothOrdersPerS, j.BothServerUSPerMsg, j.ServerPeakRSSMiB)
	}
	if c := r.RawCH; c != nil {
		fmt.Printf("raw_clickhouse_insert %9.0f rows/s = %9.0f orders/s  (%d orders + %d lines, columnar, %d orders per batch)\n",
			c.RowsPerS, c.OrdersPerS, c.Orders, c.Lines, c.BatchOrders)
	}
	if l := r.Latency; l != nil {
		fmt.Printf("latency  raw publish -> row visible at %d orders/s (achieved %.0f): p50 %.3f s  p99 %.3f s  max %.3f s over %d pages\n",
			l.Rate, l.Achieved, l.P50, l.P99, l.Max, l.Pages)
	}
	ratio := func(name string, a, b float64) {
		if a > 0 && b > 0 {
			fmt.Printf("ratio %s %.3f\n", name, a/b)
		}
	}
	if r.Catchup != nil && r.RawJS != nil {
		ratio("catchup/raw_jetstream", r.Catchup.OrdersPerS, r.RawJS.BothOrdersPerS)
	}
	if r.Sink != nil && r.RawCH != nil {
		ratio("sink/raw_clickhouse_insert", r.Sink.OrdersPerS, r.RawCH.OrdersPerS)
	}
	if r.E2E != nil && r.RawJS != nil {
		ratio("e2e/raw_jetstream_publish", r.E2E.OrdersPerS, r.RawJS.PubOrdersPerS)
	}
	if r.Catchup != nil {
		fmt.Printf("cpu_us_per_order catchup %.1f (%s)\n", r.Catchup.totalCPU(), kv(r.Catchup.CPUus, "%.1f"))
	}
	path := filepath.Join(b.logs, "results.json")
	if data, err := json.MarshalIndent(r, "", "  "); err == nil {
		if err := os.WriteFile(path, data, 0o644); err == nil {
			fmt.Printf("results %s\n", path)
		}
	}
}

func kv(m map[string]float64, format string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + fmt.Sprintf(format, m[k])
	}
	return strings.Join(parts, ", ")
}

// machine describes the CPU and memory the figures were taken on.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(string(b))
		if len(f) > 1 {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				mem = fmt.Sprintf(", %.1f GiB RAM", float64(kb)/(1<<20))
			}
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = ", load " + strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return fmt.Sprintf("%d CPUs (%s)%s%s", numCPU(), model, mem, load)
}
