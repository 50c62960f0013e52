package taobaolive

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

var readTestdata = vendorstest.ReadTestdata

func rawPage(body []byte) events.RawPage {
	p := vendorstest.RawPage(Name, Endpoint, "1", time.Date(2026, 10, 13, 0, 0, 0, 0, time.UTC), body)
	p.WindowStart, p.WindowEnd, p.TimeType = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 8, 0, 0, 0, 0, time.UTC), "pay"
	return p
}

// TestGolden normalizes the testdata pages and compares the events with the
// golden files (go test -update rewrites them). doc_sample.json is the
// document's response sample: the document shows it only as XML, so the
// file is its JSON equivalent with the same values (the &quot; quotes of the
// XML rendering dropped, documented Number fields as JSON numbers).
func TestGolden(t *testing.T) {
	vendorstest.GoldenNormalize(t, []string{"doc_sample", "lifecycle"}, Normalize, rawPage)
}

func decodeAll(t *testing.T, envs []events.Envelope) ([]*events.Order, [][]*events.CommissionLine) {
	t.Helper()
	vendorstest.OrderEvents(t, envs, 2)
	var orders []*events.Order
	var lines [][]*events.CommissionLine
	for _, e := range envs {
		v, err := events.Decode(e)
		if err != nil {
			t.Fatal(err)
		}
		switch p := v.(type) {
		case *events.Order:
			orders = append(orders, p)
			lines = append(lines, nil)
		case *events.CommissionLine:
			lines[len(lines)-1] = append(lines[len(lines)-1], p)
		}
	}
	return orders, lines
}

func TestDocSampleMapping(t *testing.T) {
	envs, err := Normalize(rawPage(readTestdata(t, "doc_sample.json")))
	vendorstest.Count(t, envs, err, 3) // 1 order + 2 lines
	orders, lines := decodeAll(t, envs)
	o := orders[0]
	at := time.Date(2024, 4, 1, 6, 0, 0, 0, time.UTC) // 14:00 CST
	vendorstest.Checks{
		{"platform", o.Platform, "taobao-live"},
		{"account", o.Account, "demo"},
		{"order_id", o.OrderID, "1234"},
		{"parent_order_id", o.ParentOrderID, "123"},
		{"product_id", o.ProductID, "1234"},
		{"product_name", o.ProductName, "六神花露水"},
		{"author_id", o.AuthorID, "xxx"},
		{"author_name", o.AuthorName, "xxx"},
		{"shop_id", o.ShopID, ""},
		{"channel", o.Channel, "live"},
		{"quantity", o.Quantity, int64(1)},
		{"paid_fen", o.PaidFen, int64(10000)},
		{"estimated_base_fen", o.EstimatedBaseFen, int64(1000)},
		{"settled_base_fen", o.SettledBaseFen, int64(0)},
		{"status (已结束)", o.Status, events.StatusReceived},
		{"vendor_status", o.VendorStatus, "已结束"},
		{"paid_at", o.PaidAt, at},
		{"updated_at", o.UpdatedAt, at},
		{"version", o.Version, at.UnixMilli()},
		{"received_at (end_time empty)", o.ReceivedAt == nil, true},
		{"settled_at", o.SettledAt == nil, true},
		{"refunded_at", o.RefundedAt == nil, true},
		{"subject", envs[0].Subject, "1234"},
		{"source", envs[0].Source, "yongjin/taobao-live/demo"},
		{"creator role", lines[0][0].Role, events.RoleCreator},
		{"creator rate 10%", lines[0][0].RateBP, int64(1000)},
		{"creator estimated", lines[0][0].EstimatedFen, int64(1000)},
		{"creator settled", lines[0][0].SettledFen, int64(0)},
		{"sp role", lines[0][1].Role, events.RoleServiceProvider},
		{"sp rate outerAdUserDivRatio", lines[0][1].RateBP, int64(1000)},
		{"sp estimated", lines[0][1].EstimatedFen, int64(1000)},
		{"sp settled", lines[0][1].SettledFen, int64(0)},
		{"line status", lines[0][1].OrderStatus, events.StatusReceived},
		{"line version", lines[0][1].Version, at.UnixMilli()},
		{"line subject", envs[2].Subject, "1234/service_provider"},
	}.Verify(t)
}

func TestLifecycleMapping(t *testing.T) {
	envs, err := Normalize(rawPage(readTestdata(t, "lifecycle.json")))
	if err != nil {
		t.Fatal(err)
	}
	orders, lines := decodeAll(t, envs)
	cst := func(s string) *time.Time {
		tm, err := time.ParseInLocation(TimeLayout, s, time.FixedZone("", 8*3600))
		if err != nil {
			t.Fatal(err)
		}
		tm = tm.UTC()
		return &tm
	}
	tests := []struct {
		id                    string
		status                events.Status
		vendorStatus          string
		paidFen, baseFen      int64
		received, refunded    *time.Time
		updated               *time.Time
		creatorBP, creator    int64
		spBP, sp              int64
		quantity              int64
		parent, product, nick string
	}{
		{"4737996432465788974", events.StatusPaid, "2", 12990, 12990, nil, nil, cst("2026-10-03 21:15:52"), 2000, 2598, 1000, 259, 2, "4737996432465788970", "712345678901234567", "小鹿带你逛"},
		{"4737996432465788975", events.StatusReceived, "订单已确认收货", 1250, 1250, cst("2026-10-05 09:00:00"), nil, cst("2026-10-05 09:00:31"), 1050, 7, 500, 0, 1, "4737996432465788970", "712345678901234568", "阿橙说美食"},
		{"4737996432465788976", events.StatusCancelled, "订单售中退款关闭", 5900, 5900, nil, cst("2026-10-04 10:30:00"), cst("2026-10-04 10:30:45"), 1500, 0, 0, 0, 1, "", "712345678901234569", "大猫爱生活"},
		{"4737996432465788977", events.StatusRefunded, "5", 8880, 8880, cst("2026-10-06 12:00:00"), cst("2026-10-12 11:00:00"), cst("2026-10-12 11:00:09"), 1234, 0, 0, 0, 3, "", "712345678901234570", "甜豆豆"},
		// modify_time empty: UpdatedAt falls back to the latest time (end_time)
		{"4737996432465788978", events.StatusReceived, "已结束", 4500, 4000, cst("2026-10-08 10:00:00"), nil, cst("2026-10-08 10:00:00"), 1000, 400, 0, 40, 1, "", "712345678901234571", "酷星星"},
		{"4737996432465788979", events.StatusUnknown, "风控冻结", 19900, 19900, nil, nil, cst("2026-10-06 10:01:00"), 0, 1990, 0, 199, 0, "", "712345678901234572", ""},
	}
	if len(orders) != len(tests) {
		t.Fatalf("%d orders, want %d", len(orders), len(tests))
	}
	eqTime := func(a, b *time.Time) bool { return (a == nil && b == nil) || (a != nil && b != nil && a.Equal(*b)) }
	for i, tc := range tests {
		o, l := orders[i], lines[i]
		if o.OrderID != tc.id || o.Status != tc.status || o.VendorStatus != tc.vendorStatus || o.PaidFen != tc.paidFen ||
			o.EstimatedBaseFen != tc.baseFen || o.Quantity != tc.quantity || o.ParentOrderID != tc.parent || o.ProductID != tc.product ||
			o.AuthorName != tc.nick || o.AuthorID != tc.nick {
			t.Errorf("order %d: %+v", i, o)
		}
		if !eqTime(o.ReceivedAt, tc.received) || !eqTime(o.RefundedAt, tc.refunded) || o.SettledAt != nil || !o.UpdatedAt.Equal(*tc.updated) {
			t.Errorf("order %d times: received %v refunded %v updated %v", i, o.ReceivedAt, o.RefundedAt, o.UpdatedAt)
		}
		if o.Version != tc.updated.UnixMilli() {
			t.Errorf("order %d version %d", i, o.Version)
		}
		if len(l) != 2 || l[0].Role != events.RoleCreator || l[1].Role != events.RoleServiceProvider {
			t.Fatalf("order %d lines %+v", i, l)
		}
		if l[0].RateBP != tc.creatorBP || l[0].EstimatedFen != tc.creator || l[1].RateBP != tc.spBP || l[1].EstimatedFen != tc.sp {
			t.Errorf("order %d lines: creator %d bp %d fen, sp %d bp %d fen", i, l[0].RateBP, l[0].EstimatedFen, l[1].RateBP, l[1].EstimatedFen)
		}
		for _, x := range l {
			if x.SettledFen != 0 || x.OrderStatus != tc.status || x.Version != o.Version || !x.PaidAt.Equal(o.PaidAt) {
				t.Errorf("order %d line %s: %+v", i, x.Role, x)
			}
		}
	}
}

func TestMapStatus(t *testing.T) {
	tests := map[string]events.Status{
		"2": events.StatusPaid, "订单已支付": events.StatusPaid, "已支付": events.StatusPaid, " PAID_DONE ": events.StatusPaid,
		"3": events.StatusReceived, "订单已确认收货": events.StatusReceived, "已确认收货": events.StatusReceived, "FINISH_SETTLE": events.StatusReceived, "已结束": events.StatusReceived,
		"4": events.StatusCancelled, "订单售中退款关闭": events.StatusCancelled, "REFUND_CLOSE": events.StatusCancelled,
		"5": events.StatusRefunded, "订单有退款": events.StatusRefunded, "CANCEL": events.StatusRefunded,
		"": events.StatusUnknown, "-1": events.StatusUnknown, "1": events.StatusUnknown, "已关闭": events.StatusUnknown, "paid": events.StatusUnknown,
	}
	for in, want := range tests {
		if got := MapStatus(in); got != want {
			t.Errorf("MapStatus(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestMapOrderRejects(t *testing.T) {
	base := func() Order {
		return Order{BizOrderID: "1", OrderPaidTime: "2026-10-01 00:00:00", OrderStatus: "2"}
	}
	tests := []struct {
		name    string
		account string
		mod     func(*Order)
		want    string
	}{
		{"no account", "", nil, "no account label"},
		{"control in account", "a\nb", nil, "control characters"},
		{"no id", "demo", func(o *Order) { o.BizOrderID = " " }, "without biz_order_id"},
		{"bad id", "demo", func(o *Order) { o.BizOrderID = "12/34" }, "want only [0-9A-Za-z_-]"},
		{"no pay time", "demo", func(o *Order) { o.OrderPaidTime = "" }, "missing order_paid_time"},
		{"bad pay time", "demo", func(o *Order) { o.OrderPaidTime = "2026/10/01" }, "order_paid_time"},
		{"bad modify time", "demo", func(o *Order) { o.ModifyTime = "yesterday" }, "modify_time"},
		{"bad end time", "demo", func(o *Order) { o.EndTime = "2026-13-01 00:00:00" }, "end_time"},
		{"before 1970", "demo", func(o *Order) { o.OrderPaidTime = "1969-12-31 23:59:59" }, "before 1970"},
		{"negative amount", "demo", func(o *Order) { o.OrderAmount = -1 }, "order_amount is negative"},
		{"negative base", "demo", func(o *Order) { o.OrderCommissionAmount = -1 }, "order_commission_amount is negative"},
		{"negative quantity", "demo", func(o *Order) { o.BuyAmount = -2 }, "buy_amount is negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := base()
			if tc.mod != nil {
				tc.mod(&o)
			}
			_, _, err := MapOrder(tc.account, o, time.Time{})
			if !errors.Is(err, vendors.ErrMalformedPage) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrMalformedPage containing %q", err, tc.want)
			}
		})
	}
	// the zero time and a negative line amount are accepted
	o := base()
	o.EndTime, o.PredictAmount = "0000-00-00 00:00:00", -5
	if _, lines, err := MapOrder("demo", o, time.Time{}); err != nil || lines[0].EstimatedFen != -5 {
		t.Fatalf("MapOrder: %v %+v", err, lines)
	}
}

func TestNormalizeErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
		text string
	}{
		{"api error", string(readTestdata(t, "error_sample.json")), vendors.ErrVendorError, "isv.invalid-parameter"},
		{"business failure", string(readTestdata(t, "business_failure.json")), vendors.ErrVendorError, "参数错误"},
		{"garbage", "<html>", vendors.ErrMalformedPage, "want a JSON object"},
		{"element without id", `{"result":{"success":true,"model":{"elements":[{"biz_order_id":"1","order_paid_time":"2026-10-01 00:00:00"},{"order_paid_time":"2026-10-01 00:00:00"}]}}}`, vendors.ErrMalformedPage, "elements[1]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			envs, err := Normalize(rawPage([]byte(tc.body)))
			if envs != nil || !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("Normalize = %d envelopes, %v; want %v containing %q", len(envs), err, tc.want, tc.text)
			}
		})
	}
	envs, err := Normalize(rawPage(readTestdata(t, "empty.json")))
	if err != nil || len(envs) != 0 {
		t.Fatalf("empty page: %d envelopes, %v", len(envs), err)
	}
}

// Every TOP money field reaches the canonical model: a partial after-sale
// refund of 12.50 yuan on a 1,234.56 yuan order is RefundedFen 1250 next to
// PaidFen 123456, predict_total_amount is EstimatedTotalCommissionFen, and the
// service provider's fee is its line's EstimatedFen.
func TestMapOrderMoneyFields(t *testing.T) {
	o := Order{
		BizOrderID: "4737996432465788977", OrderStatus: "5",
		OrderPaidTime: "2026-10-04 09:00:00", ModifyTime: "2026-10-12 11:00:09",
		EndTime: "2026-10-06 12:00:00", RefundEndTime: "2026-10-12 11:00:00",
		OrderAmount: 123456, OrderCommissionAmount: 120000, PredictAmount: 24000,
		RefundAmount: 1250, PredictTotalAmount: 36000, OutAdUserFee: 2400, BuyAmount: 1,
	}
	ord, lines, err := MapOrder("main", o, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if ord.PaidFen != 123456 || ord.RefundedFen != 1250 || ord.EstimatedTotalCommissionFen != 36000 || ord.EstimatedBaseFen != 120000 {
		t.Errorf("order money: paid %d refunded %d total commission %d base %d", ord.PaidFen, ord.RefundedFen, ord.EstimatedTotalCommissionFen, ord.EstimatedBaseFen)
	}
	if lines[0].EstimatedFen != 24000 || lines[1].Role != "service_provider" || lines[1].EstimatedFen != 2400 {
		t.Errorf("lines: %+v", lines)
	}
	o.RefundAmount = -1
	if _, _, err := MapOrder("main", o, time.Time{}); err == nil || !strings.Contains(err.Error(), "refund_amount") {
		t.Errorf("negative refund_amount: %v", err)
	}
}
