package doukecsj_test

import (
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	csjsandbox "github.com/yongjin-dev/yongjin/internal/sandbox/doukecsj"
	"github.com/yongjin-dev/yongjin/internal/vendortest"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/doukecsj"
)

func TestConformance(t *testing.T) {
	cfg := sandbox.DefaultConfig()
	cfg.Orders = 300
	cfg.Accounts = []sandbox.Account{csjsandbox.Account("main", "conformance-vekey-1"), csjsandbox.Account("second", "conformance-vekey-2")}
	var windows []vendors.Window
	for s := cfg.From; s.Before(cfg.To); s = s.Add(30 * 24 * time.Hour) {
		windows = append(windows, vendors.Window{Start: s, End: s.Add(30*24*time.Hour - time.Second), TimeType: "pay"})
	}
	vendortest.Run(t, vendortest.Harness{
		Vendor:  doukecsj.New(),
		Handler: csjsandbox.Handler{},
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
