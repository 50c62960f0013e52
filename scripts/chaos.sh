#!/usr/bin/env bash
# make chaos: yongjin's chaos suite (see README, "Chaos suite").
#
# Builds the real binaries into bin/ (poller, normalizer, sink, sandbox, the
# suite's driver cmd/chaos, and an external NATS server from the nats-server
# module in go.mod: no download), starts (installing if needed) the private
# ClickHouse of scripts/clickhouse.sh and runs bin/chaos, which runs every
# binary as its own process, kills and restarts them, restarts NATS, stops
# ClickHouse for more than 30 s, injects vendor faults, and finally compares
# ClickHouse with the sandbox's ground truth. Work files and logs go to
# .data/chaos/. Extra arguments go to bin/chaos (e.g. --seed 42; see
# bin/chaos --help). Exit status 0 only if every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
if [ -n "${YONGJIN_CLICKHOUSE_ADDR:-}" ]; then
	# The suite stops and starts ClickHouse itself, so it must be the private server.
	echo "chaos: ignoring YONGJIN_CLICKHOUSE_ADDR=$YONGJIN_CLICKHOUSE_ADDR: the suite stops and starts ClickHouse, it uses the private server of scripts/clickhouse.sh" >&2
	unset YONGJIN_CLICKHOUSE_ADDR
fi
echo "chaos: building bin/{chaos,sandbox,poller,normalizer,sink} and bin/nats-server" >&2
go build -o bin/ ./cmd/chaos ./cmd/sandbox ./cmd/poller ./cmd/normalizer ./cmd/sink
go build -o bin/nats-server github.com/nats-io/nats-server/v2
addr=$(bash scripts/clickhouse.sh start)
echo "chaos: ClickHouse at $addr" >&2
exec bin/chaos --clickhouse-addr "$addr" "$@"
