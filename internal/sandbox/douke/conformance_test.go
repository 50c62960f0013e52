package douke_test

import (
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	doukesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/douke"
	"github.com/yongjin-dev/yongjin/internal/vendortest"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
)

func TestConformance(t *testing.T) {
	cfg := sandbox.DefaultConfig()
	cfg.Orders = 300
	cfg.Accounts = []sandbox.Account{doukesandbox.Account("main", "conformance-vekey-1"), doukesandbox.Account("second", "conformance-vekey-2")}
	var windows []vendors.Window
	for s := cfg.From; s.Before(cfg.To); s = s.Add(10 * 24 * time.Hour) {
		windows = append(windows, vendors.Window{Start: s, End: s.Add(10*24*time.Hour - time.Second), TimeType: "pay"})
	}
	vendortest.Run(t, vendortest.Harness{
		Vendor:  douke.New(),
		Handler: doukesandbox.Handler{},
		Sandbox: cfg,
		Source: func(baseURL string, acct sandbox.Account) vendors.SourceConfig {
			return vendors.SourceConfig{BaseURL: baseURL, Credentials: map[string]string{"vekey": acct.Credentials["vekey"]}}
		},
		Windows: windows,
		WrongCredentials: func(c vendors.SourceConfig) vendors.SourceConfig {
			c.Credentials = map[string]string{"vekey": "wrong-vekey-123"}
			return c
		},
	})
}
