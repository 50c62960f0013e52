#!/usr/bin/env bash
# Builds the real API server the Kubernetes manifest test applies the
# overlays to: kube-apiserver from k8s.io/kubernetes v1.37.2 and etcd from
# go.etcd.io/etcd/server/v3 (its etcdmain), both from the Go module proxy
# through the separate module tools/kubeapi (yongjin's go.mod never grows
# Kubernetes). Output: .data/kubeapi/{kube-apiserver,etcd}, rebuilt only when
# tools/kubeapi/go.sum changed (about 6 minutes on 2 cores, more when busy).
# Prints the directory.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
out="$PWD/.data/kubeapi"
stamp="$out/go.sum.built"
mkdir -p "$out"
if [ -x "$out/kube-apiserver" ] && [ -x "$out/etcd" ] && cmp -s tools/kubeapi/go.sum "$stamp"; then
  echo "$out"
  exit 0
fi
echo "kubeapi: building etcd and kube-apiserver into $out (several minutes)" >&2
(
  cd tools/kubeapi
  go build -trimpath -o "$out/etcd.new" ./etcd
  go build -trimpath -o "$out/kube-apiserver.new" k8s.io/kubernetes/cmd/kube-apiserver
)
mv "$out/etcd.new" "$out/etcd"
mv "$out/kube-apiserver.new" "$out/kube-apiserver"
cp tools/kubeapi/go.sum "$stamp"
echo "$out"
