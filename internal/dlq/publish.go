package dlq

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
)

// ErrTooLarge marks a message larger than the NATS server's max payload: no
// retry can publish it.
var ErrTooLarge = errors.New("message exceeds the server's max payload")

// TooLarge returns an error wrapping ErrTooLarge when msg (body and
// headers) does not fit the max payload of js's server, naming both sizes.
func TooLarge(js jetstream.JetStream, msg *nats.Msg) error {
	limit := js.Conn().MaxPayload()
	if n := MsgSize(msg); limit > 0 && int64(n) > limit {
		return fmt.Errorf("%w: %s is %d bytes, the limit is %d bytes", ErrTooLarge, msg.Subject, n, limit)
	}
	return nil
}

// MsgSize is the size a message takes against the max payload: its body
// and its encoded headers.
func MsgSize(msg *nats.Msg) int {
	n := len(msg.Data)
	if len(msg.Header) > 0 {
		n += len("NATS/1.0\r\n\r\n")
		for k, vs := range msg.Header {
			for _, v := range vs {
				n += len(k) + len(v) + len(": \r\n")
			}
		}
	}
	return n
}

// Publish dead-letters one message (the letter Build makes of s) and waits
// for JetStream to store it. A letter that would exceed the server's max
// payload is stored without the body (HdrBodyOmitted, the reason says the
// sizes): the original stays in its stream, and Redrive reads it from
// there. Nothing is dropped and nothing loops on the size.
func Publish(ctx context.Context, js jetstream.JetStream, s Spec) error {
	m := Build(s, time.Now())
	if err := TooLarge(js, m); err != nil {
		if s.OriginalStream == "" || s.StreamSeq == 0 {
			return fmt.Errorf("dead-letter %s seq %d: %w (and the original cannot be referenced instead)", s.OriginalSubject, s.StreamSeq, err)
		}
		omitBody(m, s, err)
		if err := TooLarge(js, m); err != nil {
			return fmt.Errorf("dead-letter %s seq %d without its body: %w", s.OriginalSubject, s.StreamSeq, err)
		}
	}
	if err := bus.PublishSync(ctx, js, m, s.msgID(), nil); err != nil {
		return fmt.Errorf("dead-letter %s seq %d: %w", s.OriginalSubject, s.StreamSeq, err)
	}
	return nil
}

// MsgSpec is the Spec of m, a message of stream that stage gives up on as
// a whole: its vendor is the subject's last token (an event subject's
// vendor), and its de-duplication ID is MsgID(stage, its stream sequence,
// NoRecord). The sink dead-letters a bad event with
// Publish(ctx, js, MsgSpec(...)).
func MsgSpec(stage, stream string, m jetstream.Msg, reason error) Spec {
	var seq uint64
	if md, err := m.Metadata(); err == nil {
		seq = md.Sequence.Stream
	}
	return Spec{Stage: stage, Vendor: VendorOf(m.Subject()), Reason: reason, Header: m.Headers(), Data: m.Data(),
		OriginalSubject: m.Subject(), OriginalStream: stream, StreamSeq: seq, Record: NoRecord}
}
