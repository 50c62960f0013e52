package doukecsj

import (
	"errors"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

func rawPage(body []byte) events.RawPage {
	p := vendorstest.RawPage(Name, Endpoint, "0", time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), body)
	p.WindowStart, p.WindowEnd, p.TimeType = time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), "update"
	return p
}

func TestGolden(t *testing.T) {
	vendorstest.GoldenNormalize(t, []string{"doc_sample", "lifecycle", "empty"}, Normalize, rawPage)
}

func TestDocSampleMapping(t *testing.T) {
	envs, err := Normalize(rawPage(vendorstest.ReadTestdata(t, "doc_sample.json")))
	if err != nil {
		t.Fatal(err)
	}
	vendorstest.OrderEvents(t, envs, 2)
	o := vendorstest.DecodeAs[events.Order](t, envs[0])
	vendorstest.Checks{
		{"platform", o.Platform, "douke-csj"},
		{"order_id", o.OrderID, "6924118276510957186"},
		{"shop_id (a JSON number)", o.ShopID, "24518371"},
		{"status", o.Status, events.StatusPaid},
		{"paid_at", o.PaidAt, time.Date(2024, 3, 3, 8, 21, 42, 0, time.UTC)},
		{"updated_at", o.UpdatedAt, time.Date(2024, 3, 3, 8, 21, 52, 0, time.UTC)},
		{"paid_fen", o.PaidFen, int64(9900)},
		{"lines", len(o.CommissionLines), 2},
		{"creator rate", o.CommissionLines[0].RateBP, int64(1500)},
		{"creator estimated", o.CommissionLines[0].EstimatedFen, int64(1485)},
		{"platform fee", o.CommissionLines[1].EstimatedFen, int64(99)},
	}.Verify(t)
}

func TestLifecycleMapping(t *testing.T) {
	envs, err := Normalize(rawPage(vendorstest.ReadTestdata(t, "lifecycle.json")))
	if err != nil {
		t.Fatal(err)
	}
	vendorstest.OrderEvents(t, envs, 2)
	var got []events.Status
	for i := 0; i < len(envs); i += 3 {
		v, err := events.Decode(envs[i])
		if err != nil {
			t.Fatal(err)
		}
		o := v.(*events.Order)
		got = append(got, o.Status)
		switch o.Status {
		case events.StatusSettled:
			if o.ShopID != "24518372" || o.CommissionLines[0].SettledFen != 5000 || o.SettledBaseFen != 25000 {
				t.Errorf("settled order %+v", o)
			}
		case events.StatusRefunded:
			if o.RefundedFen != o.PaidFen || o.RefundedAt == nil {
				t.Errorf("refunded order %+v", o)
			}
		case events.StatusReceived:
			// no update_time: the version is the latest event time (confirm_time)
			if want := time.Date(2024, 3, 4, 4, 0, 0, 0, time.UTC); !o.UpdatedAt.Equal(want) || o.Quantity != 3 {
				t.Errorf("received order updated %s quantity %d", o.UpdatedAt, o.Quantity)
			}
		}
	}
	if len(got) != 3 || got[0] != events.StatusSettled || got[1] != events.StatusRefunded || got[2] != events.StatusReceived {
		t.Fatalf("statuses %v", got)
	}
}

func TestNormalizeErrors(t *testing.T) {
	if _, err := Normalize(rawPage(vendorstest.ReadTestdata(t, "error_vekey.json"))); !errors.Is(err, vendors.ErrVendorError) {
		t.Fatalf("vendor error page: %v", err)
	}
	recs, err := New().NormalizeRecords(rawPage([]byte(`{"error":"0","data":{"cursor":"","orders":[
		{"order_id":"1","pay_success_time":"2024-03-01 00:00:00"},{"order_id":"2"},{"order_id":"3","pay_success_time":"2024-03-01 00:00:00","item_num":12.5}]}}`)))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0].Err != nil || len(recs[0].Events) != 3 || !errors.Is(recs[1].Err, vendors.ErrMalformedPage) || !errors.Is(recs[2].Err, vendors.ErrMalformedPage) {
		t.Fatalf("records %+v", recs)
	}
	carried, err := New().NormalizeCarriedRecords(rawPage(vendorstest.ReadTestdata(t, "doc_sample.json")))
	if err != nil || len(carried) != 1 || len(carried[0].Events) != 1 {
		t.Fatalf("carried records %+v, %v", carried, err)
	}
	if _, err := Normalize(events.RawPage{Body: vendorstest.ReadTestdata(t, "doc_sample.json")}); !errors.Is(err, vendors.ErrMalformedPage) {
		t.Fatalf("no account: %v", err)
	}
}
