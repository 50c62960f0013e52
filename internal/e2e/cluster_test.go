package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	doukesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/douke"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/internal/vendorsandbox"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// clusterOrders is the size of the scale-out run (douke orders: 2,500 pages
// of 20, 250,000 events).
const clusterOrders = 50_000

// natsNode is one nats-server process of the test's JetStream cluster.
type natsNode struct {
	name                     string
	client, cluster, monitor int
	store                    string
	proc                     *proc
}

func (n *natsNode) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.client) }

// prodNATSConf is the NATS cluster configuration of the prod overlay: the
// test runs that very file (deploy/k8s/overlays/prod/nats/nats.conf), each
// node getting its values from the environment as the StatefulSet's pods do.
func prodNATSConf(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "deploy", "k8s", "overlays", "prod", "nats", "nats.conf")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the prod overlay's NATS config: %v", err)
	}
	return path
}

// startNode starts (or restarts, on the same store) one server of the cluster.
func startNode(t *testing.T, bin, conf string, n *natsNode, nodes []*natsNode) {
	t.Helper()
	var routes []string
	for _, o := range nodes {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", o.cluster))
	}
	n.proc = start(t, bin, []string{
		"NATS_SERVER_NAME=" + n.name,
		"NATS_HOST=127.0.0.1",
		"NATS_CLIENT_PORT=" + strconv.Itoa(n.client),
		"NATS_CLUSTER_PORT=" + strconv.Itoa(n.cluster),
		"NATS_MONITOR_PORT=" + strconv.Itoa(n.monitor),
		"NATS_STORE_DIR=" + n.store,
		"NATS_ROUTES=[" + strings.Join(routes, ", ") + "]",
	}, "--config", conf)
}

// progress is one sample of a durable consumer's state.
type progress struct {
	at        time.Time
	ackFloor  uint64 // stream sequence up to which everything is acknowledged
	delivered uint64 // consumer sequence: every delivery, redeliveries included
	pending   uint64
	err       error
}

// sampler records both consumers' progress every 200 ms from the test's own
// connection (which fails over between the servers like the services do).
type sampler struct {
	mu      sync.Mutex
	samples map[string][]progress // "stream/consumer"
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

func startSampler(js jetstream.JetStream) *sampler {
	s := &sampler{samples: map[string][]progress{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, sc := range [][2]string{{"YONGJIN_RAW", "normalizer"}, {"YONGJIN_EVENTS", "sink"}} {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				p := progress{at: time.Now()}
				c, err := js.Consumer(ctx, sc[0], sc[1])
				if err == nil {
					var info *jetstream.ConsumerInfo
					if info, err = c.Info(ctx); err == nil {
						p.ackFloor, p.delivered, p.pending = info.AckFloor.Stream, info.Delivered.Consumer, info.NumPending+uint64(info.NumAckPending)
					}
				}
				p.err = err
				cancel()
				s.mu.Lock()
				s.samples[sc[0]+"/"+sc[1]] = append(s.samples[sc[0]+"/"+sc[1]], p)
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *sampler) close() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

func (s *sampler) get(key string) []progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]progress(nil), s.samples[key]...)
}

// stall is the longest time the consumer's ack floor did not move, from
// the last sample before the kill up to end (samples that failed count as
// not moving), and whether it moved after since: two samples after since
// with a higher floor in the second. The floor a first sample after the kill
// shows may hold acknowledgements from before it, so "the first sample after
// the kill with a higher floor" is no measure of the stall.
func stall(samples []progress, kill, since, end time.Time) (time.Duration, bool) {
	var last time.Time // the sample of the last move
	var floor, seen uint64
	var longest time.Duration
	moved, haveSeen := false, false
	for _, p := range samples {
		if p.at.After(end) {
			break
		}
		if p.err != nil {
			continue
		}
		if p.at.Before(kill) || last.IsZero() {
			last, floor = p.at, p.ackFloor
			continue
		}
		if p.ackFloor > floor {
			longest = max(longest, p.at.Sub(last))
			last, floor = p.at, p.ackFloor
		}
		if !p.at.Before(since) {
			moved = moved || haveSeen && p.ackFloor > seen
			seen, haveSeen = p.ackFloor, true
		}
	}
	if !last.IsZero() && end.After(last) {
		longest = max(longest, end.Sub(last)) // a stall still going on at end
	}
	return longest, moved
}

// rate is messages acknowledged per second between the first sample at or
// after from and the last one at or before to.
func rate(samples []progress, from, to time.Time) float64 {
	var a, b *progress
	for i := range samples {
		p := &samples[i]
		if p.err != nil || p.at.Before(from) || p.at.After(to) {
			continue
		}
		if a == nil {
			a = p
		}
		b = p
	}
	if a == nil || !b.at.After(a.at) {
		return 0
	}
	return float64(b.ackFloor-a.ackFloor) / b.at.Sub(a.at).Seconds()
}

// TestNATSClusterLosesStreamLeader runs the pipeline on a real 3-node NATS
// JetStream cluster (three nats-server processes with routes on loopback,
// configured by the prod overlay's nats.conf), streams and KV buckets at
// replicas 3, over 50,000 douke orders, with two poller replicas (sharing
// the source through leases), then one and later two normalizer and sink
// replicas (reporting the throughput of each), SIGKILLs the server that
// leads both YONGJIN_RAW and YONGJIN_EVENTS mid-run, restarts it on its
// store, and requires: ClickHouse equal to the sandbox truth, the consumers'
// state kept (ack floors never move back), no redelivery storm, every
// replica alive. It reports how long each stage stalled during the leader
// change.
func TestNATSClusterLosesStreamLeader(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	chAddr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, chAddr)
	user, pass := testenv.ClickHouseCredentials()
	bin := buildBinaries(t, "poller", "normalizer", "sink")
	natsBin := filepath.Join(bin, "nats-server")
	if out, err := exec.Command("go", "build", "-o", natsBin, "github.com/nats-io/nats-server/v2").CombinedOutput(); err != nil {
		t.Fatalf("build nats-server from the module in go.mod: %v\n%s", err, out)
	}
	conf := prodNATSConf(t)

	// The cluster.
	var nodes []*natsNode
	for i := 1; i <= 3; i++ {
		nodes = append(nodes, &natsNode{name: fmt.Sprintf("nats-%d", i), client: testenv.FreePort(t), cluster: testenv.FreePort(t),
			monitor: testenv.FreePort(t), store: t.TempDir()})
	}
	for _, n := range nodes {
		startNode(t, natsBin, conf, n, nodes)
	}
	var urls []string
	for _, n := range nodes {
		urls = append(urls, n.url())
	}
	natsURL := strings.Join(urls, ",")
	nc, err := nats.Connect(natsURL, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond), nats.RetryOnFailedConnect(true))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	until(t, ctx, "the JetStream cluster has a meta leader", func() (bool, string) {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := js.AccountInfo(actx)
		return err == nil, fmt.Sprint(err)
	})
	t.Logf("cluster up: %s (config %s)", natsURL, conf)

	// The vendor sandbox (in this process: its truth is the reference).
	payFrom := time.Date(2026, 10, 1, 0, 0, 0, 0, wire.CST)
	payTo := time.Date(2026, 11, 1, 0, 0, 0, 0, wire.CST)
	clock := payTo.Add(10 * 24 * time.Hour)
	acct := doukesandbox.Account(vendorsandbox.DemoAccount, "vekey-cluster")
	sb, err := vendorsandbox.NewServer(sandbox.Config{Seed: 16, Orders: clusterOrders, From: payFrom, To: payTo, Clock: clock,
		Accounts: []sandbox.Account{acct}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(sb.Handler())
	defer hs.Close()
	srcs, err := vendorsandbox.Sources(hs.URL, []sandbox.Account{acct}, 16, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i := range srcs {
		srcs[i].Start = payFrom.Format(time.RFC3339)
		srcs[i].Lookback, srcs[i].Interval, srcs[i].RatePerSecond = 2*time.Hour, 3*time.Second, 1000
	}
	cfg := writeSources(t, srcs)

	// The KV buckets (replicas 3) before the pollers: two replicas creating
	// them at once on a busy machine can miss the poller's 5 s start-up
	// timeout (it then exits; Kubernetes would restart it).
	var cps *checkpoint.Store
	until(t, ctx, "the checkpoint and lease buckets exist", func() (bool, string) {
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var err error
		if cps, err = checkpoint.Open(octx, js, 3); err != nil {
			return false, err.Error()
		}
		_, err = checkpoint.OpenLeases(octx, js, 6*time.Second, "cluster-test", 3)
		return err == nil, fmt.Sprint(err)
	})
	// Two poller replicas: one holds the source's lease, the other stands by.
	var pollers []*proc
	startPoller := func(name string) {
		pollers = append(pollers, start(t, filepath.Join(bin, "poller"), nil, "run", "--config", cfg, "--nats-url", natsURL,
			"--metrics-addr", "", "--stream-replicas", "3", "--lease-ttl", "6s", "--replica", name,
			"--sandbox-clock", hs.URL+"/_sandbox/clock"))
	}
	startPoller("poller-a")
	until(t, ctx, "poller-a created YONGJIN_RAW", func() (bool, string) {
		select {
		case <-pollers[0].exited():
			err := pollers[0].exitError()
			t.Fatalf("poller-a exited (%v):\n%s", err, tail(pollers[0].stderr.String(), 20))
		default:
		}
		octx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		_, err := js.Stream(octx, "YONGJIN_RAW")
		return err == nil, fmt.Sprint(err)
	})
	startPoller("poller-b")
	pl := poller.New(js, all.Registry(), poller.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var parts []poller.Part
	for _, s := range srcs {
		ps, err := pl.Parts(s)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, ps...)
	}
	pollStart := time.Now()
	waitPositions(t, ctx, cps, parts, clock, pollers...)
	raw, err := js.Stream(ctx, "YONGJIN_RAW")
	if err != nil {
		t.Fatal(err)
	}
	ri, err := raw.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pages := ri.State.Msgs
	t.Logf("pollers: %d raw pages of %d orders in %s (%.0f pages/s); RAW replicas %d",
		pages, clusterOrders, time.Since(pollStart).Round(time.Second), float64(pages)/time.Since(pollStart).Seconds(), ri.Config.Replicas)
	if ri.Config.Replicas != 3 {
		t.Fatalf("YONGJIN_RAW has %d replicas, want 3", ri.Config.Replicas)
	}

	// One normalizer and one sink first.
	startNorm := func() *proc {
		return start(t, filepath.Join(bin, "normalizer"), nil, "run", "--nats-url", natsURL, "--metrics-addr", freeAddr(t),
			"--stream-replicas", "3", "--ack-wait", "15s")
	}
	startSink := func() *proc {
		return start(t, filepath.Join(bin, "sink"), []string{"YONGJIN_CLICKHOUSE_PASSWORD=" + pass}, "run", "--nats-url", natsURL,
			"--metrics-addr", freeAddr(t), "--clickhouse-addr", chAddr, "--clickhouse-database", db, "--clickhouse-user", user,
			"--ack-wait", "20s", "--flush-interval", "250ms")
	}
	norms := []*proc{startNorm()}
	until(t, ctx, "YONGJIN_EVENTS exists", func() (bool, string) {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		_, err := js.Stream(ctx, "YONGJIN_EVENTS")
		return err == nil, fmt.Sprint(err)
	})
	sinks := []*proc{startSink()}
	smp := startSampler(js)
	defer smp.close()
	alive := func() []*proc { return append(append(append([]*proc{}, pollers...), norms...), sinks...) }
	waitAcked := func(what string, frac float64) time.Time {
		until(t, ctx, what, func() (bool, string) {
			for _, p := range alive() {
				select {
				case <-p.exited():
					err := p.exitError()
					t.Fatalf("%s exited (%v):\n%s", p.name, err, tail(p.stderr.String(), 20))
				default:
				}
			}
			s := smp.get("YONGJIN_RAW/normalizer")
			if len(s) == 0 {
				return false, "no sample"
			}
			last := s[len(s)-1]
			return float64(last.ackFloor) >= frac*float64(pages), fmt.Sprintf("ack floor %d of %d", last.ackFloor, pages)
		})
		return time.Now()
	}
	t1 := time.Now()
	t2 := waitAcked("one normalizer acknowledged 25% of RAW", 0.25)

	// Then two of each.
	norms = append(norms, startNorm())
	sinks = append(sinks, startSink())
	t3 := waitAcked("two normalizers acknowledged 50% of RAW", 0.50)
	rawS, evS := smp.get("YONGJIN_RAW/normalizer"), smp.get("YONGJIN_EVENTS/sink")
	n1, n2 := rate(rawS, t1, t2), rate(rawS, t2, t3)
	s1, s2 := rate(evS, t1, t2), rate(evS, t2, t3)
	if n1 == 0 || n2 == 0 || s1 == 0 || s2 == 0 {
		t.Logf("a throughput phase was too short for two samples (normalizer %.1f/%.1f, sink %.0f/%.0f)", n1, n2, s1, s2)
	}
	t.Logf("throughput, 1 replica:  normalizer %.1f pages/s, sink %.0f events/s (%s)", n1, s1, t2.Sub(t1).Round(time.Second))
	t.Logf("throughput, 2 replicas: normalizer %.1f pages/s (x%.2f), sink %.0f events/s (x%.2f) (%s, start-up of the second replicas included)",
		n2, n2/n1, s2, s2/s1, t3.Sub(t2).Round(time.Second))

	// Put both streams' leaders on one server, then SIGKILL it.
	leader := func(stream string) string {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return ""
		}
		info, err := s.Info(ctx)
		if err != nil || info.Cluster == nil {
			return ""
		}
		return info.Cluster.Leader
	}
	until(t, ctx, "YONGJIN_RAW and YONGJIN_EVENTS led by the same server", func() (bool, string) {
		r, e := leader("YONGJIN_RAW"), leader("YONGJIN_EVENTS")
		if r != "" && r == e {
			return true, ""
		}
		if r != "" && e != "" {
			body, _ := json.Marshal(map[string]any{"placement": map[string]string{"preferred": r}})
			_, _ = nc.Request("$JS.API.STREAM.LEADER.STEPDOWN.YONGJIN_EVENTS", body, 5*time.Second)
		}
		return false, fmt.Sprintf("RAW led by %q, EVENTS by %q", r, e)
	})
	victimName := leader("YONGJIN_RAW")
	var victim *natsNode
	for _, n := range nodes {
		if n.name == victimName {
			victim = n
		}
	}
	if victim == nil {
		t.Fatalf("leader %q is no node of the cluster", victimName)
	}
	created := map[string]time.Time{}
	for _, sc := range [][2]string{{"YONGJIN_RAW", "normalizer"}, {"YONGJIN_EVENTS", "sink"}} {
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		c, err := js.Consumer(octx, sc[0], sc[1])
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		info, err := c.Info(octx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		created[sc[0]+"/"+sc[1]] = info.Created
	}
	before := map[string]progress{}
	for _, k := range []string{"YONGJIN_RAW/normalizer", "YONGJIN_EVENTS/sink"} {
		s := smp.get(k)
		before[k] = s[len(s)-1]
	}
	kill := time.Now()
	if _, err := victim.proc.kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("SIGKILLed %s (pid %d), the leader of YONGJIN_RAW and YONGJIN_EVENTS, with RAW acknowledged to %d of %d and %d events pending for the sink",
		victim.name, victim.proc.pid(), before["YONGJIN_RAW/normalizer"].ackFloor, pages, before["YONGJIN_EVENTS/sink"].pending)
	var elected time.Duration
	until(t, ctx, "new stream leaders elected", func() (bool, string) {
		r, e := leader("YONGJIN_RAW"), leader("YONGJIN_EVENTS")
		if r != "" && r != victim.name && e != "" && e != victim.name {
			elected = time.Since(kill)
			return true, ""
		}
		return false, fmt.Sprintf("RAW %q EVENTS %q", r, e)
	})
	until(t, ctx, "both stages progress again after the kill", func() (bool, string) {
		norm, sink := smp.get("YONGJIN_RAW/normalizer"), smp.get("YONGJIN_EVENTS/sink")
		_, a := stall(norm, kill, kill.Add(elected), time.Now())
		_, b := stall(sink, kill, kill.Add(elected), time.Now())
		// A stage that finished its work before the test saw the new leaders
		// has nothing left to move its floor: caught up counts as progress.
		a = a || caughtUp(norm, kill, kill.Add(elected))
		b = b || caughtUp(sink, kill, kill.Add(elected))
		return a && b, fmt.Sprintf("normalizer moved %v, sink moved %v", a, b)
	})
	// Restart it on its store once the others have worked without it for a while.
	waitAcked("the survivors acknowledged 75% of RAW", 0.75)
	startNode(t, natsBin, conf, victim, nodes)
	restarted := time.Now()
	until(t, ctx, victim.name+" is a current replica of both streams again", func() (bool, string) {
		ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		defer cancel()
		for _, name := range []string{"YONGJIN_RAW", "YONGJIN_EVENTS"} {
			s, err := js.Stream(ctx, name)
			if err != nil {
				return false, err.Error()
			}
			info, err := s.Info(ctx)
			if err != nil || info.Cluster == nil {
				return false, fmt.Sprint(err)
			}
			ok := false
			for _, r := range info.Cluster.Replicas {
				if r.Name == victim.name && r.Current {
					ok = true
				}
			}
			if !ok {
				return false, name + " replica not current"
			}
		}
		return true, ""
	})
	t.Logf("%s restarted and caught up in %s", victim.name, time.Since(restarted).Round(100*time.Millisecond))

	// Everything through, then the verdict.
	waitConsumer(t, ctx, js, "YONGJIN_RAW", "normalizer")
	waitConsumer(t, ctx, js, "YONGJIN_EVENTS", "sink")
	waitPositions(t, ctx, cps, parts, clock, alive()...)
	smp.close()
	for _, p := range alive() {
		select {
		case <-p.exited():
			err := p.exitError()
			t.Fatalf("%s exited (%v):\n%s", p.name, err, tail(p.stderr.String(), 20))
		default:
		}
	}
	normStall, _ := stall(smp.get("YONGJIN_RAW/normalizer"), kill, kill.Add(elected), restarted)
	sinkStall, _ := stall(smp.get("YONGJIN_EVENTS/sink"), kill, kill.Add(elected), restarted)
	t.Logf("leader change: new leaders of both streams %s after the SIGKILL; the normalizers stalled %s, the sinks %s (the longest time their ack floor did not move)",
		elected.Round(100*time.Millisecond), normStall.Round(100*time.Millisecond), sinkStall.Round(100*time.Millisecond))
	for _, sc := range [][2]string{{"YONGJIN_RAW", "normalizer"}, {"YONGJIN_EVENTS", "sink"}} {
		key := sc[0] + "/" + sc[1]
		// The ack floor as the consumer's leader reports it: it may read
		// lower for a moment while a lagging replica leads; the consumer has
		// lost its state only if it stays lower (everything redelivered).
		var floor uint64
		samples := smp.get(key)
		for i, p := range samples {
			if p.err != nil {
				continue
			}
			if p.ackFloor < floor {
				lowFor := time.Duration(0)
				for _, q := range samples[i:] {
					if q.err == nil && q.ackFloor >= floor {
						break
					}
					lowFor = q.at.Sub(p.at)
				}
				t.Logf("%s: the reported ack floor fell from %d to %d (delivered %d) %s after the kill, for %s",
					key, floor, p.ackFloor, p.delivered, p.at.Sub(kill).Round(100*time.Millisecond), lowFor.Round(100*time.Millisecond))
				if lowFor > time.Minute {
					t.Errorf("%s: the ack floor stayed below %d for %s: the consumer lost its state", key, floor, lowFor)
				}
				continue
			}
			floor = p.ackFloor
		}
		c, err := js.Consumer(ctx, sc[0], sc[1])
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s, err := js.Stream(ctx, sc[0])
		if err != nil {
			t.Fatal(err)
		}
		si, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !info.Created.Equal(created[key]) {
			t.Errorf("%s was created again (%s, first %s): the consumer lost its state", key, info.Created, created[key])
		}
		redelivered := info.Delivered.Consumer - info.Delivered.Stream
		t.Logf("%s: %d messages, %d deliveries, %d redelivered (%.2f%%), consumer replicas %d+1",
			key, si.State.Msgs, info.Delivered.Consumer, redelivered, 100*float64(redelivered)/float64(si.State.Msgs), len(info.Cluster.Replicas))
		if si.Config.Replicas != 3 {
			t.Errorf("%s has %d replicas, want 3", sc[0], si.Config.Replicas)
		}
		if redelivered > si.State.Msgs/4 {
			t.Errorf("%s: %d redeliveries for %d messages: a redelivery storm", key, redelivered, si.State.Msgs)
		}
	}
	if dlq, err := js.Stream(ctx, "YONGJIN_DLQ"); err == nil {
		if info, err := dlq.Info(ctx); err == nil && info.State.Msgs > 0 {
			t.Errorf("%d messages were dead-lettered during the leader change", info.State.Msgs)
		}
	}
	store, err := clickhouse.Open(ctx, clickhouse.Config{Addr: chAddr, Database: db, Username: user, Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	got, err := store.Summary(ctx, "douke")
	if err != nil {
		t.Fatal(err)
	}
	want := sb.Truth("douke").Summary
	if want.TotalOrders() != clusterOrders {
		t.Fatalf("the sandbox truth has %d orders, want %d", want.TotalOrders(), clusterOrders)
	}
	if diff := summary.Diff(want, got); len(diff) > 0 {
		t.Fatalf("ClickHouse differs from the sandbox truth after the leader loss:\n%s", strings.Join(diff, "\n"))
	}
}

// until polls cond (every 100 ms: the state is in other processes) until it
// holds, failing the test with cond's last word when ctx ends.
func until(t *testing.T, ctx context.Context, what string, cond func() (bool, string)) {
	t.Helper()
	for {
		ok, why := cond()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within the test's time: %s", what, why)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// caughtUp reports whether the newest sample taken since since shows the
// consumer with nothing pending and its ack floor past where it stood
// before the kill: it worked after the kill and has nothing left.
func caughtUp(samples []progress, kill, since time.Time) bool {
	var before uint64
	for _, p := range samples {
		if p.err == nil && p.at.Before(kill) {
			before = p.ackFloor
		}
	}
	for i := len(samples) - 1; i >= 0; i-- {
		if p := samples[i]; p.err == nil {
			return !p.at.Before(since) && p.pending == 0 && p.ackFloor > before
		}
	}
	return false
}

// TestClusterFiguresReachTheTestLog: make test (scripts/test.sh) runs
// TestNATSClusterLosesStreamLeader on its own with -v, and skips it in the
// plain go test ./..., whose passing packages print no test logs; otherwise
// the run's figures (stalls, redeliveries, throughput) never reach CI's log.
func TestClusterFiguresReachTheTestLog(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "..", "scripts", "test.sh"))
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	for _, want := range []string{
		`cluster='^TestNATSClusterLosesStreamLeader$'`,
		`go test -count=1 -timeout 20m -skip "$cluster" ./...`,
		`go test -count=1 -timeout 20m -v -run "$cluster" ./internal/e2e/`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("scripts/test.sh lacks %s", want)
		}
	}
}

// TestStallCountsFromTheKill: a first sample after the kill may show
// acknowledgements made before it; the stall is the time the floor then
// stood still (these samples are from a run that reported a 0 s stall).
func TestStallCountsFromTheKill(t *testing.T) {
	kill := time.Unix(1000, 0)
	at := func(s float64, floor uint64, err error) progress {
		return progress{at: kill.Add(time.Duration(s * float64(time.Second))), ackFloor: floor, err: err}
	}
	failed := context.DeadlineExceeded
	samples := []progress{at(-0.4, 1205, nil), at(-0.2, 1295, nil), at(0, 1333, nil), at(2, 0, failed), at(4, 1333, nil),
		at(6.1, 1333, nil), at(8.6, 1339, nil), at(10.1, 1357, nil), at(10.3, 1834, nil), at(10.5, 1891, nil)}
	elected := kill.Add(6 * time.Second)
	if d, moved := stall(samples, kill, elected, kill.Add(11*time.Second)); d != 8600*time.Millisecond || !moved {
		t.Errorf("stall %s, moved %v; want 8.6s, true", d, moved)
	}
	if d, moved := stall(samples[:6], kill, elected, kill.Add(7*time.Second)); d != 7*time.Second || moved {
		t.Errorf("before any move after the election: stall %s, moved %v; want 7s (still going on), false", d, moved)
	}
}

// TestCaughtUpCountsAsProgress: a stage that drained everything before the
// new leaders were seen has moved although its floor never moves again (a
// loaded CI run waited 20 minutes for such a move).
func TestCaughtUpCountsAsProgress(t *testing.T) {
	kill := time.Unix(1000, 0)
	at := func(s float64, floor, pending uint64) progress {
		return progress{at: kill.Add(time.Duration(s * float64(time.Second))), ackFloor: floor, pending: pending}
	}
	since := kill.Add(9 * time.Second)
	if !caughtUp([]progress{at(-0.2, 1318, 900), at(3, 2502, 0), at(9.5, 2502, 0)}, kill, since) {
		t.Error("drained after the kill: want caught up")
	}
	if caughtUp([]progress{at(-0.2, 1318, 900), at(9.5, 1318, 900)}, kill, since) {
		t.Error("still pending: want not caught up")
	}
	if caughtUp([]progress{at(-0.2, 2502, 0), at(9.5, 2502, 0)}, kill, since) {
		t.Error("nothing acknowledged after the kill: want not caught up")
	}
}
