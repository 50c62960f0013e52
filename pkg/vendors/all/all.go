// Package all assembles the registry of every vendor yongjin ships.
package all

import (
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
)

// Registry returns a registry holding every shipped vendor.
func Registry() *vendors.Registry {
	return vendors.NewRegistry(douke.New())
}
