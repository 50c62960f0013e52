// Package vendorsandbox assembles the vendor sandbox with every vendor
// protocol yongjin ships, the demo accounts, and the poller sources that
// cover those accounts' data. The sandbox command, the dev stack and the
// end-to-end tests all use it, so they serve and poll the same thing.
package vendorsandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	doukesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/douke"
	csjsandbox "github.com/yongjin-dev/yongjin/internal/sandbox/doukecsj"
	douyinpoisandbox "github.com/yongjin-dev/yongjin/internal/sandbox/douyinpoi"
	taobaolivesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/taobaolive"
	xingtusandbox "github.com/yongjin-dev/yongjin/internal/sandbox/xingtu"
)

// Handlers are the sandbox protocols of every shipped vendor.
func Handlers() []sandbox.VendorHandler {
	return []sandbox.VendorHandler{doukesandbox.Handler{}, taobaolivesandbox.Handler{}, douyinpoisandbox.NewHandler(), xingtusandbox.Handler{}, csjsandbox.Handler{}}
}

// NewServer builds a sandbox serving every vendor of cfg.Accounts' vendors
// (all shipped vendors are mounted).
func NewServer(cfg sandbox.Config) (*sandbox.Server, error) {
	return sandbox.NewServer(cfg, Handlers()...)
}

// DemoAccount is the account label every demo account uses.
const DemoAccount = "demo"

// DemoAccounts are one account per shipped vendor with the given credential
// suffix (tests pass sentinel values to prove secrets never leak).
func DemoAccounts(secretSuffix string) []sandbox.Account {
	return []sandbox.Account{
		doukesandbox.Account(DemoAccount, "vekey-"+secretSuffix),
		taobaolivesandbox.Account(DemoAccount, "appkey-"+secretSuffix, "appsecret-"+secretSuffix, "session-"+secretSuffix),
		douyinpoisandbox.Account(DemoAccount, "clientkey-"+secretSuffix, "clientsecret-"+secretSuffix),
		xingtusandbox.Account(DemoAccount, "token-"+secretSuffix),
		csjsandbox.Account(DemoAccount, "csjvekey-"+secretSuffix),
	}
}

// Sources returns one poller source per account, polling the sandbox at
// baseURL with every credential written to a file under secretDir (the way
// Kubernetes mounts Secrets) and the params that cover the account's data.
// Their windows are set per poll (see Poll in the dev stack).
func Sources(baseURL string, accounts []sandbox.Account, seed int64, secretDir string) ([]poller.Source, error) {
	var out []poller.Source
	for _, a := range accounts {
		src := poller.Source{
			Name: a.Vendor + "-" + a.Name, Vendor: a.Vendor, Account: a.Name, BaseURL: baseURL,
			Credentials:   map[string]poller.CredentialRef{},
			Params:        map[string]string{},
			Lookback:      72 * time.Hour,
			Interval:      time.Minute,
			RatePerSecond: 1000,
		}
		if err := os.MkdirAll(secretDir, 0o700); err != nil {
			return nil, err
		}
		for name, value := range a.Credentials {
			path := filepath.Join(secretDir, a.Vendor+"-"+a.Name+"-"+name)
			if err := os.WriteFile(path, []byte(value+"\n"), 0o600); err != nil {
				return nil, err
			}
			src.Credentials[name] = poller.CredentialRef{File: path}
		}
		switch a.Vendor {
		case "douke", "taobao-live", "douke-csj":
		case "douyin-poi":
			src.Params["spu_ids"] = joinIDs(douyinpoisandbox.SPUs(seed, a.Name))
		case "xingtu":
			src.Params["author_ids"] = joinIDs(xingtusandbox.Authors(seed, a.Name))
			src.Params["periods"] = "DAY_30,DAY_90"
		default:
			return nil, fmt.Errorf("vendorsandbox: no demo source for vendor %q", a.Vendor)
		}
		out = append(out, src)
	}
	return out, nil
}

// ChangeWindow says how to poll src for what changed in (since, now]:
// the range and the vendor time type. Vendors that filter on an update time
// use it with a look-back; Taobao TOP has no update filter, so its whole pay
// range is scanned again; snapshot vendors ignore windows.
func ChangeWindow(src poller.Source, payFrom, since, now time.Time) (from, to time.Time, timeType string) {
	switch src.Vendor {
	case "douke", "douke-csj":
		return since.Add(-time.Hour), now, "update"
	case "taobao-live":
		return payFrom, now, "pay"
	}
	return since, now, ""
}

// InitialWindow says how to poll src for everything paid in [payFrom, now].
func InitialWindow(src poller.Source, payFrom, now time.Time) (from, to time.Time, timeType string) {
	switch src.Vendor {
	case "douke", "taobao-live", "douke-csj":
		return payFrom, now, "pay"
	}
	return payFrom, now, ""
}

func joinIDs(ids []string) string { return strings.Join(ids, ",") }
