package dlq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
)

// Headers of the dead-letter format besides bus.HdrDLQ* (every header a
// stage adds starts with "Yongjin-Dlq-", which Redrive strips).
const (
	// HdrRecord is, on the dead letter of one record of a page, the record's
	// index in the page's record list (absent: the whole message failed).
	HdrRecord = "Yongjin-Dlq-Record"
	// HdrOriginalStream names the stream that holds the original message
	// (YONGJIN_RAW for the normalizer, YONGJIN_EVENTS for the sink).
	HdrOriginalStream = "Yongjin-Dlq-Original-Stream"
	// HdrBodyOmitted is "true" on a dead letter stored without the original
	// body because the copy would exceed the server's max payload; the body is
	// in HdrOriginalStream at HdrDLQStreamSeq, where Redrive reads it.
	HdrBodyOmitted = "Yongjin-Dlq-Body-Omitted"
)

// HdrRedriveRecords is set on a page redriven from record dead letters: the
// indexes (comma-separated) of the records the normalizer maps again. The
// page's other records were published when it was first normalized.
const HdrRedriveRecords = "Yongjin-Redrive-Records"

// NoRecord is Letter.Record of a dead letter that concerns a whole message.
const NoRecord = -1

// maxReason bounds the reason header; a longer reason is clipped.
const maxReason = 4096

// Spec is one message a stage gives up on.
type Spec struct {
	// Stage is the stage giving up ("normalizer", "sink").
	Stage string
	// Vendor is the DLQ subject's last token ("unknown" when empty).
	Vendor string
	// Reason says why, for an operator.
	Reason error
	// Header are the original message's headers (copied; Nats-Msg-Id and
	// Watermill's metadata keys are dropped).
	Header map[string][]string
	// Data is the original body.
	Data []byte
	// OriginalSubject, OriginalStream and StreamSeq locate the original.
	OriginalSubject string
	OriginalStream  string
	StreamSeq       uint64
	// Record is the index of the failed record inside the message, or
	// NoRecord.
	Record int
	// MsgID is the letter's de-duplication ID: the same failure dead-lettered
	// twice (after a redelivery) is stored once.
	MsgID string
}

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

// Publish dead-letters one message on yongjin.dlq.<stage>.<vendor> and
// waits for JetStream to store it. A letter that would exceed the server's
// max payload is stored without the body (HdrBodyOmitted, the reason says
// the sizes): the original stays in its stream, and Redrive reads it from
// there. Nothing is dropped and nothing loops on the size.
func Publish(ctx context.Context, js jetstream.JetStream, s Spec) error {
	vendor := s.Vendor
	if vendor == "" {
		vendor = "unknown"
	}
	m := nats.NewMsg(bus.DLQSubject(s.Stage, vendor))
	for k, v := range s.Header {
		if k == nats.MsgIdHdr || (len(k) > 0 && k[0] == '_') {
			continue
		}
		m.Header[k] = append([]string(nil), v...)
	}
	reason := s.Reason.Error()
	m.Header.Set(bus.HdrDLQStage, s.Stage)
	m.Header.Set(bus.HdrDLQSubject, s.OriginalSubject)
	m.Header.Set(bus.HdrDLQStreamSeq, strconv.FormatUint(s.StreamSeq, 10))
	m.Header.Set(bus.HdrDLQAt, time.Now().UTC().Format(time.RFC3339Nano))
	if s.OriginalStream != "" {
		m.Header.Set(HdrOriginalStream, s.OriginalStream)
	}
	if s.Record != NoRecord {
		m.Header.Set(HdrRecord, strconv.Itoa(s.Record))
	}
	m.Header.Set(bus.HdrDLQReason, clip(reason))
	m.Data = s.Data
	if err := TooLarge(js, m); err != nil {
		if s.OriginalStream == "" || s.StreamSeq == 0 {
			return fmt.Errorf("dead-letter %s seq %d: %w (and the original cannot be referenced instead)", s.OriginalSubject, s.StreamSeq, err)
		}
		m.Data = nil
		m.Header.Set(HdrBodyOmitted, "true")
		m.Header.Set(bus.HdrDLQReason, clip(fmt.Sprintf("%s [body of %d bytes omitted: %v; the original is message %d of %s]",
			reason, len(s.Data), err, s.StreamSeq, s.OriginalStream)))
		if err := TooLarge(js, m); err != nil {
			return fmt.Errorf("dead-letter %s seq %d without its body: %w", s.OriginalSubject, s.StreamSeq, err)
		}
	}
	if err := bus.PublishSync(ctx, js, m, s.MsgID, nil); err != nil {
		return fmt.Errorf("dead-letter %s seq %d: %w", s.OriginalSubject, s.StreamSeq, err)
	}
	return nil
}

func clip(s string) string {
	if len(s) <= maxReason {
		return s
	}
	n := maxReason
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
