package devstack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/devstack"
	"github.com/yongjin-dev/yongjin/internal/obs"
	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/internal/vendorsandbox"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
)

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSecretsNeverLeak runs the whole pipeline with sentinel credentials for
// every vendor, with throttling and server errors injected so that retry and
// error paths log, plus one source with wrong sentinel credentials; no
// sentinel may appear in any log line, raw-page header, event, dead letter,
// metric or error.
func TestSecretsNeverLeak(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	const sentinel = "S3NT1NEL-b7c1e2"
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	user, pass := testenv.ClickHouseCredentials()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	reg := obs.NewRegistry()
	sc := sandbox.DefaultConfig()
	sc.Orders, sc.From, sc.To, sc.Clock = 300, payFrom, payTo, clock1
	sc.Accounts = vendorsandbox.DemoAccounts(sentinel)
	sc.Faults = sandbox.Faults{ErrorRate5xx: 0.1, ThrottleRate: 0.05}
	st, err := devstack.Start(ctx, devstack.Config{DataDir: t.TempDir(), Sandbox: sc, Logger: log, Registerer: reg,
		ClickHouse: clickhouse.Config{Addr: addr, Database: db, Username: user, Password: pass}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	poll(t, ctx, st, time.Time{}, clock1)
	assertMatchesTruth(t, ctx, st)

	// wrong credentials: the error and its logs must not show them either
	var errs []string
	for _, src := range st.Sources {
		bad := src
		bad.Credentials = map[string]poller.CredentialRef{}
		for name := range src.Credentials {
			bad.Credentials[name] = poller.CredentialRef{Env: "YONGJIN_TEST_WRONG_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
			t.Setenv("YONGJIN_TEST_WRONG_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_")), "wrong-"+sentinel)
		}
		from, to, tt := vendorsandbox.InitialWindow(src, payFrom, clock1)
		_, err := st.Poller.Poll(ctx, bad, from, to, tt)
		if !errors.Is(err, client.ErrUnauthorized) {
			t.Fatalf("%s with wrong credentials: %v; want ErrUnauthorized", src.Name, err)
		}
		log.Error("poll failed", "source", src.Name, "err", err)
		errs = append(errs, err.Error())
	}

	haystacks := map[string]string{"logs": logs.String(), "errors": strings.Join(errs, "\n")}
	for _, stream := range []string{bus.RawStream, bus.EventsStream, bus.DLQStream} {
		haystacks[stream] = dumpStream(t, ctx, st.JS, stream, true)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	haystacks["metrics"] = fmt.Sprint(mfs)
	if !strings.Contains(haystacks["metrics"], "yongjin_poller_pages_published_total") {
		t.Fatal("metrics were not gathered; the check would prove nothing")
	}
	if !strings.Contains(haystacks["logs"], "retrying") {
		t.Fatal("no retry was logged; the fault paths were not exercised")
	}
	for where, text := range haystacks {
		if strings.Contains(text, sentinel) {
			i := strings.Index(text, sentinel)
			t.Errorf("a secret leaked into %s: …%s…", where, text[max(0, i-120):min(len(text), i+40)])
		}
	}
}

// dumpStream returns every message's headers (and data when withData) of a
// stream as text.
func dumpStream(t *testing.T, ctx context.Context, js jetstream.JetStream, name string, withData bool) string {
	t.Helper()
	total := streamMsgs(t, ctx, js, name)
	if total == 0 {
		return ""
	}
	oc, err := js.OrderedConsumer(ctx, name, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for n := 0; n < total; {
		batch, err := oc.Fetch(min(1000, total-n), jetstream.FetchMaxWait(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			n++
			fmt.Fprintln(&b, m.Subject(), m.Headers())
			if withData {
				b.Write(m.Data())
				b.WriteByte('\n')
			}
		}
		if got == 0 {
			t.Fatalf("%s: read %d of %d messages, then nothing", name, n, total)
		}
	}
	return b.String()
}
