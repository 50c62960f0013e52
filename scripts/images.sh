#!/usr/bin/env bash
# make images: yongjin's container images without a Docker daemon
# (tools/images, go-containerregistry): one static, non-root image per
# command as an OCI image layout in bin/images/, reproducible (the same commit
# gives the same digests). Prints yongjin/<command>:<version>@sha256:... per
# image (also in bin/images/images.txt). VERSION=v0.1.0 sets the tag.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
cd tools
exec go run ./cmd/images --root .. --out ../bin/images --version "${VERSION:-dev}" "$@"
