// Package clustertest holds the tests that run yongjin against real
// ClickHouse clusters: ZooKeeper and two ClickHouse servers, as replicas of
// one shard or as two shards, started by testenv.StartClickHouseCluster (the
// OS packages zookeeper and clickhouse-server, installed by scripts/test.sh).
// The tests fail, never skip, when the cluster cannot be started.
package clustertest
