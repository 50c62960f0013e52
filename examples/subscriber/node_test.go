package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/devstack"
	"github.com/yongjin-dev/yongjin/internal/devstack/devstacktest"
	"github.com/yongjin-dev/yongjin/internal/vendorsandbox"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

// nodeDir is the Node example subscriber, next to this one.
const nodeDir = "../node-subscriber"

// nodeReport is what the Node subscriber prints with --json.
type nodeReport struct {
	Events       int64          `json:"events"`
	PerType      map[string]int `json:"per_type"`
	Unattributed int            `json:"unattributed"`
	Violations   []string       `json:"violations"`
	Totals       []struct {
		Platform     string `json:"platform"`
		AuthorID     string `json:"author_id"`
		Role         string `json:"role"`
		Currency     string `json:"currency"`
		Lines        int64  `json:"lines"`
		EstimatedFen int64  `json:"estimated_fen"`
		SettledFen   int64  `json:"settled_fen"`
	} `json:"totals"`
}

// TestNodeSubscriberMatchesClickHouse runs the pipeline on all five
// vendors' sandboxes (a first poll, then 30 days of changes), then the Node
// example subscriber (the official nats client, ajv with the published
// schemas) over the whole stream, twice: validating with the published
// schemas and with the baseline copies. Every event of the stream must
// validate (data included, through the envelope's type binding), none may
// carry a number beyond 2^53-1, and its per-creator totals must equal the
// same totals computed from ClickHouse.
func TestNodeSubscriberMatchesClickHouse(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed (scripts/test.sh installs it): %v", err)
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "nats")); err != nil {
		t.Fatalf("the Node subscriber's packages are not installed: run npm ci in examples/node-subscriber (scripts/test.sh does): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// with the per-line commission.v1 events too, so every type is validated
	// and the totals count each line once although it comes twice (in its
	// order's event and in its own)
	run := devstacktest.RunWith(ctx, t, vendorsandbox.DemoAccounts("node"), 17, 600, func(o *devstack.Config) { o.CommissionEvents = true })
	stream, err := run.JS.Stream(ctx, bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := run.ClickHouse
	want := clickHouseTotals(t, ctx, cfg.Addr, cfg.Database, cfg.Username, cfg.Password)

	for _, tc := range []struct{ name, schemas string }{
		{"published", "../../pkg/events/schemas"},
		{"baseline", "../../pkg/events/schemas/baseline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			schemas, err := filepath.Abs(tc.schemas)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(ctx, node, "subscriber.mjs", "--nats-url", run.NATS.ClientURL(),
				"--durable", "node-"+tc.name, "--schemas", schemas, "--once", "--json")
			cmd.Dir = nodeDir
			var out, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("node subscriber: %v\n%s\n%s", err, stderr.String(), out.String())
			}
			var rep nodeReport
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("node subscriber output: %v\n%s", err, out.String())
			}
			if len(rep.Violations) > 0 || uint64(rep.Events) != info.State.Msgs || rep.Unattributed != 0 {
				t.Fatalf("node subscriber validated %d of %d events, %d lines without their order; violations: %v",
					rep.Events, info.State.Msgs, rep.Unattributed, rep.Violations)
			}
			for _, k := range events.Kinds {
				if rep.PerType[events.Type(k)] == 0 {
					t.Errorf("no %s event in the run: the test would not cover it", events.Type(k))
				}
			}
			got := map[CreatorKey]Amount{}
			for _, r := range rep.Totals {
				got[CreatorKey{Platform: r.Platform, AuthorID: r.AuthorID, Role: events.Role(r.Role), Currency: r.Currency}] =
					Amount{Lines: r.Lines, EstimatedFen: r.EstimatedFen, SettledFen: r.SettledFen}
			}
			if !reflect.DeepEqual(got, want) {
				diffTotals(t, got, want)
				t.FailNow()
			}
			t.Logf("node subscriber (%s schemas): %d events valid %v; %d (creator, role) totals equal ClickHouse", tc.name, rep.Events, rep.PerType, len(got))
		})
	}
}
