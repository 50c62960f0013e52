#!/usr/bin/env bash
# make test: start (installing if needed) a private ClickHouse, then vet and run
# every test. Integration tests fail (never skip) when their servers are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
addr=$(bash scripts/clickhouse.sh start)
export YONGJIN_CLICKHOUSE_ADDR="$addr"
echo "test: ClickHouse at $addr" >&2
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.data/*'))
if [ -n "$unformatted" ]; then
  echo "test: gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
go test -count=1 -timeout 20m ./...
