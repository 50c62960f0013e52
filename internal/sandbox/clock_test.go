package sandbox

import (
	"sync"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

func TestClock(t *testing.T) {
	start := time.Date(2026, 11, 10, 0, 0, 0, 0, wire.CST)
	c := NewClock(start.UTC())
	if !c.Now().Equal(start) || c.Now().Location() != wire.CST {
		t.Fatalf("Now = %s", c.Now())
	}
	if got := c.Advance(90 * time.Minute); !got.Equal(start.Add(90*time.Minute)) || !c.Now().Equal(got) {
		t.Fatalf("Advance = %s", got)
	}
	c.Set(start.Add(-time.Hour))
	if !c.Now().Equal(start.Add(-time.Hour)) {
		t.Fatalf("Set: %s", c.Now())
	}
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				c.Advance(time.Second)
				_ = c.Now()
			}
		}()
	}
	wg.Wait()
	if want := start.Add(-time.Hour + 1000*time.Second); !c.Now().Equal(want) {
		t.Fatalf("after concurrent advances: %s, want %s", c.Now(), want)
	}
}
