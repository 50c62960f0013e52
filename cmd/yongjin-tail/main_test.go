package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/dlq"
	"github.com/yongjin-dev/yongjin/internal/natsserver"
	"github.com/yongjin-dev/yongjin/internal/normalizer"
	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/all"
)

// startNATS runs an embedded JetStream server (listening on a loopback port
// too, for run) with the EVENTS stream as the normalizer provisions it.
func startNATS(t *testing.T) (*server.Server, jetstream.JetStream) {
	t.Helper()
	s, err := natsserver.Start(natsserver.Config{StoreDir: t.TempDir(), Port: 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	nc, err := bus.Connect(bus.ConnConfig{Name: "tail-test", InProcess: s})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := bus.EnsureStream(ctx, js, bus.EventsStreamConfig(bus.StreamOptions{})); err != nil {
		t.Fatal(err)
	}
	return s, js
}

// fixture is a vendor response body from the vendors' testdata.
type fixture struct {
	vendor, file string
	params       map[string]string
}

var (
	doukeLifecycle = fixture{"douke", "douke/testdata/lifecycle.json", nil}
	doukeDoc       = fixture{"douke", "douke/testdata/doc_sample.json", nil}
	taobaoDoc      = fixture{"taobao-live", "taobaolive/testdata/doc_sample.json", nil}
	douyinDoc      = fixture{"douyin-poi", "douyinpoi/testdata/doc_success.json", map[string]string{"spu_id": "7089053269443495980"}}
	xingtuDay30    = fixture{"xingtu", "xingtu/testdata/sandbox_day30.json", map[string]string{"oAuthorId": "7175462503452054614", "period": "DAY_30"}}
)

// publish maps the fixtures' pages to events with the real vendor
// normalizers, publishes them the way the normalizer does
// (normalizer.EventMessages, bus.PublishAll) and returns them in order.
func publish(t *testing.T, js jetstream.JetStream, fixtures ...fixture) []events.Envelope {
	t.Helper()
	reg := all.Registry()
	var out []events.Envelope
	for _, f := range fixtures {
		body, err := os.ReadFile(filepath.Join("../../pkg/vendors", f.file))
		if err != nil {
			t.Fatal(err)
		}
		v, err := reg.Get(f.vendor)
		if err != nil {
			t.Fatal(err)
		}
		page := events.RawPage{Vendor: f.vendor, Endpoint: v.Endpoint(), Account: "main", SourceID: f.vendor + "-main",
			HTTPStatus: 200, FetchedAt: time.Date(2026, 11, 10, 1, 15, 0, 0, time.UTC), Params: f.params, Body: body}
		envs, err := normalizer.Normalize(reg, page)
		if err != nil {
			t.Fatalf("%s: %v", f.file, err)
		}
		msgs, err := normalizer.EventMessages(f.vendor, envs)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		err = bus.PublishAll(ctx, js, msgs, nil)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, envs...)
	}
	if len(out) == 0 {
		t.Fatal("the fixtures hold no events")
	}
	return out
}

func tailAll(t *testing.T, js jetstream.JetStream, o tailOptions) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	n, err := tail(ctx, js, o, &out)
	if err != nil {
		t.Fatalf("tail: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("tail did not stop by itself")
	}
	return n, out.String()
}

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// TestTailJSONPrintsEveryEnvelope: --since all --follow=false prints every
// event of the stream once, in stream order, as its envelope on one line,
// and each line validates against the published schemas.
func TestTailJSONPrintsEveryEnvelope(t *testing.T) {
	_, js := startNATS(t)
	envs := publish(t, js, doukeLifecycle, taobaoDoc, douyinDoc, xingtuDay30)
	n, out := tailAll(t, js, tailOptions{Policy: jetstream.DeliverAllPolicy, Format: "json"})
	got := lines(out)
	if n != len(envs) || len(got) != len(envs) {
		t.Fatalf("printed %d (%d lines), published %d", n, len(got), len(envs))
	}
	types := map[string]int{}
	for i, l := range got {
		want, _ := json.Marshal(envs[i])
		if l != string(want) {
			t.Fatalf("line %d:\n got %s\nwant %s", i, l, want)
		}
		if err := events.Validate([]byte(l)); err != nil {
			t.Fatalf("line %d does not validate: %v", i, err)
		}
		var e events.Envelope
		_ = json.Unmarshal([]byte(l), &e)
		types[e.Type]++
	}
	for _, k := range events.Kinds {
		if types[events.Type(k)] == 0 {
			t.Errorf("no %s event in the output: %v", events.Type(k), types)
		}
	}
}

// TestTailSubjectFiltersAndCount: wildcard filters select by kind and
// vendor; --count stops early.
func TestTailSubjectFiltersAndCount(t *testing.T) {
	_, js := startNATS(t)
	envs := publish(t, js, doukeLifecycle, taobaoDoc, douyinDoc, xingtuDay30)
	count := func(pred func(events.Envelope) bool) int {
		n := 0
		for _, e := range envs {
			if pred(e) {
				n++
			}
		}
		return n
	}
	tests := []struct {
		name     string
		subjects []string
		want     func(events.Envelope) bool
	}{
		{"orders of every vendor", []string{"yongjin.events.order.v1.>"}, func(e events.Envelope) bool { return e.Type == "order.v1" }},
		{"everything from douke", []string{"yongjin.events.*.v1.douke"}, func(e events.Envelope) bool { return strings.HasPrefix(e.Source, "yongjin/douke/") }},
		{"two filters", []string{"yongjin.events.commission_plan.v1.>", "yongjin.events.creator_experience.v1.>"}, func(e events.Envelope) bool {
			return e.Type == "commission_plan.v1" || e.Type == "creator_experience.v1"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, out := tailAll(t, js, tailOptions{Subjects: tc.subjects, Policy: jetstream.DeliverAllPolicy, Format: "json"})
			if want := count(tc.want); n != want || want == 0 {
				t.Fatalf("printed %d, want %d", n, want)
			}
			for _, l := range lines(out) {
				var e events.Envelope
				if err := json.Unmarshal([]byte(l), &e); err != nil || !tc.want(e) {
					t.Fatalf("unexpected event %s", l)
				}
			}
		})
	}
	n, out := tailAll(t, js, tailOptions{Subjects: []string{"yongjin.events.commission.v1.>"}, Policy: jetstream.DeliverAllPolicy, Format: "json", Count: 3, Follow: true})
	if n != 3 || len(lines(out)) != 3 {
		t.Fatalf("--count 3 printed %d:\n%s", n, out)
	}
}

// TestTailTable renders one compact row per event with the summary of its type.
func TestTailTable(t *testing.T) {
	_, js := startNATS(t)
	envs := publish(t, js, doukeLifecycle, taobaoDoc, douyinDoc, xingtuDay30)
	_, out := tailAll(t, js, tailOptions{Policy: jetstream.DeliverAllPolicy, Format: "table"})
	got := lines(out)
	if len(got) != len(envs)+1 || got[0] != tableHeader {
		t.Fatalf("want the header and %d rows, got %d lines:\n%s", len(envs), len(got), out)
	}
	for _, want := range [][]string{
		{"2023-03-05T04:00:01Z", "order.v1", "douke", "4737996432465788974 ", "status=received paid=21.00 CNY author=f190e172-5fd8-4b7b-babb-f32323e60f7b"},
		{"2023-03-05T04:00:01Z", "commission.v1", "douke", "4737996432465788974/creator", "role=creator est=3.85 settled=0.00 CNY rate=35.00% order=received"},
		{"commission.v1", "douke", "4737996432465788975/creator", "role=creator est=9.60 settled=9.60 CNY rate=20.00% order=settled"},
		{"order.v1", "taobao-live", "status=received paid=100.00 CNY author=xxx"},
		{"commission_plan.v1", "douyin-poi", "7089053269443495980/7089334664648722476", "rate=28.88% content=video vendor_status=1"},
		{"creator_experience.v1", "xingtu", "7175462503452054614/DAY_30/2026-11-10", "period=DAY_30 date=2026-11-10 indicators=16"},
	} {
		found := false
		for _, row := range got[1:] {
			if containsAll(row, want) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no row contains %q:\n%s", want, out)
		}
	}
	// columns line up: the type always starts at the same offset
	for _, row := range got[1:] {
		if row[20:22] != "  " || row[22] == ' ' {
			t.Errorf("misaligned row %q", row)
		}
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestTailFollowsNewEvents: the default --since new prints only events
// stored after it started, as they arrive.
func TestTailFollowsNewEvents(t *testing.T) {
	_, js := startNATS(t)
	publish(t, js, taobaoDoc) // before the tail: never printed
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	var n int
	go func() {
		var err error
		n, err = tail(ctx, js, tailOptions{Policy: jetstream.DeliverNewPolicy, Format: "json", Count: 5, Follow: true}, &out)
		done <- err
	}()
	waitConsumers(t, ctx, js, 1)
	envs := publish(t, js, doukeDoc) // 1 order + 4 lines
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := lines(out.String())
	if n != 5 || len(got) != 5 {
		t.Fatalf("printed %d:\n%s", n, out.String())
	}
	for i, l := range got {
		if want, _ := json.Marshal(envs[i]); l != string(want) {
			t.Errorf("line %d = %s, want %s", i, l, want)
		}
	}
}

// TestTailSinceTime starts at a stored time: only what was stored from then on.
func TestTailSinceTime(t *testing.T) {
	_, js := startNATS(t)
	publish(t, js, taobaoDoc, douyinDoc)
	// just after the last stored message: what is published next is later
	info, err := js.Stream(context.Background(), bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	from := info.CachedInfo().State.LastTime.Add(time.Nanosecond)
	later := publish(t, js, doukeDoc)
	n, out := tailAll(t, js, tailOptions{Policy: jetstream.DeliverByStartTimePolicy, StartTime: &from, Format: "json"})
	if n != len(later) {
		t.Fatalf("printed %d, want the %d events stored since %s:\n%s", n, len(later), from, out)
	}
	if !strings.Contains(out, `"source":"yongjin/douke/main"`) || strings.Contains(out, "taobao-live") {
		t.Errorf("wrong events:\n%s", out)
	}
	// nothing stored since: --follow=false returns at once
	now := time.Now().Add(time.Second)
	if n, out := tailAll(t, js, tailOptions{Policy: jetstream.DeliverByStartTimePolicy, StartTime: &now, Format: "json"}); n != 0 || out != "" {
		t.Errorf("printed %d: %s", n, out)
	}
}

// TestTailStopsOnCancel: a follow with nothing to print ends cleanly when
// its context ends (SIGINT in the command).
func TestTailStopsOnCancel(t *testing.T) {
	_, js := startNATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := tail(ctx, js, tailOptions{Policy: jetstream.DeliverNewPolicy, Format: "json", Follow: true}, &bytes.Buffer{})
		done <- err
	}()
	waitConsumers(t, context.Background(), js, 1)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("tail after cancel: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("tail did not stop after its context ended")
	}
}

// TestTailErrors: a missing stream and a filter outside the stream give
// errors that say what to do.
func TestTailErrors(t *testing.T) {
	s, err := natsserver.Start(natsserver.Config{StoreDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	nc, err := nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	_, err = tail(ctx, js, tailOptions{Format: "json"}, &bytes.Buffer{})
	if err == nil || !containsAll(err.Error(), []string{"stream YONGJIN_EVENTS does not exist", "normalizer creates it"}) {
		t.Errorf("missing stream: %v", err)
	}
	_, err = tail(ctx, js, tailOptions{Stream: "ORDERS", Format: "json"}, &bytes.Buffer{})
	if err == nil || !containsAll(err.Error(), []string{"stream ORDERS does not exist", "--stream"}) {
		t.Errorf("missing other stream: %v", err)
	}
	if _, err := bus.EnsureStream(ctx, js, bus.EventsStreamConfig(bus.StreamOptions{})); err != nil {
		t.Fatal(err)
	}
	_, err = tail(ctx, js, tailOptions{Subjects: []string{"yongjin.raw.>"}, Format: "json"}, &bytes.Buffer{})
	if err == nil || !containsAll(err.Error(), []string{"yongjin.raw.>", "does not match stream YONGJIN_EVENTS", "yongjin.events.>"}) {
		t.Errorf("filter outside the stream: %v", err)
	}
}

// TestRunCommand drives the command function end to end over TCP, and its
// flag and environment handling.
func TestRunCommand(t *testing.T) {
	s, js := startNATS(t)
	envs := publish(t, js, doukeLifecycle)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"--nats-url", s.ClientURL(), "--since", "all", "--follow=false", "--format", "table"}, &out, &errb)
	if code != 0 || len(lines(out.String())) != len(envs)+1 {
		t.Fatalf("exit %d, %d lines (want %d); stderr %s", code, len(lines(out.String())), len(envs)+1, errb.String())
	}

	// the environment sets flags, the command line wins
	t.Setenv("YONGJIN_TAIL_NATS_URL", s.ClientURL())
	t.Setenv("YONGJIN_TAIL_SINCE", "all")
	t.Setenv("YONGJIN_TAIL_COUNT", "2")
	t.Setenv("YONGJIN_TAIL_FORMAT", "table")
	out.Reset()
	if code := run(ctx, []string{"--format", "json"}, &out, &errb); code != 0 || len(lines(out.String())) != 2 || !strings.HasPrefix(out.String(), `{"specversion":"1.0"`) {
		t.Fatalf("env: exit %d, output %q, stderr %s", code, out.String(), errb.String())
	}

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"run", "--help"}, 0, "YONGJIN_TAIL_SUBJECT"},
		{[]string{"--format", "xml"}, 2, `--format "xml"`},
		{[]string{"--since", "yesterday"}, 2, `--since: "yesterday"`},
		{[]string{"--count", "-1"}, 2, "--count"},
		{[]string{"run", "extra"}, 2, "unexpected argument"},
		{[]string{"extra"}, 2, `unknown command "extra"`},
		{[]string{"--nats-url", "nats://user:secret@127.0.0.1:1"}, 2, "credentials"},
		{[]string{"--nats-url", "nats://127.0.0.1:1", "--connect-timeout", "300ms"}, 1, "not reachable"},
	} {
		var out, errb bytes.Buffer
		code := run(ctx, tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.msg) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, errb.String(), tc.code, tc.msg)
		}
		if strings.Contains(errb.String(), "secret") {
			t.Errorf("%q: the error repeats the password: %s", tc.args, errb.String())
		}
	}
}

// yongjin-tail --help (and help) print the subcommand table and the
// flags with their environment variables to stdout.
func TestRunHelp(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{arg}, &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d, stderr %s", arg, code, errb.String())
		}
		for _, want := range []string{"run ", "help ", "--since", "YONGJIN_TAIL_SUBJECT", "yongjin-tail --since 1h --format table"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s lacks %q:\n%s", arg, want, out.String())
			}
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in     string
		policy jetstream.DeliverPolicy
		start  time.Time
	}{
		{"", jetstream.DeliverNewPolicy, time.Time{}},
		{"new", jetstream.DeliverNewPolicy, time.Time{}},
		{"ALL", jetstream.DeliverAllPolicy, time.Time{}},
		{"1h", jetstream.DeliverByStartTimePolicy, now.Add(-time.Hour)},
		{"90s", jetstream.DeliverByStartTimePolicy, now.Add(-90 * time.Second)},
		{"7d", jetstream.DeliverByStartTimePolicy, now.Add(-7 * 24 * time.Hour)},
		{"2026-11-01T08:00:00+08:00", jetstream.DeliverByStartTimePolicy, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
	} {
		p, start, err := parseSince(tc.in, now)
		if err != nil || p != tc.policy || (start == nil) != tc.start.IsZero() || (start != nil && !start.Equal(tc.start)) {
			t.Errorf("parseSince(%q) = %v, %v, %v; want %v, %v", tc.in, p, start, err, tc.policy, tc.start)
		}
	}
	for _, bad := range []string{"yesterday", "-1h", "0s", "2026-11-01", "xd"} {
		if _, _, err := parseSince(bad, now); err == nil {
			t.Errorf("parseSince(%q) accepted", bad)
		}
	}
}

// TestRenderOtherMessages: messages that are not events (other streams)
// still render on one line in both formats.
func TestRenderOtherMessages(t *testing.T) {
	stored := time.Date(2026, 11, 10, 1, 2, 3, 0, time.UTC)
	dl := record{Subject: "yongjin.dlq.normalizer.douke", Seq: 7, Stored: stored, Data: []byte("{\n \"code\": 1\n}"),
		Headers: nats.Header{events.HdrVendor: {"douke"}, dlq.HdrReason: {"permanent: bad page"}}}
	raw := record{Subject: "yongjin.raw.douke.kol_orderads", Seq: 8, Stored: stored, Data: []byte("not json\n"),
		Headers: nats.Header{events.HdrVendor: {"douke"}, events.HdrEndpoint: {"kol_orderads"}}}
	unknown := record{Subject: "yongjin.events.order.v2.douke", Data: []byte(`{"specversion":"1.0","id":"x","type":"order.v2","source":"yongjin/douke/main","subject":"1","time":"2026-11-10T01:02:03Z","data":{}}`)}
	var buf bytes.Buffer
	r := newRenderer("table", &buf)
	for _, rec := range []record{dl, raw, unknown} {
		if err := r.render(rec); err != nil {
			t.Fatal(err)
		}
	}
	got := lines(buf.String())
	if len(got) != 4 || got[0] != tableHeader ||
		!containsAll(got[1], []string{"2026-11-10T01:02:03Z", "dead-letter", "douke", "yongjin.dlq.normalizer.douke", "reason: permanent: bad page"}) ||
		!containsAll(got[2], []string{"kol_orderads", "douke", "yongjin.raw.douke.kol_orderads", "9 bytes, seq 8"}) ||
		!containsAll(got[3], []string{"order.v2", "douke", "type unknown to this build"}) {
		t.Errorf("table:\n%s", buf.String())
	}
	buf.Reset()
	r = newRenderer("json", &buf)
	for _, rec := range []record{dl, raw} {
		if err := r.render(rec); err != nil {
			t.Fatal(err)
		}
	}
	if want := "{\"code\":1}\n\"not json\\n\"\n"; buf.String() != want {
		t.Errorf("json = %q, want %q", buf.String(), want)
	}
}

func TestMoneyFormatting(t *testing.T) {
	for _, tc := range []struct {
		fen  int64
		want string
	}{{0, "0.00"}, {5, "0.05"}, {1290, "12.90"}, {-5, "-0.05"}, {-123456, "-1234.56"}, {-9223372036854775808, "-92233720368547758.08"}} {
		if got := yuan(tc.fen); got != tc.want {
			t.Errorf("yuan(%d) = %q, want %q", tc.fen, got, tc.want)
		}
	}
	if got := percent(3500); got != "35.00%" {
		t.Errorf("percent(3500) = %q", got)
	}
}

// waitConsumers waits until EVENTS has n consumers (the tail's ordered
// consumer exists and will see what is published next).
func waitConsumers(t *testing.T, ctx context.Context, js jetstream.JetStream, n int) {
	t.Helper()
	st, err := js.Stream(ctx, bus.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	for {
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Consumers >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("the tail's consumer never appeared")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestOverlaps(t *testing.T) {
	stream := []string{"yongjin.events.>"}
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{"yongjin.events.>", true},
		{"yongjin.events.order.v1.douke", true},
		{"yongjin.events.*.v1.douke", true},
		{"yongjin.*.order.v1.*", true},
		{">", true},
		{"yongjin.>", true},
		{"yongjin.events", false},
		{"yongjin.raw.>", false},
		{"other", false},
	} {
		if got := overlapsAny(tc.filter, stream); got != tc.want {
			t.Errorf("overlapsAny(%q) = %v, want %v", tc.filter, got, tc.want)
		}
	}
	if !overlapsAny("a.b", []string{"x", "a.*"}) || overlapsAny("a.b.c", []string{"a.*"}) {
		t.Error("multi-subject stream")
	}
}

// TestTailOtherStream: without --subject, tail reads the whole stream named
// by --stream, e.g. the dead letters.
func TestTailOtherStream(t *testing.T) {
	_, js := startNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := bus.EnsureStream(ctx, js, bus.DLQStreamConfig(bus.StreamOptions{})); err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(dlq.Subject("normalizer", "douke"))
	m.Header.Set(events.HdrVendor, "douke")
	m.Header.Set(dlq.HdrReason, "permanent: unreadable page")
	m.Data = []byte(`{"code":10001}`)
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	publish(t, js, doukeDoc) // on EVENTS: not shown
	n, out := tailAll(t, js, tailOptions{Stream: bus.DLQStream, Policy: jetstream.DeliverAllPolicy, Format: "table"})
	got := lines(out)
	if n != 1 || len(got) != 2 || !containsAll(got[1], []string{"dead-letter", "douke", "yongjin.dlq.normalizer.douke", "reason: permanent: unreadable page"}) {
		t.Fatalf("printed %d:\n%s", n, out)
	}
}
