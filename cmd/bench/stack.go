package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/testenv"
)

// natsProc is a nats-server process on its own file store.
type natsProc struct {
	*proc
	url      string
	profAddr string
	nc       *nats.Conn
	js       jetstream.JetStream
}

// startNATS starts bin/nats-server with JetStream on storeDir (created if
// missing) and connects to it.
func (b *bench) startNATS(ctx context.Context, name, storeDir string) (*natsProc, error) {
	ports, err := testenv.FreePorts(2)
	if err != nil {
		return nil, err
	}
	port, prof := ports[0], ports[1]
	if err := os.MkdirAll(storeDir, 0o755); err != nil {
		return nil, err
	}
	conf := filepath.Join(b.dir, name+".conf")
	text := fmt.Sprintf("server_name: %s\nlisten: 127.0.0.1:%d\nprof_port: %d\nmax_payload: 8MB\njetstream {\n  store_dir: %q\n}\n", name, port, prof, storeDir)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return nil, err
	}
	p, err := startProc(name, filepath.Join(b.bin, "nats-server"), b.logs, []string{"-c", conf}, nil)
	if err != nil {
		return nil, err
	}
	n := &natsProc{proc: p, url: fmt.Sprintf("nats://127.0.0.1:%d", port), profAddr: fmt.Sprintf("127.0.0.1:%d", prof)}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if p.exited() {
			return nil, fmt.Errorf("%s exited: see %s", name, p.log)
		}
		if n.nc == nil {
			n.nc, _ = nats.Connect(n.url, nats.Name("yongjin-bench"), nats.MaxReconnects(-1))
		}
		if n.nc != nil {
			if n.js == nil {
				n.js, _ = jetstream.New(n.nc)
			}
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err = n.js.AccountInfo(actx)
			cancel()
			if err == nil {
				return n, nil
			}
		}
		if time.Now().After(deadline) {
			n.stop()
			return nil, fmt.Errorf("%s: JetStream not answering after 3m: %v", name, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (n *natsProc) stop() {
	if n == nil {
		return
	}
	if n.nc != nil {
		n.nc.Close()
	}
	n.proc.stop(time.Minute)
}

// streamState is a stream's message count and bytes.
func streamState(ctx context.Context, js jetstream.JetStream, stream string) (msgs, bytes uint64, err error) {
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := js.Stream(actx, stream)
	if err != nil {
		return 0, 0, err
	}
	info, err := s.Info(actx)
	if err != nil {
		return 0, 0, err
	}
	return info.State.Msgs, info.State.Bytes, nil
}

func (b *bench) ensureRaw(ctx context.Context, js jetstream.JetStream) error {
	_, err := bus.EnsureStream(ctx, js, bus.RawStreamConfig(bus.StreamOptions{}))
	return err
}

// chConn opens a ClickHouse connection for the bench's own queries.
func (b *bench) chConn(ctx context.Context) (ch.Conn, error) {
	conn, err := ch.Open(&ch.Options{Addr: []string{b.chAddr}, Auth: ch.Auth{Username: b.chUser, Password: os.Getenv("YONGJIN_CLICKHOUSE_PASSWORD")},
		DialTimeout: 10 * time.Second, Compression: &ch.Compression{Method: ch.CompressionLZ4}})
	if err != nil {
		return nil, err
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse %s: %w", b.chAddr, err)
	}
	return conn, nil
}

// freshDatabase names a database for one phase of this run and makes sure it
// does not exist; the sink (or the raw insert) creates it.
func (b *bench) freshDatabase(ctx context.Context, phase string) (string, error) {
	name := fmt.Sprintf("yongjin_bench_%s_%d", phase, b.started.Unix())
	if err := b.ch.Exec(ctx, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
		return "", err
	}
	b.databases = append(b.databases, name)
	return name, nil
}

// migrate applies the schema to db with `sink migrate` (outside any timing).
func (b *bench) migrate(db string) error {
	return runProc("sink-migrate", filepath.Join(b.bin, "sink"), b.logs, []string{"migrate", "--clickhouse-addr", b.chAddr,
		"--clickhouse-database", db, "--clickhouse-user", b.chUser, "--metrics-addr", ""}, nil)
}

// counts is how many rows db's orders and commission_lines hold (every
// version: a fresh database gets each record once unless redelivered).
func (b *bench) counts(ctx context.Context, db string) (orders, lines uint64, err error) {
	row := b.ch.QueryRow(ctx, "SELECT (SELECT count() FROM `"+db+"`.orders), (SELECT count() FROM `"+db+"`.commission_lines)")
	err = row.Scan(&orders, &lines)
	return orders, lines, err
}

// waitDone polls every interval until cond is true (or the timeout).
func waitDone(ctx context.Context, what string, within, interval time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(within)
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not done after %s (last error: %v)", what, within, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// fetchProfile saves a CPU profile of seconds from a pprof endpoint.
func fetchProfile(ctx context.Context, addr string, seconds int, path string) error {
	u := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: time.Duration(seconds+60) * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.ReadFrom(resp.Body); err != nil {
		return err
	}
	return nil
}
