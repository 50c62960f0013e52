package normalizer

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

// ReplayStats counts what a replay did.
type ReplayStats struct {
	Pages, Events, DeadLettered int
}

// Replay re-derives events from the RAW stream: every page of vendor ("" =
// all) stored since since is normalized again and its events published to
// EVENTS. Replayed events keep their deterministic IDs in their payload, but
// are published under a per-run de-duplication ID so a corrected mapping is
// not swallowed by the de-duplication window; ClickHouse keeps one row per
// key and version, so nothing is counted twice. Pages that fail are
// dead-lettered with the reason. progress (may be nil) is called per page.
func (s *Service) Replay(ctx context.Context, vendor string, since time.Time, progress func(ReplayStats)) (ReplayStats, error) {
	var st ReplayStats
	filter := events.RawSubjectPrefix + ".>"
	if vendor != "" {
		if _, err := s.reg.Get(vendor); err != nil {
			return st, err
		}
		filter = events.RawSubjectPrefix + "." + vendor + ".>"
	}
	stream, err := s.js.Stream(ctx, bus.RawStream)
	if err != nil {
		return st, fmt.Errorf("raw stream: %w", err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return st, err
	}
	last := info.State.LastSeq
	oc, err := s.js.OrderedConsumer(ctx, bus.RawStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter}, DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &since,
	})
	if err != nil {
		return st, err
	}
	run := fmt.Sprintf("replay-%d", time.Now().UnixNano())
	for {
		batch, err := oc.Fetch(100, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return st, err
		}
		n := 0
		done := false
		for m := range batch.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				return st, err
			}
			if md.Sequence.Stream > last {
				done = true
				break
			}
			if err := s.replayOne(ctx, m, run, &st); err != nil {
				return st, err
			}
			if progress != nil {
				progress(st)
			}
			if md.Sequence.Stream == last {
				done = true
			}
		}
		if done || n == 0 {
			return st, nil
		}
	}
}

func (s *Service) replayOne(ctx context.Context, m jetstream.Msg, run string, st *ReplayStats) error {
	st.Pages++
	hdr := m.Headers()
	page, err := events.RawPageFromHeaders(hdr.Get, m.Data())
	var envs []events.Envelope
	if err == nil {
		envs, err = s.normalize(page)
	}
	var msgs []*nats.Msg
	if err == nil {
		msgs, err = EventMessages(page.Vendor, envs)
	}
	if err != nil {
		wm, _ := bus.Unmarshaler{}.Unmarshal(m) // never fails
		if dlErr := s.deadLetter(wm, fmt.Errorf("replay: %w", err)); dlErr != nil {
			return dlErr
		}
		st.DeadLettered++
		return nil
	}
	for _, msg := range msgs {
		msg.Header.Set(nats.MsgIdHdr, run+"-"+msg.Header.Get(nats.MsgIdHdr))
	}
	if err := bus.PublishAll(ctx, s.js, msgs, func(error) { s.m.retries.Inc() }); err != nil {
		return fmt.Errorf("replay: publish events of %s page %s: %w", page.Vendor, page.Cursor, err)
	}
	st.Events += len(msgs)
	return nil
}
