package events

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestKindOfSubject(t *testing.T) {
	for _, tc := range []struct {
		subject string
		want    Kind
	}{
		{Subject(KindOrder, "douke"), KindOrder},
		{Subject(KindCommissionPlan, "douyin-poi"), KindCommissionPlan},
		{"yongjin.events.order.v2.douke", ""},
		{"yongjin.raw.douke.kol_orderads", ""},
		{"yongjin.events.order", ""},
		{"", ""},
	} {
		if got := KindOfSubject(tc.subject); got != tc.want {
			t.Errorf("KindOfSubject(%q) = %q, want %q", tc.subject, got, tc.want)
		}
	}
}

// twoPass is what a consumer without DecodeMessage does: the envelope, then
// its data.
func twoPass(body []byte) (Envelope, any, error) {
	var e Envelope
	if err := json.Unmarshal(body, &e); err != nil {
		return e, nil, err
	}
	p, err := Decode(e)
	return e, p, err
}

// sameOutcome fails t unless DecodeMessage(k, body) followed by Decode gives
// what the two-pass decoding gives: the same envelope attributes, the same
// payload, errors in the same places.
func sameOutcome(t *testing.T, k Kind, body []byte) {
	t.Helper()
	want, wantP, wantErr := twoPass(body)
	got, err := DecodeMessage(k, body)
	var gotP any
	if err == nil {
		gotP, err = Decode(got)
	}
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("DecodeMessage(%s, %q): error %v, two passes %v", k, body, err, wantErr)
	}
	if err != nil {
		return
	}
	want.Data, got.Data, got.Payload = nil, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DecodeMessage(%s, %q) envelope\n%+v\nwant\n%+v", k, body, got, want)
	}
	if !reflect.DeepEqual(gotP, wantP) {
		t.Fatalf("DecodeMessage(%s, %q) payload\n%+v\nwant\n%+v", k, body, gotP, wantP)
	}
}

func sampleMessages(t testing.TB) map[Kind][]byte {
	o := sampleOrder()
	oe, err := o.Envelope()
	if err != nil {
		t.Fatal(err)
	}
	le, err := sampleLine().Envelope()
	if err != nil {
		t.Fatal(err)
	}
	return map[Kind][]byte{KindOrder: oe.AppendJSON(nil), KindCommission: le.AppendJSON(nil)}
}

// TestDecodeMessageOnePass: the messages yongjin publishes decode in one
// pass, to the two-pass result; a body of another kind, a missing or null
// data member and broken bodies fall back and keep the two-pass outcome.
func TestDecodeMessageOnePass(t *testing.T) {
	msgs := sampleMessages(t)
	for k, body := range msgs {
		e, err := DecodeMessage(k, body)
		if err != nil {
			t.Fatal(err)
		}
		if e.Payload == nil || e.Data != nil {
			t.Errorf("%s: not decoded in one pass (payload %T, %d data bytes)", k, e.Payload, len(e.Data))
		}
		sameOutcome(t, k, body)
	}
	order := string(msgs[KindOrder])
	for name, body := range map[string]string{
		"kind from another subject": order,
		"data null":                 strings.Replace(order, `"data":{`, `"data":null,"x":{`, 1),
		"data repeated":             strings.Replace(order, `"data":{`, `"data":{"order_id":"other","platform":"x"},"data":{`, 1),
		"data repeated, other case": strings.Replace(order, `"data":{`, `"Data":{"order_id":"other","platform":"x"},"data":{`, 1),
		"data repeated, escaped":    strings.Replace(order, `"data":{`, `"d\u0061ta":{"order_id":"other","platform":"x"},"data":{`, 1),
		"data not an object":        strings.Replace(order, `"data":{`, `"data":7,"x":{`, 1),
		"payload type mismatch":     strings.Replace(order, `"order_id":"`, `"order_id":12,"y":"`, 1),
		"not json":                  order[:len(order)/2],
	} {
		t.Run(name, func(t *testing.T) {
			k := KindOrder
			if name == "kind from another subject" {
				k = KindCommission
			}
			sameOutcome(t, k, []byte(body))
		})
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, body := range sampleMessages(f) {
		f.Add(body)
	}
	f.Add([]byte(`{"type":"order.v1","data":{"order_id":"1"},"data":{"platform":"x"}}`))
	f.Add([]byte(`{"type":"order.v1","data":{"order_id":"1"},"DATA":{"platform":"x"}}`))
	f.Add([]byte(`{"type":"order.v1","time":"2026-01-02T03:04:05.5+08:00","data":{"order_id":"1","product_name":"猫山王 \"x\" \u003c\ud83d","quantity":-0,"paid_fen":9223372036854775807,"received_at":null,"settled_at":"2026-01-02T03:04:05Z","commission_lines":[{"role":"creator","rate_bp":10},{}]}}`))
	f.Add([]byte(`{"type":"order.v1","data":{"order_id":"\xff","quantity":1e2,"commission_lines":null,"paid_at":null}} `))
	f.Add([]byte(`{"type":"order.v1","data":{"order_id":"1"},"d\u0061ta":{"platform":"x"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, k := range Kinds {
			sameOutcome(t, k, body)
		}
	})
}

// TestDecodeOrderFastReadsWhatYongjinPublishes: the order.v1 messages the
// normalizer publishes (escapes, non-ASCII, carried lines, null times)
// take the fast path, with the two-pass result.
func TestDecodeOrderFastReadsWhatYongjinPublishes(t *testing.T) {
	o := sampleOrder()
	o.ProductName = "猫山王 榴莲 \"x\" <&> \\ \u2028"
	o.CommissionLines = OrderLines([]CommissionLine{sampleLine(), sampleLine()})
	e, err := o.Envelope()
	if err != nil {
		t.Fatal(err)
	}
	body := e.AppendJSON(nil)
	got, p, ok := decodeOrderFast(body)
	if !ok {
		t.Fatalf("the fast path refused %s", body)
	}
	_, want, err := twoPass(body)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, want) || got.ID != e.ID || !got.Time.Equal(e.Time) {
		t.Fatalf("fast path\n%+v\nwant\n%+v", p, want)
	}
	sameOutcome(t, KindOrder, body)
}

func BenchmarkDecodeMessageOrder(b *testing.B) {
	o := sampleOrder()
	o.ProductName = "猫山王榴莲 3kg 新鲜当季"
	o.CommissionLines = OrderLines([]CommissionLine{sampleLine(), sampleLine(), sampleLine(), sampleLine()})
	e, err := o.Envelope()
	if err != nil {
		b.Fatal(err)
	}
	body := e.AppendJSON(nil)
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeMessage(KindOrder, body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json_one_pass", func(b *testing.B) {
		for b.Loop() {
			if _, ok := decodeAs[Order](KindOrder, body); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("encoding_json_two_pass", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := twoPass(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzOrderAppendJSON: the order encoder writes json.Marshal's bytes, or
// its error text.
func FuzzOrderAppendJSON(f *testing.F) {
	f.Add("douke", "猫山王 \"x\" <&> \\ \u2028 \xff", "", int64(3), int64(-7), int64(1767225600), int64(0), true, 2)
	f.Add("", "", "p1", int64(0), int64(1<<62), int64(-62135596800-1), int64(253402300800), false, 0)
	f.Fuzz(func(t *testing.T, platform, name, parent string, qty, fen, sec, nsec int64, received bool, lines int) {
		o := Order{Platform: platform, Account: name, OrderID: name + platform, ParentOrderID: parent, ProductName: name,
			Quantity: qty, PaidFen: fen, RefundedFen: -fen, Status: Status(name), Version: sec,
			PaidAt: time.Unix(sec, nsec%1e9).UTC(), UpdatedAt: time.Unix(nsec, sec%1e9).In(time.FixedZone("x", int(qty%100000)))}
		if received {
			r := time.Unix(sec/2, 0)
			o.ReceivedAt = &r
		}
		for i := range lines % 5 {
			o.CommissionLines = append(o.CommissionLines, OrderLine{Role: Role(name), RateBP: int64(i) * fen, Currency: platform})
		}
		want, werr := json.Marshal(o)
		got, gerr := o.appendJSON(nil)
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Fatalf("errors: appendJSON %v, json.Marshal %v", gerr, werr)
		}
		if werr == nil && string(got) != string(want) {
			t.Fatalf("appendJSON\n%s\njson.Marshal\n%s", got, want)
		}
	})
}
