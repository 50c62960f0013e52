package clickhouse

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

func tables(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.conn.Query(testCtx(t), "SELECT name FROM system.tables WHERE database = ? ORDER BY name", s.Database())
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func requireMigrated(t *testing.T, s *Store) {
	t.Helper()
	if got, want := tables(t, s), []string{"commission_lines", "commission_lines_by_account", "commission_lines_by_account_mv", "commission_plan_history", "commission_plan_history_mv", "commission_plans", "creator_snapshots", "orders", "schema_migrations"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("tables = %v, want %v", got, want)
	}
	v, err := s.AppliedMigrations(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var want []uint32
	for _, m := range Migrations {
		want = append(want, m.Version)
	}
	if !reflect.DeepEqual(v, want) {
		t.Fatalf("applied migrations = %v, want %v", v, want)
	}
	var recorded uint64
	if err := s.conn.QueryRow(testCtx(t), "SELECT count() FROM "+s.db+".schema_migrations FINAL").Scan(&recorded); err != nil {
		t.Fatal(err)
	}
	if recorded != uint64(len(Migrations)) {
		t.Fatalf("schema_migrations FINAL holds %d versions, want %d", recorded, len(Migrations))
	}
}

func TestMigrateTwice(t *testing.T) {
	s := openTestStore(t) // migrated once
	ctx := testCtx(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	requireMigrated(t, s)
	var rows uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM "+s.db+".schema_migrations").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != uint64(len(Migrations)) {
		t.Fatalf("schema_migrations has %d rows after two sequential runs, want %d", rows, len(Migrations))
	}
	// Data survives a re-run.
	if err := s.Insert(ctx, dataset(t)); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("third Migrate: %v", err)
	}
	requireSummary(t, s, "", datasetSummary())
}

func TestMigrateConcurrent(t *testing.T) {
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	first := openStore(t, addr, db)
	// Start from nothing, so the racers also race on CREATE DATABASE.
	if err := first.conn.Exec(testCtx(t), "DROP DATABASE "+db); err != nil {
		t.Fatal(err)
	}
	const n = 4
	stores := []*Store{first}
	for len(stores) < n {
		stores = append(stores, openStore(t, addr, db))
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := make(chan struct{})
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = s.Migrate(testCtx(t))
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Migrate #%d: %v", i, err)
		}
	}
	requireMigrated(t, first)
	if err := first.Insert(testCtx(t), dataset(t)); err != nil {
		t.Fatal(err)
	}
	requireSummary(t, first, "", datasetSummary())
}

func TestInsertSummary(t *testing.T) {
	s := openTestStore(t)
	ctx := testCtx(t)
	requireSummary(t, s, "", summary.Summary{})
	if err := s.Insert(ctx, dataset(t)); err != nil {
		t.Fatalf("Insert: %v", err)
	}
	requireSummary(t, s, "", datasetSummary())
	requireSummary(t, s, "douke", onlyPlatform(datasetSummary(), "douke"))
	requireSummary(t, s, "taoke", onlyPlatform(datasetSummary(), "taoke"))
	requireSummary(t, s, "nosuch", summary.Summary{})
	n, err := s.CountOrders(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Fatalf("CountOrders = %d, want 5", n)
	}
	if err := s.Insert(ctx, nil); err != nil {
		t.Fatalf("Insert(nil): %v", err)
	}
}

func TestInsertIsIdempotent(t *testing.T) {
	s := openTestStore(t)
	ctx := testCtx(t)
	data := dataset(t)

	// Redelivery: the same envelopes twice, and duplicated inside one batch.
	for i := 0; i < 2; i++ {
		if err := s.Insert(ctx, data); err != nil {
			t.Fatalf("Insert #%d: %v", i+1, err)
		}
	}
	if err := s.Insert(ctx, append(append([]events.Envelope{}, data...), data...)); err != nil {
		t.Fatal(err)
	}
	requireCount(t, s, "orders", 4*5) // every copy is stored ...
	requireSummary(t, s, "", datasetSummary())
	requireSummary(t, s, "douke", onlyPlatform(datasetSummary(), "douke"))

	// A newer version of A, then the older one again (out-of-order redelivery).
	if err := s.Insert(ctx, updateA(t)); err != nil {
		t.Fatal(err)
	}
	requireSummary(t, s, "", updatedSummary())
	if err := s.Insert(ctx, data[:3]); err != nil { // A v1 with its two lines
		t.Fatal(err)
	}
	if err := s.Insert(ctx, updateA(t)); err != nil {
		t.Fatal(err)
	}
	requireSummary(t, s, "", updatedSummary())
	requireSummary(t, s, "douke", onlyPlatform(updatedSummary(), "douke"))
	if n, err := s.CountOrders(ctx); err != nil || n != 5 {
		t.Fatalf("CountOrders = %d, %v; want 5", n, err)
	}

	// ... and merges collapse them without changing any answer.
	mergeAll(t, s, "orders", 5)
	mergeAll(t, s, "commission_lines", 7)
	requireCount(t, s, "orders", 5)
	requireCount(t, s, "commission_lines", 7)
	requireSummary(t, s, "", updatedSummary())
}

func TestInsertBadEvent(t *testing.T) {
	s := openTestStore(t)
	good := dataset(t)
	zeroPaid := order("douke", "Z", events.StatusPaid, 1, v1)
	zeroPaid.PaidAt = time.Time{}
	noRole := line(order("douke", "R", events.StatusPaid, 1, v1), "", 0, 0, 0)
	cases := map[string]events.Envelope{
		"undecodable data": func() events.Envelope {
			e := good[0]
			e.ID, e.Data = "bad-json", json.RawMessage(`{"order_id": 12`)
			return e
		}(),
		"wrong field type": func() events.Envelope {
			e := good[0]
			e.ID, e.Data = "bad-type", json.RawMessage(`{"platform":"douke","order_id":"X","paid_fen":"lots"}`)
			return e
		}(),
		"unknown type": func() events.Envelope {
			e := good[0]
			e.ID, e.Type = "bad-kind", "refund.v1"
			return e
		}(),
		"zero paid_at":  envelopes(t, zeroPaid)[0],
		"empty role":    envelopes(t, noRole)[0],
		"empty eventid": func() events.Envelope { e := good[1]; e.ID = ""; return e }(),
	}
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			batch := append(append([]events.Envelope{}, good[:4]...), bad)
			batch = append(batch, good[4:]...)
			err := s.Insert(testCtx(t), batch)
			if !errors.Is(err, ErrBadEvent) {
				t.Fatalf("Insert = %v, want ErrBadEvent", err)
			}
			var be *BadEventError
			if !errors.As(err, &be) || be.Index != 4 || be.EventID != bad.ID {
				t.Fatalf("error %v: want *BadEventError at index 4 for event %q, got %+v", err, bad.ID, be)
			}
			if IsTransient(err) {
				t.Fatalf("IsTransient(%v) = true", err)
			}
			requireEmpty(t, s)
		})
	}
}

// TestRoundTrip reads every column back: 19-digit IDs survive exactly
// (they exceed 2^53), Nullable times are NULL or their value, times keep
// their second.
func TestRoundTrip(t *testing.T) {
	s := openTestStore(t)
	ctx := testCtx(t)
	full := order("douke", "7312345678901234567", events.StatusSettled, events.MaxSafeInteger, v1) // the largest amount an event may carry
	full.ParentOrderID = "7312345678901234000"
	full.ProductID, full.ShopID, full.AuthorID = "3712345678901234567", "9223372036854775807", "1000000000000000001"
	full.BuyerOpenID = "open_id:Zx9/+=="
	bare := order("douke", "1234567890123456789", events.StatusPaid, 1, v1)
	if bare.ReceivedAt != nil || bare.SettledAt != nil || bare.RefundedAt != nil {
		t.Fatal("fixture: bare order has times")
	}
	refund := order("douke", "1234567890123456788", events.StatusRefunded, 1, v1)
	refund.RefundedFen, refund.EstimatedTotalCommissionFen = 1250, 3897 // the amount columns of migration 4
	ln := line(full, events.RoleLiveChannel, 123, 456, 789)
	ln.FeeFen = 12
	envs := envelopes(t, full, bare, refund, ln)
	if err := s.Insert(ctx, envs); err != nil {
		t.Fatal(err)
	}

	sec := func(tm time.Time) time.Time { return tm.UTC().Truncate(time.Second) }
	secp := func(tm *time.Time) *time.Time {
		if tm == nil {
			return nil
		}
		v := sec(*tm)
		return &v
	}
	for i, want := range []events.Order{full, bare, refund} {
		var (
			got              events.Order
			status, eventID  string
			version          uint64
			rec, set, refAt  *time.Time
			paidAt, updateAt time.Time
		)
		err := s.conn.QueryRow(ctx, "SELECT "+strings.Join(orderColumnNames[:len(orderColumnNames)-1], ", ")+
			" FROM "+s.db+".orders FINAL WHERE platform = ? AND order_id = ?", want.Platform, want.OrderID).Scan(
			&got.Platform, &got.Account, &got.OrderID, &got.ParentOrderID, &got.ProductID, &got.ProductName,
			&got.ShopID, &got.ShopName, &got.AuthorID, &got.AuthorName, &got.BuyerOpenID, &got.Channel,
			&got.Quantity, &got.Currency, &got.PaidFen, &got.EstimatedBaseFen, &got.SettledBaseFen,
			&got.RefundedFen, &got.EstimatedTotalCommissionFen, &status, &got.VendorStatus, &paidAt, &updateAt, &rec, &set, &refAt, &version, &eventID)
		if err != nil {
			t.Fatalf("read order %s: %v", want.OrderID, err)
		}
		got.Status, got.Version = events.Status(status), int64(version)
		got.PaidAt, got.UpdatedAt, got.ReceivedAt, got.SettledAt, got.RefundedAt = paidAt, updateAt, rec, set, refAt
		want.PaidAt, want.UpdatedAt = sec(want.PaidAt), sec(want.UpdatedAt)
		want.ReceivedAt, want.SettledAt, want.RefundedAt = secp(want.ReceivedAt), secp(want.SettledAt), secp(want.RefundedAt)
		if !reflect.DeepEqual(normTimes(got), normTimes(want)) {
			t.Errorf("order %s round trip:\n got %+v\nwant %+v", want.OrderID, got, want)
		}
		if eventID != envs[i].ID {
			t.Errorf("order %s event_id = %q, want %q", want.OrderID, eventID, envs[i].ID)
		}
	}

	var (
		gl       events.CommissionLine
		role, st string
		version  uint64
		eventID  string
	)
	err := s.conn.QueryRow(ctx, "SELECT "+strings.Join(lineColumnNames[:len(lineColumnNames)-1], ", ")+
		" FROM "+s.db+".commission_lines FINAL WHERE order_id = ?", ln.OrderID).Scan(
		&gl.Platform, &gl.Account, &gl.OrderID, &role, &gl.RateBP, &gl.Currency,
		&gl.EstimatedFen, &gl.SettledFen, &gl.FeeFen, &st, &gl.PaidAt, &gl.UpdatedAt, &version, &eventID)
	if err != nil {
		t.Fatal(err)
	}
	gl.Role, gl.OrderStatus, gl.Version = events.Role(role), events.Status(st), int64(version)
	want := ln
	want.PaidAt, want.UpdatedAt = sec(want.PaidAt), sec(want.UpdatedAt)
	gl.PaidAt, gl.UpdatedAt = gl.PaidAt.UTC(), gl.UpdatedAt.UTC()
	if !reflect.DeepEqual(gl, want) || eventID != envs[3].ID {
		t.Errorf("line round trip:\n got %+v (event %s)\nwant %+v (event %s)", gl, eventID, want, envs[3].ID)
	}
	if want.Version != ln.Version || ln.Version%1000 == 0 {
		t.Fatalf("fixture: version %d should keep its milliseconds", ln.Version)
	}
}

// normTimes puts every time in UTC so DeepEqual compares instants and values.
func normTimes(o events.Order) events.Order {
	o.PaidAt, o.UpdatedAt = o.PaidAt.UTC(), o.UpdatedAt.UTC()
	for _, p := range []**time.Time{&o.ReceivedAt, &o.SettledAt, &o.RefundedAt} {
		if *p != nil {
			v := (**p).UTC()
			*p = &v
		}
	}
	return o
}

func TestUnreachableIsTransient(t *testing.T) {
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	ctx := testCtx(t)

	// A server that goes away under an open store, then comes back.
	proxy := testenv.NewProxy(t, addr)
	user, pw := testenv.ClickHouseCredentials()
	s, err := Open(ctx, Config{Addr: proxy.Addr(), Database: db, Username: user, Password: pw, DialTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	proxy.Stop()
	err = s.Insert(ctx, dataset(t))
	if err == nil || !IsTransient(err) {
		t.Fatalf("Insert with the server gone = %v; want a transient error", err)
	}
	t.Logf("server gone: %v", err)
	if !strings.Contains(err.Error(), proxy.Addr()) {
		t.Errorf("error %q does not name the server address %s", err, proxy.Addr())
	}
	if err := s.Ping(ctx); err == nil || !IsTransient(err) {
		t.Fatalf("Ping with the server gone = %v; want a transient error", err)
	}
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Insert(ctx, dataset(t)); err != nil { // the caller's retry
		t.Fatalf("Insert after the server came back: %v", err)
	}
	requireSummary(t, s, "", datasetSummary())

	// Nothing listening at all: Open fails, transiently, naming the address
	// and never the password.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	const secret = "s3cret-Pa55word"
	_, err = Open(ctx, Config{Addr: dead, Password: secret, DialTimeout: 30 * time.Second})
	if err == nil || !IsTransient(err) {
		t.Fatalf("Open(%s) = %v; want a transient error", dead, err)
	}
	t.Logf("nothing listening: %v", err)
	if !strings.Contains(err.Error(), dead) || strings.Contains(err.Error(), secret) {
		t.Fatalf("Open error %q must name %s and not contain the password", err, dead)
	}
}

func TestServerErrorsAreNotTransient(t *testing.T) {
	addr := testenv.ClickHouseAddr(t)
	db := testenv.NewDatabase(t, addr)
	s := openStore(t, addr, db) // not migrated: the tables do not exist
	err := s.Insert(testCtx(t), dataset(t))
	if err == nil || IsTransient(err) {
		t.Fatalf("Insert into missing tables = %v; want a permanent error", err)
	}
	if _, err := s.Summary(testCtx(t), ""); err == nil || IsTransient(err) {
		t.Fatalf("Summary on missing tables = %v; want a permanent error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Ping(ctx); err == nil || IsTransient(err) {
		t.Fatalf("Ping with a cancelled context = %v; want a non-transient error", err)
	}
}

// mergeAll forces merges of table until it holds want rows. OPTIMIZE ...
// FINAL does nothing while a background merge holds the parts, so it is
// retried for a while.
func mergeAll(t *testing.T, s *Store, table string, want uint64) {
	t.Helper()
	ctx := testCtx(t)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := s.conn.Exec(ctx, "OPTIMIZE TABLE "+s.db+"."+table+" FINAL")
		var n uint64
		if qerr := s.conn.QueryRow(ctx, "SELECT count() FROM "+s.db+"."+table).Scan(&n); qerr != nil {
			t.Fatal(qerr)
		}
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still holds %d rows after OPTIMIZE FINAL (last error %v), want %d", table, n, err, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
