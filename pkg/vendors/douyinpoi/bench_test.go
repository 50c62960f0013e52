package douyinpoi

import (
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

// BenchmarkNormalize decodes and maps the documented commission-plan page.
func BenchmarkNormalize(b *testing.B) {
	vendorstest.BenchmarkNormalize(b, "doc_success", func(body []byte) ([]events.Envelope, error) { return Normalize(rawPage(body)) })
}
