package bus

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// LagCollector exports a durable consumer's lag at scrape time:
// yongjin_consumer_pending_messages (not yet delivered) and
// yongjin_consumer_ack_pending_messages (delivered, not yet acknowledged).
type LagCollector struct {
	js               jetstream.JetStream
	stream, consumer string
	pending, ackPend *prometheus.Desc
}

// NewLagCollector returns a collector for consumer on stream.
func NewLagCollector(js jetstream.JetStream, stream, consumer string) *LagCollector {
	labels := prometheus.Labels{"stream": stream, "consumer": consumer}
	return &LagCollector{js: js, stream: stream, consumer: consumer,
		pending: prometheus.NewDesc("yongjin_consumer_pending_messages", "Messages in the stream not yet delivered to the consumer.", nil, labels),
		ackPend: prometheus.NewDesc("yongjin_consumer_ack_pending_messages", "Messages delivered to the consumer and not yet acknowledged.", nil, labels),
	}
}

// Describe implements prometheus.Collector.
func (c *LagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.pending; ch <- c.ackPend }

// Collect implements prometheus.Collector; it reports nothing when the
// consumer cannot be read (the /readyz check says why).
func (c *LagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	cons, err := c.js.Consumer(ctx, c.stream, c.consumer)
	if err != nil {
		return
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(info.NumPending))
	ch <- prometheus.MustNewConstMetric(c.ackPend, prometheus.GaugeValue, float64(info.NumAckPending))
}
