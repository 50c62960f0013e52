package vendorstest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
)

// ErrorCase is one row of a vendor's error-classification table: what a
// fake vendor server answers, and what the call under test must return.
type ErrorCase struct {
	Name   string
	Status int
	Body   string
	// Target is the sentinel the error must wrap (nil: the call succeeds,
	// usually after retrying the answer once).
	Target error
	// Requests is how many requests the call must have made.
	Requests int
	// RetryAfter is the client.RetryAfter the error must carry.
	RetryAfter time.Duration
	// Text lists substrings the error text must hold.
	Text []string
}

// MaxAttempts is the client's attempt limit for the case: 3, or 1 when the
// answer carries a retry-after (so the test does not sleep it).
func (c ErrorCase) MaxAttempts() int {
	if c.RetryAfter > 0 {
		return 1
	}
	return 3
}

// Check fails t unless err and the number of requests made are what c
// says (for a failing case: the sentinel, the retry-after and every text).
// It reports whether the call was meant to fail, for checks that follow.
func (c ErrorCase) Check(t testing.TB, err error, requests int) bool {
	t.Helper()
	if requests != c.Requests {
		t.Errorf("%d requests, want %d", requests, c.Requests)
	}
	if c.Target == nil {
		if err != nil {
			t.Fatalf("error %v, want none", err)
		}
		return false
	}
	if !errors.Is(err, c.Target) {
		t.Fatalf("error %v, want %v", err, c.Target)
	}
	if ra := client.RetryAfter(err); ra != c.RetryAfter {
		t.Errorf("RetryAfter %s, want %s", ra, c.RetryAfter)
	}
	for _, s := range c.Text {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	return true
}
