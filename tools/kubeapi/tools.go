//go:build tools

// Package kubeapi only pins the commands scripts/kubeapi.sh builds.
package kubeapi

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
