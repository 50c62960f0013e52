package dlq_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/dlq"
)

func TestSubject(t *testing.T) {
	tests := []struct{ stage, vendor, want string }{
		{"normalizer", "douke", "yongjin.dlq.normalizer.douke"},
		{"sink", "douke", "yongjin.dlq.sink.douke"},
	}
	for _, tc := range tests {
		got := dlq.Subject(tc.stage, tc.vendor)
		if got != tc.want {
			t.Errorf("Subject(%q, %q) = %q, want %q", tc.stage, tc.vendor, got, tc.want)
		}
		if subjects := bus.DLQStreamConfig(bus.StreamOptions{}).Subjects; len(subjects) != 1 || !strings.HasPrefix(got, strings.TrimSuffix(subjects[0], ">")) {
			t.Errorf("DLQ stream (%v) does not capture %s", subjects, got)
		}
		if v := dlq.VendorOf(got); v != tc.vendor {
			t.Errorf("VendorOf(%q) = %q", got, v)
		}
	}
	if v := dlq.VendorOf("yongjin.events.order.v1.taobaolive"); v != "taobaolive" {
		t.Errorf("VendorOf(event subject) = %q", v)
	}
	if v := dlq.VendorOf("nodots"); v != "" {
		t.Errorf("VendorOf(nodots) = %q", v)
	}
}

func TestMsgID(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{dlq.MsgID("sink", 7, dlq.NoRecord), "dlq-sink-7"},
		{dlq.MsgID("normalizer", 7, dlq.NoRecord, "uuid"), "dlq-normalizer-7-uuid"},
		{dlq.MsgID("normalizer", 7, 3, "uuid"), "dlq-normalizer-7-uuid-r3"},
		{dlq.MsgID("normalizer", 7, dlq.NoRecord, ""), "dlq-normalizer-7-"},
	} {
		if tc.got != tc.want {
			t.Errorf("MsgID = %q, want %q", tc.got, tc.want)
		}
	}
}

// TestBuildRead pins the wire format: the headers Build writes, and Read
// reading them back.
func TestBuildRead(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 123, time.FixedZone("", 3600))
	s := dlq.Spec{Stage: "normalizer", Vendor: "douke", Reason: errors.New("bad " + strings.Repeat("é", 3000)),
		Header: map[string][]string{"Yongjin-Vendor": {"douke"}, nats.MsgIdHdr: {"id"}, "_yongjin_nats_subject": {"x"}, "Multi": {"a", "b"}},
		Data:   []byte("body"), OriginalSubject: "yongjin.raw.douke.kol_orderads", OriginalStream: "YONGJIN_RAW", StreamSeq: 42, Record: 5}
	m := dlq.Build(s, at)
	if m.Subject != "yongjin.dlq.normalizer.douke" || string(m.Data) != "body" {
		t.Fatalf("letter on %s with %q", m.Subject, m.Data)
	}
	want := map[string]string{
		"Yongjin-Dlq-Stage": "normalizer", "Yongjin-Dlq-Original-Subject": "yongjin.raw.douke.kol_orderads",
		"Yongjin-Dlq-Original-Seq": "42", "Yongjin-Dlq-At": "2026-03-01T07:00:00.000000123Z",
		"Yongjin-Dlq-Original-Stream": "YONGJIN_RAW", "Yongjin-Dlq-Record": "5", "Yongjin-Vendor": "douke",
	}
	for k, v := range want {
		if got := m.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if len(m.Header) != len(want)+2 || len(m.Header["Multi"]) != 2 {
		t.Errorf("headers %v: want the original ones (without Nats-Msg-Id and Watermill's) plus the format's", m.Header)
	}
	if r := m.Header.Get(dlq.HdrReason); len(r) > 4096+len("…") || !strings.HasSuffix(r, "…") || !strings.HasPrefix(r, "bad é") {
		t.Errorf("reason not clipped at a rune boundary: %d bytes, ends %q", len(r), r[len(r)-8:])
	}
	l := dlq.Read(9, m.Subject, m.Header, m.Data)
	if l.Seq != 9 || l.Stage != "normalizer" || l.Vendor() != "douke" || l.OriginalSubject != s.OriginalSubject ||
		l.OriginalSeq != 42 || l.OriginalStream != "YONGJIN_RAW" || l.Record != 5 || !l.At.Equal(at) || l.BodyOmitted || string(l.Data) != "body" {
		t.Errorf("Read = %+v", l)
	}

	s.Vendor, s.Record, s.OriginalStream = "", dlq.NoRecord, ""
	m = dlq.Build(s, at)
	l = dlq.Read(1, m.Subject, m.Header, m.Data)
	if m.Subject != "yongjin.dlq.normalizer.unknown" || m.Header.Get(dlq.HdrRecord) != "" || m.Header.Get(dlq.HdrOriginalStream) != "" || l.Record != dlq.NoRecord {
		t.Errorf("whole-message letter without vendor: %s %v (record %d)", m.Subject, m.Header, l.Record)
	}
}
