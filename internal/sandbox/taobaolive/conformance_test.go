package taobaolive_test

import (
	"testing"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	taobaolivesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/taobaolive"
	"github.com/yongjin-dev/yongjin/internal/vendortest"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/taobaolive"
)

// TestConformance runs the shared vendor suite against the Taobao Live
// sandbox: two creators' sessions of one app and one account of another app,
// polled in 7-day pay-time windows from the start of the generated orders up
// to the sandbox clock.
func TestConformance(t *testing.T) {
	cfg := sandbox.DefaultConfig()
	cfg.Orders = 300
	cfg.Accounts = []sandbox.Account{
		taobaolivesandbox.Account("main", "12500001", "conformance-secret-1", "6100conformance-session-1"),
		taobaolivesandbox.Account("second", "12500001", "conformance-secret-1", "6100conformance-session-2"),
		taobaolivesandbox.Account("other-app", "12500002", "conformance-secret-2", "6100conformance-session-3"),
	}
	vendortest.Run(t, vendortest.Harness{
		Vendor:  taobaolive.New(),
		Handler: taobaolivesandbox.Handler{},
		Sandbox: cfg,
		Source: func(baseURL string, acct sandbox.Account) vendors.SourceConfig {
			creds := map[string]string{}
			for k, v := range acct.Credentials {
				creds[k] = v
			}
			return vendors.SourceConfig{BaseURL: baseURL, Credentials: creds}
		},
		Windows: vendors.SplitWindow(cfg.From, cfg.Clock, taobaolive.MaxWindow, "pay"),
		WrongCredentials: func(c vendors.SourceConfig) vendors.SourceConfig {
			creds := map[string]string{}
			for k, v := range c.Credentials {
				creds[k] = v
			}
			creds[taobaolive.CredSession] = "6100expired-session-key"
			c.Credentials = creds
			return c
		},
	})
}
