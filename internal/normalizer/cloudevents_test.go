package normalizer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	cejs "github.com/cloudevents/sdk-go/protocol/nats_jetstream/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/nats-io/nats.go"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/devstack"
	"github.com/yongjin-dev/yongjin/internal/devstack/devstacktest"
	"github.com/yongjin-dev/yongjin/internal/testenv"
	"github.com/yongjin-dev/yongjin/internal/vendorsandbox"
	"github.com/yongjin-dev/yongjin/pkg/events"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestCloudEventsSDKReadsTheStream runs the pipeline on all five vendors'
// sandboxes and consumes the whole YONGJIN_EVENTS stream with the CloudEvents
// Go SDK's NATS JetStream protocol binding, as a subscriber using that SDK
// would. Every event the SDK yields must carry exactly the id, type, source,
// subject, time, dataschema, datacontenttype and data of the envelope in the
// message body (structured content mode: a binary-mode reading would turn
// the whole envelope into data), and the SDK must yield every message of the
// stream, of every type.
func TestCloudEventsSDKReadsTheStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// with the per-line commission.v1 events too, so every type is read
	run := devstacktest.RunWith(ctx, t, vendorsandbox.DemoAccounts("cloudevents"), 13, 300, func(o *devstack.Config) { o.CommissionEvents = true })
	info, err := run.JS.Stream(ctx, bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	si, err := info.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := si.State.Msgs
	if total == 0 {
		t.Fatal("the pipeline published no events")
	}

	nc, err := nats.Connect(run.NATS.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	consumer, err := cejs.NewConsumerFromConn(nc, bus.EventsStream, events.SubjectPrefix+".>", nil,
		[]nats.SubOpt{nats.DeliverAll(), nats.AckNone()})
	if err != nil {
		t.Fatal(err)
	}
	inbound, stopInbound := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- consumer.OpenInbound(inbound) }()
	defer func() {
		stopInbound()
		<-done
	}()

	perType := map[string]int{}
	for n := uint64(0); n < total; n++ {
		m, err := consumer.Receive(ctx)
		if err != nil {
			t.Fatalf("receive after %d of %d events: %v", n, total, err)
		}
		nm := m.(*cejs.Message)
		if enc := m.ReadEncoding(); enc != binding.EncodingStructured {
			t.Fatalf("message %s: the SDK reads it in %v mode, want structured", nm.Msg.Subject, enc)
		}
		ev, err := binding.ToEvent(ctx, m)
		if err != nil {
			t.Fatalf("message %s: the SDK cannot read it: %v", nm.Msg.Subject, err)
		}
		var env events.Envelope
		if err := json.Unmarshal(nm.Msg.Data, &env); err != nil {
			t.Fatal(err)
		}
		if err := ev.Validate(); err != nil {
			t.Errorf("event %s: the SDK finds it invalid: %v", env.ID, err)
		}
		got := [][2]string{
			{ev.ID(), env.ID}, {ev.Type(), env.Type}, {ev.Source(), env.Source}, {ev.Subject(), env.Subject},
			{ev.DataSchema(), env.DataSchema}, {ev.DataContentType(), env.DataContentType}, {ev.SpecVersion(), env.SpecVersion},
		}
		for i, g := range got {
			if g[0] != g[1] {
				t.Errorf("event %s attribute %d: SDK %q, envelope %q", env.ID, i, g[0], g[1])
			}
		}
		if !ev.Time().Equal(env.Time) {
			t.Errorf("event %s time: SDK %s, envelope %s", env.ID, ev.Time(), env.Time)
		}
		if !bytes.Equal(ev.Data(), env.Data) {
			t.Errorf("event %s data: SDK %s\nenvelope %s", env.ID, ev.Data(), env.Data)
		}
		if ct := nm.Msg.Header.Get(events.ContentTypeHeader); ct != events.StructuredContentType {
			t.Errorf("event %s: %s header %q, want %q", env.ID, events.ContentTypeHeader, ct, events.StructuredContentType)
		}
		if id := nm.Msg.Header.Get(nats.MsgIdHdr); id != env.ID {
			t.Errorf("event %s: Nats-Msg-Id %q", env.ID, id)
		}
		// exactly the two headers docs/EVENTS.md names, with these spellings
		// (no ce-* attribute headers, no other spelling of either name)
		if len(nm.Msg.Header) != 2 || len(nm.Msg.Header[nats.MsgIdHdr]) != 1 || len(nm.Msg.Header[events.ContentTypeHeader]) != 1 {
			t.Errorf("event %s: headers %v, want exactly %s and %s", env.ID, nm.Msg.Header, nats.MsgIdHdr, events.ContentTypeHeader)
		}
		perType[ev.Type()]++
		if t.Failed() {
			t.FailNow()
		}
	}
	for _, k := range events.Kinds {
		if perType[events.Type(k)] == 0 {
			t.Errorf("no %s event in the run: the test would not cover it", events.Type(k))
		}
	}
	t.Logf("the CloudEvents SDK read all %d events of the run, identical to their envelopes: %v", total, perType)
}
