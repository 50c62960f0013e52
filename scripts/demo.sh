#!/usr/bin/env bash
# make demo: start (installing if needed) a private ClickHouse unless
# YONGJIN_CLICKHOUSE_ADDR points to one, then run the all-in-one dev stack:
# embedded NATS JetStream + vendor sandbox + poller + normalizer + sink.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
addr=$(bash scripts/clickhouse.sh start)
echo "demo: ClickHouse at $addr" >&2
go run ./cmd/devstack --clickhouse-addr "$addr" --data-dir .data/demo "$@"
