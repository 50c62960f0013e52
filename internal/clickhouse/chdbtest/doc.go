// Package chdbtest holds the tests that run yongjin's schema and shipped
// queries on a current ClickHouse release next to the 18.16 server of the
// other integration tests. The current release is chDB: the ClickHouse
// engine as a library (libchdb.so from the npm package @chdb/lib-linux-x64-gnu,
// which scripts/test.sh installs into .data/chdb), loaded by chdb-go from
// the path in CHDB_LIB_PATH. Its test binary cannot start without that
// library (chdb-go loads it as the binary starts): without it the tests
// fail, never skip, with "libchdb.so: cannot open shared object file". Run
// `make test`, or export CHDB_LIB_PATH=$(scripts/clickhouse.sh chdb).
package chdbtest
