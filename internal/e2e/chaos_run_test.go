//go:build chaos

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"gopkg.in/yaml.v3"

	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/internal/vendorsandbox"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// The sandbox data: orders paid over October 2026 (CST); the clock starts
// half a day after the last payment and moves in steps while the pipeline
// runs, so orders are received, settled and refunded (some after
// settlement) under the chaos; the last step is past every order's last
// change (at most 52 days after payment).
var (
	chaosPayFrom = time.Date(2026, 10, 1, 0, 0, 0, 0, wire.CST)
	chaosPayTo   = time.Date(2026, 11, 1, 0, 0, 0, 0, wire.CST)
	clockSteps   = []time.Time{
		time.Date(2026, 11, 1, 12, 0, 0, 0, wire.CST),
		time.Date(2026, 11, 14, 12, 0, 0, 0, wire.CST),
		time.Date(2026, 12, 28, 12, 0, 0, 0, wire.CST),
	}
)

// orderVendors serve order pages and support the malformed-page fault.
var orderVendors = []string{"douke", "taobao-live"}

// allVendors are every vendor the sandbox serves and the poller polls.
var allVendors = []string{"douke", "taobao-live", "douyin-poi", "xingtu"}

// Baseline faults for the whole run (bursts come on top, see monkey.go).
// Low rates: every faulted request costs the poller a backoff (a Taobao
// throttle asks for a whole second), and Taobao is re-read in full at every
// step.
const (
	baseErrorRate5xx = 0.005
	baseThrottleRate = 0.002
	baseSlowRate     = 0.002
	baseSlowFor      = 800 * time.Millisecond
	// clientTimeout is the vendor HTTP client's timeout (pkg/vendors/client,
	// internal/poller); the timeout burst answers later than that.
	clientTimeout = 30 * time.Second
)

// stack is the running system under test.
type stack struct {
	nats, sandbox, normalizer, sink, poller *proc
	natsURL, sandboxURL                     string
	natsConf                                string
	normMetrics, sinkMetrics                string
	sourcesPath                             string
	sources                                 []poller.Source
	parts                                   []poller.Part
	nc                                      *nats.Conn
	js                                      jetstream.JetStream
	cps                                     *checkpoint.Store
	chMu                                    sync.Mutex // guards cfg.chAddr and the ClickHouse outage
}

func (r *runner) run(ctx context.Context) int {
	c := r.cfg
	r.logf("chaos suite: seed %d, %d orders per order vendor (%d in total), %d malformed pages per order vendor, %d SIGKILLs per service, ClickHouse %s database %s",
		c.seed, c.orders, c.orders*len(orderVendors), c.malformed, c.kills, c.chAddr, c.database)
	st, err := r.setup(ctx)
	if st != nil {
		defer r.teardown(st)
	}
	if err != nil {
		r.fail("setup: %v", err)
		return r.printVerdict()
	}
	r.exercise(ctx, st)
	return r.printVerdict()
}

func (r *runner) setup(ctx context.Context) (*stack, error) {
	c := r.cfg
	for _, b := range []string{"nats-server", "sandbox", "poller", "normalizer", "sink"} {
		if _, err := os.Stat(filepath.Join(c.bin, b)); err != nil {
			return nil, fmt.Errorf("binary %s missing in %s: %v", b, c.bin, err)
		}
	}
	if filepath.Base(c.data) == "" || c.data == c.root || c.data == "/" {
		return nil, fmt.Errorf("refusing to wipe --data %s", c.data)
	}
	if err := os.RemoveAll(c.data); err != nil {
		return nil, err
	}
	logs, secrets := filepath.Join(c.data, "logs"), filepath.Join(c.data, "secrets")
	for _, d := range []string{logs, secrets, filepath.Join(c.data, "nats")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	st := &stack{}
	newProc := func(name, bin string) *proc {
		return &proc{name: name, bin: filepath.Join(c.bin, bin), logPath: filepath.Join(logs, name+".log"), ownGroup: true, logf: r.logf}
	}
	st.nats, st.sandbox = newProc("nats-server", "nats-server"), newProc("sandbox", "sandbox")
	st.normalizer, st.sink, st.poller = newProc("normalizer", "normalizer"), newProc("sink", "sink"), newProc("poller", "poller")

	// NATS JetStream server process, file store under --data/nats.
	free, err := testenv.FreePorts(4)
	if err != nil {
		return st, err
	}
	ports := map[string]int{"nats": free[0], "sandbox": free[1], "norm": free[2], "sink": free[3]}
	st.natsURL = fmt.Sprintf("nats://127.0.0.1:%d", ports["nats"])
	st.natsConf = filepath.Join(c.data, "nats.conf")
	conf := fmt.Sprintf("server_name: yongjin-chaos\nlisten: 127.0.0.1:%d\njetstream {\n  store_dir: %q\n}\n", ports["nats"], filepath.Join(c.data, "nats"))
	if err := os.WriteFile(st.natsConf, []byte(conf), 0o600); err != nil {
		return st, err
	}
	st.nats.setArgs([]string{"-c", st.natsConf}, nil)
	if err := st.nats.start(); err != nil {
		return st, err
	}
	nc, err := nats.Connect(st.natsURL, nats.Name("yongjin-chaos"), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond),
		nats.RetryOnFailedConnect(true), nats.NoCallbacksAfterClientClose())
	if err != nil {
		return st, fmt.Errorf("connect to %s: %w", st.natsURL, err)
	}
	st.nc = nc
	if st.js, err = jetstream.New(nc); err != nil {
		return st, err
	}
	if err := r.waitJetStream(ctx, st, 60*time.Second); err != nil {
		return st, err
	}
	r.logf("nats-server %s up (pid %d), JetStream store %s", st.natsURL, st.nats.pid(), filepath.Join(c.data, "nats"))

	// Vendor sandbox: ≥ 100,000 orders, baseline faults, malformed pages.
	suffix := fmt.Sprintf("chaos-%d", c.seed)
	// chaos covers the four vendors its checks were written for; douke-csj
	// is proven by its conformance suite and the demo
	accounts := slices.DeleteFunc(vendorsandbox.DemoAccounts(suffix), func(a sandbox.Account) bool { return a.Vendor == "douke-csj" })
	st.sandboxURL = fmt.Sprintf("http://127.0.0.1:%d", ports["sandbox"])
	st.sandbox.setArgs([]string{
		"--addr", fmt.Sprintf("127.0.0.1:%d", ports["sandbox"]),
		"--seed", strconv.FormatUint(c.seed, 10),
		"--orders", strconv.Itoa(c.orders),
		"--from", chaosPayFrom.Format(time.RFC3339), "--to", chaosPayTo.Format(time.RFC3339),
		"--clock", clockSteps[0].Format(time.RFC3339),
		"--account", vendorsandbox.DemoAccount,
		"--malformed-pages", "0", // set once the first full read is done (phase 1)
		"--drifted-records", strconv.Itoa(c.drifted), // from the first page on: the order never arrives, the truth leaves it out
		"--error-rate-5xx", fmt.Sprint(baseErrorRate5xx), "--throttle-rate", fmt.Sprint(baseThrottleRate),
		"--slow-rate", fmt.Sprint(baseSlowRate), "--slow-for", baseSlowFor.String(),
	}, []string{ // credentials through the environment, never on a command line
		"YONGJIN_SANDBOX_DOUKE_VEKEY=vekey-" + suffix,
		"YONGJIN_SANDBOX_TAOBAO_APP_KEY=appkey-" + suffix,
		"YONGJIN_SANDBOX_TAOBAO_APP_SECRET=appsecret-" + suffix,
		"YONGJIN_SANDBOX_TAOBAO_SESSION=session-" + suffix,
		"YONGJIN_SANDBOX_DOUYIN_CLIENT_KEY=clientkey-" + suffix,
		"YONGJIN_SANDBOX_DOUYIN_CLIENT_SECRET=clientsecret-" + suffix,
		"YONGJIN_SANDBOX_XINGTU_TOKEN=token-" + suffix,
	})
	if err := st.sandbox.start(); err != nil {
		return st, err
	}
	if err := r.waitFor(ctx, "sandbox /_sandbox/healthz", 60*time.Second, 200*time.Millisecond, func(ctx context.Context) (bool, string) {
		_, err := httpGet(ctx, st.sandboxURL+"/_sandbox/healthz")
		if err != nil && !st.sandbox.running() {
			return false, "sandbox exited: " + st.sandbox.lastLine()
		}
		return err == nil, errText(err)
	}); err != nil {
		return st, err
	}
	r.logf("sandbox %s up (pid %d): seed %d, %d orders per account paid %s..%s, clock %s, faults 5xx %.1f%% throttle %.1f%% slow %.1f%%×%s, %d malformed pages per order vendor, %d drifted douke records",
		st.sandboxURL, st.sandbox.pid(), c.seed, c.orders, chaosPayFrom.Format(time.DateOnly), chaosPayTo.Add(-time.Second).Format(time.DateOnly),
		clockSteps[0].Format(time.DateTime), baseErrorRate5xx*100, baseThrottleRate*100, baseSlowRate*100, baseSlowFor, c.malformed, c.drifted)

	// ClickHouse: a fresh database of the run's own (dropping a big one takes
	// ClickHouse 18.16 half a minute: earlier runs' go in the background).
	stale, err := r.prepareDatabase(ctx)
	if err != nil {
		return st, err
	}
	r.logf("ClickHouse %s: database %s (the sink creates it); %s", c.chAddr, c.database, func() string {
		if len(stale) == 0 {
			return "no earlier chaos database"
		}
		return "dropping earlier ones in the background: " + strings.Join(stale, ", ")
	}())

	// Poller sources: every sandbox account, scheduler settings for the run.
	srcs, err := vendorsandbox.Sources(st.sandboxURL, accounts, int64(c.seed), secrets)
	if err != nil {
		return st, err
	}
	for i := range srcs {
		s := &srcs[i]
		s.Start = chaosPayFrom.Format(time.RFC3339)
		s.RatePerSecond = 1000
		switch s.Vendor {
		case "douke":
			// by update time, one window up to the clock per run, 72 h look-back
			s.Lookback, s.Interval = 72*time.Hour, 8*time.Second
		case "taobao-live":
			// TOP cannot filter on update time: re-read the pay range for the
			// whole after-sale horizon at every run (day windows keep the
			// sandbox's offset paging cheap)
			s.Params["time_type"] = "pay"
			s.Lookback, s.WindowSize, s.Interval = 60*24*time.Hour, 24*time.Hour, 3*time.Second
		default:
			s.Interval = 8 * time.Second
		}
	}
	st.sourcesPath = filepath.Join(c.data, "sources.yaml")
	b, err := yaml.Marshal(poller.SourcesFile{Sources: srcs})
	if err != nil {
		return st, err
	}
	if err := os.WriteFile(st.sourcesPath, b, 0o600); err != nil {
		return st, err
	}
	cfg, err := poller.LoadSources(st.sourcesPath, all.Registry())
	if err != nil {
		return st, fmt.Errorf("generated sources file: %w", err)
	}
	st.sources = cfg.Sources
	pl := poller.New(st.js, all.Registry(), poller.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, s := range st.sources {
		ps, err := pl.Parts(s)
		if err != nil {
			return st, err
		}
		st.parts = append(st.parts, ps...)
	}
	if st.cps, err = checkpoint.Open(ctx, st.js, 1); err != nil {
		return st, err
	}

	// The three stages.
	st.normMetrics = fmt.Sprintf("127.0.0.1:%d", ports["norm"])
	st.sinkMetrics = fmt.Sprintf("127.0.0.1:%d", ports["sink"])
	// Short ack waits: a SIGKILLed stage's in-flight messages come back after
	// 15-20 s instead of a minute (the sink signals progress while it holds
	// a batch through a ClickHouse outage).
	st.normalizer.setArgs([]string{"run", "--nats-url", st.natsURL, "--metrics-addr", st.normMetrics, "--ack-wait", "15s"}, nil)
	r.setSinkArgs(st)
	st.poller.setArgs([]string{"run", "--config", st.sourcesPath, "--nats-url", st.natsURL, "--metrics-addr", "",
		"--lease-ttl", "6s", "--replica", "chaos-poller", "--sandbox-clock", st.sandboxURL + "/_sandbox/clock"}, nil)
	for _, p := range []*proc{st.normalizer, st.sink, st.poller} {
		p.setSupervise(true)
		if err := p.start(); err != nil {
			return st, err
		}
	}
	names := make([]string, len(st.parts))
	for i, p := range st.parts {
		names[i] = p.Key()
	}
	r.logf("normalizer (pid %d), sink (pid %d) and poller run (pid %d) started; %d sources, parts %s",
		st.normalizer.pid(), st.sink.pid(), st.poller.pid(), len(st.sources), strings.Join(names, ", "))
	return st, nil
}

func (r *runner) setSinkArgs(st *stack) {
	c := r.cfg
	var env []string
	if c.chPass != "" {
		env = append(env, "YONGJIN_CLICKHOUSE_PASSWORD="+c.chPass)
	}
	st.chMu.Lock()
	addr := c.chAddr
	st.chMu.Unlock()
	st.sink.setArgs([]string{"run", "--nats-url", st.natsURL, "--metrics-addr", st.sinkMetrics, "--clickhouse-addr", addr,
		"--clickhouse-database", c.database, "--clickhouse-user", c.chUser, "--ack-wait", "20s", "--flush-interval", "250ms"}, env)
}

// waitJetStream waits until the NATS server answers JetStream requests.
func (r *runner) waitJetStream(ctx context.Context, st *stack, within time.Duration) error {
	return r.waitFor(ctx, "JetStream answering", within, 200*time.Millisecond, func(ctx context.Context) (bool, string) {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := st.js.AccountInfo(actx)
		if err != nil && !st.nats.running() {
			return false, "nats-server is not running: " + st.nats.lastLine()
		}
		return err == nil, errText(err)
	})
}

// exercise runs the pipeline through the clock steps under the chaos, then
// lets it settle and verifies everything.
func (r *runner) exercise(ctx context.Context, st *stack) {
	c := r.cfg
	began := time.Now()
	// 1. The malformed pages are the first pages each order vendor serves
	// after the first full read, so they lie in the look-back that the next
	// runs read again: wait until they are served and dead-lettered before
	// the chaos may kill the poller or NATS (a page fetched by a poller
	// killed before it was stored would never reach the DLQ, and the count
	// would not be known).
	want := c.malformed * len(orderVendors)
	r.logf("phase 1: waiting for the first full read (every checkpoint at the clock), then for the sandbox to serve %d malformed pages and the normalizer to dead-letter them", want)
	err := r.waitCheckpoints(ctx, st, clockSteps[0], 10*time.Minute)
	if err == nil {
		err = r.setFaults(ctx, st, url.Values{"malformed_pages": {strconv.Itoa(c.malformed)}})
	}
	if err == nil {
		err = r.waitFor(ctx, "malformed pages served", 3*time.Minute, 250*time.Millisecond, func(ctx context.Context) (bool, string) {
			stats, err := r.sandboxStats(ctx, st)
			if err != nil {
				return false, err.Error()
			}
			n, ok, parts := 0, true, []string{}
			for _, v := range orderVendors {
				n += int(stats[v].Malformed)
				ok = ok && int(stats[v].Malformed) == c.malformed
				parts = append(parts, fmt.Sprintf("%s %d", v, stats[v].Malformed))
			}
			return ok, strings.Join(parts, ", ")
		})
	}
	if err == nil {
		err = r.waitFor(ctx, "malformed pages dead-lettered", 3*time.Minute, 250*time.Millisecond, func(ctx context.Context) (bool, string) {
			letters, err := r.deadLetters(ctx, st, "normalizer")
			if err != nil {
				return false, err.Error()
			}
			n := 0
			for _, l := range letters {
				if !driftLetter(l) {
					n++
				}
			}
			return n >= want, fmt.Sprintf("%d of %d dead letters of malformed pages", n, want)
		})
	}
	if err != nil {
		r.fail("phase 1 (malformed pages served and dead-lettered before the chaos starts): %v", err)
	} else {
		r.logf("phase 1 done: %d malformed pages served and dead-lettered (%s)", want, time.Since(began).Round(100*time.Millisecond))
	}

	// 2. The clock moves in steps; during each step a share of the chaos
	// schedule is carried out while the pipeline works.
	m := newMonkey(r, st)
	plan := m.plan()
	m.total = len(plan)
	chunks := split(plan, len(clockSteps))
	r.logf("chaos schedule (seed %d), by clock step: %s", c.seed, func() string {
		var parts []string
		for i, ch := range chunks {
			parts = append(parts, fmt.Sprintf("step %d: %s", i+1, names(ch)))
		}
		return strings.Join(parts, " | ")
	}())
	stepsOK := true
	for i, target := range clockSteps {
		label := fmt.Sprintf("step %d/%d", i+1, len(clockSteps))
		if i == len(clockSteps)-1 {
			// Case 1 of issue 11: every poller is down while the clock jumps
			// further than the look-back, and douke runs without a configured
			// start (as the README and the k8s sources file do): it must
			// resume from its checkpoint, however old, and miss nothing.
			if err := r.outage(ctx, st, target); err != nil {
				r.fail("%s: poller outage longer than the look-back: %v", label, err)
				stepsOK = false
				break
			}
		} else if i > 0 {
			if err := r.setClock(ctx, st, target); err != nil {
				r.fail("clock %s: %v", label, err)
				stepsOK = false
				break
			}
		}
		t0 := time.Now()
		r.logf("%s: sandbox clock %s CST; waiting for all %d parts' checkpoints to reach it", label, target.Format(time.DateTime), len(st.parts))
		chunkDone := make(chan struct{})
		go func() { defer close(chunkDone); m.runChunk(ctx, label, chunks[i]) }()
		err := r.waitCheckpoints(ctx, st, target, 10*time.Minute)
		<-chunkDone
		if err != nil {
			r.fail("%s (clock %s): %v", label, target.Format(time.DateTime), err)
			stepsOK = false
			break
		}
		r.logf("%s: every part polled up to %s (%s)", label, target.Format(time.DateTime), time.Since(t0).Round(100*time.Millisecond))
	}
	if stepsOK {
		r.pass("pipeline followed the sandbox clock through %d steps to %s CST (%d parts, every checkpoint at the clock) in %s",
			len(clockSteps), clockSteps[len(clockSteps)-1].Format(time.DateTime), len(st.parts), time.Since(began).Round(time.Second))
	}
	r.logf("waiting for the background chaos (ClickHouse outage, timeout burst) to end")
	m.wait()
	r.logf("chaos schedule finished: %s", m.summary())

	// 3. Settle: the poller stops (every part's checkpoint is at the final
	// clock, so everything there is to read was stored in RAW, under the
	// chaos), then the stages drain.
	for _, p := range []*proc{st.normalizer, st.sink, st.poller} {
		if !p.running() {
			r.logf("%s is not running after the chaos; starting it", p.name)
			_ = p.start()
		}
	}
	final := clockSteps[len(clockSteps)-1]
	st.poller.setSupervise(false)
	if err := st.poller.terminate(30 * time.Second); err != nil {
		r.fail("poller clean stop on SIGTERM: %v", err)
	} else {
		held, err := r.heldLeases(ctx, st)
		r.verdict(err == nil && len(held) == 0, "poller stopped cleanly on SIGTERM and released its leases (still held: %s)", joinOr(append(held, errList(err)...), "none"))
	}
	t0 := time.Now()
	if err := r.waitDrained(ctx, st, 8*time.Minute); err != nil {
		r.fail("pipeline did not drain: %v", err)
	} else {
		r.logf("normalizer and sink acknowledged everything (%s)", time.Since(t0).Round(100*time.Millisecond))
	}

	// 4. Verify.
	r.verify(ctx, st, m, final)
	for _, p := range []*proc{st.normalizer, st.sink} {
		if err := p.terminate(60 * time.Second); err != nil {
			r.fail("%s clean stop on SIGTERM: %v", p.name, err)
		} else {
			r.pass("%s stopped cleanly on SIGTERM", p.name)
		}
	}
	r.processChecks(st)
	r.logf("total run time %s", time.Since(r.start).Round(100*time.Millisecond))
}

// outage stops the poller, removes douke's configured start from the
// sources file, moves the sandbox clock to target (further than douke's
// 72 h look-back from its checkpoint) and starts the poller again.
func (r *runner) outage(ctx context.Context, st *stack, target time.Time) error {
	st.poller.setSupervise(false)
	if err := st.poller.terminate(30 * time.Second); err != nil {
		return fmt.Errorf("stop the poller: %w", err)
	}
	srcs := append([]poller.Source(nil), st.sources...)
	for i := range srcs {
		if srcs[i].Vendor == "douke" {
			srcs[i].Start = ""
		}
	}
	b, err := yaml.Marshal(poller.SourcesFile{Sources: srcs})
	if err != nil {
		return err
	}
	if err := os.WriteFile(st.sourcesPath, b, 0o600); err != nil {
		return err
	}
	var behind []string
	for _, part := range st.parts {
		if cp, err := st.cps.Get(ctx, part.Key()); err == nil && part.Source.Vendor == "douke" {
			behind = append(behind, fmt.Sprintf("%s checkpoint %s, %s behind (look-back %s)", part.Key(),
				cp.Position.In(wire.CST).Format(time.DateTime), target.Sub(cp.Position).Round(time.Hour), part.Source.Lookback))
		}
	}
	if err := r.setClock(ctx, st, target); err != nil {
		return err
	}
	r.logf("outage: every poller down while the sandbox clock jumps to %s CST; douke now has no configured start: %s",
		target.Format(time.DateTime), strings.Join(behind, "; "))
	st.poller.setSupervise(true)
	return st.poller.start()
}

// waitCheckpoints waits until every part's checkpoint is at least at.
func (r *runner) waitCheckpoints(ctx context.Context, st *stack, at time.Time, within time.Duration) error {
	return r.waitFor(ctx, "checkpoints at "+at.Format(time.DateTime), within, 250*time.Millisecond, func(ctx context.Context) (bool, string) {
		var behind []string
		for _, p := range st.parts {
			gctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			cp, err := st.cps.Get(gctx, p.Key())
			cancel()
			if err != nil {
				return false, err.Error()
			}
			if cp.Position.Before(at) || cp.LastSuccess.IsZero() {
				s := fmt.Sprintf("%s at %s", p.Key(), showTime(cp.Position))
				if cp.LastError != "" {
					s += " (last error: " + clip(cp.LastError, 160) + ")"
				}
				behind = append(behind, s)
			}
		}
		return len(behind) == 0, strings.Join(behind, "; ")
	})
}

// waitDrained waits until the normalizer (RAW) and then the sink (EVENTS)
// have nothing pending and nothing unacknowledged, and RAW still has
// nothing pending after that.
func (r *runner) waitDrained(ctx context.Context, st *stack, within time.Duration) error {
	deadline := time.Now().Add(within)
	for _, cons := range [][2]string{{"YONGJIN_RAW", "normalizer"}, {"YONGJIN_EVENTS", "sink"}, {"YONGJIN_RAW", "normalizer"}} {
		stream, durable := cons[0], cons[1]
		err := r.waitFor(ctx, durable+" caught up on "+stream, time.Until(deadline), 250*time.Millisecond, func(ctx context.Context) (bool, string) {
			n, ack, err := consumerState(ctx, st.js, stream, durable)
			if err != nil {
				return false, err.Error()
			}
			return n == 0 && ack == 0, fmt.Sprintf("%d pending, %d unacknowledged", n, ack)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// heldLeases lists the poller leases still in the lease bucket.
func (r *runner) heldLeases(ctx context.Context, st *stack) ([]string, error) {
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	kv, err := st.js.KeyValue(lctx, checkpoint.LeaseBucket)
	if err != nil {
		return nil, err
	}
	keys, err := kv.Keys(lctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	return keys, err
}

func consumerState(ctx context.Context, js jetstream.JetStream, stream, durable string) (pending uint64, ackPending int, err error) {
	ictx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	c, err := js.Consumer(ictx, stream, durable)
	if err != nil {
		return 0, 0, err
	}
	info, err := c.Info(ictx)
	if err != nil {
		return 0, 0, err
	}
	return info.NumPending, info.NumAckPending, nil
}

// ---- sandbox admin ----

func (r *runner) sandboxStats(ctx context.Context, st *stack) (map[string]sandbox.Stats, error) {
	b, err := httpGet(ctx, st.sandboxURL+"/_sandbox/stats")
	if err != nil {
		return nil, err
	}
	var out map[string]sandbox.Stats
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("sandbox stats: %w", err)
	}
	return out, nil
}

func (r *runner) setClock(ctx context.Context, st *stack, t time.Time) error {
	_, err := httpPost(ctx, st.sandboxURL+"/_sandbox/clock?set="+url.QueryEscape(t.Format(time.RFC3339)))
	return err
}

func (r *runner) setFaults(ctx context.Context, st *stack, v url.Values) error {
	_, err := httpPost(ctx, st.sandboxURL+"/_sandbox/faults?"+v.Encode())
	return err
}

var httpClient = &http.Client{Timeout: 60 * time.Second}

func httpGet(ctx context.Context, u string) ([]byte, error) { return httpDo(ctx, http.MethodGet, u) }

func httpPost(ctx context.Context, u string) ([]byte, error) { return httpDo(ctx, http.MethodPost, u) }

func httpDo(ctx context.Context, method, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	res, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: HTTP %d: %s", method, u, res.StatusCode, clip(strings.TrimSpace(string(b)), 200))
	}
	return b, nil
}

// ---- ClickHouse ----

func (r *runner) chConn(ctx context.Context, addr string) (ch.Conn, error) {
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Auth: ch.Auth{Username: r.cfg.chUser, Password: r.cfg.chPass},
		DialTimeout: 10 * time.Second})
	if err != nil {
		return nil, err
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse %s: %w", addr, err)
	}
	return conn, nil
}

// prepareDatabase makes sure the run's database does not exist and drops
// the databases of earlier runs (named like it) in the background; it
// returns their names.
func (r *runner) prepareDatabase(ctx context.Context) ([]string, error) {
	conn, err := r.chConn(ctx, r.cfg.chAddr)
	if err != nil {
		return nil, err
	}
	if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+r.cfg.database+"`"); err != nil {
		conn.Close()
		return nil, err
	}
	rows, err := conn.Query(ctx, "SELECT name FROM system.databases WHERE startsWith(name, '"+r.cfg.dbPrefix+"_')")
	if err != nil {
		conn.Close()
		return nil, err
	}
	var stale []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err == nil && name != r.cfg.database && strings.Trim(name[len(r.cfg.dbPrefix)+1:], "0123456789") == "" {
			stale = append(stale, name)
		}
	}
	rows.Close()
	if len(stale) == 0 {
		conn.Close()
		return nil, nil
	}
	go func() {
		defer conn.Close()
		for _, name := range stale {
			_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`")
		}
	}()
	return stale, nil
}

// clickhouseScript runs scripts/clickhouse.sh CMD for the private server
// (never a server named by YONGJIN_CLICKHOUSE_ADDR: the suite stops and
// starts it) and returns its stdout.
func (r *runner) clickhouseScript(ctx context.Context, cmd string) (string, error) {
	x := exec.CommandContext(ctx, "bash", r.cfg.chScript, cmd)
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "YONGJIN_CLICKHOUSE_ADDR=") {
			env = append(env, e)
		}
	}
	x.Env = env
	f, err := os.OpenFile(filepath.Join(r.cfg.data, "logs", "clickhouse.sh.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err == nil {
		defer f.Close()
		fmt.Fprintf(f, "=== chaos: clickhouse.sh %s at %s\n", cmd, time.Now().UTC().Format(time.RFC3339Nano))
		x.Stderr = f
	}
	out, err := x.Output()
	if err != nil {
		return "", fmt.Errorf("scripts/clickhouse.sh %s: %w", cmd, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// teardown stops every process still running and makes sure ClickHouse is up.
func (r *runner) teardown(st *stack) {
	for _, p := range []*proc{st.poller, st.normalizer, st.sink, st.sandbox} {
		if p != nil {
			p.shutdown(30 * time.Second)
		}
	}
	if st.nc != nil {
		st.nc.Close()
	}
	if st.nats != nil {
		st.nats.shutdown(30 * time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := r.clickhouseScript(ctx, "start"); err != nil {
		fmt.Printf("chaos: could not make sure ClickHouse runs again: %v\n", err)
	}
	failed := false
	for _, c := range r.checks {
		failed = failed || !c.ok
	}
	if !failed && !r.cfg.keepStore {
		_ = os.RemoveAll(filepath.Join(r.cfg.data, "nats"))
	}
}

// ---- small helpers ----

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func showTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(wire.CST).Format(time.DateTime)
}
