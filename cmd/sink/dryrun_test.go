package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/internal/clickhouse"
)

// TestDryRunOffline: `sink migrate --dry-run --server-version V` prints the
// migrations for release V (and the cluster flags) without a server: the
// address is one nothing listens on.
func TestDryRunOffline(t *testing.T) {
	for _, tc := range []struct {
		name, golden string
		cfg          clickhouse.Config
		err          string
	}{
		{name: "26.7", golden: "migrate-26.7.sql", cfg: clickhouse.Config{ServerVersion: "26.7"}},
		{name: "26.7.2.1 on a cluster", golden: "migrate-26.7-cluster.sql", cfg: clickhouse.Config{ServerVersion: "26.7.2.1", Cluster: "prod"}},
		{name: "18.16, sharded", golden: "", cfg: clickhouse.Config{ServerVersion: "18.16", Cluster: "prod", Sharded: true}},
		{name: "sharded without a cluster", cfg: clickhouse.Config{ServerVersion: "26.7", Sharded: true}, err: "Sharded needs Cluster"},
		{name: "bad version", cfg: clickhouse.Config{ServerVersion: "latest"}, err: "not a ClickHouse version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Addr = "127.0.0.1:1"
			var b strings.Builder
			err := dryRunOffline(&b, tc.cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.golden == "" {
				if !strings.Contains(b.String(), "`yongjin`.orders_local ON CLUSTER `prod`") || strings.Contains(b.String(), "LowCardinality") {
					t.Fatalf("18.16 sharded script:\n%s", b.String())
				}
				return
			}
			want, err := os.ReadFile("../../internal/clickhouse/testdata/" + tc.golden)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != string(want) {
				t.Fatalf("output differs from %s:\n%s", tc.golden, b.String())
			}
		})
	}
}

// TestReadmeShowsDryRunOutput: the dry-run outputs README.md shows under
// "Production ClickHouse" are the current ones (the golden files
// TestDryRunOffline compares the command's output with), line count included.
func TestReadmeShowsDryRunOutput(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for heading, golden := range map[string]string{
		"### `sink migrate --dry-run --server-version 26.7`\n":                           "migrate-26.7.sql",
		"### `sink migrate --dry-run --server-version 26.7 --clickhouse-cluster prod`\n": "migrate-26.7-cluster.sql",
	} {
		want, err := os.ReadFile("../../internal/clickhouse/testdata/" + golden)
		if err != nil {
			t.Fatal(err)
		}
		_, after, ok := strings.Cut(string(readme), heading)
		head, block, ok2 := strings.Cut(after, "```sql\n")
		block, _, ok3 := strings.Cut(block, "\n```\n")
		if !ok || !ok2 || !ok3 {
			t.Errorf("README.md: no sql block under %q", heading)
			continue
		}
		if strings.TrimSpace(block) != strings.TrimSpace(string(want)) {
			t.Errorf("README.md under %q differs from %s: paste the output of the command", heading, golden)
		}
		if n := fmt.Sprintf("output (%d lines)", strings.Count(string(want), "\n")); !strings.Contains(head, n) {
			t.Errorf("README.md under %q does not say %q", heading, n)
		}
	}
}
