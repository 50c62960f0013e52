//go:build chaos

// The chaos suite (make chaos, see README "Chaos suite"), behind the build
// tag chaos:
//
//	go test -tags chaos -run '^TestChaos$' -v -timeout 40m ./internal/e2e/ -args -chaos.seed 42
//
// It runs the real binaries as separate processes — an external NATS
// JetStream server, the vendor sandbox, poller (scheduler mode), normalizer
// and sink — against the private ClickHouse of scripts/clickhouse.sh, over
// 100,000 orders, while it SIGKILLs and restarts poller, normalizer and sink
// at random moments, restarts the NATS server, stops ClickHouse for more
// than 30 seconds, keeps every poller down while the clock jumps further than
// the look-back (douke then without a configured start) and has the sandbox
// answer with 5xx, throttles, timeouts and a known number of malformed
// pages. At the end it compares ClickHouse with the sandbox's ground truth
// (summary.Diff) and the dead-letter queue with the malformed pages, prints
// one PASS/FAIL line per check and "N passed, M failed (seed S, duration)",
// and fails if anything failed.

package e2e

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The suite's settings, as test flags (scripts/chaos.sh turns make chaos
// CHAOS_FLAGS="--seed 42" into -chaos.seed 42).
var (
	chaosRoot      = flag.String("chaos.root", "", "repository root (scripts/clickhouse.sh lives there; default: this checkout)")
	chaosBin       = flag.String("chaos.bin", "", "directory with prebuilt nats-server, sandbox, poller, normalizer and sink (relative to -chaos.root; default: build them into a temporary directory)")
	chaosData      = flag.String("chaos.data", ".data/chaos", "working directory, wiped at start (relative to -chaos.root)")
	chaosCHAddr    = flag.String("chaos.clickhouse-addr", "", "address of the private ClickHouse server (default: run scripts/clickhouse.sh start)")
	chaosCHUser    = flag.String("chaos.clickhouse-user", envOr("YONGJIN_CLICKHOUSE_USERNAME", "default"), "ClickHouse user (password: $YONGJIN_CLICKHOUSE_PASSWORD)")
	chaosDBPrefix  = flag.String("chaos.database", "yongjin_chaos", "ClickHouse database prefix: the run writes to <prefix>_<seed> and drops earlier runs' databases")
	chaosOrders    = flag.Int("chaos.orders", 50000, "orders per order vendor account (douke and taobao-live): the suite needs 100000 in total")
	chaosMalformed = flag.Int("chaos.malformed-pages", 3, "malformed pages the sandbox serves per order vendor")
	chaosDrifted   = flag.Int("chaos.drifted-records", 1, "douke orders the sandbox serves type-drifted (item_num 12.5) from the start, every time: each is dead-lettered alone, its page neighbours arrive, the truth leaves it out")
	chaosKills     = flag.Int("chaos.kills", 3, "SIGKILLs of each of poller, normalizer and sink")
	chaosSeed      = flag.Uint64("chaos.seed", 0, "random seed of the kill schedule, the faults and the sandbox data (0: pick one; it is printed)")
	chaosTimeout   = flag.Duration("chaos.timeout", 20*time.Minute, "give up (and fail) after this long (or a minute before go test's -timeout)")
	chaosCHDown    = flag.Duration("chaos.clickhouse-down", 35*time.Second, "how long ClickHouse stays stopped (at least 30s)")
	chaosKeep      = flag.Bool("chaos.keep", false, "keep the NATS store under -chaos.data after a passing run (it is kept after a failing one)")
)

// chaosConfig is the suite's settings, resolved.
type chaosConfig struct {
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

// TestChaos is the chaos suite: the real binaries, killed and starved, must
// end equal to the truth. Its progress and verdict go to stdout (run it
// with -v to follow them); the last line is "N passed, M failed (seed S,
// duration)".
func TestChaos(t *testing.T) {
	c := chaosConfig{
		root: *chaosRoot, bin: *chaosBin, data: *chaosData, chAddr: *chaosCHAddr, chUser: *chaosCHUser,
		dbPrefix: *chaosDBPrefix, orders: *chaosOrders, malformed: *chaosMalformed, drifted: *chaosDrifted,
		kills: *chaosKills, seed: *chaosSeed, timeout: *chaosTimeout, chDown: *chaosCHDown, keepStore: *chaosKeep,
		chPass: os.Getenv("YONGJIN_CLICKHOUSE_PASSWORD"),
	}
	if !regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,100}$`).MatchString(c.dbPrefix) {
		t.Fatal("chaos: -chaos.database must be a plain identifier")
	}
	if c.chDown < 30*time.Second {
		t.Fatal("chaos: -chaos.clickhouse-down must be at least 30s")
	}
	if c.root == "" {
		c.root = repoRoot()
	}
	if c.seed == 0 {
		c.seed = rand.Uint64()%1_000_000 + 1
	}
	c.database = fmt.Sprintf("%s_%d", c.dbPrefix, c.seed)
	if !filepath.IsAbs(c.data) {
		c.data = filepath.Join(c.root, c.data)
	}
	c.chScript = filepath.Join(c.root, "scripts", "clickhouse.sh")
	if c.bin == "" {
		c.bin = t.TempDir()
		fmt.Println("chaos: building nats-server, sandbox, poller, normalizer and sink")
		if err := goBuild(c.bin, "sandbox", "poller", "normalizer", "sink", "github.com/nats-io/nats-server/v2"); err != nil {
			t.Fatal(err)
		}
	} else if !filepath.IsAbs(c.bin) {
		c.bin = filepath.Join(c.root, c.bin)
	}

	start := time.Now() // after the build, as when the suite was a program of its own
	timeout := c.timeout
	if d, ok := t.Deadline(); ok && time.Until(d)-time.Minute < timeout {
		timeout = time.Until(d) - time.Minute // leave the teardown time before go test's own timeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case s := <-sigs:
			fmt.Printf("chaos: %s received, stopping\n", s)
			cancel()
		case <-ctx.Done():
		}
	}()
	r := &runner{cfg: c, start: start, rng: rand.New(rand.NewPCG(c.seed, 0x6368616f73))}
	if r.cfg.chAddr == "" {
		// The suite stops and starts ClickHouse, so it is always the private
		// server of scripts/clickhouse.sh, never YONGJIN_CLICKHOUSE_ADDR's.
		addr, err := r.clickhouseScript(ctx, "start")
		if err != nil {
			t.Fatalf("chaos: %v (the suite needs the private ClickHouse of scripts/clickhouse.sh)", err)
		}
		r.cfg.chAddr = addr
	}
	if code := r.run(ctx); code != 0 {
		t.Fail()
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// runner holds the run's state.
type runner struct {
	cfg   chaosConfig
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
