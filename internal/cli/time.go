package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// ParseOperatorTime parses a time as an operator writes it — in a flag, a
// config file or a sandbox admin request: RFC 3339, or "2006-01-02
// 15:04:05" / "2006-01-02" in China Standard Time (wire.CST); surrounding
// spaces are ignored. It returns the time in UTC. (A vendor's wire times are
// wire.ParseTime's.)
func ParseOperatorTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{wire.TimeLayout, wire.DateLayout} {
		if t, err := time.ParseInLocation(layout, s, wire.CST); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339, \"2006-01-02 15:04:05\" or \"2006-01-02\" (China Standard Time)", s)
}
