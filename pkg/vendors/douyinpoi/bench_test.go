package douyinpoi

import (
	"testing"

	"github.com/yongjin-dev/yongjin/internal/vendortest"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

// BenchmarkNormalize decodes and maps the documented commission-plan page.
func BenchmarkNormalize(b *testing.B) {
	vendortest.BenchmarkNormalize(b, "doc_success", func(body []byte) ([]events.Envelope, error) { return Normalize(rawPage(body)) })
}
