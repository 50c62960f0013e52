package doukecsj

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

const testVekey = "csj-test-vekey-0001"

var (
	winStart = time.Date(2026, 10, 1, 0, 0, 0, 0, wire.CST)
	winEnd   = time.Date(2026, 11, 10, 0, 0, 0, 0, wire.CST)
)

func TestWindowRules(t *testing.T) {
	// nothing listens on port 1: a request would fail, not pass
	f, err := NewFetcher(vendors.SourceConfig{BaseURL: "http://127.0.0.1:1", Credentials: map[string]string{"vekey": testVekey}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		w    vendors.Window
		want string
	}{
		{"end before start", vendors.Window{Start: winEnd, End: winStart}, "before start"},
		{"longer than 90 days", vendors.Window{Start: winStart, End: winStart.Add(MaxWindow + time.Second)}, "spans more than"},
		{"bad time type", vendors.Window{Start: winStart, End: winEnd, TimeType: "confirm"}, "want pay or update"},
	} {
		err := f.Walk(context.Background(), tc.w, func(context.Context, vendors.Page) error { return nil })
		if !errors.Is(err, client.ErrPermanent) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "127.0.0.1") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestNewFetcherRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  vendors.SourceConfig
		want string
	}{
		{"no vekey", vendors.SourceConfig{}, `missing credential "vekey"`},
		{"unknown credential", vendors.SourceConfig{Credentials: map[string]string{"vekey": testVekey, "token": "x"}}, `unknown credential "token"`},
		{"size", vendors.SourceConfig{Credentials: map[string]string{"vekey": testVekey}, PageSize: 51}, "page size 51"},
		{"unknown param", vendors.SourceConfig{Credentials: map[string]string{"vekey": testVekey}, Params: map[string]string{"cursor": "1"}}, `unknown param "cursor"`},
		{"order_type", vendors.SourceConfig{Credentials: map[string]string{"vekey": testVekey}, Params: map[string]string{"order_type": "4"}}, "want 0, 1, 2 or 3"},
		{"time_format", vendors.SourceConfig{Credentials: map[string]string{"vekey": testVekey}, Params: map[string]string{"time_format": "ms"}}, "want datetime or unix"},
		{"order_ids", vendors.SourceConfig{Credentials: map[string]string{"vekey": testVekey}, Params: map[string]string{"order_ids": "1,2,3,4,5,6,7,8,9,10,11"}}, "at most 10"},
		{"vekey in a param", vendors.SourceConfig{Credentials: map[string]string{"vekey": testVekey}, Params: map[string]string{"time_type": testVekey}}, "[REDACTED]"},
	} {
		_, err := NewFetcher(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), testVekey) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
