package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
)

// The backlog: douke orders paid over ten months, the sandbox clock three
// weeks later (orders received, settled, refunded), 20 orders per page.
const (
	payFrom   = "2026-01-01"
	payTo     = "2026-11-01"
	clockAt   = "2026-11-20"
	perPage   = 20
	vekey     = "bench-vekey"
	pollEvery = 250 * time.Millisecond
	phaseMax  = 60 * time.Minute
)

func numCPU() int { return runtime.NumCPU() }

func (b *bench) runDir(name string) string { return filepath.Join(b.dir, "run", name) }

// backlog starts the sandbox and, unless a finished backlog of the same
// size is already on disk, fills a fresh JetStream store with `poller once`.
func (b *bench) backlog(ctx context.Context) error {
	orders := b.pages * perPage
	b.res.Orders, b.res.Lines = orders, 4*orders
	ports, err := testenv.FreePorts(1)
	if err != nil {
		return err
	}
	port := ports[0]
	b.sbURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	b.sandbox, err = startProc("sandbox", filepath.Join(b.bin, "sandbox"), b.logs, []string{"--addr", fmt.Sprintf("127.0.0.1:%d", port),
		"--orders", strconv.Itoa(orders), "--from", payFrom, "--to", payTo, "--clock", clockAt}, []string{"YONGJIN_SANDBOX_DOUKE_VEKEY=" + vekey})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.dir, "vekey"), []byte(vekey+"\n"), 0o600); err != nil {
		return err
	}
	src := fmt.Sprintf("sources:\n  - name: douke-bench\n    vendor: douke\n    account: bench\n    base_url: %s\n    credentials:\n      vekey: {file: %q}\n"+
		"    window: {from: %q, to: %q}\n    page_size: %d\n    rate_per_second: 100000\n", b.sbURL, filepath.Join(b.dir, "vekey"), payFrom, payTo, perPage)
	if err := os.WriteFile(filepath.Join(b.dir, "sources.yaml"), []byte(src), 0o600); err != nil {
		return err
	}
	if err := waitDone(ctx, "sandbox up", 2*time.Minute, 200*time.Millisecond, func() (bool, error) {
		if b.sandbox.exited() {
			return false, fmt.Errorf("sandbox exited, see %s", b.sandbox.log)
		}
		resp, err := httpGetOK(ctx, b.sbURL+"/_sandbox/healthz")
		return err == nil && resp, err
	}); err != nil {
		return err
	}
	dir := b.backlogDir()
	marker := filepath.Join(dir, "complete")
	if _, err := os.Stat(marker); err == nil {
		b.logf("backlog: reusing %s (%d pages)", dir, b.pages)
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	n, err := b.startNATS(ctx, "nats-backlog", filepath.Join(dir, "nats"))
	if err != nil {
		return err
	}
	defer n.stop()
	t0 := time.Now()
	b.logf("backlog: polling %d orders from the sandbox into %s", orders, dir)
	if err := b.poll(n.url); err != nil {
		return err
	}
	msgs, bytes, err := streamState(ctx, n.js, bus.RawStream)
	if err != nil {
		return err
	}
	b.logf("backlog: %d pages (%.0f MiB) in %s", msgs, float64(bytes)/(1<<20), time.Since(t0).Round(time.Second))
	n.stop()
	return os.WriteFile(marker, []byte(strconv.FormatUint(msgs, 10)+"\n"), 0o644)
}

func (b *bench) backlogDir() string {
	return filepath.Join(b.dir, fmt.Sprintf("backlog-%d", b.pages))
}

// poll runs `poller once` over the whole backlog range.
func (b *bench) poll(natsURL string) error {
	_, err := b.pollUsage(natsURL)
	return err
}

// pollUsage is poll that returns the poller's resource usage.
func (b *bench) pollUsage(natsURL string) (*syscall.Rusage, error) {
	return runUsage("poller", filepath.Join(b.bin, "poller"), b.logs, []string{"once", "--config", filepath.Join(b.dir, "sources.yaml"),
		"--nats-url", natsURL, "--metrics-addr", "", "--time-type", "pay"}, nil)
}

// openSource starts a server on a copy of the backlog (phases run without
// the catch-up read their pages from it).
func (b *bench) openSource(ctx context.Context) error {
	dir := b.runDir("source")
	_ = os.RemoveAll(dir)
	if err := copyDir(filepath.Join(b.backlogDir(), "nats"), filepath.Join(dir, "nats")); err != nil {
		return err
	}
	var err error
	b.src, err = b.startNATS(ctx, "nats-source", filepath.Join(dir, "nats"))
	return err
}

// stage starts `normalizer run` or `sink run` against natsURL.
func (b *bench) stage(name, natsURL, db string, extra ...string) (*proc, string, error) {
	ports, err := testenv.FreePorts(1)
	if err != nil {
		return nil, "", err
	}
	port := ports[0]
	pprof := fmt.Sprintf("127.0.0.1:%d", port)
	args := []string{"run", "--nats-url", natsURL, "--metrics-addr", "", "--pprof-addr", pprof}
	var env []string
	bin := filepath.Join(b.bin, name)
	switch name {
	case "normalizer":
		args = append(args, b.normFlags...)
	case "sink":
		args = append(args, "--clickhouse-addr", b.chAddr, "--clickhouse-database", db, "--clickhouse-user", b.chUser)
		args = append(args, b.sinkFlags...)
	}
	args = append(args, extra...)
	p, err := startProc(name, bin, b.logs, args, env)
	return p, pprof, err
}

// drained reports whether db holds every order and line and the named
// consumers have nothing pending.
func (b *bench) drained(ctx context.Context, js jetstream.JetStream, db string, consumers [][2]string, procs ...*proc) (bool, error) {
	for _, p := range procs {
		if p.exited() {
			return false, fmt.Errorf("%s exited: see %s", p.name, p.log)
		}
	}
	o, l, err := b.counts(ctx, db)
	if err != nil || o < uint64(b.res.Orders) || l < uint64(b.res.Lines) {
		return false, err
	}
	for _, c := range consumers {
		_, drained, err := bus.Backlog(ctx, js, c[0], c[1])
		if err != nil || !drained {
			return false, err
		}
	}
	return true, nil
}

// measure waits until done, then fills a pipelineRun from the meter and
// the processes' peak RSS.
func (b *bench) measure(ctx context.Context, what string, t0 time.Time, m *cpuMeter, rss map[string]int, done func() (bool, error)) (*pipelineRun, error) {
	if err := waitDone(ctx, what, phaseMax, pollEvery, done); err != nil {
		return nil, err
	}
	el := time.Since(t0)
	m.stop()
	r := &pipelineRun{Seconds: el.Seconds(), OrdersPerS: float64(b.res.Orders) / el.Seconds(), CPUus: map[string]float64{}, PeakRSSMiB: map[string]float64{}}
	for name, d := range m.used {
		r.CPUus[name] = float64(d.Microseconds()) / float64(b.res.Orders)
	}
	for name, pid := range rss {
		if v, err := peakRSS(pid); err == nil {
			r.PeakRSSMiB[name] = float64(v) / (1 << 20)
		}
	}
	return r, nil
}

// catchup drains a copy of the backlog with the real normalizer and sink.
func (b *bench) catchup(ctx context.Context) error {
	dir := b.runDir("catchup")
	_ = os.RemoveAll(dir)
	_ = os.RemoveAll(b.runDir("source"))
	if err := copyDir(filepath.Join(b.backlogDir(), "nats"), filepath.Join(dir, "nats")); err != nil {
		return err
	}
	n, err := b.startNATS(ctx, "nats-catchup", filepath.Join(dir, "nats"))
	if err != nil {
		return err
	}
	b.src = n
	db, err := b.freshDatabase(ctx, "catchup")
	if err != nil {
		return err
	}
	if err := b.migrate(db); err != nil {
		return err
	}
	m := newCPUMeter()
	m.add("nats-server", n.pid())
	m.add("clickhouse", b.chPID)
	t0 := time.Now()
	norm, normProf, err := b.stage("normalizer", n.url, db)
	if err != nil {
		return err
	}
	defer norm.stop(time.Minute)
	sink, sinkProf, err := b.stage("sink", n.url, db)
	if err != nil {
		return err
	}
	defer sink.stop(time.Minute)
	m.add("normalizer", norm.pid())
	m.add("sink", sink.pid())
	var profiles []string
	var wg sync.WaitGroup
	if b.profileSecs > 0 {
		for name, addr := range map[string]string{"normalizer": normProf, "sink": sinkProf, "nats-server": n.profAddr} {
			path := filepath.Join(b.logs, "cpu-"+name+".pprof")
			profiles = append(profiles, path)
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(3 * time.Second)
				if err := fetchProfile(ctx, addr, b.profileSecs, path); err != nil {
					b.logf("profile of %s: %v", name, err)
				}
			}()
		}
	}
	b.logf("catchup: normalizer (pid %d) and sink (pid %d) draining %d orders", norm.pid(), sink.pid(), b.res.Orders)
	r, err := b.measure(ctx, "catch-up", t0, m, map[string]int{"normalizer": norm.pid(), "sink": sink.pid(), "nats-server": n.pid()}, func() (bool, error) {
		return b.drained(ctx, n.js, db, [][2]string{{bus.RawStream, "normalizer"}, {bus.EventsStream, "sink"}}, norm, sink)
	})
	if err != nil {
		return err
	}
	wg.Wait()
	r.Profiles = profiles
	b.res.Catchup = r
	b.logf("catchup: %.0f orders/s, %.1f µs CPU per order", r.OrdersPerS, r.totalCPU())
	b.res.EventMsg, err = b.eventShape(ctx, n.js)
	return err
}

// eventShape samples the EVENTS stream's messages.
func (b *bench) eventShape(ctx context.Context, js jetstream.JetStream) (*msgShape, error) {
	msgs, _, err := streamState(ctx, js, bus.EventsStream)
	if err != nil {
		return nil, err
	}
	c, err := js.OrderedConsumer(ctx, bus.EventsStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return nil, err
	}
	const sample = 2000
	batch, err := c.Fetch(sample, jetstream.FetchMaxWait(30*time.Second))
	if err != nil {
		return nil, err
	}
	var n, data, hdr int
	for m := range batch.Messages() {
		n++
		data += len(m.Data())
		for k, vs := range m.Headers() {
			for _, v := range vs {
				hdr += len(k) + len(v) + 4
			}
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("no event messages to sample")
	}
	return &msgShape{Count: msgs, PerOrder: float64(msgs) / float64(b.res.Orders), DataBytes: data / n, HeaderBytes: hdr / n}, nil
}

// sinkAlone drains the EVENTS the catch-up produced with a second sink
// (its own durable consumer) into a fresh database.
func (b *bench) sinkAlone(ctx context.Context) error {
	n := b.src
	if _, _, err := streamState(ctx, n.js, bus.EventsStream); err != nil {
		return fmt.Errorf("no EVENTS stream (run the catchup phase first): %w", err)
	}
	db, err := b.freshDatabase(ctx, "sink")
	if err != nil {
		return err
	}
	if err := b.migrate(db); err != nil {
		return err
	}
	const durable = "bench_sink_alone"
	m := newCPUMeter()
	m.add("nats-server", n.pid())
	m.add("clickhouse", b.chPID)
	t0 := time.Now()
	sink, _, err := b.stage("sink", n.url, db, "--consumer", durable)
	if err != nil {
		return err
	}
	defer sink.stop(time.Minute)
	m.add("sink", sink.pid())
	r, err := b.measure(ctx, "sink alone", t0, m, map[string]int{"sink": sink.pid()}, func() (bool, error) {
		return b.drained(ctx, n.js, db, [][2]string{{bus.EventsStream, durable}}, sink)
	})
	if err != nil {
		return err
	}
	b.res.Sink = r
	b.logf("sink alone: %.0f orders/s", r.OrdersPerS)
	return nil
}

// endToEnd polls the sandbox into a fresh store while normalizer and sink run.
func (b *bench) endToEnd(ctx context.Context) error {
	n, norm, sink, db, stop, err := b.startPipeline(ctx, "e2e")
	if err != nil {
		return err
	}
	defer stop()
	m := newCPUMeter()
	for name, pid := range map[string]int{"nats-server": n.pid(), "clickhouse": b.chPID, "normalizer": norm.pid(), "sink": sink.pid(), "sandbox": b.sandbox.pid()} {
		m.add(name, pid)
	}
	t0 := time.Now()
	pollErr := make(chan error, 1)
	var pollRU *syscall.Rusage
	go func() {
		var err error
		pollRU, err = b.pollUsage(n.url)
		pollErr <- err
	}()
	polled := false
	r, err := b.measure(ctx, "end to end", t0, m, map[string]int{"normalizer": norm.pid(), "sink": sink.pid(), "nats-server": n.pid()}, func() (bool, error) {
		if !polled {
			select {
			case err := <-pollErr:
				if err != nil {
					return false, err
				}
				polled = true
			default:
				return false, nil
			}
		}
		return b.drained(ctx, n.js, db, [][2]string{{bus.RawStream, "normalizer"}, {bus.EventsStream, "sink"}}, norm, sink)
	})
	if err != nil {
		return err
	}
	if pollRU != nil { // the poller has exited: its whole CPU time and peak RSS
		r.CPUus["poller"] = float64((time.Duration(pollRU.Utime.Nano()) + time.Duration(pollRU.Stime.Nano())).Microseconds()) / float64(b.res.Orders)
		r.PeakRSSMiB["poller"] = float64(pollRU.Maxrss) / 1024
	}
	b.res.E2E = r
	b.logf("e2e: %.0f orders/s", r.OrdersPerS)
	return nil
}

// latencyRun is the latency phase's result.
type latencyRun struct {
	Rate     int     `json:"rate_orders_per_s"`
	Achieved float64 `json:"achieved_orders_per_s"`
	Pages    int     `json:"pages"`
	P50      float64 `json:"p50_s"`
	P99      float64 `json:"p99_s"`
	Max      float64 `json:"max_s"`
}

// latency publishes backlog pages to a fresh RAW at a steady rate while
// normalizer and sink run, and takes each page's latency from its publish
// to the moment the orders table's row count covers it. Rows become visible
// in about publish order (four workers, batches), so a page counts as
// visible when the table holds as many orders as this page and every page
// published before it: a slightly pessimistic reading for pages that
// overtook earlier ones, at the 50 ms polling resolution.
func (b *bench) latency(ctx context.Context) error {
	want := int(b.latencyFor.Seconds()) * b.latencyRate / perPage
	pages, err := b.rawPages(ctx, want)
	if err != nil {
		return err
	}
	n, norm, sink, db, stop, err := b.startPipeline(ctx, "latency")
	if err != nil {
		return err
	}
	defer stop()
	cum := make([]uint64, len(pages))
	var total uint64
	for i, p := range pages {
		total += uint64(p.orders)
		cum[i] = total
	}
	pub := make([]time.Time, len(pages))
	var mu sync.Mutex
	published := 0
	pubErr := make(chan error, 1)
	interval := time.Duration(float64(time.Second) * perPage / float64(b.latencyRate))
	t0 := time.Now()
	go func() {
		for i, p := range pages {
			if d := time.Until(t0.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d)
			}
			m := nats.NewMsg(p.subject)
			m.Header, m.Data = p.header, p.data
			now := time.Now()
			if _, err := n.js.PublishMsgAsync(m, jetstream.WithStallWait(10*time.Second)); err != nil {
				pubErr <- err
				return
			}
			mu.Lock()
			pub[i], published = now, i+1
			mu.Unlock()
		}
		select {
		case <-n.js.PublishAsyncComplete():
			pubErr <- nil
		case <-time.After(time.Minute):
			pubErr <- fmt.Errorf("publishes not acknowledged")
		}
	}()
	lat := make([]float64, 0, len(pages))
	next := 0
	var pubDone bool
	var pubEnd time.Time
	deadline := time.Now().Add(b.latencyFor + 10*time.Minute)
	for next < len(pages) {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d pages visible", next, len(pages))
		}
		if !pubDone {
			select {
			case err := <-pubErr:
				if err != nil {
					return err
				}
				pubDone, pubEnd = true, time.Now()
			default:
			}
		}
		if norm.exited() || sink.exited() {
			return fmt.Errorf("a stage exited, see %s", b.logs)
		}
		var o uint64
		if err := b.ch.QueryRow(ctx, "SELECT count() FROM `"+db+"`.orders").Scan(&o); err != nil {
			return err
		}
		now := time.Now()
		mu.Lock()
		for next < published && cum[next] <= o {
			lat = append(lat, now.Sub(pub[next]).Seconds())
			next++
		}
		mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	if !pubDone {
		if err := <-pubErr; err != nil {
			return err
		}
		pubEnd = time.Now()
	}
	sorted := append([]float64(nil), lat...)
	sort.Float64s(sorted)
	q := func(p float64) float64 { return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))] }
	b.res.Latency = &latencyRun{Rate: b.latencyRate, Achieved: float64(total) / pubEnd.Sub(t0).Seconds(), Pages: len(pages),
		P50: q(0.50), P99: q(0.99), Max: sorted[len(sorted)-1]}
	b.logf("latency: p50 %.3f s p99 %.3f s", b.res.Latency.P50, b.res.Latency.P99)
	return nil
}

// rawPage is one backlog page as stored in RAW.
type rawPage struct {
	subject string
	header  nats.Header
	data    []byte
	orders  int
}

// rawPages reads the first n pages of the backlog (from the source server)
// with their order counts.
func (b *bench) rawPages(ctx context.Context, n int) ([]rawPage, error) {
	var out []rawPage
	err := b.eachRawPage(ctx, n, func(p rawPage) error {
		out = append(out, p)
		return nil
	})
	return out, err
}

// eachRawPage calls fn with the backlog's pages in stream order (at most n;
// n <= 0: all of them).
func (b *bench) eachRawPage(ctx context.Context, n int, fn func(rawPage) error) error {
	msgs, _, err := streamState(ctx, b.src.js, bus.RawStream)
	if err != nil {
		return err
	}
	if n <= 0 || uint64(n) > msgs {
		n = int(msgs)
	}
	c, err := b.src.js.OrderedConsumer(ctx, bus.RawStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return err
	}
	for got := 0; got < n; {
		batch, err := c.Fetch(min(500, n-got), jetstream.FetchMaxWait(30*time.Second))
		if err != nil {
			return err
		}
		k := 0
		for m := range batch.Messages() {
			page, err := douke.DecodePage(m.Data())
			if err != nil {
				return fmt.Errorf("backlog page: %w", err)
			}
			if err := fn(rawPage{subject: m.Subject(), header: m.Headers(), data: m.Data(), orders: len(page.Orders)}); err != nil {
				return err
			}
			k++
		}
		if k == 0 {
			return fmt.Errorf("backlog: got %d of %d pages: %v", got, n, batch.Error())
		}
		got += k
	}
	return nil
}

// startPipeline starts, for one phase, a fresh JetStream store with the RAW
// stream, a fresh migrated database, and the normalizer and sink binaries on
// them, and waits until both consumers exist. stop stops them all, in
// reverse order.
func (b *bench) startPipeline(ctx context.Context, phase string) (n *natsProc, norm, sink *proc, db string, stop func(), err error) {
	var stops []func()
	stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	dir := b.runDir(phase)
	_ = os.RemoveAll(dir)
	if n, err = b.startNATS(ctx, "nats-"+phase, filepath.Join(dir, "nats")); err != nil {
		return
	}
	stops = append(stops, n.stop)
	if db, err = b.freshDatabase(ctx, phase); err != nil {
		return
	}
	if err = b.migrate(db); err != nil {
		return
	}
	if err = b.ensureRaw(ctx, n.js); err != nil {
		return
	}
	if norm, _, err = b.stage("normalizer", n.url, db); err != nil {
		return
	}
	stops = append(stops, func() { norm.stop(time.Minute) })
	if sink, _, err = b.stage("sink", n.url, db); err != nil {
		return
	}
	stops = append(stops, func() { sink.stop(time.Minute) })
	err = waitDone(ctx, phase+" consumers", 2*time.Minute, 100*time.Millisecond, func() (bool, error) {
		_, _, err := bus.Backlog(ctx, n.js, bus.EventsStream, "sink")
		return err == nil, err
	})
	return
}
