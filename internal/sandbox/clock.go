package sandbox

import (
	"sync"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// WallLayout is the vendors' wall-clock layout (no zone; read it in CST,
// wire.CST).
const WallLayout = "2006-01-02 15:04:05"

// Clock is the sandbox's virtual clock. It only moves when told to (Set,
// Advance); it is safe for concurrent use.
type Clock struct {
	mu sync.RWMutex
	t  time.Time
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now reports the clock's current time (in CST).
func (c *Clock) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.t.In(wire.CST)
}

// Set moves the clock to t (backwards is allowed: the model is a pure function
// of the clock time).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock by d (negative d moves it back) and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t.In(wire.CST)
}
