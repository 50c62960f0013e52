package bus

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
)

// PermissionError is the NATS server's refusal of a publish or a
// subscription because the connection's user lacks the permission. The
// server reports it asynchronously (the denied request itself would only
// time out); Connect's connections catch it, and the operations in this
// package that it affects fail with it at once. It matches
// nats.ErrPermissionViolation with errors.Is.
type PermissionError struct {
	// Server is the server URL, redacted.
	Server string
	// Auth is the authentication method (Auth.Method), without secrets.
	Auth string
	// Op is "publish", "subscription" or "publish with reply" (the reply
	// subject was denied).
	Op string
	// Subject is the subject the server denied.
	Subject string
}

// Error says which server denied what to whom, e.g. nats server
// tls://nats:4222: permissions violation for publish to
// "yongjin.events.order.v1.douke" (user "poller" with password).
func (e *PermissionError) Error() string {
	prep := "to"
	if e.Op == "publish with reply" {
		prep = "of"
	}
	return fmt.Sprintf("nats server %s: permissions violation for %s %s %q (%s)", e.Server, e.Op, prep, e.Subject, e.Auth)
}

// Unwrap makes errors.Is(err, nats.ErrPermissionViolation) hold.
func (e *PermissionError) Unwrap() error { return nats.ErrPermissionViolation }

// violationRE reads the server's text: Permissions Violation for Publish to
// "x", ... for Subscription to "x", ... for Publish with Reply of "x".
var violationRE = regexp.MustCompile(`(?i)permissions violation for (publish with reply|publish|subscription) (?:to|of) "([^"]+)"`)

// permissionError parses a permission violation; nil if err is not one.
func (s *connState) permissionError(err error) *PermissionError {
	if err == nil {
		return nil
	}
	m := violationRE.FindStringSubmatch(err.Error())
	if m == nil {
		return nil
	}
	return &PermissionError{Server: s.server, Auth: s.auth, Op: strings.ToLower(m[1]), Subject: m[2]}
}

// watcher waits for a permission violation that match accepts.
type watcher struct {
	match  func(op, subject string) bool
	cancel context.CancelFunc

	once   sync.Once
	denied *PermissionError
}

func (w *watcher) offer(pe *PermissionError) {
	if !w.match(pe.Op, pe.Subject) {
		return
	}
	w.once.Do(func() {
		w.denied = pe
		w.cancel()
	})
}

// guarded runs op with a context that is cancelled as soon as the server
// denies nc a subject match accepts; op's error is then that
// *PermissionError instead of a timeout. On a connection Connect did not
// open it just runs op.
func guarded(ctx context.Context, nc *nats.Conn, match func(op, subject string) bool, op func(context.Context) error) error {
	st := stateOf(nc)
	if st == nil {
		return op(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &watcher{match: match, cancel: cancel}
	st.mu.Lock()
	if st.watchers == nil {
		st.watchers = map[*watcher]struct{}{}
	}
	st.watchers[w] = struct{}{}
	st.mu.Unlock()
	err := op(ctx)
	st.mu.Lock()
	delete(st.watchers, w)
	denied := w.denied
	st.mu.Unlock()
	if err != nil && denied != nil {
		return denied
	}
	return err
}

// inboxDenied matches a refused subscription to the reply inbox: without
// it no request (JetStream API, publish acknowledgement) gets an answer.
func inboxDenied(op, subject string) bool {
	return (op == "subscription" || op == "publish with reply") && strings.HasPrefix(subject, nats.InboxPrefix)
}

// jsAPIFor matches denials of the JetStream API subjects that name stream
// (and, if not empty, consumer), and of the reply inbox.
func jsAPIFor(stream, consumer string) func(op, subject string) bool {
	return func(op, subject string) bool {
		if inboxDenied(op, subject) {
			return true
		}
		if op != "publish" || !strings.HasPrefix(subject, "$JS.") {
			return false
		}
		tokens := strings.Split(subject, ".")
		hasStream, hasConsumer := false, consumer == ""
		for _, t := range tokens {
			hasStream = hasStream || t == stream
			hasConsumer = hasConsumer || t == consumer
		}
		return hasStream && hasConsumer
	}
}

// publishOf matches denials of publishing to one of subjects, and of the
// reply inbox that carries the acknowledgements.
func publishOf(subjects map[string]bool) func(op, subject string) bool {
	return func(op, subject string) bool {
		return inboxDenied(op, subject) || op == "publish" && subjects[subject]
	}
}
