package vendorsandbox_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	doukesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/douke"
	csjsandbox "github.com/yongjin-dev/yongjin/internal/sandbox/doukecsj"
	taobaolivesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/taobaolive"
	"github.com/yongjin-dev/yongjin/internal/vendorsandbox"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
)

// TestMalformedPages walks the order vendors through their real fetchers
// with the malformed-page fault on: each vendor's first N non-empty pages
// (and only those) are refused by the normalizer with the recorded reason,
// /_sandbox/stats names them by request ID, the walk itself is not
// disturbed, and the same window walked again is served correctly.
func TestMalformedPages(t *testing.T) {
	const n = 2
	cfg := sandbox.DefaultConfig()
	cfg.Seed, cfg.Orders = 5, 300
	cfg.Accounts = vendorsandbox.DemoAccounts("malformed")
	cfg.Faults.MalformedPages = n
	srv, err := vendorsandbox.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	srcs, err := vendorsandbox.Sources(hs.URL, cfg.Accounts, cfg.Seed, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	reg := all.Registry()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reasons := map[string]string{"douke": doukesandbox.MalformedReason, "taobao-live": taobaolivesandbox.MalformedReason, "douke-csj": csjsandbox.MalformedReason}
	for _, src := range srcs {
		reason, orders := reasons[src.Vendor]
		v, err := reg.Get(src.Vendor)
		if err != nil {
			t.Fatal(err)
		}
		creds, err := src.ResolveCredentials()
		if err != nil {
			t.Fatal(err)
		}
		f, err := v.NewFetcher(vendors.SourceConfig{BaseURL: src.BaseURL, Account: src.Account, Credentials: creds, Params: src.Params, RatePerSecond: 1000})
		if err != nil {
			t.Fatal(err)
		}
		walk := func() (bad []string, good int, bodies [][]byte) {
			for _, w := range vendors.SplitWindow(cfg.From, cfg.Clock, v.MaxWindow(), "") {
				err := f.Walk(ctx, w, func(_ context.Context, pg vendors.Page) error {
					_, err := v.Normalize(events.RawPage{SourceID: src.Name, Vendor: v.Name(), Endpoint: v.Endpoint(), Account: src.Account,
						WindowStart: w.Start, WindowEnd: w.End, Cursor: pg.Cursor, HTTPStatus: pg.HTTPStatus, Params: pg.Params, Body: pg.Body})
					switch {
					case err == nil:
						good++
					case errors.Is(err, vendors.ErrMalformedPage):
						bad = append(bad, err.Error())
						bodies = append(bodies, pg.Body)
					default:
						t.Fatalf("%s: unexpected normalize error: %v", src.Vendor, err)
					}
					return nil
				})
				if err != nil {
					t.Fatalf("%s: walk: %v", src.Vendor, err)
				}
			}
			return bad, good, bodies
		}
		bad, good, bodies := walk()
		st := srv.Stats(src.Vendor)
		if !orders {
			if len(bad) != 0 || st.Malformed != 0 || st.MalformedPages != nil {
				t.Fatalf("%s has no malformed-page fault, got %d refused pages, stats %+v", src.Vendor, len(bad), st)
			}
			continue
		}
		if len(bad) != n || good < n || st.Malformed != n || st.MalformedPages == nil || len(*st.MalformedPages) != n {
			t.Fatalf("%s: %d pages refused, %d good, stats %+v; want exactly %d refused", src.Vendor, len(bad), good, st, n)
		}
		for i, mp := range *st.MalformedPages {
			if !strings.Contains(bad[i], mp.Record) || !strings.Contains(bad[i], reason) || mp.Reason != reason {
				t.Fatalf("%s: page %d refused with %q; sandbox recorded order %s, reason %q", src.Vendor, i, bad[i], mp.Record, mp.Reason)
			}
			if !bytes.Contains(bodies[i], []byte(`"request_id":"`+mp.RequestID+`"`)) || mp.Page == "" || strings.Contains(mp.Page, "malformed") {
				t.Fatalf("%s: recorded page %+v does not identify the refused body (or shows a credential)", src.Vendor, mp)
			}
		}
		// Asked again, every page is correct; the count stays.
		if bad, _, _ := walk(); len(bad) != 0 {
			t.Fatalf("%s: second walk still refused: %v", src.Vendor, bad)
		}
		if st := srv.Stats(src.Vendor); st.Malformed != n {
			t.Fatalf("%s: %d malformed pages after the second walk, want %d", src.Vendor, st.Malformed, n)
		}
	}
}
