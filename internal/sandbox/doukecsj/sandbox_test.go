package doukecsj_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/sandbox/doukecsj"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

const vekey = "sandbox-test-vekey"

func start(t *testing.T, f sandbox.Faults) (*sandbox.Server, string) {
	t.Helper()
	cfg := sandbox.DefaultConfig()
	cfg.Orders, cfg.Faults = 120, f
	cfg.Accounts = []sandbox.Account{doukecsj.Account("demo", vekey)}
	srv, err := sandbox.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Register(doukecsj.Handler{}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return srv, hs.URL + doukecsj.Path
}

// get asks the sandbox and decodes the envelope loosely (raw members).
func get(t *testing.T, u string, q url.Values) (map[string]json.RawMessage, string) {
	t.Helper()
	res, err := http.Get(u + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", res.StatusCode, b)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(b, &env); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return env, string(b)
}

func query(kv ...string) url.Values {
	q := url.Values{"vekey": {vekey}, "start_time": {"2026-10-01 00:00:00"}, "end_time": {"2026-11-10 00:00:00"}}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

type page struct {
	Cursor string                       `json:"cursor"`
	Orders []map[string]json.RawMessage `json:"orders"`
}

func data(t *testing.T, env map[string]json.RawMessage) page {
	t.Helper()
	var p page
	if err := json.Unmarshal(env["data"], &p); err != nil {
		t.Fatalf("data: %v", err)
	}
	return p
}

func TestWireFormatAndPaging(t *testing.T) {
	_, u := start(t, sandbox.Faults{})
	seen, pages, cursor := map[string]bool{}, 0, "0"
	for {
		env, body := get(t, u, query("size", "50", "cursor", cursor))
		if string(env["error"]) != `"0"` {
			t.Fatalf("error envelope: %s", body)
		}
		p := data(t, env)
		pages++
		for _, o := range p.Orders {
			var id string
			if err := json.Unmarshal(o["order_id"], &id); err != nil || seen[id] {
				t.Fatalf("order_id %s (seen %v)", o["order_id"], seen[id])
			}
			seen[id] = true
			if s := string(o["shop_id"]); s == "" || s[0] == '"' {
				t.Fatalf("shop_id %s: want a JSON number", s)
			}
			if c := string(o["colonel_order_info"]); !strings.HasPrefix(c, "{") {
				t.Fatalf("colonel_order_info %s", c)
			}
		}
		if p.Cursor == "" {
			break
		}
		if len(p.Orders) != 50 {
			t.Fatalf("a page with cursor %q holds %d orders", p.Cursor, len(p.Orders))
		}
		cursor = p.Cursor
	}
	if pages < 2 || len(seen) < 60 {
		t.Fatalf("%d pages, %d orders", pages, len(seen))
	}
	// Unix seconds select the same window.
	env, _ := get(t, u, query("size", "50", "start_time", "1790784000", "end_time", "1794240000"))
	if p := data(t, env); len(p.Orders) != 50 {
		t.Fatalf("unix window: %d orders", len(p.Orders))
	}
}

func TestParameterErrors(t *testing.T) {
	_, u := start(t, sandbox.Faults{})
	for _, tc := range []struct {
		name string
		q    url.Values
		code string
	}{
		{"no vekey", url.Values{}, doukecsj.CodeVekey},
		{"wrong vekey", query("vekey", "nope"), doukecsj.CodeVekey},
		{"size 51", query("size", "51"), doukecsj.CodeParam},
		{"no end_time", query("end_time", ""), doukecsj.CodeParam},
		{"over 90 days", query("start_time", "2026-01-01 00:00:00"), doukecsj.CodeParam},
		{"end before start", query("end_time", "2026-09-01 00:00:00"), doukecsj.CodeParam},
		{"bad time", query("start_time", "2026/10/01"), doukecsj.CodeParam},
		{"time_type", query("time_type", "confirm"), doukecsj.CodeParam},
		{"order_type", query("order_type", "4"), doukecsj.CodeParam},
		{"11 order_ids", query("order_ids", "1,2,3,4,5,6,7,8,9,10,11"), doukecsj.CodeParam},
	} {
		env, body := get(t, u, tc.q)
		if string(env["error"]) != `"`+tc.code+`"` || string(env["data"]) != "null" {
			t.Errorf("%s: %s", tc.name, body)
		}
	}
}

func TestRefreshLagAndTruth(t *testing.T) {
	srv, u := start(t, sandbox.Faults{})
	now := srv.Clock().Now()
	// An order paid within the last RefreshLag is not served yet, and not in the truth.
	env, _ := get(t, u, query("size", "50", "start_time", now.Add(-doukecsj.RefreshLag).Format(sandbox.WallLayout), "end_time", now.Format(sandbox.WallLayout)))
	for _, o := range data(t, env).Orders {
		var paid string
		_ = json.Unmarshal(o["pay_success_time"], &paid)
		if p, _ := time.ParseInLocation(sandbox.WallLayout, paid, wire.CST); p.After(now.Add(-doukecsj.RefreshLag)) {
			t.Fatalf("order paid %s served at %s", paid, now)
		}
	}
	tr := srv.Truth(doukecsj.Vendor)
	if tr.Summary.TotalOrders() == 0 || len(tr.Summary.Commissions) == 0 {
		t.Fatalf("empty truth %+v", tr.Summary)
	}
	for _, c := range tr.Summary.Commissions {
		if c.Role != "creator" && c.Role != "platform_fee" {
			t.Fatalf("truth role %s", c.Role)
		}
	}
}

func TestFaults(t *testing.T) {
	_, u := start(t, sandbox.Faults{ThrottleRate: 1})
	_, body := get(t, u, query())
	if body != `{"error":"40029","msg":"请求过于频繁,请稍后再试","data":null}` {
		t.Fatalf("throttle body %s", body)
	}
	srv, u := start(t, sandbox.Faults{MalformedPages: 1, DriftedRecords: 1})
	env, _ := get(t, u, query("size", "5"))
	p := data(t, env)
	if string(p.Orders[0]["pay_success_time"]) != `""` || string(p.Orders[0]["item_num"]) != "12.5" {
		t.Fatalf("first order %s / %s", p.Orders[0]["pay_success_time"], p.Orders[0]["item_num"])
	}
	st := srv.Stats(doukecsj.Vendor)
	if st.Malformed != 1 || st.DriftedRecords == nil || len(*st.DriftedRecords) != 1 {
		t.Fatalf("stats %+v", st)
	}
	clean, _ := start(t, sandbox.Faults{})
	if got, want := srv.Truth(doukecsj.Vendor).Summary.TotalOrders(), clean.Truth(doukecsj.Vendor).Summary.TotalOrders()-1; got != want {
		t.Fatalf("truth with one drifted order holds %d orders, want %d", got, want)
	}
}
