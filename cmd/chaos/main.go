// Command chaos is yongjin's chaos suite (make chaos, see README "Chaos
// suite"). It runs the real binaries as separate processes — an external NATS
// JetStream server, the vendor sandbox, poller (scheduler mode), normalizer
// and sink — against the private ClickHouse of scripts/clickhouse.sh, over
// 100,000 orders, while it SIGKILLs and restarts poller, normalizer and sink
// at random moments, restarts the NATS server, stops ClickHouse for more
// than 30 seconds, keeps every poller down while the clock jumps further than
// the look-back (douke then without a configured start) and has the sandbox
// answer with 5xx, throttles, timeouts and a known number of malformed pages. At the end it compares ClickHouse
// with the sandbox's ground truth and the dead-letter queue with the
// malformed pages, prints one PASS/FAIL line per check and "N passed,
// M failed", and exits 1 if anything failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

const usage = `chaos — yongjin's chaos suite: the real binaries, killed and starved, must end equal to the truth.

Usage (normally through make chaos / scripts/chaos.sh, which build bin/ and start ClickHouse):
  chaos --clickhouse-addr 127.0.0.1:PORT [flags]

It needs bin/{nats-server,sandbox,poller,normalizer,sink}, scripts/clickhouse.sh
(it stops and starts that private ClickHouse server) and writes everything
under --data (logs in --data/logs). Exit status 0 only if every check passed.

Flags:
`

type config struct {
	root      string
	bin       string
	data      string
	chAddr    string
	chUser    string
	chPass    string
	dbPrefix  string
	database  string
	chScript  string
	orders    int
	malformed int
	drifted   int
	kills     int
	seed      uint64
	timeout   time.Duration
	chDown    time.Duration
	keepStore bool
}

func main() {
	var c config
	fs := flag.NewFlagSet("chaos", flag.ExitOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	wd, _ := os.Getwd()
	fs.StringVar(&c.root, "root", wd, "repository root (scripts/clickhouse.sh lives there)")
	fs.StringVar(&c.bin, "bin", "bin", "directory with the built binaries (relative to --root)")
	fs.StringVar(&c.data, "data", ".data/chaos", "working directory, wiped at start (relative to --root)")
	fs.StringVar(&c.chAddr, "clickhouse-addr", "", "address of the private ClickHouse server (scripts/clickhouse.sh start prints it)")
	fs.StringVar(&c.chUser, "clickhouse-user", envOr("YONGJIN_CLICKHOUSE_USERNAME", "default"), "ClickHouse user (password: $YONGJIN_CLICKHOUSE_PASSWORD)")
	fs.StringVar(&c.dbPrefix, "database", "yongjin_chaos", "ClickHouse database prefix: the run writes to <prefix>_<seed> and drops earlier runs' databases")
	fs.IntVar(&c.orders, "orders", 50000, "orders per order vendor account (douke and taobao-live): the suite needs 100000 in total")
	fs.IntVar(&c.malformed, "malformed-pages", 3, "malformed pages the sandbox serves per order vendor")
	fs.IntVar(&c.drifted, "drifted-records", 1, "douke orders the sandbox serves type-drifted (item_num 12.5) from the start, every time: each is dead-lettered alone, its page neighbours arrive, the truth leaves it out")
	fs.IntVar(&c.kills, "kills", 3, "SIGKILLs of each of poller, normalizer and sink")
	fs.Uint64Var(&c.seed, "seed", 0, "random seed of the kill schedule, the faults and the sandbox data (0: pick one; it is printed)")
	fs.DurationVar(&c.timeout, "timeout", 20*time.Minute, "give up (and fail) after this long")
	fs.DurationVar(&c.chDown, "clickhouse-down", 35*time.Second, "how long ClickHouse stays stopped (at least 30s)")
	fs.BoolVar(&c.keepStore, "keep", false, "keep the NATS store under --data after a passing run (it is kept after a failing one)")
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "chaos: unexpected arguments %q\n", fs.Args())
		os.Exit(2)
	}
	if c.chAddr == "" {
		fmt.Fprintln(os.Stderr, "chaos: --clickhouse-addr is required (run make chaos, or pass $(scripts/clickhouse.sh start))")
		os.Exit(2)
	}
	if !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,100}$`).MatchString(c.dbPrefix) {
		fmt.Fprintln(os.Stderr, "chaos: --database must be a plain identifier")
		os.Exit(2)
	}
	if c.chDown < 30*time.Second {
		fmt.Fprintln(os.Stderr, "chaos: --clickhouse-down must be at least 30s")
		os.Exit(2)
	}
	if c.seed == 0 {
		c.seed = rand.Uint64()%1_000_000 + 1
	}
	c.database = fmt.Sprintf("%s_%d", c.dbPrefix, c.seed)
	c.chPass = os.Getenv("YONGJIN_CLICKHOUSE_PASSWORD")
	for _, p := range []*string{&c.bin, &c.data} {
		if !filepath.IsAbs(*p) {
			*p = filepath.Join(c.root, *p)
		}
	}
	c.chScript = filepath.Join(c.root, "scripts", "clickhouse.sh")

	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Printf("chaos: %s received, stopping\n", s)
		cancel()
	}()
	r := &runner{cfg: c, start: time.Now(), rng: rand.New(rand.NewPCG(c.seed, 0x6368616f73))}
	code := r.run(ctx)
	cancel()
	os.Exit(code)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// runner holds the run's state.
type runner struct {
	cfg   config
	start time.Time

	rngMu sync.Mutex
	rng   *rand.Rand

	outMu sync.Mutex

	checks []check
}

// check is one PASS/FAIL line of the verdict.
type check struct {
	ok   bool
	text string
}

func (r *runner) pass(format string, a ...any) {
	r.checks = append(r.checks, check{true, fmt.Sprintf(format, a...)})
}

func (r *runner) fail(format string, a ...any) {
	r.checks = append(r.checks, check{false, fmt.Sprintf(format, a...)})
}

func (r *runner) verdict(ok bool, format string, a ...any) {
	if ok {
		r.pass(format, a...)
	} else {
		r.fail(format, a...)
	}
}

// logf prints a progress line with the time since the start.
func (r *runner) logf(format string, a ...any) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	fmt.Printf("[%6.1fs] %s\n", time.Since(r.start).Seconds(), fmt.Sprintf(format, a...))
}

func (r *runner) randDur(lo, hi time.Duration) time.Duration {
	r.rngMu.Lock()
	defer r.rngMu.Unlock()
	return lo + time.Duration(r.rng.Int64N(int64(hi-lo)+1))
}

func (r *runner) shuffle(n int, swap func(i, j int)) {
	r.rngMu.Lock()
	defer r.rngMu.Unlock()
	r.rng.Shuffle(n, swap)
}

// freePort returns a loopback port nothing listens on right now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// sleepCtx sleeps d or until ctx ends; it reports whether the full d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// waitFor calls cond every interval until it returns true, ctx ends or
// within passes; progress (if set) is called at most every 10 s with the
// condition's last status text. It returns nil or an error naming what.
func (r *runner) waitFor(ctx context.Context, what string, within, interval time.Duration, cond func(context.Context) (bool, string)) error {
	deadline := time.Now().Add(within)
	lastReport := time.Now()
	status := ""
	for {
		ok, st := cond(ctx)
		if st != "" {
			status = st
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not reached within %s (last status: %s)", what, within, orNone(status))
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %v (last status: %s)", what, ctx.Err(), orNone(status))
		}
		if time.Since(lastReport) >= 15*time.Second && status != "" {
			r.logf("  … %s: %s", what, status)
			lastReport = time.Now()
		}
		sleepCtx(ctx, interval)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// printVerdict prints every check and the closing line; it returns the exit status.
func (r *runner) printVerdict() int {
	failed := 0
	fmt.Println()
	fmt.Println("==== chaos suite verdict ====")
	for _, c := range r.checks {
		if c.ok {
			fmt.Println("PASS " + c.text)
		} else {
			failed++
			fmt.Println("FAIL " + c.text)
		}
	}
	fmt.Printf("%d passed, %d failed (seed %d, %s)\n", len(r.checks)-failed, failed, r.cfg.seed, time.Since(r.start).Round(100*time.Millisecond))
	if failed > 0 || len(r.checks) == 0 {
		fmt.Printf("logs: %s\n", filepath.Join(r.cfg.data, "logs"))
		return 1
	}
	return 0
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func joinOr(xs []string, none string) string {
	if len(xs) == 0 {
		return none
	}
	return strings.Join(xs, "; ")
}
