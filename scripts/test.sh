#!/usr/bin/env bash
# make test: start (installing if needed) a private ClickHouse, install
# chromium, ZooKeeper (for the replicated-cluster tests) and chDB (the
# current ClickHouse release as a library, for the query-equality tests) if
# missing, then vet and run every test. Integration tests fail (never skip)
# when their servers are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
addr=$(bash scripts/clickhouse.sh start)
export YONGJIN_CLICKHOUSE_ADDR="$addr"
echo "test: ClickHouse at $addr" >&2
bash scripts/clickhouse.sh ensure-cluster
CHDB_LIB_PATH=$(bash scripts/clickhouse.sh chdb)
export CHDB_LIB_PATH
echo "test: chDB library at $CHDB_LIB_PATH" >&2
# The dashboard's browser test loads the page in headless Chromium (Debian's
# chromium package); install it when missing.
if ! command -v chromium >/dev/null 2>&1; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "test: chromium is missing and installing it needs root (or sudo)" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "test: installing chromium for the dashboard's browser test" >&2
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2; then
    "${sudo[@]}" apt-get update >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2
  fi
fi
# The Node example subscriber (examples/node-subscriber) and its tests need
# node and npm (Debian's nodejs and npm packages) and its locked packages.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "test: node/npm are missing and installing them needs root (or sudo)" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "test: installing nodejs and npm for the Node example subscriber" >&2
  if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm >&2; then
    "${sudo[@]}" apt-get update >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm >&2
  fi
fi
npm ci --prefix examples/node-subscriber --no-audit --no-fund >&2
node --test examples/node-subscriber/test/*.test.mjs
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.data/*'))
if [ -n "$unformatted" ]; then
  echo "test: gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
# The scale-out test on the 3-node NATS cluster runs on its own and verbose,
# so its figures (stalls during the leader change, redeliveries, throughput
# with one and two replicas) reach the log: a passing package's test logs
# are not printed without -v.
cluster='^TestNATSClusterLosesStreamLeader$'
go test -count=1 -timeout 20m -skip "$cluster" ./...
go test -count=1 -timeout 20m -v -run "$cluster" ./internal/e2e/
# Images and Kubernetes manifests (module tools/, so none of it reaches go.mod):
# kube-apiserver and etcd for the manifest test, built once into .data/kubeapi.
export YONGJIN_KUBEAPI_DIR="$(bash scripts/kubeapi.sh)"
(cd tools && go vet ./... && go test -count=1 -timeout 20m ./...)
