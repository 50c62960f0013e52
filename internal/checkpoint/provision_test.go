package checkpoint_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/natsserver"
	"github.com/yongjin-dev/yongjin/internal/testenv"
)

// syncBuffer is a log sink safe for concurrent writes.
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

// TestOpenRetriesUntilTheClusterIsReady: two poller replicas start at once
// against a three-node JetStream cluster of which only one node is up yet,
// so no meta leader exists and JetStream answers nothing. Before the fix
// the first request's default 5 s timeout ended Open with "checkpoint
// bucket: context deadline exceeded" (and the poller exited). Open and
// OpenLeases must retry with backoff, logging every retry, and succeed with
// replicated buckets once the other two nodes join.
func TestOpenRetriesUntilTheClusterIsReady(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	type node struct {
		name            string
		client, cluster int
	}
	nodes := []node{{"n1", testenv.FreePort(t), testenv.FreePort(t)}, {"n2", testenv.FreePort(t), testenv.FreePort(t)}, {"n3", testenv.FreePort(t), testenv.FreePort(t)}}
	start := func(n node) *server.Server {
		s, err := natsserver.Start(natsserver.Config{StoreDir: t.TempDir(), Port: n.client, Configure: func(o *server.Options) {
			o.ServerName = n.name
			o.Cluster.Name = "yongjin-test"
			o.Cluster.Host, o.Cluster.Port = "127.0.0.1", n.cluster
			for _, m := range nodes {
				if m != n {
					o.Routes = append(o.Routes, server.RoutesFromStr(fmt.Sprintf("nats://127.0.0.1:%d", m.cluster))...)
				}
			}
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Shutdown)
		return s
	}
	var logs syncBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	// the replicas' context has no deadline, as the poller's signal context:
	// each JetStream request then runs under the client's default timeout
	openCtx, openCancel := context.WithCancel(context.Background())
	defer openCancel()
	first := start(nodes[0])
	type result struct {
		replica string
		err     error
	}
	results := make(chan result, 2)
	for _, replica := range []string{"poller-0", "poller-1"} {
		go func() {
			nc, err := nats.Connect("", nats.InProcessServer(first))
			if err != nil {
				results <- result{replica, err}
				return
			}
			defer nc.Close()
			js, err := jetstream.New(nc)
			if err == nil {
				_, err = checkpoint.Open(openCtx, js, 3)
			}
			if err == nil {
				_, err = checkpoint.OpenLeases(openCtx, js, 6*time.Second, replica, 3)
			}
			results <- result{replica, err}
		}()
	}
	// both replicas retry while the cluster has one node of three
	for !strings.Contains(logs.String(), "bucket="+checkpoint.CheckpointBucket) {
		select {
		case r := <-results:
			t.Fatalf("%s: Open returned before the cluster was ready: %v", r.replica, r.err)
		case <-ctx.Done():
			t.Fatalf("no retry logged: %s", logs.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	start(nodes[1])
	start(nodes[2])
	for range 2 {
		select {
		case r := <-results:
			if r.err != nil {
				t.Fatalf("%s: %v\nlog:\n%s", r.replica, r.err, logs.String())
			}
		case <-ctx.Done():
			t.Fatalf("Open did not finish once the cluster was up: %v\nlog:\n%s", ctx.Err(), logs.String())
		}
	}
	nc, err := nats.Connect("", nats.InProcessServer(first))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{checkpoint.CheckpointBucket, checkpoint.PageBucket, checkpoint.LeaseBucket} {
		kv, err := js.KeyValue(ctx, b)
		if err != nil {
			t.Fatalf("bucket %s: %v", b, err)
		}
		st, err := kv.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas; r != 3 {
			t.Errorf("bucket %s has %d replicas, want 3", b, r)
		}
	}
	retries := strings.Count(logs.String(), "provisioning key-value bucket, retrying")
	if retries == 0 {
		t.Errorf("no retry logged")
	}
	t.Logf("%d retries logged, e.g. %s", retries, firstLine(logs.String(), "provisioning key-value bucket"))
}

func firstLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}
