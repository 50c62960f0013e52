package app

import (
	"runtime/debug"
	"testing"
)

// TestGCDefaultsYieldToTheEnvironment checks that a service's GC default is
// applied when GOGC and GOMEMLIMIT are unset and left alone when the
// operator set them.
func TestGCDefaultsYieldToTheEnvironment(t *testing.T) {
	prevPercent := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(prevPercent); debug.SetMemoryLimit(prevLimit) })

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	if p, l := HotStageGC.apply(); p != 400 || l != 200<<20 {
		t.Fatalf("apply() = %d, %d; want 400, %d", p, l, 200<<20)
	}
	if got := debug.SetGCPercent(100); got != 400 {
		t.Fatalf("GOGC after apply = %d, want 400", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 200<<20 {
		t.Fatalf("memory limit after apply = %d, want %d", got, 200<<20)
	}

	t.Setenv("GOGC", "50")
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(1 << 30)
	if p, l := HotStageGC.apply(); p != 0 || l != 0 {
		t.Fatalf("apply() with GOGC and GOMEMLIMIT set = %d, %d; want nothing applied", p, l)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC = %d, want the operator's setting kept", got)
	}
}
