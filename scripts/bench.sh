#!/usr/bin/env bash
# make bench: yongjin's throughput benchmark (see docs/PERFORMANCE.md).
#
# Builds the real binaries into bin/ (poller, normalizer, sink, sandbox, the
# driver cmd/bench, and nats-server from the nats-server module in go.mod: no
# download), starts (installing if needed) the private ClickHouse of
# scripts/clickhouse.sh unless YONGJIN_CLICKHOUSE_ADDR names one, and runs
# bin/bench: the backlog is built once under .data/bench/ and reused by later
# runs of the same size; logs, CPU profiles and results.json go to
# .data/bench/logs/<time>/. Extra arguments go to bin/bench (e.g. --pages 2000,
# --profile 20, --phases catchup,raw-jetstream; see bin/bench --help).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
echo "bench: building bin/{bench,sandbox,poller,normalizer,sink} and bin/nats-server" >&2
go build -o bin/ ./cmd/bench ./cmd/sandbox ./cmd/poller ./cmd/normalizer ./cmd/sink
go build -o bin/nats-server github.com/nats-io/nats-server/v2
pid_args=()
if [ -z "${YONGJIN_CLICKHOUSE_ADDR:-}" ]; then
	YONGJIN_CLICKHOUSE_ADDR=$(bash scripts/clickhouse.sh start)
	pid_args=(--clickhouse-pid "$(cat .data/clickhouse/pid)")
fi
echo "bench: ClickHouse at $YONGJIN_CLICKHOUSE_ADDR" >&2
exec bin/bench --clickhouse-addr "$YONGJIN_CLICKHOUSE_ADDR" "${pid_args[@]}" "$@"
