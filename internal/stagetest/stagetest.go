// Package stagetest runs the normalizer and the sink for tests against real
// servers: an embedded NATS JetStream server, a private ClickHouse database
// (internal/testenv) and pages the vendor sandbox really served. Unlike the
// dev stack it lets a test start and stop each stage on its own, with its own
// vendor registry (a "fixed" normalizer after a bad one) and its own Store.
package stagetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/natsserver"
	"github.com/yongjin-dev/yongjin/internal/normalizer"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/sink"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/internal/vendorsandbox"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
)

// Timeout is how long a test's steps may take on a busy machine.
const Timeout = 4 * time.Minute

// Bus is an embedded JetStream server with RAW, EVENTS and the DLQ provisioned.
type Bus struct {
	Server *server.Server
	JS     jetstream.JetStream
	t      testing.TB
}

// NewBus starts an embedded JetStream server for t (configure, if set,
// adjusts its options, e.g. MaxPayload) and creates the three streams.
func NewBus(t testing.TB, configure func(*server.Options)) *Bus {
	t.Helper()
	srv, err := natsserver.Start(natsserver.Config{StoreDir: filepath.Join(t.TempDir(), "nats"), Port: -1, Configure: configure})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	b := &Bus{Server: srv, t: t}
	nc, err := b.Conn("stagetest")
	if err != nil {
		t.Fatal(err)
	}
	if b.JS, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	for _, cfg := range []jetstream.StreamConfig{bus.RawStreamConfig(bus.StreamOptions{}), bus.EventsStreamConfig(bus.StreamOptions{}), bus.DLQStreamConfig(bus.StreamOptions{})} {
		if _, err := bus.EnsureStream(ctx, b.JS, cfg); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// Conn opens a new in-process connection (closed when the test ends).
func (b *Bus) Conn(name string) (*nats.Conn, error) {
	nc, err := bus.Connect(bus.ConnConfig{Name: name, InProcess: b.Server})
	if err != nil {
		return nil, err
	}
	b.t.Cleanup(nc.Close)
	return nc, nil
}

// PublishRaw stores raw pages in RAW as the poller does.
func (b *Bus) PublishRaw(ctx context.Context, pages ...events.RawPage) error {
	for _, p := range pages {
		m := nats.NewMsg(p.Subject())
		for k, v := range p.Headers() {
			m.Header.Set(k, v)
		}
		m.Data = p.Body
		if err := bus.PublishSync(ctx, b.JS, m, p.MsgID(), nil); err != nil {
			return fmt.Errorf("publish raw page %s: %w", p.Cursor, err)
		}
	}
	return nil
}

// Stage is a running stage; Stop ends it and waits until it returned.
type Stage struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// Stop stops the stage (finishing its in-flight work) and returns its error.
func (s *Stage) Stop() error {
	s.once.Do(func() { s.cancel(); s.err = <-s.done })
	return s.err
}

// Err returns the stage's error if it already stopped, else nil.
func (s *Stage) Err() error {
	select {
	case err := <-s.done:
		s.once.Do(func() { s.err = err })
		return err
	default:
		return nil
	}
}

// Normalizer provisions and runs a normalizer with reg (nil = every shipped
// vendor) and cfg until the test ends or Stop.
func (b *Bus) Normalizer(cfg normalizer.Config, reg *vendors.Registry) (*normalizer.Service, *Stage) {
	b.t.Helper()
	if reg == nil {
		reg = all.Registry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default().With("service", "normalizer")
	}
	svc, err := normalizer.New(cfg, reg, b.JS)
	if err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := svc.Provision(ctx); err != nil {
		b.t.Fatal(err)
	}
	sub, err := b.Conn("stagetest-normalizer-sub")
	if err != nil {
		b.t.Fatal(err)
	}
	return svc, b.run(func(ctx context.Context) error { return svc.Run(ctx, sub) })
}

// Sink provisions and runs a sink writing to store until the test ends or
// Stop; bad events are recognised as clickhouse.ErrBadEvent.
func (b *Bus) Sink(cfg sink.Config, store sink.Store) *Stage {
	b.t.Helper()
	if cfg.IsBadEvent == nil {
		cfg.IsBadEvent = func(err error) bool { return errors.Is(err, clickhouse.ErrBadEvent) }
	}
	if cfg.FlushInterval == 0 {
		cfg.FlushInterval = 100 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default().With("service", "sink")
	}
	svc, err := sink.New(cfg, b.JS, store)
	if err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cons, err := svc.Provision(ctx)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.run(func(ctx context.Context) error { return svc.Run(ctx, cons) })
}

func (b *Bus) run(f func(context.Context) error) *Stage {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Stage{cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- f(ctx) }()
	b.t.Cleanup(func() { _ = s.Stop() })
	return s
}

// WaitDrained returns when the durable consumer on stream has nothing
// pending and nothing unacknowledged, or an error when ctx ends or a stage
// in stages stops.
func (b *Bus) WaitDrained(ctx context.Context, stream, durable string, stages ...*Stage) error {
	cons, err := b.JS.Consumer(ctx, stream, durable)
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
		if left == 0 {
			return nil
		}
		for _, s := range stages {
			if err := s.Err(); err != nil {
				return fmt.Errorf("a stage stopped: %w", err)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s (%d left): %w", durable, left, ctx.Err())
		case <-tick.C:
		}
	}
}

// WaitPipeline waits until the normalizer and then the sink are drained.
func (b *Bus) WaitPipeline(ctx context.Context, stages ...*Stage) error {
	if err := b.WaitDrained(ctx, bus.RawStream, "normalizer", stages...); err != nil {
		return err
	}
	return b.WaitDrained(ctx, bus.EventsStream, "sink", stages...)
}

// ClickHouse is a migrated store on a fresh database, and a plain
// connection to it for assertions.
type ClickHouse struct {
	Store *clickhouse.Store
	Conn  ch.Conn
	DB    string
}

// NewClickHouse opens a migrated store on a fresh database of the test
// ClickHouse server (it fails t when there is none).
func NewClickHouse(t testing.TB) *ClickHouse {
	t.Helper()
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	user, pass := testenv.ClickHouseCredentials()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	store, err := clickhouse.Open(ctx, clickhouse.Config{Addr: addr, Database: db, Username: user, Password: pass})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := ch.Open(&ch.Options{Addr: []string{addr}, Auth: ch.Auth{Database: db, Username: user, Password: pass}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &ClickHouse{Store: store, Conn: conn, DB: db}
}

// Count runs a "SELECT count() ..." (or any query of one UInt64) and returns it.
func (c *ClickHouse) Count(ctx context.Context, q string) (uint64, error) {
	var n uint64
	if err := c.Conn.QueryRow(ctx, q).Scan(&n); err != nil {
		return 0, fmt.Errorf("%s: %w", q, err)
	}
	return n, nil
}

// Sandbox serves the vendor sandbox with cfg (every shipped vendor's
// protocol) until the test ends and returns its base URL.
func Sandbox(t testing.TB, cfg sandbox.Config) (*sandbox.Server, string) {
	t.Helper()
	srv, err := vendorsandbox.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

// Pages walks window w of account (a sandbox account of srv served at
// baseURL) through the vendor's real fetcher and returns the raw pages as
// the poller would publish them, fetched at the sandbox clock.
func Pages(ctx context.Context, srv *sandbox.Server, baseURL string, account sandbox.Account, w vendors.Window, pageSize int) ([]events.RawPage, error) {
	v, err := all.Registry().Get(account.Vendor)
	if err != nil {
		return nil, err
	}
	f, err := v.NewFetcher(vendors.SourceConfig{BaseURL: baseURL, Account: account.Name, Credentials: account.Credentials, PageSize: pageSize, RatePerSecond: 1000})
	if err != nil {
		return nil, err
	}
	var pages []events.RawPage
	err = f.Walk(ctx, w, func(_ context.Context, p vendors.Page) error {
		pages = append(pages, events.RawPage{SourceID: account.Vendor + "-" + account.Name, Vendor: v.Name(), Endpoint: v.Endpoint(), Account: account.Name,
			WindowStart: w.Start, WindowEnd: w.End, TimeType: w.TimeType, Cursor: p.Cursor, HTTPStatus: p.HTTPStatus,
			FetchedAt: srv.Clock().Now().UTC(), Params: p.Params, Body: p.Body})
		return nil
	})
	return pages, err
}
