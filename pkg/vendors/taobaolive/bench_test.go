package taobaolive

import (
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

// BenchmarkNormalize decodes and maps a documented predicted-order page
// (each order: order.v1 carrying its two lines, plus the two commission.v1
// events the normalizer publishes only with --commission-events).
func BenchmarkNormalize(b *testing.B) {
	vendorstest.BenchmarkNormalize(b, "lifecycle", func(body []byte) ([]events.Envelope, error) { return Normalize(rawPage(body)) })
}
