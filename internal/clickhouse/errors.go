package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// ErrBadEvent marks an envelope the store can never write: its data does not
// decode, its type is unknown, or a field cannot be stored (an empty natural
// key, a time outside DateTime's range, a negative version). Retrying does not
// help; the caller should dead-letter the event. Insert returns it wrapped in
// a *BadEventError, before anything is sent.
var ErrBadEvent = errors.New("bad event")

// BadEventError reports the envelope that made Insert fail. It matches
// ErrBadEvent with errors.Is; use errors.As to learn which event to
// dead-letter.
type BadEventError struct {
	// Index is the envelope's position in the slice passed to Insert.
	Index int
	// EventID is the envelope's ID.
	EventID string
	// Type is the envelope's type, e.g. "order.v1".
	Type string
	// Err says what is wrong.
	Err error
}

// Error describes the bad event.
func (e *BadEventError) Error() string {
	return fmt.Sprintf("%s %s (type %q, batch index %d): %v", ErrBadEvent, e.EventID, e.Type, e.Index, e.Err)
}

// Is makes errors.Is(err, ErrBadEvent) true.
func (e *BadEventError) Is(target error) bool { return target == ErrBadEvent }

// Unwrap returns the underlying cause.
func (e *BadEventError) Unwrap() error { return e.Err }

// BatchIndex is Index: the bad envelope's position in Insert's slice (the
// sink dead-letters that one event and inserts the rest).
func (e *BadEventError) BatchIndex() int { return e.Index }

// transientCodes are ClickHouse server error codes that describe a passing
// condition (overload, timeouts, a server or replica going away) rather than
// a wrong query or wrong data.
var transientCodes = map[int32]string{
	3:   "UNEXPECTED_END_OF_FILE",
	32:  "ATTEMPT_TO_READ_AFTER_EOF",
	159: "TIMEOUT_EXCEEDED",
	164: "READONLY",
	202: "TOO_MANY_SIMULTANEOUS_QUERIES",
	203: "NO_FREE_CONNECTION",
	209: "SOCKET_TIMEOUT",
	225: "NO_ZOOKEEPER",
	210: "NETWORK_ERROR",
	236: "ABORTED",
	241: "MEMORY_LIMIT_EXCEEDED",
	242: "TABLE_IS_READ_ONLY",
	252: "TOO_MANY_PARTS",
	285: "TOO_FEW_LIVE_REPLICAS",
	319: "UNKNOWN_STATUS_OF_INSERT",
	394: "QUERY_WAS_CANCELLED",
	425: "SYSTEM_ERROR",
	473: "DEADLOCK_AVOIDED",
	999: "KEEPER_EXCEPTION",
}

// IsTransient reports whether err is worth retrying: the server could not be
// reached or went away (refused, reset, broken pipe, EOF, timeouts, a full
// connection pool) or reported a passing condition (overload, too many
// parts, memory limit, timeouts, read-only replicas). Bad events
// (ErrBadEvent), context cancellation, a closed Store and query or schema
// errors are not transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrBadEvent) || errors.Is(err, context.Canceled) || errors.Is(err, ch.ErrConnectionClosed) {
		return false
	}
	var exc *ch.Exception
	if errors.As(err, &exc) {
		_, ok := transientCodes[exc.Code]
		return ok
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ch.ErrAcquireConnTimeout) {
		return true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	for _, errno := range []syscall.Errno{
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN,
		syscall.EHOSTDOWN, syscall.EADDRNOTAVAIL,
	} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		// Dial, DNS and I/O errors on the socket: all about reaching the server.
		return true
	}
	return false
}
