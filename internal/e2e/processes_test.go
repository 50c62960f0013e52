// Package e2e runs yongjin's real binaries as separate processes: the vendor
// sandbox, poller, normalizer and sink against a NATS JetStream server
// listening on loopback TCP and a real ClickHouse server.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/natsserver"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// waitHTTP polls url until it answers 200 or the deadline passes.
func waitHTTP(t *testing.T, url string, within time.Duration) []byte {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		res, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return body
			}
			last = fmt.Sprintf("HTTP %d: %s", res.StatusCode, body)
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond) // polling an external process; there is nothing to wait on
	}
	t.Fatalf("%s not ready within %s: %s", url, within, last)
	return nil
}

func waitConsumer(t *testing.T, ctx context.Context, js jetstream.JetStream, stream, durable string) {
	t.Helper()
	for {
		c, err := js.Consumer(ctx, stream, durable)
		if err == nil {
			info, err := c.Info(ctx)
			if err == nil && info.NumPending == 0 && info.NumAckPending == 0 && info.Delivered.Stream > 0 {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("consumer %s on %s did not catch up: %v", durable, stream, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestBinariesEndToEnd runs the sandbox, normalizer and sink as processes,
// polls with `poller once`, and requires ClickHouse to equal the sandbox's
// truth; it checks /healthz, /readyz and /metrics, JSON logs, and that
// normalizer and sink exit cleanly on SIGTERM.
func TestBinariesEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	chAddr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, chAddr)
	bin := buildBinaries(t, "sandbox", "poller", "normalizer", "sink")

	ns, err := natsserver.Start(natsserver.Config{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	natsURL := ns.ClientURL()

	sbAddr := freeAddr(t)
	start(t, filepath.Join(bin, "sandbox"), nil, "--addr", sbAddr, "--orders", "800", "--seed", "3",
		"--clock", "2026-11-20 00:00:00", "--douke-vekey", "e2e-vekey")
	waitHTTP(t, "http://"+sbAddr+"/_sandbox/healthz", 2*time.Minute)

	normMetrics, sinkMetrics := freeAddr(t), freeAddr(t)
	user, pass := testenv.ClickHouseCredentials()
	norm := start(t, filepath.Join(bin, "normalizer"), []string{"YONGJIN_NORMALIZER_NATS_URL=" + natsURL},
		"run", "--metrics-addr", normMetrics)
	sink := start(t, filepath.Join(bin, "sink"), []string{
		"YONGJIN_SINK_NATS_URL=" + natsURL, "YONGJIN_SINK_CLICKHOUSE_DATABASE=" + db, "YONGJIN_CLICKHOUSE_PASSWORD=" + pass},
		"run", "--metrics-addr", sinkMetrics, "--clickhouse-addr", chAddr, "--clickhouse-user", user, "--flush-interval", "100ms")

	dir := t.TempDir()
	secret := filepath.Join(dir, "vekey")
	if err := os.WriteFile(secret, []byte("e2e-vekey\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "sources.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`sources:
  - name: douke-e2e
    vendor: douke
    account: e2e
    base_url: http://%s
    credentials:
      vekey: {file: %s}
    params: {time_type: pay}
    window: {from: "2026-10-01", to: "2026-11-20"}
    rate_per_second: 200
`, sbAddr, secret)), 0o600); err != nil {
		t.Fatal(err)
	}
	poll := exec.CommandContext(ctx, filepath.Join(bin, "poller"), "once", "--config", cfg, "--nats-url", natsURL, "--metrics-addr", "")
	if out, err := poll.CombinedOutput(); err != nil {
		t.Fatalf("poller once: %v\n%s", err, out)
	}

	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	waitConsumer(t, ctx, js, "YONGJIN_RAW", "normalizer")
	waitConsumer(t, ctx, js, "YONGJIN_EVENTS", "sink")

	// ClickHouse equals the truth the sandbox process reports over HTTP.
	var truth sandbox.Truth
	if err := json.Unmarshal(waitHTTP(t, "http://"+sbAddr+"/_sandbox/truth?vendor=douke&orders=false", 2*time.Minute), &truth); err != nil {
		t.Fatal(err)
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
	if truth.Summary.TotalOrders() != 800 {
		t.Fatalf("sandbox truth has %d orders, want 800", truth.Summary.TotalOrders())
	}
	if diff := summary.Diff(truth.Summary, got); len(diff) > 0 {
		t.Fatalf("ClickHouse differs from the sandbox truth:\n%s", strings.Join(diff, "\n"))
	}

	// health and metrics endpoints
	for _, addr := range []string{normMetrics, sinkMetrics} {
		waitHTTP(t, "http://"+addr+"/healthz", 2*time.Minute)
		waitHTTP(t, "http://"+addr+"/readyz", 2*time.Minute)
	}
	metrics := string(waitHTTP(t, "http://"+sinkMetrics+"/metrics", 2*time.Minute))
	if !strings.Contains(metrics, `yongjin_sink_events_written_total{type="order.v1"} 800`) {
		t.Fatalf("sink metrics do not count 800 order events:\n%s", grep(metrics, "yongjin_sink"))
	}

	norm.stop(t)
	sink.stop(t)
	for _, p := range []*proc{norm, sink} {
		assertJSONLogs(t, p)
	}
}

func grep(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func assertJSONLogs(t *testing.T, p *proc) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader([]byte(p.stderr.String())))
	n := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s log line is not JSON: %q", p.name, sc.Text())
		}
		if m["service"] == nil || m["level"] == nil || m["msg"] == nil {
			t.Fatalf("%s log line lacks service/level/msg: %q", p.name, sc.Text())
		}
		n++
	}
	if n == 0 {
		t.Fatalf("%s wrote no logs", p.name)
	}
}
