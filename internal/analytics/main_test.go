package analytics

import (
	"testing"

	"github.com/yongjin-dev/yongjin/internal/testenv"
)

// TestMain stops the private clickhouse-server (if testenv started one) after the tests.
func TestMain(m *testing.M) { testenv.Main(m) }
