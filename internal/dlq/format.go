package dlq

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/yongjin-dev/yongjin/internal/bus"
)

// Headers of the dead-letter format. A letter carries the original
// message's headers plus these; every one starts with "Yongjin-Dlq-", which
// Redrive strips.
const (
	// HdrStage names the stage that gave up ("normalizer", "sink").
	HdrStage = "Yongjin-Dlq-Stage"
	// HdrReason says why, for an operator (clipped to 4 KiB).
	HdrReason = "Yongjin-Dlq-Reason"
	// HdrOriginalSubject is the subject the original message was on; Redrive
	// republishes there.
	HdrOriginalSubject = "Yongjin-Dlq-Original-Subject"
	// HdrOriginalSeq is the original message's sequence in HdrOriginalStream.
	HdrOriginalSeq = "Yongjin-Dlq-Original-Seq"
	// HdrAt is when the letter was written (RFC 3339, nanoseconds, UTC).
	HdrAt = "Yongjin-Dlq-At"
	// HdrRecord is, on the dead letter of one record of a page, the record's
	// index in the page's record list (absent: the whole message failed).
	HdrRecord = "Yongjin-Dlq-Record"
	// HdrOriginalStream names the stream that holds the original message
	// (YONGJIN_RAW for the normalizer, YONGJIN_EVENTS for the sink).
	HdrOriginalStream = "Yongjin-Dlq-Original-Stream"
	// HdrBodyOmitted is "true" on a dead letter stored without the original
	// body because the copy would exceed the server's max payload; the body is
	// in HdrOriginalStream at HdrOriginalSeq, where Redrive reads it.
	HdrBodyOmitted = "Yongjin-Dlq-Body-Omitted"
)

// HdrRedriveRecords is set on a page redriven from record dead letters: the
// indexes (comma-separated) of the records the normalizer maps again. The
// page's other records were published when it was first normalized.
const HdrRedriveRecords = "Yongjin-Redrive-Records"

// NoRecord is Letter.Record (and Spec.Record) of a dead letter that
// concerns a whole message.
const NoRecord = -1

// maxReason bounds the reason header; a longer reason is clipped.
const maxReason = 4096

// Subject is the dead-letter subject of a message stage gave up on:
// yongjin.dlq.<stage>.<vendor>.
func Subject(stage, vendor string) string { return bus.DLQSubjectPrefix + "." + stage + "." + vendor }

// stagePrefix is what every subject of stage's letters starts with.
func stagePrefix(stage string) string { return bus.DLQSubjectPrefix + "." + stage + "." }

// VendorOf is the last token of subject: the vendor of a dead-letter subject
// (yongjin.dlq.<stage>.<vendor>) and of an event subject
// (yongjin.events.<kind>.v1.<vendor>); "" when subject has no dot.
func VendorOf(subject string) string {
	if i := strings.LastIndexByte(subject, '.'); i >= 0 {
		return subject[i+1:]
	}
	return ""
}

// MsgID is a dead letter's de-duplication ID, so that the same failure
// dead-lettered twice (after a redelivery) is stored once:
// dlq-<stage>-<seq>, then -<key> for each key, then -r<record> unless record
// is NoRecord.
func MsgID(stage string, seq uint64, record int, keys ...string) string {
	id := "dlq-" + stage + "-" + strconv.FormatUint(seq, 10)
	for _, k := range keys {
		id += "-" + k
	}
	if record != NoRecord {
		id += "-r" + strconv.Itoa(record)
	}
	return id
}

// Spec is one message a stage gives up on.
type Spec struct {
	// Stage is the stage giving up ("normalizer", "sink").
	Stage string
	// Vendor is the DLQ subject's last token ("unknown" when empty).
	Vendor string
	// Reason says why, for an operator.
	Reason error
	// Header are the original message's headers (copied; Nats-Msg-Id and
	// Watermill's metadata keys, which start with "_", are dropped).
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
	// MsgID is the letter's de-duplication ID (see MsgID); empty means
	// MsgID(Stage, StreamSeq, Record).
	MsgID string
}

// msgID is s.MsgID or its default.
func (s Spec) msgID() string {
	if s.MsgID != "" {
		return s.MsgID
	}
	return MsgID(s.Stage, s.StreamSeq, s.Record)
}

// Build returns the dead letter of s written at now, with its body: on
// Subject(s.Stage, s.Vendor), the original headers plus the Hdr* ones.
// Publish stores it (or its body-less form when it is too large).
func Build(s Spec, now time.Time) *nats.Msg {
	vendor := s.Vendor
	if vendor == "" {
		vendor = "unknown"
	}
	m := nats.NewMsg(Subject(s.Stage, vendor))
	for k, v := range s.Header {
		if k == nats.MsgIdHdr || (len(k) > 0 && k[0] == '_') {
			continue
		}
		m.Header[k] = append([]string(nil), v...)
	}
	m.Header.Set(HdrStage, s.Stage)
	m.Header.Set(HdrOriginalSubject, s.OriginalSubject)
	m.Header.Set(HdrOriginalSeq, strconv.FormatUint(s.StreamSeq, 10))
	m.Header.Set(HdrAt, now.UTC().Format(time.RFC3339Nano))
	if s.OriginalStream != "" {
		m.Header.Set(HdrOriginalStream, s.OriginalStream)
	}
	if s.Record != NoRecord {
		m.Header.Set(HdrRecord, strconv.Itoa(s.Record))
	}
	m.Header.Set(HdrReason, clip(s.Reason.Error()))
	m.Data = s.Data
	return m
}

// omitBody turns m, the letter Build made of s, into its body-less form:
// HdrBodyOmitted, and a reason that names the body's size, why (tooLarge)
// and where the original is.
func omitBody(m *nats.Msg, s Spec, tooLarge error) {
	m.Data = nil
	m.Header.Set(HdrBodyOmitted, "true")
	m.Header.Set(HdrReason, clip(fmt.Sprintf("%s [body of %d bytes omitted: %v; the original is message %d of %s]",
		s.Reason.Error(), len(s.Data), tooLarge, s.StreamSeq, s.OriginalStream)))
}

// Letter is one dead-lettered message.
type Letter struct {
	Seq             uint64
	Subject         string
	Stage           string
	Reason          string
	OriginalSubject string
	At              time.Time
	// Record is the index of the failed record inside the original message
	// (a page's order), or NoRecord when the whole message failed.
	Record int
	// BodyOmitted is set when the letter holds no body (the copy would
	// have exceeded the max payload): the original is in OriginalStream.
	BodyOmitted    bool
	OriginalStream string
	// OriginalSeq is the original message's sequence in its stream.
	OriginalSeq uint64
	Header      nats.Header
	Data        []byte
}

// Read reads the dead letter stored at seq in the DLQ stream on subject
// with headers h and body data. Headers that are missing or malformed leave
// their field zero (Record: NoRecord).
func Read(seq uint64, subject string, h nats.Header, data []byte) Letter {
	l := Letter{Seq: seq, Subject: subject, Header: h, Data: data, Stage: h.Get(HdrStage),
		Reason: h.Get(HdrReason), OriginalSubject: h.Get(HdrOriginalSubject), Record: NoRecord,
		BodyOmitted: h.Get(HdrBodyOmitted) == "true", OriginalStream: h.Get(HdrOriginalStream)}
	l.At, _ = time.Parse(time.RFC3339Nano, h.Get(HdrAt))
	l.OriginalSeq, _ = strconv.ParseUint(h.Get(HdrOriginalSeq), 10, 64)
	if r, err := strconv.Atoi(h.Get(HdrRecord)); err == nil && r >= 0 {
		l.Record = r
	}
	return l
}

// Vendor is the vendor part of the DLQ subject (yongjin.dlq.<stage>.<vendor>).
func (l Letter) Vendor() string { return VendorOf(l.Subject) }

// dropOnRedrive reports whether header k of a letter is left out when it is
// republished: the format's own headers, the letter's de-duplication ID and
// a previous redrive's record list.
func dropOnRedrive(k string) bool {
	return strings.HasPrefix(k, "Yongjin-Dlq-") || k == nats.MsgIdHdr || k == HdrRedriveRecords
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
