package bus

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Backlog reports how much of stream the durable consumer has not finished:
// left is its pending plus unacknowledged messages, and drained says it got
// past, and acknowledged, every message the stream held when Backlog was
// called. The server counts a consumer's pending messages as the stream
// signals it, so for a moment after a publish NumPending can be 0 while the
// message is stored and not yet delivered: left == 0 alone does not mean
// drained.
func Backlog(ctx context.Context, js jetstream.JetStream, stream, durable string) (left uint64, drained bool, err error) {
	str, err := js.Stream(ctx, stream)
	if err != nil {
		return 0, false, fmt.Errorf("stream %s: %w", stream, err)
	}
	last := str.CachedInfo().State.LastSeq // read before the consumer's state
	cons, err := str.Consumer(ctx, durable)
	if err != nil {
		return 0, false, fmt.Errorf("consumer %s: %w", durable, err)
	}
	info := cons.CachedInfo()
	left = info.NumPending + uint64(info.NumAckPending)
	return left, left == 0 && max(info.Delivered.Stream, info.AckFloor.Stream) >= last, nil
}
