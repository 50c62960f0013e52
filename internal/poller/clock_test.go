package poller_test

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/poller"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
)

// TestSandboxClockConcurrentReads: every part reads the clock once per page,
// so the HTTPClock function (--sandbox-clock) is called from many goroutines at once; run
// under -race it must show no data race, every read must be the sandbox's
// clock, and once the sandbox is gone it must answer the last value read.
func TestSandboxClockConcurrentReads(t *testing.T) {
	cfg := sandbox.DefaultConfig()
	cfg.Orders = 10
	srv, err := sandbox.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	now := poller.HTTPClock(hs.URL + "/_sandbox/clock")
	want := srv.Clock().Now().Truncate(time.Second)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 8 {
				if got := now(); !got.Equal(want) {
					errs <- got.String()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("read %s, want the sandbox clock %s", e, want)
	}
	hs.Close()
	if got := now(); !got.Equal(want) {
		t.Errorf("with the sandbox gone: %s, want the last value read %s", got, want)
	}
}
