package xingtu

import (
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

// BenchmarkNormalize decodes and maps a sandbox creator snapshot.
func BenchmarkNormalize(b *testing.B) {
	g := goldenPages[0]
	vendorstest.BenchmarkNormalize(b, "sandbox_day30", func(body []byte) ([]events.Envelope, error) {
		return Normalize(rawPage(body, g.author, g.period))
	})
}
