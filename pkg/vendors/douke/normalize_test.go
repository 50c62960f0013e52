package douke

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

var readTestdata = vendorstest.ReadTestdata

func rawPage(body []byte) events.RawPage {
	p := vendorstest.RawPage(Name, Endpoint, "0", time.Date(2023, 4, 1, 0, 0, 0, 0, time.UTC), body)
	p.WindowStart, p.WindowEnd, p.TimeType = time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2023, 3, 31, 0, 0, 0, 0, time.UTC), "update"
	return p
}

func TestGolden(t *testing.T) {
	vendorstest.GoldenNormalize(t, []string{"doc_sample", "lifecycle"}, Normalize, rawPage)
}

func TestDocSampleMapping(t *testing.T) {
	envs, err := Normalize(rawPage(readTestdata(t, "doc_sample.json")))
	vendorstest.Count(t, envs, err, 5) // 1 order + 4 lines
	o := vendorstest.DecodeAs[events.Order](t, envs[0])
	paid := time.Date(2023, 3, 25, 13, 54, 37, 0, time.UTC)
	updated := time.Date(2023, 3, 25, 13, 54, 48, 0, time.UTC)
	vendorstest.Checks{
		{"platform", o.Platform, "douke"},
		{"account", o.Account, "demo"},
		{"order_id", o.OrderID, "5049400731628723479"},
		{"product_id", o.ProductID, "3550945007122962547"},
		{"shop_id", o.ShopID, "31259507"},
		{"shop_name", o.ShopName, "梦想食品专营店"},
		{"author_id (author_short_id fallback)", o.AuthorID, "0"},
		{"quantity", o.Quantity, int64(12)},
		{"channel", o.Channel, "ProductDetail"},
		{"currency", o.Currency, "CNY"},
		{"paid_fen", o.PaidFen, int64(1290)},
		{"estimated_base_fen", o.EstimatedBaseFen, int64(1290)},
		{"settled_base_fen", o.SettledBaseFen, int64(0)},
		{"status", o.Status, events.StatusPaid},
		{"vendor_status", o.VendorStatus, "PAY_SUCC"},
		{"paid_at", o.PaidAt, paid},
		{"updated_at", o.UpdatedAt, updated},
		{"version", o.Version, updated.UnixMilli()},
		{"received_at nil", o.ReceivedAt == nil, true},
		{"settled_at nil", o.SettledAt == nil, true},
		{"refunded_at nil", o.RefundedAt == nil, true},
		{"envelope subject", envs[0].Subject, "5049400731628723479"},
		{"envelope time", envs[0].Time, updated},
		{"envelope source", envs[0].Source, "yongjin/douke/demo"},
	}.Verify(t)
	wantLines := []struct {
		role              events.Role
		rate, est, settle int64
	}{
		{events.RoleCreator, 0, 0, 0},
		{events.RoleLiveChannel, 1800, 209, 0},
		{events.RoleShop, 0, 0, 0},
		{events.RolePlatformFee, 0, 0, 0},
	}
	for i, w := range wantLines {
		v, err := events.Decode(envs[1+i])
		if err != nil {
			t.Fatal(err)
		}
		l := v.(*events.CommissionLine)
		if l.Role != w.role || l.RateBP != w.rate || l.EstimatedFen != w.est || l.SettledFen != w.settle {
			t.Errorf("line %d = %s rate %d est %d settled %d, want %s rate %d est %d settled %d",
				i, l.Role, l.RateBP, l.EstimatedFen, l.SettledFen, w.role, w.rate, w.est, w.settle)
		}
		if l.OrderID != o.OrderID || l.OrderStatus != events.StatusPaid || !l.PaidAt.Equal(paid) || !l.UpdatedAt.Equal(updated) || l.Version != o.Version || l.Currency != "CNY" {
			t.Errorf("line %d shares wrong order attributes: %+v", i, l)
		}
		if envs[1+i].Subject != "5049400731628723479/"+string(w.role) {
			t.Errorf("line %d subject = %q", i, envs[1+i].Subject)
		}
	}
}

// TestEnvelopesValidate checks every envelope emitted for every success page
// in testdata against the published JSON Schemas.
func TestEnvelopesValidate(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	total := 0
	for _, f := range files {
		envs, err := Normalize(rawPage(readTestdata(t, filepath.Base(f))))
		if err != nil {
			vendorstest.TypedError(t, err)
			continue
		}
		total += vendorstest.Validate(t, envs)
	}
	if total < 25 {
		t.Errorf("validated only %d envelopes; testdata lost its orders?", total)
	}
}

func TestLifecycleMapping(t *testing.T) {
	p, err := DecodePage(readTestdata(t, "lifecycle.json"))
	if err != nil {
		t.Fatal(err)
	}
	cst := func(s string) time.Time {
		tm, err := time.ParseInLocation(TimeLayout, s, time.FixedZone("", 8*3600))
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	ptr := func(s string) *time.Time { tm := cst(s); return &tm }
	tests := []struct {
		status                       events.Status
		authorID, channel, shopID    string
		paid, updated                time.Time
		received, settled, refunded  *time.Time
		paidFen, estBase, settleBase int64
		quantity                     int64
		lines                        [4][3]int64 // rate, est, settled per role
	}{
		{
			events.StatusReceived, "f190e172-5fd8-4b7b-babb-f32323e60f7b", "Live", "1234",
			cst("2023-03-01 10:00:00"), cst("2023-03-05 12:00:01"), ptr("2023-03-05 12:00:00"), nil, nil,
			2100, 1100, 0, 2,
			[4][3]int64{{3500, 385, 0}, {10, 100, 0}, {0, 12, 0}, {0, 12, 0}},
		},
		{
			events.StatusSettled, "123468", "ProductDetail", "31259507",
			cst("2023-03-02 23:59:59"), cst("2023-03-20 08:30:00"), ptr("2023-03-06 09:00:00"), ptr("2023-03-20 08:30:00"), nil,
			5000, 4800, 4800, 1,
			[4][3]int64{{2000, 960, 960}, {0, 0, 0}, {0, 960, 960}, {0, 96, 96}},
		},
		{
			// update_time null: the version falls back to the latest other time (refund_time);
			// confirm_time "0000-00-00 00:00:00" means never.
			events.StatusRefunded, "refund_short", "", "99",
			cst("2023-03-03 08:00:00"), cst("2023-03-15 16:45:30"), nil, ptr("2023-03-10 00:00:00"), ptr("2023-03-15 16:45:30"),
			1990, 1990, 1990, 3,
			[4][3]int64{{1500, 298, 298}, {500, -50, -50}, {0, 298, 298}, {0, 30, 30}},
		},
		{
			events.StatusUnknown, "", "", "",
			cst("2023-03-04 00:00:00"), cst("2023-03-04 00:00:05"), nil, nil, nil,
			100, 100, 0, 1,
			[4][3]int64{},
		},
	}
	if len(p.Orders) != len(tests) {
		t.Fatalf("orders = %d, want %d", len(p.Orders), len(tests))
	}
	eqTime := func(a, b *time.Time) bool {
		if a == nil || b == nil {
			return a == b
		}
		return a.Equal(*b)
	}
	roles := []events.Role{events.RoleCreator, events.RoleLiveChannel, events.RoleShop, events.RolePlatformFee}
	for i, w := range tests {
		o, lines, err := MapOrder("acct", p.Orders[i], time.Time{})
		if err != nil {
			t.Fatalf("order %d: %v", i, err)
		}
		if o.Status != w.status || o.VendorStatus != string(p.Orders[i].FlowPoint) {
			t.Errorf("order %d: status %s (%s), want %s", i, o.Status, o.VendorStatus, w.status)
		}
		if o.AuthorID != w.authorID || o.Channel != w.channel || o.ShopID != w.shopID {
			t.Errorf("order %d: author %q channel %q shop %q, want %q %q %q", i, o.AuthorID, o.Channel, o.ShopID, w.authorID, w.channel, w.shopID)
		}
		if !o.PaidAt.Equal(w.paid) || !o.UpdatedAt.Equal(w.updated) || o.Version != w.updated.UnixMilli() {
			t.Errorf("order %d: paid %v updated %v version %d, want %v %v", i, o.PaidAt, o.UpdatedAt, o.Version, w.paid, w.updated)
		}
		if !eqTime(o.ReceivedAt, w.received) || !eqTime(o.SettledAt, w.settled) || !eqTime(o.RefundedAt, w.refunded) {
			t.Errorf("order %d: received %v settled %v refunded %v", i, o.ReceivedAt, o.SettledAt, o.RefundedAt)
		}
		if o.PaidFen != w.paidFen || o.EstimatedBaseFen != w.estBase || o.SettledBaseFen != w.settleBase || o.Quantity != w.quantity {
			t.Errorf("order %d: paid %d est %d settled %d qty %d", i, o.PaidFen, o.EstimatedBaseFen, o.SettledBaseFen, o.Quantity)
		}
		if len(lines) != 4 {
			t.Fatalf("order %d: %d lines, want 4", i, len(lines))
		}
		for j, l := range lines {
			got := [3]int64{l.RateBP, l.EstimatedFen, l.SettledFen}
			if l.Role != roles[j] || got != w.lines[j] {
				t.Errorf("order %d line %d: %s %v, want %s %v", i, j, l.Role, got, roles[j], w.lines[j])
			}
			if l.OrderStatus != w.status || l.Version != o.Version || l.Account != "acct" || l.Platform != "douke" {
				t.Errorf("order %d line %d: %+v", i, j, l)
			}
		}
	}
}

func TestMapOrderStatus(t *testing.T) {
	for _, tc := range []struct {
		flow string
		want events.Status
	}{
		{"PAY_SUCC", events.StatusPaid},
		{"CONFIRM", events.StatusReceived},
		{"SETTLE", events.StatusSettled},
		{"REFUND", events.StatusRefunded},
		{" settle ", events.StatusSettled},
		{"PAY_CANCEL", events.StatusUnknown},
		{"", events.StatusUnknown},
		{"已结算", events.StatusUnknown},
	} {
		o, lines, err := MapOrder("a", Order{OrderID: "1", PaySuccessTime: "2023-01-01 00:00:00", FlowPoint: FlexString(tc.flow)}, time.Time{})
		if err != nil {
			t.Fatalf("%q: %v", tc.flow, err)
		}
		if o.Status != tc.want || o.VendorStatus != tc.flow {
			t.Errorf("flow_point %q → %s / %q, want %s / verbatim", tc.flow, o.Status, o.VendorStatus, tc.want)
		}
		// a line's existence never depends on the state
		if len(lines) != 4 {
			t.Errorf("flow_point %q: %d lines", tc.flow, len(lines))
		}
	}
}

func TestMapOrderAuthorAndTimes(t *testing.T) {
	base := Order{OrderID: "1", PaySuccessTime: "2023-01-01 08:00:00"}
	tests := []struct {
		name    string
		mod     func(*Order)
		check   func(events.Order) bool
		explain string
	}{
		{"openid wins", func(o *Order) { o.AuthorOpenID, o.AuthorBuyinID, o.AuthorShortID = "open", "buyin", "short" },
			func(e events.Order) bool { return e.AuthorID == "open" }, "author_id = author_openid"},
		{"buyin next", func(o *Order) { o.AuthorBuyinID, o.AuthorShortID = "buyin", "short" },
			func(e events.Order) bool { return e.AuthorID == "buyin" }, "author_id = author_buyin_id"},
		{"short last", func(o *Order) { o.AuthorOpenID, o.AuthorShortID = " ", "short" },
			func(e events.Order) bool { return e.AuthorID == "short" }, "author_id = author_short_id"},
		{"CST to UTC", func(*Order) {},
			func(e events.Order) bool {
				return e.PaidAt.Equal(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)) && e.PaidAt.Location() == time.UTC
			},
			"paid_at 08:00 CST = 00:00 UTC"},
		{"no update_time: version from paid", func(*Order) {},
			func(e events.Order) bool { return e.UpdatedAt.Equal(e.PaidAt) && e.Version == e.PaidAt.UnixMilli() }, "updated_at = paid_at"},
		{"no update_time: latest other time", func(o *Order) { o.ConfirmTime, o.SettleTime = "2023-01-05 00:00:00", "2023-01-04 00:00:00" },
			func(e events.Order) bool { return e.UpdatedAt.Equal(*e.ReceivedAt) }, "updated_at = confirm_time (latest)"},
		{"empty optional times are nil", func(o *Order) { o.ConfirmTime, o.SettleTime, o.RefundTime = "", " ", "0000-00-00 00:00:00" },
			func(e events.Order) bool { return e.ReceivedAt == nil && e.SettledAt == nil && e.RefundedAt == nil }, "nil times"},
		{"update_time later than every other time is the version", func(o *Order) { o.UpdateTime = "2023-01-02 07:59:59" },
			func(e events.Order) bool {
				return e.Version == time.Date(2023, 1, 1, 23, 59, 59, 0, time.UTC).UnixMilli()
			}, "version = update_time"},
		{"update_time older than another time: the latest time is the version", func(o *Order) { o.UpdateTime = "2023-01-01 07:59:59" },
			func(e events.Order) bool { return e.UpdatedAt.Equal(e.PaidAt) && e.Version == e.PaidAt.UnixMilli() }, "version = paid_at, not the older update_time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			tc.mod(&o)
			e, _, err := MapOrder("a", o, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(e) {
				t.Errorf("want %s; got %+v", tc.explain, e)
			}
		})
	}
}

func TestMapOrderMalformed(t *testing.T) {
	good := func() Order {
		return Order{OrderID: "42", PaySuccessTime: "2023-01-01 00:00:00", FlowPoint: "PAY_SUCC"}
	}
	tests := []struct {
		name    string
		account string
		mod     func(*Order)
		wantErr string
	}{
		{"missing order_id", "a", func(o *Order) { o.OrderID = "" }, "without order_id"},
		{"blank order_id", "a", func(o *Order) { o.OrderID = "  " }, "without order_id"},
		{"order_id with slash", "a", func(o *Order) { o.OrderID = "4/2" }, "order_id"},
		{"missing pay_success_time", "a", func(o *Order) { o.PaySuccessTime = "" }, "missing pay_success_time"},
		{"bad time layout", "a", func(o *Order) { o.PaySuccessTime = "2023/01/01 00:00:00" }, "pay_success_time"},
		{"bad optional time", "a", func(o *Order) { o.SettleTime = "yesterday" }, "settle_time"},
		{"time before 1970", "a", func(o *Order) { o.UpdateTime = "1969-12-31 23:00:00" }, "update_time"},
		{"negative item_num", "a", func(o *Order) { o.ItemNum = -1 }, "item_num is negative"},
		{"negative total_pay_amount", "a", func(o *Order) { o.TotalPayAmount = -1 }, "total_pay_amount is negative"},
		{"negative commission_rate", "a", func(o *Order) { o.CommissionRate = -1 }, "commission_rate is negative"},
		{"empty account", "", func(*Order) {}, "no account"},
		{"account with newline", "a\nb", func(*Order) {}, "control characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := good()
			tc.mod(&o)
			_, _, err := MapOrder(tc.account, o, time.Time{})
			if !errors.Is(err, vendors.ErrMalformedPage) {
				t.Fatalf("err = %v, want ErrMalformedPage", err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %q, want containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestNormalizeErrors(t *testing.T) {
	tests := []struct {
		name    string
		page    events.RawPage
		wantIs  error
		wantErr string
	}{
		{"vendor error envelope", rawPage(readTestdata(t, "error_vekey.json")), vendors.ErrVendorError, "10001"},
		{"numeric vendor error", rawPage(readTestdata(t, "error_numeric.json")), vendors.ErrVendorError, "4003"},
		{"truncated page", rawPage(readTestdata(t, "doc_sample.json")[:300]), vendors.ErrMalformedPage, ""},
		{"second order lacks pay time", rawPage([]byte(`{"error":"0","data":{"orders":[
			{"order_id":"1","pay_success_time":"2023-01-01 00:00:00"},
			{"order_id":"2","pay_success_time":null}]}}`)), vendors.ErrMalformedPage, "data.orders[1]: malformed vendor page: order 2: missing pay_success_time"},
		{"order without id", rawPage([]byte(`{"error":"0","data":{"orders":[{"pay_success_time":"2023-01-01 00:00:00"}]}}`)), vendors.ErrMalformedPage, "data.orders[0]"},
		{"no account", func() events.RawPage { p := rawPage(readTestdata(t, "doc_sample.json")); p.Account = ""; return p }(), vendors.ErrMalformedPage, "no account"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			envs, err := Normalize(tc.page)
			if !errors.Is(err, tc.wantIs) {
				t.Fatalf("err = %v, want %v", err, tc.wantIs)
			}
			if envs != nil {
				t.Errorf("got %d envelopes with an error", len(envs))
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %q, want containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestNormalizeEmptyPages(t *testing.T) {
	for _, name := range []string{"empty.json", "data_null.json"} {
		envs, err := Normalize(rawPage(readTestdata(t, name)))
		if err != nil || len(envs) != 0 {
			t.Errorf("%s: %d envelopes, err %v; want none, nil", name, len(envs), err)
		}
	}
}

func TestDeterministicIDs(t *testing.T) {
	body := readTestdata(t, "lifecycle.json")
	a, err := Normalize(rawPage(body))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Normalize(rawPage(bytes.Clone(body)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("normalizing the same page twice gave different envelopes")
	}
	ids := map[string]bool{}
	for _, e := range a {
		if ids[e.ID] {
			t.Errorf("duplicate ID %s (%s)", e.ID, e.Subject)
		}
		ids[e.ID] = true
	}

	// Same state, other metadata (fetch time, cursor, a cosmetic field): same IDs.
	p := rawPage(bytes.Replace(body, []byte("测试商品"), []byte("改名商品"), 1))
	p.FetchedAt = p.FetchedAt.Add(time.Hour)
	p.Cursor = "99"
	c, err := Normalize(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i].ID != c[i].ID {
			t.Errorf("envelope %d (%s): ID changed without a new update_time", i, a[i].Subject)
		}
	}

	// A newer update_time (the vendor's version) changes the IDs of that order only.
	changed := bytes.Replace(body, []byte(`"2023-03-05 12:00:01"`), []byte(`"2023-03-06 12:00:01"`), 1)
	d, err := Normalize(rawPage(changed))
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if i < 5 {
			if a[i].ID == d[i].ID {
				t.Errorf("envelope %d (%s): ID kept after update_time changed", i, a[i].Subject)
			}
		} else if a[i].ID != d[i].ID {
			t.Errorf("envelope %d (%s): ID of an unchanged order changed", i, a[i].Subject)
		}
	}
}

func TestVendor(t *testing.T) {
	v := New()
	if v.Name() != "douke" || v.Endpoint() != "kol_orderads" || v.MaxWindow() != 90*24*time.Hour {
		t.Errorf("vendor = %s/%s/%s", v.Name(), v.Endpoint(), v.MaxWindow())
	}
	f, err := v.NewFetcher(vendors.SourceConfig{Account: "a"})
	if err == nil || f != nil {
		t.Errorf("NewFetcher without vekey = %v (%v), want nil interface and error", f, err)
	}
	f, err = v.NewFetcher(vendors.SourceConfig{Account: "a", Credentials: map[string]string{"vekey": "k"}})
	if err != nil || f == nil {
		t.Errorf("NewFetcher = %v, %v", f, err)
	}
	envs, err := v.Normalize(rawPage(readTestdata(t, "doc_sample.json")))
	if err != nil || len(envs) != 5 {
		t.Errorf("Normalize = %d envelopes, %v", len(envs), err)
	}
}

// TestUnsafeIntegerCostsOnlyItsRecord checks issue 13 point 4 for vendor
// amounts: an order whose total_pay_amount is beyond 2^53−1 is a bad
// record of its own (a JavaScript subscriber would read another amount);
// its neighbours map.
func TestUnsafeIntegerCostsOnlyItsRecord(t *testing.T) {
	body := []byte(`{"error":"0","data":{"orders":[
		{"order_id":"1","pay_success_time":"2023-01-01 00:00:00","flow_point":"PAY_SUCC","total_pay_amount":9007199254740991},
		{"order_id":"2","pay_success_time":"2023-01-01 00:00:00","flow_point":"PAY_SUCC","total_pay_amount":9007199254740993},
		{"order_id":"3","pay_success_time":"2023-01-01 00:00:00","flow_point":"PAY_SUCC","total_pay_amount":100}]}}`)
	recs, err := vendors.NormalizeCarriedRecords(New(), rawPage(body))
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	for i, r := range recs {
		if bad := r.Err != nil; bad != (i == 1) {
			t.Fatalf("record %d: err = %v", i, r.Err)
		}
	}
	if err := recs[1].Err; !errors.Is(err, vendors.ErrMalformedPage) || !errors.Is(err, events.ErrUnsafeInteger) || !strings.Contains(err.Error(), "paid_fen is 9007199254740993") {
		t.Fatalf("record 1: err = %v; want ErrMalformedPage and ErrUnsafeInteger naming paid_fen", err)
	}
}
