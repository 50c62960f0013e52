package events

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// TestAppendJSONMatchesMarshal requires AppendJSON to write exactly what
// json.Marshal writes for envelopes of every shape.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	at := time.Date(2026, 10, 3, 13, 15, 52, 123000000, time.UTC)
	o := Order{Platform: "douke", Account: "a<&>", OrderID: "1", ProductName: "猫山王 \"x\" \\ \n\t\u2028", Version: 1}
	env, err := o.Envelope()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		e    Envelope
	}{
		{"order", env},
		{"zero", Envelope{}},
		{"nanoseconds and zone", Envelope{ID: "x", Time: at.In(time.FixedZone("CST", 8*3600)), Data: json.RawMessage(`{"a":1}`)}},
		{"controls and invalid UTF-8", Envelope{Subject: "a\x00b\x1f\x7f\xffc\xe2\x80", Source: "</script>", Data: json.RawMessage(`[]`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.e)
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.e.AppendJSON(nil); !bytes.Equal(got, want) {
				t.Fatalf("AppendJSON\n%s\njson.Marshal\n%s", got, want)
			}
		})
	}
}

// FuzzAppendJSON compares AppendJSON with json.Marshal on any attribute text.
func FuzzAppendJSON(f *testing.F) {
	f.Add("id", "order.v1", "yongjin/douke/a", "7<>&\u2028", int64(0))
	f.Add("\xff", "\x00", "\"\\", "\u00e9", int64(1791033352123456789))
	f.Fuzz(func(t *testing.T, id, typ, source, subject string, ns int64) {
		e := Envelope{SpecVersion: SpecVersion, ID: id, Type: typ, Source: source, Subject: subject,
			Time: time.Unix(0, ns).UTC(), DataContentType: DataContentType, DataSchema: source, Data: json.RawMessage(`{"k":"v"}`)}
		want, err := json.Marshal(e)
		if err != nil {
			return // a time json.Marshal refuses (year outside 0..9999)
		}
		if got := e.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON\n%s\njson.Marshal\n%s", got, want)
		}
	})
}
