package dlq_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/internal/natsserver"
)

var errBad = errors.New("bad page")

// TestMiddleware runs the middleware against a real JetStream: a permanent
// error is dead-lettered at once, another one only on the last delivery,
// and the letter is what a stage's letter looks like.
func TestMiddleware(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := natsserver.Start(natsserver.Config{StoreDir: filepath.Join(t.TempDir(), "nats"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	nc, err := bus.Connect(bus.ConnConfig{Name: "dlq-test", InProcess: srv})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bus.EnsureStream(ctx, js, bus.DLQStreamConfig(bus.StreamOptions{})); err != nil {
		t.Fatal(err)
	}
	var retried, dead []string
	mw := dlq.Middleware(dlq.MiddlewareConfig{
		JS: js, Stage: "normalizer", OriginalStream: bus.RawStream, MaxDeliver: 3,
		Permanent:    func(err error) bool { return errors.Is(err, errBad) },
		Vendor:       func(m *message.Message) string { return m.Metadata.Get("Yongjin-Vendor") },
		OnRetry:      func(m *message.Message, n uint64, err error) { retried = append(retried, m.UUID) },
		OnDeadLetter: func(m *message.Message, class string, reason error) { dead = append(dead, m.UUID+" "+class) },
	})
	handler := mw(func(m *message.Message) ([]*message.Message, error) {
		if m.Metadata.Get("Fail") == "permanent" {
			return nil, errBad
		}
		return nil, errors.New("flaky")
	})
	msg := func(uuid, seq, delivered, fail string) *message.Message {
		m := message.NewMessage(uuid, []byte("page "+uuid))
		m.Metadata.Set("Yongjin-Vendor", "douke")
		m.Metadata.Set("Fail", fail)
		m.Metadata.Set(bus.MetaSubject, "yongjin.raw.douke.kol_orderads")
		m.Metadata.Set(bus.MetaStreamSeq, seq)
		m.Metadata.Set(bus.MetaNumDelivered, delivered)
		return m
	}

	if _, err := handler(msg("p1", "11", "1", "permanent")); err != nil {
		t.Fatalf("permanent failure: %v; want it dead-lettered and acknowledged", err)
	}
	if _, err := handler(msg("p2", "12", "2", "flaky")); err == nil || err.Error() != "flaky" {
		t.Fatalf("second delivery of a flaky page: %v; want the handler's error (redelivery)", err)
	}
	if _, err := handler(msg("p2", "12", "3", "flaky")); err != nil {
		t.Fatalf("last delivery of a flaky page: %v; want it dead-lettered", err)
	}
	if strings.Join(retried, ",") != "p2" || strings.Join(dead, ",") != "p1 permanent,p2 retries_exhausted" {
		t.Fatalf("retried %v, dead-lettered %v", retried, dead)
	}

	letters, err := dlq.New(js, "normalizer").List(ctx, dlq.Filter{})
	if err != nil || len(letters) != 2 {
		t.Fatalf("%d letters (%v), want 2", len(letters), err)
	}
	for i, want := range []struct {
		seq          uint64
		reason, uuid string
	}{{11, "bad page", "p1"}, {12, "gave up after 3 deliveries: flaky", "p2"}} {
		l := letters[i]
		if l.Subject != "yongjin.dlq.normalizer.douke" || l.Reason != want.reason || l.OriginalSeq != want.seq || l.Record != dlq.NoRecord ||
			l.OriginalSubject != "yongjin.raw.douke.kol_orderads" || l.OriginalStream != bus.RawStream || string(l.Data) != "page "+want.uuid ||
			l.Header.Get("Yongjin-Vendor") != "douke" || l.Header.Get(bus.MetaSubject) != "" {
			t.Errorf("letter %d: %+v", i, l)
		}
		if id := l.Header.Get("Nats-Msg-Id"); id != dlq.MsgID("normalizer", want.seq, dlq.NoRecord, want.uuid) {
			t.Errorf("letter %d: de-duplication ID %q", i, id)
		}
	}
	// A redelivered permanent failure is stored once.
	if _, err := handler(msg("p1", "11", "2", "permanent")); err != nil {
		t.Fatal(err)
	}
	if letters, err := dlq.New(js, "normalizer").List(ctx, dlq.Filter{}); err != nil || len(letters) != 2 {
		t.Fatalf("%d letters after a redelivered failure (%v), want 2", len(letters), err)
	}
}
