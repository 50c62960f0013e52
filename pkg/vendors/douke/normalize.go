package douke

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// TimeLayout is the layout of every veapi time value (China Standard Time).
const TimeLayout = "2006-01-02 15:04:05"

// cst is China Standard Time (Asia/Shanghai, UTC+8 without daylight saving),
// the zone of every veapi time. A fixed zone avoids a tzdata dependency.
var cst = time.FixedZone("CST", 8*3600)

// Normalize maps one raw kol_OrderAds page to canonical events: for each order
// in vendor order, its order.v1 envelope followed by its four commission.v1
// envelopes (creator, live_channel, shop, platform_fee). It is pure: the same
// page always yields the same envelopes. A vendor error envelope returns an
// error wrapping vendors.ErrVendorError; an undecodable page, an order MapOrder
// rejects or a raw page without an account label returns an error wrapping
// vendors.ErrMalformedPage (naming the order's index and the reason).
func Normalize(p events.RawPage) ([]events.Envelope, error) {
	if err := checkAccount(p.Account); err != nil {
		return nil, fmt.Errorf("douke normalize: %w", err)
	}
	page, err := DecodePage(p.Body)
	if err != nil {
		return nil, fmt.Errorf("douke normalize: %w", err)
	}
	out := make([]events.Envelope, 0, 5*len(page.Orders))
	for i, o := range page.Orders {
		ord, lines, err := MapOrder(p.Account, o)
		if err != nil {
			return nil, fmt.Errorf("douke normalize: data.orders[%d]: %w", i, err)
		}
		env, err := ord.Envelope()
		if err != nil {
			return nil, fmt.Errorf("douke normalize: data.orders[%d]: %w: %v", i, vendors.ErrMalformedPage, err)
		}
		out = append(out, env)
		for _, l := range lines {
			env, err := l.Envelope()
			if err != nil {
				return nil, fmt.Errorf("douke normalize: data.orders[%d]: %w: %v", i, vendors.ErrMalformedPage, err)
			}
			out = append(out, env)
		}
	}
	return out, nil
}

// MapOrder maps one wire order of account to its canonical Order and its four
// CommissionLines, always in the order creator, live_channel, shop,
// platform_fee (a role the vendor gives no amount for gets a zero line, so a
// line's existence never depends on the order's state).
//
// Rules: flow_point PAY_SUCC/CONFIRM/SETTLE/REFUND → paid/received/settled/
// refunded, anything else → unknown (VendorStatus keeps it verbatim). Times are
// parsed as China Standard Time and stored in UTC; null, "" or
// "0000-00-00 00:00:00" means "not yet" (nil). UpdatedAt is update_time or, when
// that is empty, the latest of the other times; Version is UpdatedAt in Unix
// milliseconds. AuthorID is author_openid, else author_buyin_id, else
// author_short_id. Rates (×10000) are basis points as they are.
//
// It returns an error wrapping vendors.ErrMalformedPage when account is empty,
// order_id is missing or not [0-9A-Za-z_-]+, pay_success_time is missing, a
// time does not parse or lies before 1970, or a quantity, base amount or rate
// is negative.
func MapOrder(account string, o Order) (events.Order, []events.CommissionLine, error) {
	if err := checkAccount(account); err != nil {
		return events.Order{}, nil, err
	}
	id := strings.TrimSpace(string(o.OrderID))
	if id == "" {
		return events.Order{}, nil, malformed("order without order_id")
	}
	if !validKey(id) {
		return events.Order{}, nil, malformed("order_id %q: want only [0-9A-Za-z_-]", clip(id, 40))
	}
	bad := func(format string, args ...any) error {
		return malformed("order %s: %s", id, fmt.Sprintf(format, args...))
	}

	var times [5]*time.Time
	for i, f := range []struct {
		name string
		v    FlexString
	}{
		{"pay_success_time", o.PaySuccessTime},
		{"update_time", o.UpdateTime},
		{"confirm_time", o.ConfirmTime},
		{"settle_time", o.SettleTime},
		{"refund_time", o.RefundTime},
	} {
		t, err := parseTime(f.v)
		if err != nil {
			return events.Order{}, nil, bad("%s: %v", f.name, err)
		}
		times[i] = t
	}
	paid, updated, received, settled, refunded := times[0], times[1], times[2], times[3], times[4]
	if paid == nil {
		return events.Order{}, nil, bad("missing pay_success_time")
	}
	if updated == nil {
		latest := *paid
		for _, t := range []*time.Time{received, settled, refunded} {
			if t != nil && t.After(latest) {
				latest = *t
			}
		}
		updated = &latest
	}

	for _, f := range []struct {
		name string
		v    FlexInt
	}{
		{"item_num", o.ItemNum},
		{"total_pay_amount", o.TotalPayAmount},
		{"pay_goods_amount", o.PayGoodsAmount},
		{"settled_goods_amount", o.SettledGoodsAmount},
		{"commission_rate", o.CommissionRate},
		{"ads_promotion_rate", o.AdsPromotionRate},
	} {
		if f.v < 0 {
			return events.Order{}, nil, bad("%s is negative (%d)", f.name, f.v)
		}
	}

	status := mapStatus(string(o.FlowPoint))
	version := updated.UnixMilli()
	ord := events.Order{
		Platform:         Name,
		Account:          account,
		OrderID:          id,
		ProductID:        string(o.ProductID),
		ProductName:      string(o.ProductName),
		ShopID:           string(o.ShopID),
		ShopName:         string(o.ShopName),
		AuthorID:         firstNonEmpty(string(o.AuthorOpenID), string(o.AuthorBuyinID), string(o.AuthorShortID)),
		AuthorName:       string(o.AuthorAccount),
		BuyerOpenID:      string(o.BuyerOpenID),
		Channel:          string(o.PIDInfo.MediaTypeName),
		Quantity:         int64(o.ItemNum),
		Currency:         events.CurrencyCNY,
		PaidFen:          int64(o.TotalPayAmount),
		EstimatedBaseFen: int64(o.PayGoodsAmount),
		SettledBaseFen:   int64(o.SettledGoodsAmount),
		Status:           status,
		VendorStatus:     string(o.FlowPoint),
		PaidAt:           *paid,
		UpdatedAt:        *updated,
		ReceivedAt:       received,
		SettledAt:        settled,
		RefundedAt:       refunded,
		Version:          version,
	}
	line := func(role events.Role, rate, est, settled FlexInt) events.CommissionLine {
		return events.CommissionLine{
			Platform:     Name,
			Account:      account,
			OrderID:      id,
			Role:         role,
			RateBP:       int64(rate),
			Currency:     events.CurrencyCNY,
			EstimatedFen: int64(est),
			SettledFen:   int64(settled),
			OrderStatus:  status,
			PaidAt:       *paid,
			UpdatedAt:    *updated,
			Version:      version,
		}
	}
	lines := []events.CommissionLine{
		line(events.RoleCreator, o.CommissionRate, o.EstimatedCommission, o.RealCommission),
		line(events.RoleLiveChannel, o.AdsPromotionRate, o.AdsEstimatedCommission, o.AdsRealCommission),
		line(events.RoleShop, 0, o.ShopEstimatedCommission, o.ShopRealCommission),
		line(events.RolePlatformFee, 0, o.EstimatedTechServiceFee, o.SettledTechServiceFee),
	}
	return ord, lines, nil
}

// mapStatus maps a flow_point to the common life cycle.
func mapStatus(flowPoint string) events.Status {
	switch strings.ToUpper(strings.TrimSpace(flowPoint)) {
	case "PAY_SUCC":
		return events.StatusPaid
	case "CONFIRM":
		return events.StatusReceived
	case "SETTLE":
		return events.StatusSettled
	case "REFUND":
		return events.StatusRefunded
	}
	return events.StatusUnknown
}

var unixEpoch = time.Unix(0, 0)

// parseTime parses a veapi time (CST) to UTC; empty values give nil.
func parseTime(v FlexString) (*time.Time, error) {
	s := strings.TrimSpace(string(v))
	if s == "" || s == "0000-00-00 00:00:00" {
		return nil, nil
	}
	t, err := time.ParseInLocation(TimeLayout, s, cst)
	if err != nil {
		return nil, fmt.Errorf("%q is not a %q time", clip(s, 40), TimeLayout)
	}
	if t.Before(unixEpoch) {
		return nil, fmt.Errorf("%q is before 1970", s)
	}
	t = t.UTC()
	return &t, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// validKey reports whether s matches the order_id pattern [0-9A-Za-z_-]+.
func validKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// checkAccount rejects an account label that cannot appear in an event source.
func checkAccount(account string) error {
	if account == "" {
		return malformed("raw page has no account label")
	}
	if strings.ContainsFunc(account, unicode.IsControl) {
		return malformed("account label %q contains control characters", clip(account, 40))
	}
	return nil
}
