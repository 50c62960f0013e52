package xingtu_test

import (
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/vendortest"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/xingtu"
)

func TestConformance(t *testing.T) {
	cfg := sandbox.DefaultConfig()
	cfg.Orders = 0 // the order model is not used by this vendor
	cfg.Accounts = []sandbox.Account{
		xingtu.SandboxAccount("main", "conformance-token-1"),
		xingtu.SandboxAccount("second", "conformance-token-2"),
	}
	vendortest.Run(t, vendortest.Harness{
		Vendor:  xingtu.New(),
		Handler: xingtu.SandboxHandler{},
		Sandbox: cfg,
		Source: func(baseURL string, acct sandbox.Account) vendors.SourceConfig {
			return vendors.SourceConfig{
				BaseURL:     baseURL,
				Credentials: map[string]string{xingtu.CredToken: acct.Credentials[xingtu.SandboxCredential]},
				Params: map[string]string{
					xingtu.ParamAuthorIDs: strings.Join(xingtu.SandboxAuthors(cfg.Seed, acct.Name), ","),
					xingtu.ParamPeriods:   strings.Join(xingtu.SandboxPeriods, ","),
				},
			}
		},
		// the endpoint has no window: one window of any extent polls everything
		Windows: []vendors.Window{{Start: cfg.From, End: cfg.Clock}},
		WrongCredentials: func(c vendors.SourceConfig) vendors.SourceConfig {
			c.Credentials = map[string]string{xingtu.CredToken: "wrong-token-123"}
			return c
		},
	})
}
