package douke_test

// Tests of the douke vendor sandbox. They decode responses with their own
// structs (not this package's decoder) and check the protocol against the
// vendor document and the sandbox's ground truth. Every identifier starts
// with Sandbox/sandbox (tests: TestSandbox…) to stay clear of the package's
// other files.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	doukesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/douke"
	"github.com/yongjin-dev/yongjin/internal/sandbox/sandboxtest"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

const (
	sandboxTestVekey  = "test-vekey"
	sandboxTestVekey2 = "other-vekey"
)

func sandboxTestConfig(seed int64, orders int) sandbox.Config {
	cfg := sandbox.DefaultConfig()
	cfg.Seed, cfg.Orders = seed, orders
	cfg.Accounts = []sandbox.Account{
		doukesandbox.Account("demo", sandboxTestVekey),
		doukesandbox.Account("second", sandboxTestVekey2),
	}
	return cfg
}

type sandboxTestEnv struct {
	srv *sandbox.Server
	url string
}

func sandboxStart(t *testing.T, cfg sandbox.Config) *sandboxTestEnv {
	t.Helper()
	s, base := sandboxtest.Start(t, cfg, doukesandbox.Handler{})
	return &sandboxTestEnv{srv: s, url: base + doukesandbox.Path}
}

// raw sends one request (GET with a query, or POST with a form body) and
// returns the status, content type and body.
func (e *sandboxTestEnv) raw(t *testing.T, method string, p url.Values) (int, string, []byte) {
	t.Helper()
	res, body := sandboxtest.Send(t, method, e.url, p, "application/x-www-form-urlencoded")
	return res.StatusCode, res.Header.Get("Content-Type"), body
}

// sandboxOrder is one wire order with every member kept raw.
type sandboxOrder map[string]json.RawMessage

type sandboxResp struct {
	Error     json.RawMessage `json:"error"`
	Msg       string          `json:"msg"`
	Data      json.RawMessage `json:"data"`
	RequestID string          `json:"request_id"`
	Cursor    string          `json:"-"`
	Orders    []sandboxOrder  `json:"-"`
}

func sandboxDecode(t *testing.T, body []byte) sandboxResp {
	t.Helper()
	var r sandboxResp
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if string(r.Data) != "null" {
		var d struct {
			Cursor string         `json:"cursor"`
			Orders []sandboxOrder `json:"orders"`
		}
		if err := json.Unmarshal(r.Data, &d); err != nil {
			t.Fatalf("decode data: %v", err)
		}
		if d.Orders == nil {
			t.Fatalf("data.orders is not an array: %s", r.Data)
		}
		r.Cursor, r.Orders = d.Cursor, d.Orders
	}
	return r
}

// get performs a request that must succeed and returns the decoded page and its bytes.
func (e *sandboxTestEnv) get(t *testing.T, p url.Values) (sandboxResp, []byte) {
	t.Helper()
	code, ct, body := e.raw(t, http.MethodGet, p)
	if code != 200 || !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("HTTP %d %s: %s", code, ct, body)
	}
	r := sandboxDecode(t, body)
	if string(r.Error) != `"0"` || r.Msg != "查询成功!" || len(r.RequestID) != 7 {
		t.Fatalf("not a success envelope: %s", body)
	}
	return r, body
}

func sandboxParams(vekey string, kv ...string) url.Values {
	p := url.Values{"vekey": {vekey}}
	for i := 0; i+1 < len(kv); i += 2 {
		p.Set(kv[i], kv[i+1])
	}
	return p
}

// sandboxStr reads a string member: ok=false for null; fails on other types.
func sandboxStr(t *testing.T, o sandboxOrder, k string) (string, bool) {
	t.Helper()
	raw, present := o[k]
	if !present {
		t.Fatalf("order lacks %q", k)
	}
	if string(raw) == "null" {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s = %s: want a string", k, raw)
	}
	return s, true
}

// sandboxInt reads a member that must be a bare JSON integer.
func sandboxInt(t *testing.T, o sandboxOrder, k string) int64 {
	t.Helper()
	raw, present := o[k]
	if !present {
		t.Fatalf("order lacks %q", k)
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		t.Fatalf("%s = %s: want a JSON integer", k, raw)
	}
	return n
}

func sandboxID(t *testing.T, o sandboxOrder) uint64 {
	t.Helper()
	s, _ := sandboxStr(t, o, "order_id")
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || len(s) != 19 {
		t.Fatalf("order_id %q: want 19 digits", s)
	}
	return id
}

// walk follows the cursor to the end, checking the paging contract on the
// way, and returns the orders and the page bodies.
func (e *sandboxTestEnv) walk(t *testing.T, p url.Values, size int) ([]sandboxOrder, [][]byte) {
	t.Helper()
	var orders []sandboxOrder
	var bodies [][]byte
	cursor := "0"
	last := uint64(math.MaxUint64)
	for n := 0; ; n++ {
		if n > 100000 {
			t.Fatal("paging does not end")
		}
		q := url.Values{}
		for k, v := range p {
			q[k] = v
		}
		q.Set("size", strconv.Itoa(size))
		q.Set("cursor", cursor)
		r, body := e.get(t, q)
		bodies = append(bodies, body)
		for _, o := range r.Orders {
			id := sandboxID(t, o)
			if id >= last {
				t.Fatalf("orders not in descending order_id order: %d after %d", id, last)
			}
			last = id
		}
		orders = append(orders, r.Orders...)
		if len(r.Orders) == 0 {
			if r.Cursor != cursor {
				t.Fatalf("empty page returned cursor %q, want the sent %q", r.Cursor, cursor)
			}
			return orders, bodies
		}
		if want, _ := sandboxStr(t, r.Orders[len(r.Orders)-1], "order_id"); r.Cursor != want {
			t.Fatalf("cursor %q, want the last order_id %q", r.Cursor, want)
		}
		if len(r.Orders) > size {
			t.Fatalf("page of %d orders for size %d", len(r.Orders), size)
		}
		if len(r.Orders) < size {
			return orders, bodies
		}
		cursor = r.Cursor
	}
}

var sandboxStatus = map[string]events.Status{"PAY_SUCC": "paid", "CONFIRM": "received", "SETTLE": "settled", "REFUND": "refunded"}

// sandboxSum sums the raw vendor fields of orders into a summary, the way the
// canonical mapping defines the roles, without any sandbox or decoder code.
func sandboxSum(t *testing.T, orders []sandboxOrder) summary.Summary {
	t.Helper()
	type ck struct {
		st   events.Status
		role events.Role
	}
	ords := map[events.Status]*summary.OrderRow{}
	comms := map[ck]*summary.CommissionRow{}
	roles := []struct {
		role     events.Role
		est, set string
	}{
		{events.RoleCreator, "estimated_commission", "real_commission"},
		{events.RoleLiveChannel, "ads_estimated_commission", "ads_real_commission"},
		{events.RoleShop, "shop_estimated_commission", "shop_real_commission"},
		{events.RolePlatformFee, "estimated_tech_service_fee", "settled_tech_service_fee"},
	}
	for _, o := range orders {
		fp, _ := sandboxStr(t, o, "flow_point")
		st, ok := sandboxStatus[fp]
		if !ok {
			t.Fatalf("flow_point %q", fp)
		}
		if ords[st] == nil {
			ords[st] = &summary.OrderRow{Platform: "douke", Status: st}
		}
		ords[st].Orders++
		ords[st].PaidFen += sandboxInt(t, o, "total_pay_amount")
		for _, r := range roles {
			k := ck{st, r.role}
			if comms[k] == nil {
				comms[k] = &summary.CommissionRow{Platform: "douke", Status: st, Role: r.role}
			}
			comms[k].Lines++
			comms[k].EstimatedFen += sandboxInt(t, o, r.est)
			comms[k].SettledFen += sandboxInt(t, o, r.set)
		}
	}
	var s summary.Summary
	for _, r := range ords {
		s.Orders = append(s.Orders, *r)
	}
	for _, r := range comms {
		s.Commissions = append(s.Commissions, *r)
	}
	s.Normalize()
	return s
}

const (
	sandboxAllPayStart = "2026-10-01 00:00:00"
	sandboxAllPayEnd   = "2026-12-29 23:59:59" // ≤ 90 days, after every pay time
)

func sandboxAllPay(vekey string) url.Values {
	return sandboxParams(vekey, "start_time", sandboxAllPayStart, "end_time", sandboxAllPayEnd)
}

func sandboxAllUpdate(vekey string) url.Values {
	return sandboxParams(vekey, "time_type", "update", "start_time", sandboxAllPayStart, "end_time", sandboxAllPayEnd)
}

func TestSandboxSameSeedByteIdentical(t *testing.T) {
	requests := []url.Values{
		sandboxAllPay(sandboxTestVekey),
		sandboxAllUpdate(sandboxTestVekey),
		sandboxParams(sandboxTestVekey, "distribution_type", "Live", "start_time", sandboxAllPayStart, "end_time", sandboxAllPayEnd),
	}
	run := func(seed int64) [][]byte {
		e := sandboxStart(t, sandboxTestConfig(seed, 400))
		var all [][]byte
		for _, p := range requests {
			_, bodies := e.walk(t, p, 20)
			all = append(all, bodies...)
		}
		return all
	}
	a, b, c := run(5), run(5), run(6)
	if len(a) != len(b) {
		t.Fatalf("%d pages vs %d", len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("page %d differs with the same seed:\n%s\n%s", i, a[i], b[i])
		}
	}
	ids := func(pages [][]byte) []string {
		var out []string
		for _, p := range pages {
			for _, o := range sandboxDecode(t, p).Orders {
				s, _ := sandboxStr(t, o, "order_id")
				out = append(out, s)
			}
		}
		return out
	}
	if bytes.Equal(a[0], c[0]) || slices.Equal(ids(a), ids(c)) {
		t.Fatal("different seeds gave the same orders")
	}
}

func TestSandboxPagingWalksEveryOrderOnce(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(11, 777))
	truth := e.srv.Truth("douke")
	var want []string
	for _, o := range truth.Orders {
		if o.Account == "demo" {
			want = append(want, o.OrderID)
		}
	}
	if len(want) != 777 {
		t.Fatalf("truth has %d demo orders, want 777", len(want))
	}
	slices.Sort(want)
	check := func(name string, orders []sandboxOrder) {
		t.Helper()
		var got []string
		for _, o := range orders {
			s, _ := sandboxStr(t, o, "order_id")
			got = append(got, s)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: walked %d orders (%d distinct), want each of %d once", name, len(got), len(slices.Compact(slices.Clone(got))), len(want))
		}
	}
	for _, size := range []int{1, 7, 20} {
		o, _ := e.walk(t, sandboxAllPay(sandboxTestVekey), size)
		check(fmt.Sprintf("pay size %d", size), o)
		o, _ = e.walk(t, sandboxAllUpdate(sandboxTestVekey), size)
		check(fmt.Sprintf("update size %d", size), o)
	}
	// size defaults to 20 and 7*111 = 777 ends on a full page: the next,
	// empty page returns the sent cursor (checked inside walk).
	o, _ := e.walk(t, sandboxAllPay(sandboxTestVekey), 7)
	check("pay size 7 (full last page)", o)
	r, _ := e.get(t, sandboxAllPay(sandboxTestVekey))
	if len(r.Orders) != 20 {
		t.Fatalf("default size gave %d orders", len(r.Orders))
	}

	// Consecutive 6-hour windows (inclusive ends, no overlap) cover every
	// order exactly once, for pay and update times, and every order lies
	// inside its window.
	for _, tt := range []string{"pay", "update"} {
		var all []sandboxOrder
		start := time.Date(2026, 10, 1, 0, 0, 0, 0, wire.CST)
		for ; start.Before(e.srv.Clock().Now().Add(time.Hour)); start = start.Add(6 * time.Hour) {
			end := start.Add(6*time.Hour - time.Second)
			p := sandboxParams(sandboxTestVekey, "time_type", tt,
				"start_time", start.Format(sandbox.WallLayout), "end_time", end.Format(sandbox.WallLayout))
			orders, _ := e.walk(t, p, 20)
			field := map[string]string{"pay": "pay_success_time", "update": "update_time"}[tt]
			for _, o := range orders {
				v, _ := sandboxStr(t, o, field)
				if v < start.Format(sandbox.WallLayout) || v > end.Format(sandbox.WallLayout) {
					t.Fatalf("%s %s outside window %s..%s", field, v, start, end)
				}
			}
			all = append(all, orders...)
		}
		check(tt+" 6-hour windows", all)
	}

	// A window before every payment: empty first page with cursor "0".
	r, _ = e.get(t, sandboxParams(sandboxTestVekey, "start_time", "2026-09-01 00:00:00", "end_time", "2026-09-30 23:59:59"))
	if len(r.Orders) != 0 || r.Cursor != "0" {
		t.Fatalf("empty window: %d orders, cursor %q", len(r.Orders), r.Cursor)
	}
	// The cursor of the last order: an empty page echoing that cursor.
	p := sandboxAllPay(sandboxTestVekey)
	p.Set("cursor", want[0])
	r, _ = e.get(t, p)
	if len(r.Orders) != 0 || r.Cursor != want[0] {
		t.Fatalf("after the last order: %d orders, cursor %q", len(r.Orders), r.Cursor)
	}
}

func TestSandboxTruthEqualsPages(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(21, 1500))
	for _, at := range []string{"2026-10-08 12:00:00", "2026-11-10 00:00:00", "2026-11-25 08:30:00", "2027-03-01 00:00:00"} {
		tm, _ := time.ParseInLocation(sandbox.WallLayout, at, wire.CST)
		e.srv.Clock().Set(tm)
		var orders []sandboxOrder
		for _, vk := range []string{sandboxTestVekey, sandboxTestVekey2} {
			o, _ := e.walk(t, sandboxAllPay(vk), 20)
			orders = append(orders, o...)
		}
		want := e.srv.Truth("douke").Summary
		got := sandboxSum(t, orders)
		if d := summary.Diff(want, got); len(d) > 0 {
			t.Fatalf("at %s the pages disagree with the truth:\n%s", at, strings.Join(d, "\n"))
		}
		if got.TotalOrders() == 0 {
			t.Fatalf("at %s no orders", at)
		}
		// Every order has all four roles, zero amounts included.
		for _, r := range want.Orders {
			for _, role := range []events.Role{events.RoleCreator, events.RoleLiveChannel, events.RoleShop, events.RolePlatformFee} {
				found := false
				for _, c := range want.Commissions {
					if c.Status == r.Status && c.Role == role {
						found = c.Lines == r.Orders
					}
				}
				if !found {
					t.Fatalf("at %s status %s: role %s lines do not match the %d orders", at, r.Status, role, r.Orders)
				}
			}
		}
	}
}

func TestSandboxLifecycleFollowsClock(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(3, 2000))
	snapshot := func(at string) map[uint64]sandboxOrder {
		tm, _ := time.ParseInLocation(sandbox.WallLayout, at, wire.CST)
		e.srv.Clock().Set(tm)
		orders, _ := e.walk(t, sandboxAllPay(sandboxTestVekey), 20)
		out := map[uint64]sandboxOrder{}
		for _, o := range orders {
			out[sandboxID(t, o)] = o
		}
		return out
	}
	str := func(o sandboxOrder, k string) string { s, _ := sandboxStr(t, o, k); return s }
	early, mid, late := snapshot("2026-10-15 00:00:00"), snapshot("2026-11-10 00:00:00"), snapshot("2027-02-01 00:00:00")
	if len(early) == 0 || len(early) >= len(mid) || len(mid) != len(late) {
		t.Fatalf("visible orders: %d, %d, %d", len(early), len(mid), len(late))
	}
	next := map[string][]string{
		"PAY_SUCC": {"PAY_SUCC", "CONFIRM", "SETTLE", "REFUND"},
		"CONFIRM":  {"CONFIRM", "SETTLE", "REFUND"},
		"SETTLE":   {"SETTLE", "REFUND"},
		"REFUND":   {"REFUND"},
	}
	moved, refundAfterSettle := 0, 0
	for _, pair := range [][2]map[uint64]sandboxOrder{{early, mid}, {mid, late}} {
		for id, a := range pair[0] {
			b, ok := pair[1][id]
			if !ok {
				t.Fatalf("order %d disappeared", id)
			}
			fa, fb := str(a, "flow_point"), str(b, "flow_point")
			if !slices.Contains(next[fa], fb) {
				t.Fatalf("order %d went %s → %s", id, fa, fb)
			}
			ua, ub := str(a, "update_time"), str(b, "update_time")
			if fa != fb {
				moved++
				if ub <= ua {
					t.Fatalf("order %d moved %s → %s without a newer update_time (%s → %s)", id, fa, fb, ua, ub)
				}
			} else if ua != ub {
				t.Fatalf("order %d changed update_time without changing state", id)
			}
			if fa == "SETTLE" && fb == "REFUND" {
				refundAfterSettle++
				st, _ := sandboxStr(t, b, "settle_time")
				rt, _ := sandboxStr(t, b, "refund_time")
				if st == "" || rt <= st || sandboxInt(t, b, "real_commission") != 0 || sandboxInt(t, b, "settled_goods_amount") != 0 {
					t.Fatalf("order %d refunded after settlement: settle %q refund %q", id, st, rt)
				}
			}
		}
	}
	if moved < 100 || refundAfterSettle == 0 {
		t.Fatalf("%d orders moved, %d refunded after settlement; want many and some", moved, refundAfterSettle)
	}

	// order_ids sees the same: a paid order of the early snapshot advances.
	for id, a := range early {
		if str(a, "flow_point") != "PAY_SUCC" || str(late[id], "flow_point") == "PAY_SUCC" {
			continue
		}
		ids := strconv.FormatUint(id, 10)
		tm, _ := time.ParseInLocation(sandbox.WallLayout, "2026-10-15 00:00:00", wire.CST)
		e.srv.Clock().Set(tm)
		r1, _ := e.get(t, sandboxParams(sandboxTestVekey, "order_ids", ids))
		e.srv.Clock().Advance(120 * 24 * time.Hour)
		r2, _ := e.get(t, sandboxParams(sandboxTestVekey, "order_ids", ids))
		if len(r1.Orders) != 1 || len(r2.Orders) != 1 || str(r1.Orders[0], "flow_point") != "PAY_SUCC" ||
			str(r2.Orders[0], "flow_point") == "PAY_SUCC" || str(r2.Orders[0], "update_time") <= str(r1.Orders[0], "update_time") {
			t.Fatalf("order %s via order_ids: %v then %v", ids, r1.Orders, r2.Orders)
		}
		break
	}
}

var sandboxVekeyBody = regexp.MustCompile(`^\{"error":"40001","msg":"vekey错误或已失效","data":null,"request_id":"[0-9A-Za-z]{7}"\}$`)

func TestSandboxVekeyRefused(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(1, 50))
	cases := []struct {
		method string
		p      url.Values
	}{
		{http.MethodGet, sandboxParams("wrong")},
		{http.MethodGet, url.Values{"size": {"5"}}},
		{http.MethodGet, sandboxParams(strings.ToUpper(sandboxTestVekey))},
		{http.MethodGet, sandboxParams("")},
		{http.MethodPost, sandboxParams("wrong", "size", "5")},
	}
	for i, c := range cases {
		code, ct, body := e.raw(t, c.method, c.p)
		if code != 200 || !strings.HasPrefix(ct, "application/json") || !sandboxVekeyBody.Match(body) {
			t.Errorf("case %d: HTTP %d %s %s", i, code, ct, body)
		}
	}
	// Both accounts' vekeys work, and each sees only its own orders.
	a, _ := e.get(t, sandboxAllPay(sandboxTestVekey))
	b, _ := e.get(t, sandboxAllPay(sandboxTestVekey2))
	if len(a.Orders) == 0 || len(b.Orders) == 0 || string(a.Orders[0]["order_id"]) == string(b.Orders[0]["order_id"]) {
		t.Fatal("accounts are not separated")
	}
	if code, _, _ := e.raw(t, http.MethodPut, sandboxParams(sandboxTestVekey)); code != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: %d", code)
	}
}

func TestSandboxParameterErrors(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(1, 50))
	ids11 := strings.TrimSuffix(strings.Repeat("5049400000000000001,", 11), ",")
	bad := map[string][]string{
		"window over 90 days":   {"start_time", "2026-01-01 00:00:00", "end_time", "2026-04-01 00:00:01"},
		"start before 2021-10":  {"start_time", "2021-09-30 23:59:59", "end_time", "2021-10-05 00:00:00"},
		"end before start":      {"start_time", "2026-10-05 00:00:00", "end_time", "2026-10-04 00:00:00"},
		"bad time format":       {"start_time", "2026-10-05T00:00:00", "end_time", "2026-10-06 00:00:00"},
		"size 0":                {"size", "0"},
		"size 21":               {"size", "21"},
		"size text":             {"size", "twenty"},
		"bad cursor":            {"cursor", "abc"},
		"bad time_type":         {"time_type", "create"},
		"11 order_ids":          {"order_ids", ids11},
		"bad order_ids":         {"order_ids", "12,x"},
		"bad distribution_type": {"distribution_type", "Shop"},
		"bad query_order_type":  {"query_order_type", "2"},
	}
	for name, kv := range bad {
		code, _, body := e.raw(t, http.MethodGet, sandboxParams(sandboxTestVekey, kv...))
		r := sandboxDecode(t, body)
		if code != 200 || string(r.Error) != `"40002"` || string(r.Data) != "null" || r.Msg == "" || len(r.RequestID) != 7 {
			t.Errorf("%s: HTTP %d %s", name, code, body)
		}
		if strings.Contains(strings.ToLower(r.Msg), "key") || strings.Contains(r.Msg, "频繁") {
			t.Errorf("%s: message %q could be mistaken for an auth or throttle error", name, r.Msg)
		}
	}
	for _, m := range []string{"90 days", "2021-10-01"} {
		found := false
		for name, kv := range bad {
			if strings.Contains(name, "90") || strings.Contains(name, "2021") {
				_, _, body := e.raw(t, http.MethodGet, sandboxParams(sandboxTestVekey, kv...))
				found = found || strings.Contains(sandboxDecode(t, body).Msg, m)
			}
		}
		if !found {
			t.Errorf("no message mentions %q", m)
		}
	}
	// Exactly 90 days, the earliest start and ten order_ids are fine.
	for _, kv := range [][]string{
		{"start_time", "2026-08-12 00:00:00", "end_time", "2026-11-10 00:00:00"},
		{"start_time", "2021-10-01 00:00:00", "end_time", "2021-12-30 00:00:00"},
		{"order_ids", strings.TrimSuffix(strings.Repeat("5049400000000000001,", 10), ",")},
		{"size", "1", "query_order_type", "1"},
	} {
		e.get(t, sandboxParams(sandboxTestVekey, kv...))
	}
}

func TestSandboxFilters(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(8, 600))
	all, _ := e.walk(t, sandboxAllPay(sandboxTestVekey), 20)
	str := func(o sandboxOrder, k string) string { s, _ := sandboxStr(t, o, k); return s }
	pidOf := func(o sandboxOrder) (pid, media string) {
		var p struct {
			PID           string `json:"pid"`
			MediaTypeName string `json:"media_type_name"`
			ExternalInfo  string `json:"external_info"`
		}
		if err := json.Unmarshal(o["pid_info"], &p); err != nil {
			t.Fatal(err)
		}
		return p.PID, p.MediaTypeName
	}
	count := func(pred func(sandboxOrder) bool) int {
		n := 0
		for _, o := range all {
			if pred(o) {
				n++
			}
		}
		return n
	}
	for _, dt := range []string{"Live", "ProductDetail", "Activity", "Mix"} {
		p := sandboxAllPay(sandboxTestVekey)
		p.Set("distribution_type", dt)
		got, _ := e.walk(t, p, 20)
		want := count(func(o sandboxOrder) bool { _, m := pidOf(o); return m == dt })
		if len(got) != want || want == 0 {
			t.Fatalf("distribution_type %s: %d orders, want %d", dt, len(got), want)
		}
	}
	pid, _ := pidOf(all[0])
	p := sandboxAllPay(sandboxTestVekey)
	p.Set("pid", pid)
	got, _ := e.walk(t, p, 20)
	if want := count(func(o sandboxOrder) bool { q, _ := pidOf(o); return q == pid }); len(got) != want || want == 0 {
		t.Fatalf("pid: %d orders, want %d", len(got), want)
	}
	p = sandboxAllPay(sandboxTestVekey)
	p.Set("open_id", str(all[3], "buyer_openid"))
	if got, _ := e.walk(t, p, 20); len(got) != 1 || str(got[0], "order_id") != str(all[3], "order_id") {
		t.Fatalf("open_id: %d orders", len(got))
	}
	// order_ids: exactly those (unknown IDs ignored), descending, with or
	// without a window; POST form gives the same data as GET.
	ids := []string{str(all[5], "order_id"), str(all[100], "order_id"), str(all[42], "order_id"), "5049400000000000001"}
	q := sandboxParams(sandboxTestVekey, "order_ids", strings.Join(ids, ","))
	r, _ := e.get(t, q)
	if len(r.Orders) != 3 || str(r.Orders[0], "order_id") != ids[0] || str(r.Orders[1], "order_id") != ids[2] || str(r.Orders[2], "order_id") != ids[1] {
		t.Fatalf("order_ids: %v", r.Orders)
	}
	_, _, postBody := e.raw(t, http.MethodPost, q)
	if pr := sandboxDecode(t, postBody); string(pr.Data) != string(r.Data) {
		t.Fatal("POST and GET differ")
	}
	q.Set("start_time", "2026-09-01 00:00:00")
	q.Set("end_time", "2026-09-02 00:00:00")
	if r, _ := e.get(t, q); len(r.Orders) != 0 {
		t.Fatal("order_ids ignored the time window")
	}
	// time_type=update filters on update_time.
	u := sandboxParams(sandboxTestVekey, "time_type", "update", "start_time", "2026-11-01 00:00:00", "end_time", "2026-11-05 23:59:59")
	got, _ = e.walk(t, u, 20)
	want := count(func(o sandboxOrder) bool {
		v := str(o, "update_time")
		return v >= "2026-11-01 00:00:00" && v <= "2026-11-05 23:59:59"
	})
	if len(got) != want || want == 0 {
		t.Fatalf("update window: %d orders, want %d", len(got), want)
	}
	// query_order_type=1 (price comparison): the sandbox has none.
	if r, _ := e.get(t, sandboxParams(sandboxTestVekey, "query_order_type", "1")); len(r.Orders) != 0 {
		t.Fatal("price-comparison orders")
	}
}

// sandboxFields is every order member of the document's table plus the
// sample's confirm_time and material_id.
var sandboxFields = []string{
	"ads_activity_id", "ads_estimated_commission", "ads_estimated_tech_service_fee", "ads_fans_type",
	"ads_promotion_rate", "ads_real_commission", "ads_split_rate", "app", "author_account", "author_buyin_id",
	"author_openid", "author_short_id", "buyer_openid", "commission_rate", "confirm_time", "estimated_commission",
	"estimated_tech_service_fee", "estimated_total_commission", "flow_point", "item_num", "live_ads_type",
	"material_id", "media_type", "order_id", "pay_goods_amount", "pay_success_time", "pick_source_client_key",
	"pid_info", "product_activity_id", "product_id", "product_img", "product_name", "real_commission",
	"refund_time", "settle_time", "settled_goods_amount", "settled_tech_service_fee", "shop_estimated_commission",
	"shop_id", "shop_name", "shop_real_commission", "total_pay_amount", "update_time",
}

func TestSandboxWireShapesAndAmounts(t *testing.T) {
	e := sandboxStart(t, sandboxTestConfig(13, 2000))
	e.srv.Clock().Set(time.Date(2026, 11, 3, 0, 0, 0, 0, wire.CST))
	orders, bodies := e.walk(t, sandboxAllPay(sandboxTestVekey), 20)
	if !bytes.HasPrefix(bodies[0], []byte(`{"error":"0","msg":"查询成功!","data":{"cursor":"`)) {
		t.Fatalf("envelope: %.80s", bodies[0])
	}
	shapes := map[string]int{}
	for _, o := range orders {
		if len(o) != len(sandboxFields) {
			t.Fatalf("order has %d members, want %d", len(o), len(sandboxFields))
		}
		for _, f := range sandboxFields {
			if _, ok := o[f]; !ok {
				t.Fatalf("order lacks %s", f)
			}
		}
		id, _ := sandboxStr(t, o, "order_id")
		if !strings.HasPrefix(id, "50494") || len(id) != 19 {
			t.Fatalf("order_id %q", id)
		}
		if pid, ok := sandboxStr(t, o, "product_id"); !ok || pid == "" {
			t.Fatal("product_id must be a string")
		}
		sandboxInt(t, o, "shop_id")
		sandboxInt(t, o, "ads_estimated_tech_service_fee") // documented String, sent as a number
		for _, k := range []string{"settle_time", "confirm_time", "refund_time", "ads_fans_type", "author_buyin_id"} {
			switch v, ok := sandboxStr(t, o, k); {
			case !ok:
				shapes[k+"=null"]++
			case v == "":
				shapes[k+`=""`]++
			default:
				shapes[k+"=value"]++
			}
		}
		fp, _ := sandboxStr(t, o, "flow_point")
		settled, refunded := fp == "SETTLE", fp == "REFUND"
		total := sandboxInt(t, o, "total_pay_amount")
		in := func(k string) int64 { return sandboxInt(t, o, k) }
		rate, adsRate := in("commission_rate"), in("ads_promotion_rate")
		var pidInfo struct {
			MediaTypeName string `json:"media_type_name"`
		}
		if err := json.Unmarshal(o["pid_info"], &pidInfo); err != nil {
			t.Fatalf("pid_info: %v", err)
		}
		media := pidInfo.MediaTypeName
		est := total * rate / 10000
		ads := int64(0)
		if media == "Live" {
			ads = total * adsRate / 10000
			if adsRate < 100 || adsRate > 3000 {
				t.Fatalf("ads_promotion_rate %d", adsRate)
			}
		} else if adsRate != 0 {
			t.Fatalf("%s order with ads_promotion_rate %d", media, adsRate)
		}
		if refunded {
			est, ads = 0, 0
		}
		set := func(v int64) int64 {
			if settled {
				return v
			}
			return 0
		}
		want := map[string]int64{
			"pay_goods_amount": total, "settled_goods_amount": set(total),
			"estimated_commission": est, "real_commission": set(est),
			"ads_estimated_commission": ads, "ads_real_commission": set(ads),
			"shop_estimated_commission": est + ads, "shop_real_commission": set(est + ads),
			"estimated_tech_service_fee": est / 10, "settled_tech_service_fee": set(est / 10),
		}
		for k, v := range want {
			if got := in(k); got != v {
				t.Fatalf("order %s (%s, %s): %s = %d, want %d", id, fp, media, k, got, v)
			}
		}
		if total < 100 || total > 200000 || rate < 100 || rate > 5000 {
			t.Fatalf("order %s: total %d rate %d", id, total, rate)
		}
		for k, ev := range map[string]bool{"settle_time": settled, "refund_time": refunded} {
			v, _ := sandboxStr(t, o, k)
			if ev != (v != "") && !(k == "settle_time" && refunded) {
				t.Fatalf("order %s %s: %s = %q", id, fp, k, v)
			}
		}
	}
	for _, s := range []string{"settle_time=null", `settle_time=""`, "settle_time=value", "confirm_time=null",
		`confirm_time=""`, "refund_time=null", `refund_time=""`, "refund_time=value", "ads_fans_type=null",
		"ads_fans_type=value", "author_buyin_id=null", "author_buyin_id=value"} {
		if shapes[s] == 0 {
			t.Errorf("shape %s never occurs", s)
		}
	}
}

var sandboxThrottleBody = `{"error":"40029","msg":"请求过于频繁,请稍后再试","data":null}`

func TestSandboxFaults(t *testing.T) {
	run := func() (string, sandbox.Stats) {
		cfg := sandboxTestConfig(77, 100)
		cfg.Faults = sandbox.Faults{ErrorRate5xx: 0.25, ThrottleRate: 0.05}
		e := sandboxStart(t, cfg)
		var seq strings.Builder
		for i := 0; i < 800; i++ {
			code, ct, body := e.raw(t, http.MethodGet, sandboxAllPay(sandboxTestVekey))
			switch {
			case code == http.StatusBadGateway && strings.HasPrefix(ct, "text/html") && bytes.Contains(body, []byte("<html>")):
				seq.WriteByte('E')
			case code == 200 && string(body) == sandboxThrottleBody:
				seq.WriteByte('T')
			case code == 200:
				sandboxDecode(t, body)
				seq.WriteByte('.')
			default:
				t.Fatalf("HTTP %d %s %s", code, ct, body)
			}
		}
		return seq.String(), e.srv.Stats("douke")
	}
	a, st := run()
	b, _ := run()
	if a != b {
		t.Fatal("fault sequence differs with the same seed")
	}
	e, th := strings.Count(a, "E"), strings.Count(a, "T")
	if math.Abs(float64(e)/800-0.25) > 0.04 || math.Abs(float64(th)/800-0.05) > 0.025 {
		t.Fatalf("%d 502s and %d throttles in 800 requests, want about 25%% and 5%%", e, th)
	}
	if st.Requests != 800 || st.Errors5xx != int64(e) || st.Throttled != int64(th) {
		t.Fatalf("stats %+v", st)
	}
}

// TestSandboxThroughVendor runs the package's vendor (fetcher and
// normalizer, through the vendors.Vendor interface only) against the sandbox
// and compares the canonical result with the ground truth.
func TestSandboxThroughVendor(t *testing.T) {
	cfg := sandboxTestConfig(31, 150)
	cfg.Accounts = cfg.Accounts[:1]
	e := sandboxStart(t, cfg)
	var v vendors.Vendor = douke.Vendor{}
	f, err := v.NewFetcher(vendors.SourceConfig{
		BaseURL:     strings.TrimSuffix(e.url, doukesandbox.Path),
		Account:     "demo",
		Credentials: map[string]string{"vekey": sandboxTestVekey},
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, wire.CST)
	w := vendors.Window{Start: start, End: e.srv.Clock().Now(), TimeType: "pay"}
	latest := map[string]events.Order{}
	lines := map[string]events.CommissionLine{}
	err = f.Walk(context.Background(), w, func(_ context.Context, p vendors.Page) error {
		envs, err := v.Normalize(events.RawPage{Vendor: v.Name(), Endpoint: v.Endpoint(), Account: "demo",
			WindowStart: w.Start, WindowEnd: w.End, TimeType: "pay", Cursor: p.Cursor, HTTPStatus: p.HTTPStatus, Body: p.Body})
		if err != nil {
			return err
		}
		for _, env := range envs {
			x, err := events.Decode(env)
			if err != nil {
				return err
			}
			switch x := x.(type) {
			case *events.Order:
				latest[x.Key()] = *x
			case *events.CommissionLine:
				lines[x.Key()] = *x
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var truth []sandbox.OrderTruth
	for _, o := range latest {
		ot := sandbox.OrderTruth{Vendor: o.Platform, OrderID: o.OrderID, Status: o.Status, PaidFen: o.PaidFen}
		for _, role := range sandbox.Roles {
			l := lines[o.OrderID+"/"+string(role)]
			ot.Lines = append(ot.Lines, sandbox.LineTruth{Role: role, EstimatedFen: l.EstimatedFen, SettledFen: l.SettledFen})
		}
		truth = append(truth, ot)
	}
	if len(lines) != 4*len(latest) {
		t.Fatalf("%d commission lines for %d orders", len(lines), len(latest))
	}
	if d := summary.Diff(e.srv.Truth("douke").Summary, sandbox.Summarize(truth)); len(d) > 0 {
		t.Fatalf("vendor pipeline disagrees with the sandbox truth:\n%s", strings.Join(d, "\n"))
	}
}
