package checkpoint_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/checkpoint"
	"github.com/yongjin-dev/yongjin/internal/natsserver"
)

func js(t *testing.T) jetstream.JetStream {
	t.Helper()
	s, err := natsserver.Start(natsserver.Config{StoreDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	nc, err := nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	j, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestCheckpointCompareAndSwap(t *testing.T) {
	ctx := context.Background()
	st, err := checkpoint.Open(ctx, js(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	key := checkpoint.Key("douke-main", "update")
	if key != "douke-main.update" {
		t.Fatalf("key = %q", key)
	}
	c, err := st.Get(ctx, key)
	if err != nil || c.Revision() != 0 || !c.Position.IsZero() {
		t.Fatalf("missing checkpoint = %+v, %v", c, err)
	}
	pos := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	c.Position = pos
	a, err := st.Save(ctx, key, c)
	if err != nil {
		t.Fatal(err)
	}
	// a second writer that read before the first save loses
	if _, err := st.Save(ctx, key, c); !errors.Is(err, checkpoint.ErrConflict) {
		t.Fatalf("stale create: %v; want ErrConflict", err)
	}
	b, _ := st.Get(ctx, key)
	a.Position = pos.Add(time.Hour)
	if _, err := st.Save(ctx, key, a); err != nil {
		t.Fatal(err)
	}
	b.Position = pos.Add(2 * time.Hour)
	if _, err := st.Save(ctx, key, b); !errors.Is(err, checkpoint.ErrConflict) {
		t.Fatalf("stale update: %v; want ErrConflict", err)
	}
	got, _ := st.Get(ctx, key)
	if !got.Position.Equal(pos.Add(time.Hour)) {
		t.Fatalf("position = %s; the stale writer overwrote it", got.Position)
	}
	list, err := st.List(ctx)
	if err != nil || len(list) != 1 || list[0].Key != key {
		t.Fatalf("List = %+v, %v", list, err)
	}
}

func TestLeaseExclusiveRenewReleaseAndTakeover(t *testing.T) {
	ctx := context.Background()
	// exclusivity, renewal and release on leases that cannot expire during
	// the test however slow the machine is
	j := js(t)
	a, err := checkpoint.OpenLeases(ctx, j, time.Hour, "replica-a", 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := checkpoint.OpenLeases(ctx, j, time.Hour, "replica-b", 1)
	if err != nil {
		t.Fatal(err)
	}
	la, err := a.Acquire(ctx, "douke-main")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Acquire(ctx, "douke-main"); !errors.Is(err, checkpoint.ErrConflict) {
		t.Fatalf("second acquire: %v; want ErrConflict", err)
	}
	if h, _ := b.Holder(ctx, "douke-main"); h != "replica-a" {
		t.Fatalf("holder = %q", h)
	}
	if err := a.Renew(ctx, la); err != nil {
		t.Fatal(err)
	}
	if err := a.Release(ctx, la); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Acquire(ctx, "douke-main"); err != nil {
		t.Fatalf("acquire after release: %v", err)
	}

	// takeover, on a server of its own with short leases: b dies without
	// releasing, a takes over once the lease expires
	ttl := 2 * time.Second
	j = js(t)
	if a, err = checkpoint.OpenLeases(ctx, j, ttl, "replica-a", 1); err != nil {
		t.Fatal(err)
	}
	if b, err = checkpoint.OpenLeases(ctx, j, ttl, "replica-b", 1); err != nil {
		t.Fatal(err)
	}
	died := time.Now() // before b's lease is written, so it expires at least ttl later
	lb, err := b.Acquire(ctx, "douke-main")
	if err != nil {
		t.Fatal(err)
	}
	var la2 *checkpoint.Lease
	for la2 == nil {
		la2, err = a.Acquire(ctx, "douke-main")
		if err != nil && !errors.Is(err, checkpoint.ErrConflict) {
			t.Fatal(err)
		}
		if time.Since(died) > 2*time.Minute { // only so that a lease that never expires fails the test
			t.Fatal("lease never expired")
		}
		time.Sleep(100 * time.Millisecond) // polling for the server-side expiry, which has no event to wait on
	}
	if took := time.Since(died); took < ttl/2 {
		t.Fatalf("took over after %s, before the lease could have expired", took)
	}
	if err := b.Renew(ctx, lb); !errors.Is(err, checkpoint.ErrLeaseLost) {
		t.Fatalf("renew of an expired, taken-over lease: %v; want ErrLeaseLost", err)
	}
}
