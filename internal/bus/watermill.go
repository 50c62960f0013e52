package bus

import (
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Metadata keys the Unmarshaler adds to every Watermill message.
const (
	MetaSubject      = "_yongjin_nats_subject"
	MetaStreamSeq    = "_yongjin_nats_stream_seq"
	MetaNumDelivered = "_yongjin_nats_num_delivered"
)

// The Subscriber's pluggable pieces keep watermill-nats' interfaces.
var (
	_ wmjs.Unmarshaler = Unmarshaler{}
	_ wmjs.Delay       = ExpDelay{}
)

// Unmarshaler turns a JetStream message into a Watermill message without ever
// failing (Watermill's default fails on multi-valued headers and the
// subscriber then dereferences a nil message). Multi-valued headers are joined
// with ", ". The Nats-Msg-Id becomes the message UUID, and the subject, stream
// sequence and delivery count are added as metadata (Meta* keys).
type Unmarshaler struct{}

// Unmarshal implements wmjs.Unmarshaler.
func (Unmarshaler) Unmarshal(msg jetstream.Msg) (*message.Message, error) {
	md := make(message.Metadata, len(msg.Headers())+3)
	for k, v := range msg.Headers() {
		md.Set(k, strings.Join(v, ", "))
	}
	md.Set(MetaSubject, msg.Subject())
	if meta, err := msg.Metadata(); err == nil {
		md.Set(MetaStreamSeq, strconv.FormatUint(meta.Sequence.Stream, 10))
		md.Set(MetaNumDelivered, strconv.FormatUint(meta.NumDelivered, 10))
	}
	id := msg.Headers().Get(nats.MsgIdHdr)
	if id == "" {
		id = watermill.NewUUID()
	}
	m := message.NewMessage(id, msg.Data())
	m.Metadata = md
	return m, nil
}

// NumDelivered is how many times the server delivered msg (1 on first delivery).
func NumDelivered(msg *message.Message) uint64 {
	n, _ := strconv.ParseUint(msg.Metadata.Get(MetaNumDelivered), 10, 64)
	return n
}

// ExpDelay is a Watermill NakDelay: redeliver after Base·2^(n-1), capped at
// Max, where n is the delivery count. It never terminates a message (stages
// dead-letter explicitly instead).
type ExpDelay struct {
	Base, Max time.Duration
}

// WaitTime implements wmjs.Delay.
func (d ExpDelay) WaitTime(n uint64) time.Duration {
	w := d.Base
	for i := uint64(1); i < n && w < d.Max; i++ {
		w *= 2
	}
	if w > d.Max {
		w = d.Max
	}
	return w
}
