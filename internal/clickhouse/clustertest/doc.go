// Package clustertest holds the tests that run yongjin against a real
// replicated ClickHouse cluster: ZooKeeper and two ClickHouse servers as
// replicas of one shard, started by testenv.StartClickHouseCluster (the OS
// packages zookeeper and clickhouse-server, installed by scripts/test.sh).
// The tests fail, never skip, when the cluster cannot be started.
package clustertest
