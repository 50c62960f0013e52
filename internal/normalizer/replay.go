package normalizer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

// ReplayStats counts what a replay did.
type ReplayStats struct {
	// Pages is how many RAW pages were read; Events how many events were
	// published.
	Pages, Events int
	// DeadLettered is how many pages failed as a whole; BadRecords how many
	// single records of otherwise good pages were dead-lettered.
	DeadLettered, BadRecords int
}

// ErrReplayTimeout is returned (wrapped) when a replay did not finish within
// Config.ReplayTimeout.
var ErrReplayTimeout = errors.New("replay did not finish in time")

// Replay re-derives events from the RAW stream: every page of vendor ("" =
// all) stored since since is normalized again and its events published to
// EVENTS. Replayed events keep their deterministic IDs in their payload, but
// are published under a per-run de-duplication ID so a corrected mapping is
// not swallowed by the de-duplication window; ClickHouse keeps one row per
// key and version, so nothing is counted twice. Pages and records that fail
// are dead-lettered with the reason. progress (may be nil) is called per page.
//
// A replay is bounded: each page's publishes by 80% of AckWait (as in the
// live consumer), the whole run by Config.ReplayTimeout; a lost ack or a
// stuck server makes it return an error (ErrReplayTimeout for the overall
// bound) with the stats so far, never hang.
func (s *Service) Replay(ctx context.Context, vendor string, since time.Time, progress func(ReplayStats)) (ReplayStats, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, s.cfg.ReplayTimeout, fmt.Errorf("%w (%s)", ErrReplayTimeout, s.cfg.ReplayTimeout))
	defer cancel()
	st, err := s.replay(ctx, vendor, since, progress)
	if err != nil && ctx.Err() != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrReplayTimeout) {
			err = fmt.Errorf("%w after %d pages: %v", cause, st.Pages, err)
		}
	}
	return st, err
}

func (s *Service) replay(ctx context.Context, vendor string, since time.Time, progress func(ReplayStats)) (ReplayStats, error) {
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
	run := fmt.Sprintf("replay-%d-", time.Now().UnixNano())
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
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
			if err := s.replayOne(ctx, m, md.Sequence.Stream, run, &st); err != nil {
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
			return st, ctx.Err()
		}
	}
}

func (s *Service) replayOne(ctx context.Context, m jetstream.Msg, seq uint64, run string, st *ReplayStats) error {
	st.Pages++
	o := origin{subject: m.Subject(), seq: seq, header: m.Headers(), data: m.Data()}
	o.uuid = o.get("Nats-Msg-Id")
	pctx, cancel := context.WithTimeout(ctx, s.cfg.AckWait*8/10)
	defer cancel()
	res, err := s.process(pctx, o, run, "replay: ")
	if errors.Is(err, ErrPermanent) {
		if dlErr := s.deadLetter(pctx, o, dlq.NoRecord, fmt.Errorf("replay: %w", err)); dlErr != nil {
			return dlErr
		}
		st.DeadLettered++
		return nil
	}
	if err != nil {
		return fmt.Errorf("replay: page %d: %w", seq, err)
	}
	st.Events += len(res.envs)
	st.BadRecords += res.badRecords
	return nil
}
