// Package devstack runs the whole pipeline in one process for the README demo
// and the end-to-end tests: an embedded NATS JetStream server, the vendor
// sandbox on a loopback port, and the poller, normalizer and sink services
// wired exactly as their commands wire them, against a real ClickHouse.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/natsserver"
	"github.com/yongjin-dev/yongjin/internal/normalizer"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/sink"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/internal/vendorsandbox"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// Config configures a Stack. Start fills a zero SinkBatchSize,
// SinkFlushInterval, Logger and Sandbox.Accounts; DefaultConfig holds every
// default, those of `devstack` (make demo) included.
type Config struct {
	// DataDir holds the embedded NATS store (DataDir/nats). Reusing it keeps
	// streams and consumer positions across runs.
	DataDir string
	// NATSListen makes the embedded server listen on a loopback TCP port too,
	// so separate processes (pollers) can connect to NATSURL.
	NATSListen bool
	// ClickHouse is where the sink writes.
	ClickHouse clickhouse.Config
	// Sandbox configures the vendor sandbox (accounts are added by Start when empty).
	Sandbox sandbox.Config
	// CommissionEvents makes the normalizer also publish one commission.v1
	// event per line (see normalizer.Config.CommissionEvents).
	CommissionEvents bool
	// SinkBatchSize and SinkFlushInterval tune the sink (defaults 5000 / 200ms).
	SinkBatchSize     int
	SinkFlushInterval time.Duration
	Logger            *slog.Logger
	// Registerer receives every stage's metrics (nil = not registered).
	Registerer prometheus.Registerer
}

// DefaultConfig is the configuration of `devstack` (make demo): the store
// under .data/demo, ClickHouse on 127.0.0.1:9000 (database yongjin_demo) and
// the sandbox's 5000 orders a month paid in October 2026, first polled on
// 2026-11-05 (CST); the sink writes up to 5000 events per insert, at least
// every 200ms.
func DefaultConfig() Config {
	sc := sandbox.DefaultConfig()
	sc.Orders = 5000
	sc.Clock = time.Date(2026, 11, 5, 0, 0, 0, 0, wire.CST)
	return Config{
		DataDir:           ".data/demo",
		ClickHouse:        clickhouse.Config{Addr: "127.0.0.1:9000", Database: "yongjin_demo"},
		Sandbox:           sc,
		SinkBatchSize:     5000,
		SinkFlushInterval: 200 * time.Millisecond,
	}
}

// Stack is a running pipeline.
type Stack struct {
	o       Config
	NATS    *server.Server
	Sandbox *sandbox.Server
	// SandboxURL is the sandbox's base URL (http://127.0.0.1:port).
	SandboxURL string
	Store      *clickhouse.Store
	JS         jetstream.JetStream
	Poller     *poller.Poller
	Registry   *vendors.Registry

	// Sources are the poller sources covering every sandbox account.
	Sources []poller.Source

	httpSrv *http.Server
	conns   []*nats.Conn
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	errs    chan error
}

// Start starts every part and returns when the streams and consumers exist.
func Start(ctx context.Context, o Config) (st *Stack, err error) {
	d := DefaultConfig()
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SinkBatchSize == 0 {
		o.SinkBatchSize = d.SinkBatchSize
	}
	if o.SinkFlushInterval == 0 {
		o.SinkFlushInterval = d.SinkFlushInterval
	}
	if len(o.Sandbox.Accounts) == 0 {
		o.Sandbox.Accounts = vendorsandbox.DemoAccounts("demo")
	}
	s := &Stack{o: o, Registry: all.Registry(), errs: make(chan error, 4)}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	port := -1
	if o.NATSListen {
		port = 0
	}
	if s.NATS, err = natsserver.Start(natsserver.Config{StoreDir: filepath.Join(o.DataDir, "nats"), Port: port}); err != nil {
		return nil, err
	}
	if s.Sandbox, err = vendorsandbox.NewServer(o.Sandbox); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("sandbox listen: %w", err)
	}
	s.SandboxURL = "http://" + ln.Addr().String()
	// Credentials reach the poller the way Kubernetes hands it Secrets: as files.
	if s.Sources, err = vendorsandbox.Sources(s.SandboxURL, o.Sandbox.Accounts, o.Sandbox.Seed, filepath.Join(o.DataDir, "secrets")); err != nil {
		return nil, err
	}
	s.httpSrv = &http.Server{Handler: s.Sandbox.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go s.httpSrv.Serve(ln)

	if s.Store, err = clickhouse.Open(ctx, o.ClickHouse); err != nil {
		return nil, err
	}
	if err = s.Store.Migrate(ctx); err != nil {
		return nil, err
	}
	connect := func(name string) (*nats.Conn, error) {
		nc, err := bus.Connect(bus.ConnConfig{Name: name, InProcess: s.NATS, Logger: o.Logger})
		if err == nil {
			s.conns = append(s.conns, nc)
		}
		return nc, err
	}
	pubConn, err := connect("devstack")
	if err != nil {
		return nil, err
	}
	if s.JS, err = jetstream.New(pubConn); err != nil {
		return nil, err
	}
	// The sandbox clock is the vendors' "now": pages are fetched at its time.
	s.Poller = poller.New(s.JS, s.Registry, poller.Config{Logger: o.Logger.With("service", "poller"), Registerer: o.Registerer, Now: s.Sandbox.Clock().Now})
	if err = s.Poller.Provision(ctx); err != nil {
		return nil, err
	}
	norm, err := normalizer.New(normalizer.Config{Logger: o.Logger.With("service", "normalizer"), Registerer: o.Registerer,
		CommissionEvents: o.CommissionEvents}, s.Registry, s.JS)
	if err != nil {
		return nil, err
	}
	if err = norm.Provision(ctx); err != nil {
		return nil, err
	}
	sk, err := sink.New(sink.Config{
		BatchSize: o.SinkBatchSize, FlushInterval: o.SinkFlushInterval, Logger: o.Logger.With("service", "sink"), Registerer: o.Registerer,
		IsBadEvent: func(err error) bool { return errors.Is(err, clickhouse.ErrBadEvent) },
	}, s.JS, s.Store)
	if err != nil {
		return nil, err
	}
	cons, err := sk.Provision(ctx)
	if err != nil {
		return nil, err
	}
	// The normalizer's subscriber gets a connection of its own: Watermill drains
	// it on shutdown. Close closes it again in case the drain is still running.
	subConn, err := connect("devstack-normalizer-sub")
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.errs <- norm.Run(runCtx, subConn) }()
	go func() { defer s.wg.Done(); s.errs <- sk.Run(runCtx, cons) }()
	return s, nil
}

// PollInitial polls every source for everything paid in [payFrom, now].
func (s *Stack) PollInitial(ctx context.Context, payFrom, now time.Time) (poller.Stats, error) {
	return s.pollAll(ctx, func(src poller.Source) (time.Time, time.Time, string) {
		return vendorsandbox.InitialWindow(src, payFrom, now)
	})
}

// PollChanges polls every source for what changed since the last poll.
func (s *Stack) PollChanges(ctx context.Context, payFrom, since, now time.Time) (poller.Stats, error) {
	return s.pollAll(ctx, func(src poller.Source) (time.Time, time.Time, string) {
		return vendorsandbox.ChangeWindow(src, payFrom, since, now)
	})
}

func (s *Stack) pollAll(ctx context.Context, window func(poller.Source) (time.Time, time.Time, string)) (poller.Stats, error) {
	var total poller.Stats
	for _, src := range s.Sources {
		from, to, tt := window(src)
		st, err := s.Poller.Poll(ctx, src, from, to, tt)
		total.Windows += st.Windows
		total.Pages += st.Pages
		total.Records += st.Records
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Truth is the sandbox's ground truth of every vendor, merged.
func (s *Stack) Truth() summary.Summary {
	seen := map[string]bool{}
	var parts []summary.Summary
	for _, a := range s.o.Sandbox.Accounts {
		if !seen[a.Vendor] {
			seen[a.Vendor] = true
			parts = append(parts, s.Sandbox.Truth(a.Vendor).Summary)
		}
	}
	return summary.Merge(parts...)
}

// WaitCaughtUp returns when the normalizer and then the sink have
// acknowledged everything in their streams (every polled page is in
// ClickHouse), or when ctx ends. Progress is reported through report (may be nil).
func (s *Stack) WaitCaughtUp(ctx context.Context, report func(stage string, pending uint64)) error {
	if err := s.WaitConsumer(ctx, bus.RawStream, "normalizer", report); err != nil {
		return err
	}
	return s.WaitConsumer(ctx, bus.EventsStream, "sink", report)
}

// WaitConsumer returns when the durable consumer on stream has no pending and
// no unacknowledged messages, checking its state every 50 ms.
func (s *Stack) WaitConsumer(ctx context.Context, stream, durable string, report func(stage string, pending uint64)) error {
	cons, err := s.JS.Consumer(ctx, stream, durable)
	if err != nil {
		return fmt.Errorf("consumer %s: %w", durable, err)
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			return fmt.Errorf("consumer %s: %w", durable, err)
		}
		left := info.NumPending + uint64(info.NumAckPending)
		if report != nil {
			report(durable, left)
		}
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s (%d left): %w", durable, left, ctx.Err())
		case err := <-s.errs:
			return fmt.Errorf("a stage stopped: %v", err)
		case <-tick.C:
		}
	}
}

// Summary is the ClickHouse summary (shipped queries) for platform ("" = all).
func (s *Stack) Summary(ctx context.Context, platform string) (summary.Summary, error) {
	return s.Store.Summary(ctx, platform)
}

// DeadLetters is the number of messages in the DLQ stream.
func (s *Stack) DeadLetters(ctx context.Context) (uint64, error) {
	st, err := s.JS.Stream(ctx, bus.DLQStream)
	if err != nil {
		return 0, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.Msgs, nil
}

// Close stops the stages (finishing in-flight work), then the servers.
func (s *Stack) Close() {
	if s.cancel != nil {
		s.cancel()
		s.wg.Wait()
	}
	for _, nc := range s.conns {
		nc.Close()
	}
	if s.httpSrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.httpSrv.Shutdown(ctx)
		cancel()
	}
	if s.Store != nil {
		s.Store.Close()
	}
	if s.NATS != nil {
		s.NATS.Shutdown()
		s.NATS.WaitForShutdown()
	}
}
