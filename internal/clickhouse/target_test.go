package clickhouse

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

func TestParseServerVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ServerVersion
		bad  bool
	}{
		{in: "18.16.1", want: ServerVersion{18, 16}},
		{in: "26.7.2.1", want: ServerVersion{26, 7}},
		{in: "26.7", want: ServerVersion{26, 7}},
		{in: " 24.8.4.13-lts ", want: ServerVersion{24, 8}},
		{in: "25.3.1.2703-stable", want: ServerVersion{25, 3}},
		{in: "", bad: true},
		{in: "26", bad: true},
		{in: "v26.7", bad: true},
		{in: "26.x", bad: true},
	} {
		got, err := ParseServerVersion(tc.in)
		if tc.bad {
			if !errors.Is(err, ErrBadServerVersion) {
				t.Errorf("ParseServerVersion(%q) = %v, %v; want ErrBadServerVersion", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseServerVersion(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		v    ServerVersion
		want bool
	}{{ServerVersion{18, 16}, false}, {ServerVersion{23, 3}, false}, {ServerVersion{23, 8}, true}, {ServerVersion{24, 1}, true}, {ServerVersion{26, 7}, true}} {
		if got := (Target{Version: tc.v}).Current(); got != tc.want {
			t.Errorf("Target{%s}.Current() = %t, want %t", tc.v, got, tc.want)
		}
	}
}

var (
	v1816 = ServerVersion{18, 16}
	v267  = ServerVersion{26, 7}
)

// TestRenderStatement renders statement shapes a future migration may use
// (a new column, a dropped table) for every kind of target.
func TestRenderStatement(t *testing.T) {
	const addCol = "ALTER TABLE {db}.orders ADD COLUMN IF NOT EXISTS refunded_fen Int64 DEFAULT 0 CODEC(T64, ZSTD(1))"
	for _, tc := range []struct {
		name string
		q    string
		t    Target
		want []string
		err  error
	}{
		{"add column, current", addCol, Target{Version: v267},
			[]string{"ALTER TABLE `yongjin`.orders ADD COLUMN IF NOT EXISTS refunded_fen Int64 DEFAULT 0 CODEC(T64, ZSTD(1))"}, nil},
		{"add column, 18.16", addCol, Target{Version: v1816},
			[]string{"ALTER TABLE `yongjin`.orders ADD COLUMN refunded_fen Int64 DEFAULT 0"}, nil},
		{"add column, cluster", addCol, Target{Version: v1816, Cluster: "c1", Database: "db"},
			[]string{"ALTER TABLE `db`.orders ON CLUSTER `c1` ADD COLUMN refunded_fen Int64 DEFAULT 0"}, nil},
		{"add column, sharded", addCol, Target{Version: v267, Cluster: "c1", Sharded: true},
			[]string{
				"ALTER TABLE `yongjin`.orders_local ON CLUSTER `c1` ADD COLUMN IF NOT EXISTS refunded_fen Int64 DEFAULT 0 CODEC(T64, ZSTD(1))",
				"DROP TABLE IF EXISTS `yongjin`.orders ON CLUSTER `c1`",
				"CREATE TABLE IF NOT EXISTS `yongjin`.orders ON CLUSTER `c1` AS `yongjin`.orders_local\nENGINE = Distributed(`c1`, `yongjin`, `orders_local`, cityHash64(platform, order_id))",
			}, nil},
		{"mutation, sharded: the local table only", "ALTER TABLE {db}.orders DELETE WHERE platform = 'x'", Target{Version: v267, Cluster: "c1", Sharded: true},
			[]string{"ALTER TABLE `yongjin`.orders_local ON CLUSTER `c1` DELETE WHERE platform = 'x'"}, nil},
		{"add column to an unknown table, sharded", "ALTER TABLE {db}.nope ADD COLUMN x Int64", Target{Version: v267, Cluster: "c1", Sharded: true}, nil, ErrUnsupportedStatement},
		{"drop, sharded", "DROP TABLE IF EXISTS {db}.old", Target{Version: v267, Cluster: "c1", Sharded: true},
			[]string{"DROP TABLE IF EXISTS `yongjin`.old ON CLUSTER `c1`", "DROP TABLE IF EXISTS `yongjin`.old_local ON CLUSTER `c1`"}, nil},
		{"backfill, sharded", "INSERT INTO {db}.a (x) SELECT x FROM {db}.b", Target{Version: v267, Cluster: "c1", Sharded: true},
			[]string{"INSERT INTO `yongjin`.a (x) SELECT x FROM `yongjin`.b"}, nil},
		{"nested types, 18.16", "CREATE TABLE IF NOT EXISTS {db}.t\n(\n    a Array(LowCardinality(String)),\n    b Nullable(DateTime64(3, 'UTC')),\n    c DateTime64(3)\n)\nENGINE = MergeTree()\nORDER BY a\nSETTINGS index_granularity = 8192",
			Target{Version: v1816},
			[]string{"CREATE TABLE IF NOT EXISTS `yongjin`.t\n(\n    a Array(String),\n    b Nullable(DateTime('UTC')),\n    c DateTime\n)\nENGINE = MergeTree()\nORDER BY a"}, nil},
		{"plain merge tree, cluster", "CREATE TABLE IF NOT EXISTS {db}.t\n(\n    a String\n)\nENGINE = MergeTree()\nORDER BY a", Target{Version: v267, Cluster: "c1"},
			[]string{"CREATE TABLE IF NOT EXISTS `yongjin`.t ON CLUSTER `c1`\n(\n    a String\n)\nENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/yongjin/t', '{replica}')\nORDER BY a"}, nil},
		{"unknown shape, cluster", "RENAME TABLE {db}.a TO {db}.b", Target{Version: v267, Cluster: "c1"}, nil, ErrUnsupportedStatement},
		{"no engine, cluster", "CREATE TABLE IF NOT EXISTS {db}.t\n(\n    a String\n)\nENGINE = Memory", Target{Version: v267, Cluster: "c1"}, nil, ErrUnsupportedStatement},
		{"unknown shape, single server", "RENAME TABLE {db}.a TO {db}.b", Target{Version: v267},
			[]string{"RENAME TABLE `yongjin`.a TO `yongjin`.b"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RenderMigration(Migration{Version: 9, Name: "test", Statements: []string{tc.q}}, tc.t)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %q, %v\nwant %q", got, err, tc.want)
			}
		})
	}
}

// TestMigrationScriptGolden pins what every migration runs on each kind of
// target, as `sink migrate --dry-run --server-version V [--clickhouse-cluster
// C [--clickhouse-sharded]]` prints it (go test -update rewrites the files;
// review their diff). The 18.16 script is byte for byte the schema yongjin
// shipped before migrations were rendered per release.
func TestMigrationScriptGolden(t *testing.T) {
	for _, tc := range []struct {
		file string
		t    Target
	}{
		{"migrate-18.16.sql", Target{Version: v1816}},
		{"migrate-26.7.sql", Target{Version: v267}},
		{"migrate-26.7-cluster.sql", Target{Version: v267, Cluster: "prod"}},
		{"migrate-18.16-cluster.sql", Target{Version: v1816, Cluster: "prod"}},
		{"migrate-26.7-sharded.sql", Target{Version: v267, Cluster: "prod", Sharded: true}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var b strings.Builder
			if err := MigrationScript(&b, tc.t); err != nil {
				t.Fatal(err)
			}
			path := "testdata/" + tc.file
			if *vendorstest.Update {
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (go test -update creates it)", err)
			}
			if b.String() != string(want) {
				t.Errorf("%s differs from the rendered script (go test -update rewrites it):\n%s", path, b.String())
			}
			if strings.Contains(b.String(), "{db}") {
				t.Error("the script keeps {db}")
			}
		})
	}
}
