// Package all assembles the registry of every vendor yongjin ships.
package all

import (
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douke"
	"github.com/yongjin-dev/yongjin/pkg/vendors/doukecsj"
	"github.com/yongjin-dev/yongjin/pkg/vendors/douyinpoi"
	"github.com/yongjin-dev/yongjin/pkg/vendors/taobaolive"
	"github.com/yongjin-dev/yongjin/pkg/vendors/xingtu"
)

// Registry returns a registry holding every shipped vendor.
func Registry() *vendors.Registry {
	return vendors.NewRegistry(douke.New(), taobaolive.New(), douyinpoi.New(), xingtu.New(), doukecsj.New())
}
