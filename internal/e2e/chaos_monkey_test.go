//go:build chaos

package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// monkey carries out the chaos schedule: the SIGKILLs of poller, normalizer
// and sink, the NATS restarts, the ClickHouse outage and the timeout burst,
// in a random order (from the seed) with random gaps, while the pipeline
// follows the sandbox clock.
type monkey struct {
	r  *runner
	st *stack
	wg sync.WaitGroup

	mu           sync.Mutex
	events       []string
	natsRestarts []string
	natsFailures []string
	chDown       time.Duration
	chErr        error
	chMaxHeld    int
	chSinkKilled bool
	chWaiting    uint64
	chRetries    int
	timeouts     int64
	burstErr     error
	done, total  int
}

func newMonkey(r *runner, st *stack) *monkey { return &monkey{r: r, st: st} }

type action struct {
	name string
	do   func(ctx context.Context)
}

// plan is the whole chaos schedule, shuffled with the seed.
func (m *monkey) plan() []action {
	c := m.r.cfg
	var plan []action
	for i := 0; i < c.kills; i++ {
		for _, p := range []*proc{m.st.poller, m.st.normalizer, m.st.sink} {
			plan = append(plan, action{"SIGKILL " + p.name, func(ctx context.Context) { m.killRestart(ctx, p) }})
		}
	}
	plan = append(plan,
		action{"restart nats-server (SIGTERM)", func(ctx context.Context) { m.restartNATS(ctx, syscall.SIGTERM) }},
		action{"restart nats-server (SIGKILL)", func(ctx context.Context) { m.restartNATS(ctx, syscall.SIGKILL) }},
		action{"ClickHouse outage", m.clickhouseOutage},
		action{"timeout burst", m.timeoutBurst},
	)
	m.r.shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	return plan
}

// split cuts the plan into n consecutive chunks of (nearly) equal size.
func split(plan []action, n int) [][]action {
	out := make([][]action, n)
	for i := range out {
		lo, hi := i*len(plan)/n, (i+1)*len(plan)/n
		out[i] = plan[lo:hi]
	}
	return out
}

func names(acts []action) string {
	out := make([]string, len(acts))
	for i, a := range acts {
		out[i] = a.name
	}
	return strings.Join(out, ", ")
}

// runChunk carries out acts, each after a random pause of 3-10 s. The
// ClickHouse outage and the timeout burst go on in the background (see wait).
func (m *monkey) runChunk(ctx context.Context, label string, acts []action) {
	for i, a := range acts {
		if !sleepCtx(ctx, m.r.randDur(3*time.Second, 10*time.Second)) {
			m.r.logf("chaos %s interrupted before event %d/%d", label, i+1, len(acts))
			return
		}
		m.mu.Lock()
		m.done++
		n := m.done
		m.mu.Unlock()
		m.r.logf("chaos %d/%d (%s): %s", n, m.total, label, a.name)
		a.do(ctx)
	}
}

// wait returns when the background events are over.
func (m *monkey) wait() { m.wg.Wait() }

func (m *monkey) note(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	m.mu.Lock()
	m.events = append(m.events, s)
	m.mu.Unlock()
	m.r.logf("  %s", s)
}

// killRestart SIGKILLs p at once and starts it again after a random pause.
func (m *monkey) killRestart(ctx context.Context, p *proc) {
	for attempt := 0; ; attempt++ {
		if p.running() {
			break
		}
		if attempt >= 10 || !sleepCtx(ctx, time.Second) {
			m.note("%s not running; SIGKILL skipped", p.name)
			return
		}
	}
	pid, err := p.kill()
	if err != nil {
		m.note("SIGKILL %s: %v", p.name, err)
	}
	pause := m.r.randDur(200*time.Millisecond, 3*time.Second)
	sleepCtx(ctx, pause)
	if err := p.start(); err != nil {
		m.note("restart %s: %v", p.name, err)
		return
	}
	m.note("SIGKILLed %s (pid %d), restarted %s later (pid %d)", p.name, pid, pause.Round(10*time.Millisecond), p.pid())
}

// restartNATS stops the NATS server with sig and starts it again on the same
// store; it returns once JetStream answers again.
func (m *monkey) restartNATS(ctx context.Context, sig syscall.Signal) {
	t0 := time.Now()
	pid, exitErr, err := m.st.nats.signal(sig, 30*time.Second)
	if err != nil {
		m.fail("nats-server %s: %v", sig, err)
		return
	}
	pause := m.r.randDur(500*time.Millisecond, 3*time.Second)
	sleepCtx(ctx, pause)
	if err := m.st.nats.start(); err != nil {
		m.fail("nats-server start after %s: %v", sig, err)
		return
	}
	if err := m.r.waitJetStream(context.WithoutCancel(ctx), m.st, 90*time.Second); err != nil {
		m.fail("nats-server after %s: %v", sig, err)
		return
	}
	m.mu.Lock()
	m.natsRestarts = append(m.natsRestarts, sigName(sig))
	m.mu.Unlock()
	m.note("nats-server (pid %d) stopped by %s (%s), started again %s later on the same store (pid %d); JetStream answering after %s",
		pid, sigName(sig), exitText(exitErr), pause.Round(10*time.Millisecond), m.st.nats.pid(), time.Since(t0).Round(100*time.Millisecond))
}

func (m *monkey) fail(format string, a ...any) {
	s := fmt.Sprintf(format, a...)
	m.mu.Lock()
	m.natsFailures = append(m.natsFailures, s)
	m.mu.Unlock()
	m.note("%s", s)
}

func sigName(s syscall.Signal) string {
	switch s {
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// clickhouseOutage stops ClickHouse (scripts/clickhouse.sh stop) for
// --clickhouse-down, watching the sink's consumer meanwhile, and starts it
// again; it runs in the background while the schedule goes on.
func (m *monkey) clickhouseOutage(ctx context.Context) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		r, st := m.r, m.st
		// The outage must end with ClickHouse running, even when the run is
		// being cancelled: use a context of its own.
		octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.chDown+4*time.Minute)
		defer cancel()
		if _, err := r.clickhouseScript(octx, "stop"); err != nil {
			m.recordCH(0, 0, false, err)
			return
		}
		stopped := time.Now()
		_, sinkKillsBefore, _ := st.sink.counts()
		m.note("ClickHouse stopped (scripts/clickhouse.sh stop); it stays down for %s", r.cfg.chDown)
		// Meanwhile: how many events the sink holds unacknowledged (its
		// batch), how many wait behind it, and its insert retries (metric).
		maxHeld, maxWaiting, retries := 0, uint64(0), -1
		for time.Since(stopped) < r.cfg.chDown {
			if pending, ack, err := consumerState(octx, st.js, "YONGJIN_EVENTS", "sink"); err == nil {
				maxHeld, maxWaiting = max(maxHeld, ack), max(maxWaiting, pending)
			}
			if n, ok := sinkRetries(octx, st); ok {
				retries = max(retries, n)
			}
			sleepCtx(octx, time.Second)
		}
		addr, err := r.clickhouseScript(octx, "start")
		if err != nil {
			m.recordCH(0, maxHeld, false, err)
			return
		}
		down := time.Since(stopped)
		_, sinkKillsAfter, _ := st.sink.counts()
		st.chMu.Lock()
		old := r.cfg.chAddr
		r.cfg.chAddr = addr
		st.chMu.Unlock()
		if addr != old {
			// A port was taken meanwhile: the sink must be pointed at the new address.
			r.setSinkArgs(st)
			if _, _, err := st.sink.signal(syscall.SIGTERM, time.Minute); err == nil {
				_ = st.sink.start()
			}
			m.note("ClickHouse came back on a new address %s (was %s); sink restarted with it", addr, old)
		}
		m.recordCH(down, maxHeld, sinkKillsAfter > sinkKillsBefore, nil)
		m.mu.Lock()
		m.chWaiting, m.chRetries = maxWaiting, retries
		m.mu.Unlock()
		m.note("ClickHouse started again after %s down (%s); meanwhile the sink held up to %d events unacknowledged, up to %d waited behind them, %s",
			down.Round(100*time.Millisecond), addr, maxHeld, maxWaiting, retriesText(retries))
	}()
}

func (m *monkey) recordCH(down time.Duration, held int, sinkKilled bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.chDown, m.chMaxHeld, m.chSinkKilled, m.chErr = down, held, sinkKilled, err
	if err != nil {
		m.events = append(m.events, "ClickHouse outage failed: "+err.Error())
		m.r.logf("  ClickHouse outage failed: %v", err)
	}
}

// timeoutBurst makes the sandbox answer half of the vendor requests only
// after the client timeout until at least two requests were caught (at most
// a minute), then goes back to the baseline; it runs in the background.
func (m *monkey) timeoutBurst(ctx context.Context) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		r, st := m.r, m.st
		bctx := context.WithoutCancel(ctx)
		slowed := func() (int64, error) {
			s, err := r.sandboxStats(bctx, st)
			var n int64
			for _, v := range s {
				n += v.Slowed
			}
			return n, err
		}
		before, err := slowed()
		if err == nil {
			err = r.setFaults(bctx, st, url.Values{"slow_rate": {"0.5"}, "slow_for": {(clientTimeout + 5*time.Second).String()}})
		}
		if err != nil {
			m.mu.Lock()
			m.burstErr = err
			m.mu.Unlock()
			m.note("timeout burst failed: %v", err)
			return
		}
		m.note("timeout burst: the sandbox answers half of the vendor requests after %s (client timeout %s)", clientTimeout+5*time.Second, clientTimeout)
		t0 := time.Now()
		n := int64(0)
		for time.Since(t0) < time.Minute {
			now, err := slowed()
			if err == nil {
				n = now - before
			}
			if n >= 2 {
				break
			}
			sleepCtx(bctx, 200*time.Millisecond)
		}
		err = r.setFaults(bctx, st, url.Values{"slow_rate": {fmt.Sprint(baseSlowRate)}, "slow_for": {baseSlowFor.String()}})
		if now, serr := slowed(); serr == nil {
			n = now - before
		}
		m.mu.Lock()
		m.timeouts, m.burstErr = n, err
		m.mu.Unlock()
		m.note("timeout burst over after %s: %d requests held past the client timeout", time.Since(t0).Round(100*time.Millisecond), n)
	}()
}

func (m *monkey) summary() string {
	var parts []string
	for _, p := range []*proc{m.st.poller, m.st.normalizer, m.st.sink} {
		_, kills, _ := p.counts()
		parts = append(parts, fmt.Sprintf("%s SIGKILLed %d×", p.name, kills))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	parts = append(parts, fmt.Sprintf("nats-server restarted %d× (%s)", len(m.natsRestarts), strings.Join(m.natsRestarts, ", ")),
		fmt.Sprintf("ClickHouse down %s", m.chDown.Round(100*time.Millisecond)), fmt.Sprintf("%d timeouts", m.timeouts))
	return strings.Join(parts, ", ")
}

// sinkRetries reads yongjin_sink_insert_retries_total from the running
// sink's /metrics (a restarted sink starts again from 0).
func sinkRetries(ctx context.Context, st *stack) (int, bool) {
	mctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	b, err := httpGet(mctx, "http://"+st.sinkMetrics+"/metrics")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "yongjin_sink_insert_retries_total "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err == nil {
				return int(f), true
			}
		}
	}
	return 0, false
}

func retriesText(n int) string {
	if n < 0 {
		return "its retry metric was not readable"
	}
	return fmt.Sprintf("it retried the insert %d times (yongjin_sink_insert_retries_total)", n)
}
