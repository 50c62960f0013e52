package bus

// Pure functions only: nothing here needs a NATS server.

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

func TestExpDelayWaitTime(t *testing.T) {
	tests := []struct {
		name string
		d    ExpDelay
		n    uint64
		want time.Duration
	}{
		{"delivery 0 is base", ExpDelay{Base: time.Second, Max: time.Minute}, 0, time.Second},
		{"first delivery is base", ExpDelay{Base: time.Second, Max: time.Minute}, 1, time.Second},
		{"second doubles", ExpDelay{Base: time.Second, Max: time.Minute}, 2, 2 * time.Second},
		{"third", ExpDelay{Base: time.Second, Max: time.Minute}, 3, 4 * time.Second},
		{"sixth", ExpDelay{Base: time.Second, Max: time.Minute}, 6, 32 * time.Second},
		{"seventh is capped", ExpDelay{Base: time.Second, Max: time.Minute}, 7, time.Minute},
		{"far past the cap", ExpDelay{Base: time.Second, Max: time.Minute}, 1000, time.Minute},
		{"huge delivery count ends quickly", ExpDelay{Base: time.Second, Max: time.Minute}, math.MaxUint64, time.Minute},
		{"cap hit exactly", ExpDelay{Base: 250 * time.Millisecond, Max: time.Second}, 3, time.Second},
		{"cap between doublings", ExpDelay{Base: 3 * time.Second, Max: 10 * time.Second}, 3, 10 * time.Second},
		{"base above max is capped", ExpDelay{Base: time.Hour, Max: time.Minute}, 1, time.Minute},
		{"base equals max", ExpDelay{Base: time.Minute, Max: time.Minute}, 5, time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.d.WaitTime(tc.n); got != tc.want {
				t.Errorf("%+v.WaitTime(%d) = %s, want %s", tc.d, tc.n, got, tc.want)
			}
		})
	}
}

// The delay never decreases as deliveries go up and never exceeds Max.
func TestExpDelayMonotonic(t *testing.T) {
	d := ExpDelay{Base: 700 * time.Millisecond, Max: 45 * time.Second}
	prev := time.Duration(0)
	for n := uint64(1); n <= 200; n++ {
		w := d.WaitTime(n)
		if w < prev || w > d.Max || w <= 0 {
			t.Fatalf("WaitTime(%d) = %s after %s (max %s)", n, w, prev, d.Max)
		}
		prev = w
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		secrets []string // must not appear in the output
	}{
		{name: "in-process", in: "", want: "(in-process)"},
		{name: "no credentials", in: "nats://127.0.0.1:4222", want: "nats://127.0.0.1:4222"},
		{name: "user and password", in: "nats://yongjin:s3cr3t@nats:4222", want: "nats://[REDACTED]@nats:4222", secrets: []string{"yongjin", "s3cr3t"}},
		{name: "token", in: "nats://tok3n-value@nats:4222", want: "nats://[REDACTED]@nats:4222", secrets: []string{"tok3n-value"}},
		{name: "tls and IPv6", in: "tls://u:pw@[::1]:4222", want: "tls://[REDACTED]@[::1]:4222", secrets: []string{"pw"}},
		{name: "escaped password", in: "nats://u:p%40ss@h:4222", want: "nats://[REDACTED]@h:4222", secrets: []string{"p%40ss"}},
		{name: "unescaped @ in password", in: "nats://u:p@ss@h:4222", want: "nats://[REDACTED]@h:4222", secrets: []string{"p@ss", "u:p"}},
		{name: "password that does not parse", in: "nats://u:50%off@h:4222", want: "nats://[REDACTED]@h:4222", secrets: []string{"50%off"}},
		{name: "no scheme", in: "u:hunter2@h:4222", want: "[REDACTED]@h:4222", secrets: []string{"hunter2"}},
		{name: "server list", in: "nats://a:pw1@h1:4222,nats://b:pw2@h2:4222, nats://h3:4222",
			want: "nats://[REDACTED]@h1:4222,nats://[REDACTED]@h2:4222, nats://h3:4222", secrets: []string{"pw1", "pw2"}},
		{name: "list, second only", in: "nats://h1:4222,nats://b:pw2@h2:4222",
			want: "nats://h1:4222,nats://[REDACTED]@h2:4222", secrets: []string{"pw2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := redactURL(tc.in)
			if got != tc.want {
				t.Errorf("redactURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
			for _, s := range tc.secrets {
				if strings.Contains(got, s) {
					t.Errorf("redactURL(%q) = %q still contains %q", tc.in, got, s)
				}
			}
		})
	}
}

func TestConnectError(t *testing.T) {
	const raw = "nats://yongjin:50%off@nats:4222"
	_, parseErr := url.Parse(raw)
	if parseErr == nil {
		t.Fatal("test URL unexpectedly parses")
	}
	dial := errors.New("dial tcp 10.0.0.1:4222: connection refused")
	tests := []struct {
		name   string
		err    error
		want   string
		target error // errors.Is must hold
	}{
		{"parse error quotes the URL", fmt.Errorf("nats: %w", parseErr), "connect to nats nats://[REDACTED]@nats:4222: invalid server URL", nil},
		{"other errors are kept", dial, "connect to nats nats://[REDACTED]@nats:4222: " + dial.Error(), dial},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := connectError(raw, tc.err)
			if err.Error() != tc.want {
				t.Errorf("connectError = %q, want %q", err, tc.want)
			}
			for _, s := range []string{"50%off", "%of", "yongjin:"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("connectError = %q leaks %q", err, s)
				}
			}
			if tc.target != nil && !errors.Is(err, tc.target) {
				t.Errorf("connectError lost the cause %v", tc.target)
			}
		})
	}
}

// Connect fails on an unparseable URL before it dials anything; the error it
// returns must not repeat the password.
func TestConnectInvalidURLHidesPassword(t *testing.T) {
	nc, err := Connect(ConnConfig{URL: "nats://yongjin:50%off@127.0.0.1:1"})
	if err == nil {
		nc.Close()
		t.Fatal("Connect accepted an unparseable URL")
	}
	if strings.Contains(err.Error(), "50%off") || strings.Contains(err.Error(), "%of") {
		t.Errorf("Connect error %q leaks the password", err)
	}
}

// matches reports whether subject falls under one of the stream filters
// (literal tokens and a trailing ">" only, as the streams use).
func matches(filters []string, subject string) bool {
	for _, f := range filters {
		if p, ok := strings.CutSuffix(f, ">"); ok && strings.HasPrefix(subject, p) && len(subject) > len(p) {
			return true
		}
		if f == subject {
			return true
		}
	}
	return false
}

func TestStreamConfigDefaults(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name     string
		cfg      func(StreamOptions) jetstream.StreamConfig
		stream   string
		subjects []string
		maxAge   time.Duration
		dup      time.Duration
		captures []string
	}{
		{"raw", RawStreamConfig, RawStream, []string{"yongjin.raw.>"}, 30 * day, 10 * time.Minute,
			[]string{events.RawSubject("douke", "kol_orderads")}},
		{"events", EventsStreamConfig, EventsStream, []string{"yongjin.events.>"}, 7 * day, time.Hour,
			[]string{events.Subject(events.KindOrder, "douke"), events.Subject(events.KindCommission, "douke")}},
		{"dlq", DLQStreamConfig, DLQStream, []string{"yongjin.dlq.>"}, 30 * day, 10 * time.Minute,
			[]string{DLQSubjectPrefix + ".normalizer.douke"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg(StreamOptions{})
			if c.Name != tc.stream || strings.Join(c.Subjects, ",") != strings.Join(tc.subjects, ",") {
				t.Errorf("name %q subjects %q, want %q %q", c.Name, c.Subjects, tc.stream, tc.subjects)
			}
			if c.Replicas != 1 || c.MaxAge != tc.maxAge || c.Duplicates != tc.dup {
				t.Errorf("defaults: replicas %d max age %s duplicates %s; want 1 %s %s", c.Replicas, c.MaxAge, c.Duplicates, tc.maxAge, tc.dup)
			}
			if c.Retention != jetstream.LimitsPolicy || c.Storage != jetstream.FileStorage || c.Discard != jetstream.DiscardOld {
				t.Errorf("retention %v storage %v discard %v; want limits, file, old", c.Retention, c.Storage, c.Discard)
			}
			if c.Description == "" {
				t.Error("no description")
			}
			for _, s := range tc.captures {
				if !matches(c.Subjects, s) {
					t.Errorf("stream %s does not capture %s", c.Name, s)
				}
			}

			// explicit options win over the defaults
			o := tc.cfg(StreamOptions{Replicas: 3, MaxAge: 48 * time.Hour, Duplicates: 2 * time.Minute})
			if o.Replicas != 3 || o.MaxAge != 48*time.Hour || o.Duplicates != 2*time.Minute {
				t.Errorf("overrides: replicas %d max age %s duplicates %s; want 3 48h 2m", o.Replicas, o.MaxAge, o.Duplicates)
			}
			// one override leaves the others at their defaults
			p := tc.cfg(StreamOptions{Replicas: 3})
			if p.MaxAge != tc.maxAge || p.Duplicates != tc.dup {
				t.Errorf("partial override changed defaults: max age %s duplicates %s", p.MaxAge, p.Duplicates)
			}
		})
	}
}

// No subject is captured by two streams (JetStream refuses overlapping streams).
func TestStreamSubjectsDisjoint(t *testing.T) {
	all := map[string][]string{
		RawStream:    RawStreamConfig(StreamOptions{}).Subjects,
		EventsStream: EventsStreamConfig(StreamOptions{}).Subjects,
		DLQStream:    DLQStreamConfig(StreamOptions{}).Subjects,
	}
	probes := []string{
		events.RawSubject("douke", "kol_orderads"),
		events.Subject(events.KindOrder, "douke"),
		DLQSubjectPrefix + ".sink.douke",
	}
	for _, s := range probes {
		var in []string
		for name, subjects := range all {
			if matches(subjects, s) {
				in = append(in, name)
			}
		}
		if len(in) != 1 {
			t.Errorf("subject %s is captured by %v, want exactly one stream", s, in)
		}
	}
}

func TestNumDelivered(t *testing.T) {
	tests := []struct {
		meta string
		want uint64
	}{
		{"3", 3},
		{"1", 1},
		{"", 0},
		{"x", 0},
	}
	for _, tc := range tests {
		m := message.NewMessage("id", nil)
		if tc.meta != "" {
			m.Metadata.Set(MetaNumDelivered, tc.meta)
		}
		if got := NumDelivered(m); got != tc.want {
			t.Errorf("NumDelivered(%q) = %d, want %d", tc.meta, got, tc.want)
		}
	}
}
