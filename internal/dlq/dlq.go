// Package dlq owns the dead-letter format both ways. The stages write
// letters with it: Build and Publish (the sink's helper is MsgSpec), and
// Middleware, the normalizer's Watermill middleware that dead-letters a
// message its handler cannot process, in the spirit of Watermill's
// poison-queue middleware. The operator reads them: Read, list and show
// what a stage gave up on, and redrive it — republish the original message
// to its original subject once the cause is fixed. Redrive is
// idempotent: a redriven message carries a de-duplication ID derived from
// its dead-letter sequence, is removed from the DLQ only after JetStream
// stored the republished copy, and everything downstream is idempotent too.
package dlq

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
)

// Filter selects letters; zero fields match everything.
type Filter struct {
	Vendor         string
	ReasonContains string
	Seqs           []uint64
}

func (f Filter) match(l Letter) bool {
	if f.Vendor != "" && l.Vendor() != f.Vendor {
		return false
	}
	if f.ReasonContains != "" && !strings.Contains(l.Reason, f.ReasonContains) {
		return false
	}
	if len(f.Seqs) > 0 {
		for _, s := range f.Seqs {
			if s == l.Seq {
				return true
			}
		}
		return false
	}
	return true
}

// Queue is one stage's dead letters.
type Queue struct {
	js    jetstream.JetStream
	stage string
}

// New returns the dead-letter queue of stage ("normalizer" or "sink").
func New(js jetstream.JetStream, stage string) *Queue { return &Queue{js: js, stage: stage} }

// List returns the stage's letters matching f, oldest first.
func (q *Queue) List(ctx context.Context, f Filter) ([]Letter, error) {
	st, err := q.js.Stream(ctx, bus.DLQStream)
	if err != nil {
		return nil, fmt.Errorf("dead-letter stream: %w", err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(stagePrefix(q.stage)+">"))
	if err != nil {
		return nil, fmt.Errorf("dead-letter stream: %w", err)
	}
	total := uint64(0)
	for _, n := range info.State.Subjects {
		total += n
	}
	if total == 0 {
		return nil, nil
	}
	oc, err := q.js.OrderedConsumer(ctx, bus.DLQStream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{stagePrefix(q.stage) + ">"}})
	if err != nil {
		return nil, err
	}
	var out []Letter
	for read := uint64(0); read < total; {
		batch, err := oc.Fetch(500, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return nil, err
		}
		n := 0
		for m := range batch.Messages() {
			n++
			read++
			md, err := m.Metadata()
			if err != nil {
				return nil, err
			}
			l := Read(md.Sequence.Stream, m.Subject(), m.Headers(), m.Data())
			if f.match(l) {
				out = append(out, l)
			}
		}
		if n == 0 {
			break // letters deleted meanwhile
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}

// Show returns one letter by its DLQ sequence.
func (q *Queue) Show(ctx context.Context, seq uint64) (Letter, error) {
	st, err := q.js.Stream(ctx, bus.DLQStream)
	if err != nil {
		return Letter{}, err
	}
	m, err := st.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Letter{}, fmt.Errorf("no dead letter %d", seq)
	}
	if err != nil {
		return Letter{}, err
	}
	if !strings.HasPrefix(m.Subject, stagePrefix(q.stage)) {
		return Letter{}, fmt.Errorf("dead letter %d belongs to another stage (%s)", seq, m.Subject)
	}
	return Read(m.Sequence, m.Subject, m.Header, m.Data), nil
}

// Redrive republishes every letter matching f to its original subject (with
// its original headers) and then deletes it from the DLQ. It returns how many
// were redriven. A record's letter republishes its page with
// HdrRedriveRecords naming the record, so only that record is mapped again;
// a letter stored without its body republishes the original message read
// from its stream (an error if that stream no longer holds it).
func (q *Queue) Redrive(ctx context.Context, f Filter) (int, error) {
	letters, err := q.List(ctx, f)
	if err != nil {
		return 0, err
	}
	st, err := q.js.Stream(ctx, bus.DLQStream)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range letters {
		if l.OriginalSubject == "" {
			return n, fmt.Errorf("dead letter %d has no original subject", l.Seq)
		}
		m := nats.NewMsg(l.OriginalSubject)
		header, data := l.Header, l.Data
		if l.BodyOmitted {
			orig, err := q.original(ctx, l)
			if err != nil {
				return n, err
			}
			header, data = orig.Header, orig.Data
		}
		for k, v := range header {
			if dropOnRedrive(k) {
				continue
			}
			m.Header[k] = v
		}
		if l.Record != NoRecord {
			m.Header.Set(HdrRedriveRecords, strconv.Itoa(l.Record))
		}
		m.Data = data
		if err := bus.PublishSync(ctx, q.js, m, "redrive-"+q.stage+"-"+strconv.FormatUint(l.Seq, 10), nil); err != nil {
			return n, fmt.Errorf("redrive dead letter %d: %w", l.Seq, err)
		}
		if err := st.DeleteMsg(ctx, l.Seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return n, fmt.Errorf("redrive dead letter %d: republished, but not removed from the DLQ: %w", l.Seq, err)
		}
		n++
	}
	return n, nil
}

// original reads the message a body-less letter refers to.
func (q *Queue) original(ctx context.Context, l Letter) (*jetstream.RawStreamMsg, error) {
	if l.OriginalStream == "" || l.OriginalSeq == 0 {
		return nil, fmt.Errorf("dead letter %d has no body and names no original message", l.Seq)
	}
	st, err := q.js.Stream(ctx, l.OriginalStream)
	if err != nil {
		return nil, fmt.Errorf("dead letter %d: original stream %s: %w", l.Seq, l.OriginalStream, err)
	}
	m, err := st.GetMsg(ctx, l.OriginalSeq)
	if err != nil {
		return nil, fmt.Errorf("dead letter %d: original message %d of %s (the letter has no body): %w", l.Seq, l.OriginalSeq, l.OriginalStream, err)
	}
	return m, nil
}

// PrintList writes letters as a table.
func PrintList(w io.Writer, letters []Letter) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tAT\tVENDOR\tORIGINAL SUBJECT\tORIG SEQ\tRECORD\tREASON")
	for _, l := range letters {
		reason := l.Reason
		if len(reason) > 100 {
			reason = reason[:100] + "…"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", l.Seq, l.At.UTC().Format(time.RFC3339), l.Vendor(), l.OriginalSubject, l.OriginalSeq, recordText(l.Record), reason)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d dead letters\n", len(letters))
}

// recordText renders Letter.Record for people: "-" for a whole message.
func recordText(r int) string {
	if r == NoRecord {
		return "-"
	}
	return strconv.Itoa(r)
}

// PrintLetter writes one letter: headers, then the body.
func PrintLetter(w io.Writer, l Letter) {
	fmt.Fprintf(w, "seq: %d\nsubject: %s\nstage: %s\nreason: %s\noriginal subject: %s\noriginal seq: %d\nrecord: %s\nat: %s\nheaders:\n",
		l.Seq, l.Subject, l.Stage, l.Reason, l.OriginalSubject, l.OriginalSeq, recordText(l.Record), l.At.UTC().Format(time.RFC3339Nano))
	keys := make([]string, 0, len(l.Header))
	for k := range l.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %s: %s\n", k, strings.Join(l.Header[k], ", "))
	}
	if l.BodyOmitted {
		fmt.Fprintf(w, "body: omitted (too large for a dead letter); it is message %d of %s\n", l.OriginalSeq, l.OriginalStream)
		return
	}
	fmt.Fprintf(w, "body (%d bytes):\n%s\n", len(l.Data), l.Data)
}
