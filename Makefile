# yongjin — the two commands of the README quick start are `make demo` and `make test`.
SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin

.PHONY: demo test chaos build vet fmt bench bench-go clickhouse-start clickhouse-stop images kubeapi

## demo: install/start a local ClickHouse, run the whole pipeline against the vendor sandbox, print the summary
demo:
	@bash scripts/demo.sh

## test: install/start a local ClickHouse, then vet and run every test (integration tests included)
test:
	@bash scripts/test.sh

## chaos: the chaos suite (TestChaos, go test -tags chaos ./internal/e2e/): the real binaries over 100,000 orders,
## killed and restarted, NATS restarted, ClickHouse stopped, vendor faults injected; ClickHouse must end equal to
## the sandbox truth (a few minutes; CHAOS_FLAGS="--seed 42" replays a run)
chaos:
	@bash scripts/chaos.sh $(CHAOS_FLAGS)

## build: build every command into bin/
build:
	go build -o bin/ ./cmd/...

vet:
	go vet ./...

fmt:
	gofmt -l -w .

## bench: the throughput benchmark (docs/PERFORMANCE.md): a 400,000-order RAW backlog caught up by the real
## binaries, next to raw JetStream and ClickHouse floors from the same run, end to end and latency (about 15 min);
## BENCH_FLAGS go to bin/bench (e.g. BENCH_FLAGS="--pages 2000")
bench:
	@bash scripts/bench.sh $(BENCH_FLAGS)

## bench-go: the Go benchmarks (decode+map per vendor, sink batch building, inserts) with allocations
bench-go:
	@YONGJIN_CLICKHOUSE_ADDR=$$(bash scripts/clickhouse.sh start) go test -run '^$$' -bench . -benchmem ./...

clickhouse-start:
	@bash scripts/clickhouse.sh start

clickhouse-stop:
	@bash scripts/clickhouse.sh stop

## images: container images without a Docker daemon (OCI layout in bin/images, same digests from the same commit)
images:
	@bash scripts/images.sh

## kubeapi: build kube-apiserver and etcd for the manifest test into .data/kubeapi (cached; a few minutes the first time)
kubeapi:
	@bash scripts/kubeapi.sh
