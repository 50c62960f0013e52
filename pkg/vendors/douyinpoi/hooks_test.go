package douyinpoi

import (
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
)

// fetcherHooks and newFetcher keep the sandbox tests' former hook shape
// while they live in this package (they move to internal/sandbox): the one
// shape is client.Hooks, given to fetcherWith.
type fetcherHooks struct {
	tune func(*client.Config)
	now  func() time.Time
}

// newFetcher is fetcherWith with the hooks in client.Hooks' shape.
func newFetcher(cfg vendors.SourceConfig, h *fetcherHooks) (*Fetcher, error) {
	if h == nil {
		return fetcherWith(cfg, nil)
	}
	return fetcherWith(cfg, &client.Hooks{Tune: h.tune, Now: h.now})
}
