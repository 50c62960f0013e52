#!/usr/bin/env bash
# make chaos: yongjin's chaos suite (see README, "Chaos suite").
#
# Starts (installing if needed) the private ClickHouse of scripts/clickhouse.sh
# and runs the suite, TestChaos in internal/e2e behind the build tag chaos:
#   go test -tags chaos -run '^TestChaos$' -v ./internal/e2e/ -args -chaos.clickhouse-addr ADDR ...
# It builds the real binaries (poller, normalizer, sink, sandbox, and an
# external NATS server from the nats-server module in go.mod: no download),
# runs every binary as its own process, kills and restarts them, restarts
# NATS, stops ClickHouse for more than 30 s, injects vendor faults, and
# finally compares ClickHouse with the sandbox's ground truth. Work files and
# logs go to .data/chaos/. Extra arguments are the suite's flags, with or
# without their chaos. prefix (--seed 42 is -chaos.seed 42; see
# internal/e2e/chaos_test.go). The last line is the verdict,
# "N passed, M failed (seed S, duration)"; exit status 0 only if every check
# passed.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
if [ -n "${YONGJIN_CLICKHOUSE_ADDR:-}" ]; then
	# The suite stops and starts ClickHouse itself, so it must be the private server.
	echo "chaos: ignoring YONGJIN_CLICKHOUSE_ADDR=$YONGJIN_CLICKHOUSE_ADDR: the suite stops and starts ClickHouse, it uses the private server of scripts/clickhouse.sh" >&2
	unset YONGJIN_CLICKHOUSE_ADDR
fi
args=()
for a in "$@"; do
	case "$a" in
	-chaos.* | --chaos.*) args+=("$a") ;;
	--[a-z]*) args+=("-chaos.${a#--}") ;;
	-[a-z]*) args+=("-chaos.${a#-}") ;;
	*) args+=("$a") ;;
	esac
done
addr=$(bash scripts/clickhouse.sh start)
echo "chaos: ClickHouse at $addr" >&2
mkdir -p .data
out=.data/chaos.out
set +e
go test -tags chaos -run '^TestChaos$' -count=1 -v -timeout 0 ./internal/e2e/ \
	-args -chaos.clickhouse-addr "$addr" ${args[@]+"${args[@]}"} 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
# The verdict line once more, last, after go test's own summary lines.
verdict=$(grep -E '^[0-9]+ passed, [0-9]+ failed \(seed ' "$out" | tail -n 1 || true)
if [ -z "$verdict" ]; then
	echo "chaos: no verdict (go test exited with status $status; output in $out)"
	exit $((status == 0 ? 1 : status))
fi
echo "$verdict"
exit "$status"
