package xingtu_test

import (
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	xingtusandbox "github.com/yongjin-dev/yongjin/internal/sandbox/xingtu"
	"github.com/yongjin-dev/yongjin/internal/vendortest"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/xingtu"
)

func TestConformance(t *testing.T) {
	cfg := sandbox.DefaultConfig()
	cfg.Orders = 0 // the order model is not used by this vendor
	cfg.Accounts = []sandbox.Account{
		xingtusandbox.Account("main", "conformance-token-1"),
		xingtusandbox.Account("second", "conformance-token-2"),
	}
	vendortest.Run(t, vendortest.Harness{
		Vendor:  xingtu.New(),
		Handler: xingtusandbox.Handler{},
		Sandbox: cfg,
		Source: func(baseURL string, acct sandbox.Account) vendors.SourceConfig {
			return vendors.SourceConfig{
				BaseURL:     baseURL,
				Credentials: map[string]string{xingtu.CredToken: acct.Credentials[xingtusandbox.Credential]},
				Params: map[string]string{
					xingtu.ParamAuthorIDs: strings.Join(xingtusandbox.Authors(cfg.Seed, acct.Name), ","),
					xingtu.ParamPeriods:   strings.Join(xingtusandbox.Periods, ","),
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
