// Command etcd is etcd's own server main (go.etcd.io/etcd/server/v3/etcdmain),
// built from the version k8s.io/kubernetes v1.37.2 requires, for the
// Kubernetes manifest test's API server.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
