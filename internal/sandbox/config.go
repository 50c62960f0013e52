package sandbox

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// Account is one vendor account the sandbox serves. Each account has its own
// generated orders (Config.Orders of them) and its own credentials.
type Account struct {
	// Vendor is the vendor's short name (e.g. "douke"); it selects the handler.
	Vendor string
	// Name is the account label (not a credential), e.g. "demo".
	Name string
	// Credentials are the secrets the vendor handler accepts for this account,
	// by name (e.g. "vekey"). The sandbox never logs them.
	Credentials map[string]string
}

// Faults configures injected failures on vendor endpoints. Rates are
// probabilities in [0, 1]; ErrorRate5xx+ThrottleRate must not exceed 1. The
// zero value injects nothing. Decisions come from a seeded RNG, one draw per
// request and vendor, so the same request sequence gets the same faults.
type Faults struct {
	// ErrorRate5xx is the share of requests answered with HTTP 502 and an HTML body.
	ErrorRate5xx float64 `json:"error_rate_5xx"`
	// SlowRate is the share of requests delayed by SlowFor before being answered.
	SlowRate float64 `json:"slow_rate"`
	// SlowFor is the delay of a slow request.
	SlowFor time.Duration `json:"slow_for"`
	// ThrottleRate is the share of requests answered with the vendor's
	// rate-limit envelope.
	ThrottleRate float64 `json:"throttle_rate"`
	// MalformedPages is how many malformed pages each vendor whose handler
	// supports it serves: the first MalformedPages successful, non-empty
	// pages of the vendor (counted over the server's life, so raising it
	// later corrupts that many more) carry one record the vendor envelope
	// accepts but yongjin's normalizer must reject. Only those first answers
	// are corrupted: the same query asked again gets the correct page. See
	// Env.Malform and Stats.MalformedPages.
	MalformedPages int `json:"malformed_pages"`
	// DriftedRecords is how many records of each vendor whose handler
	// supports it drift in type, the way a vendor's schema drifts: the first
	// DriftedRecords records served in a successful page (counted over the
	// server's life) carry, every time they are served from then on while
	// the fault stays on (above 0), one field of a type the documented format
	// does not allow (douke: item_num 12.5 in an integer field). The vendor
	// envelope and paging stay valid. The ground truth leaves a drifting
	// record out: no client can take it from the vendor. See Env.Drift and
	// Stats.DriftedRecords.
	DriftedRecords int `json:"drifted_records"`
	// RecordPadding adds this many bytes to every record a supporting vendor
	// serves (douke: an extra member), the way records with long texts make
	// pages large; a page of 20 such records can exceed the NATS payload limit.
	RecordPadding int `json:"record_padding"`
	// FailingItems are snapshot items (Douyin POI SPU IDs, Xingtu author IDs),
	// comma-separated, the vendor answers with its permanent error, as it does
	// for a delisted SPU or an unknown author; the ground truth leaves them
	// out. (A string keeps Faults comparable.)
	FailingItems string `json:"failing_items,omitempty"`
}

// ItemFails reports whether the snapshot item id is one of FailingItems.
func (f Faults) ItemFails(id string) bool {
	for _, x := range strings.Split(f.FailingItems, ",") {
		if strings.TrimSpace(x) == id && id != "" {
			return true
		}
	}
	return false
}

// Validate reports whether the rates are usable.
func (f Faults) Validate() error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"error rate 5xx", f.ErrorRate5xx}, {"slow rate", f.SlowRate}, {"throttle rate", f.ThrottleRate}} {
		if !(r.v >= 0 && r.v <= 1) {
			return fmt.Errorf("sandbox: %s %v outside [0, 1]", r.name, r.v)
		}
	}
	if f.ErrorRate5xx+f.ThrottleRate > 1 {
		return errors.New("sandbox: error rate 5xx + throttle rate exceeds 1")
	}
	if f.SlowFor < 0 {
		return errors.New("sandbox: negative slow duration")
	}
	if f.MalformedPages < 0 || f.DriftedRecords < 0 || f.RecordPadding < 0 {
		return errors.New("sandbox: negative number of malformed pages, drifted records or padding bytes")
	}
	return nil
}

// Config configures the generator and the server.
type Config struct {
	// Seed drives every random choice; the same Config yields the same orders.
	Seed int64
	// Orders is the number of orders generated for each account.
	Orders int
	// From and To bound the pay times: they are spread over [From, To).
	From, To time.Time
	// Clock is the virtual clock's start time; zero means To.
	Clock time.Time
	// Accounts are the served vendor accounts.
	Accounts []Account
	// Faults are the initially injected faults (zero: none).
	Faults Faults
}

// MaxOrders bounds Config.Orders per account.
const MaxOrders = 1_000_000

// DefaultConfig is the demo configuration: seed 1, 2000 orders per account
// paid over October 2026 (CST), clock at 2026-11-10 00:00:00 CST, no
// accounts (add them), no faults.
func DefaultConfig() Config {
	return Config{
		Seed:   1,
		Orders: 2000,
		From:   time.Date(2026, 10, 1, 0, 0, 0, 0, wire.CST),
		To:     time.Date(2026, 11, 1, 0, 0, 0, 0, wire.CST),
		Clock:  time.Date(2026, 11, 10, 0, 0, 0, 0, wire.CST),
	}
}

// Validate reports whether the configuration can be generated.
func (c Config) Validate() error {
	if c.Orders < 0 || c.Orders > MaxOrders {
		return fmt.Errorf("sandbox: orders %d outside [0, %d]", c.Orders, MaxOrders)
	}
	if c.From.IsZero() || c.To.IsZero() || !c.To.After(c.From) || c.To.Unix() <= c.From.Unix() {
		return fmt.Errorf("sandbox: pay window [%s, %s) is empty", c.From.Format(time.RFC3339), c.To.Format(time.RFC3339))
	}
	seen := map[string]bool{}
	for _, a := range c.Accounts {
		if a.Vendor == "" || a.Name == "" {
			return errors.New("sandbox: account needs a vendor and a name")
		}
		k := a.Vendor + "/" + a.Name
		if seen[k] {
			return fmt.Errorf("sandbox: duplicate account %s", k)
		}
		seen[k] = true
	}
	return c.Faults.Validate()
}
