package events

import (
	"bytes"
	"encoding/json"
	"strings"
)

// KindOfSubject returns the kind an event subject names (see Subject:
// "yongjin.events.<kind>.v1.<vendor>"), or "" when s is not such a subject.
func KindOfSubject(s string) Kind {
	rest, ok := strings.CutPrefix(s, SubjectPrefix+".")
	if !ok {
		return ""
	}
	k, rest, ok := strings.Cut(rest, ".")
	if !ok || !strings.HasPrefix(rest, Version+".") {
		return ""
	}
	return Kind(k)
}

// DecodeMessage decodes one event message body (a structured-mode
// CloudEvent) of kind k, which a consumer knows from the message's subject
// (KindOfSubject). The envelope and its data are decoded in one pass and the
// typed payload is kept in Payload (Data is then nil), so Decode does not
// decode it again. A body whose type is not k's, whose data is missing or
// null, or that does not decode that way is decoded as json.Unmarshal into
// an Envelope decodes it (Payload nil), with the same result and errors.
func DecodeMessage(k Kind, body []byte) (Envelope, error) {
	var (
		e  Envelope
		ok bool
	)
	switch k {
	case KindOrder:
		var o *Order
		if e, o, ok = decodeOrderFast(body); ok && e.Type == Type(KindOrder) {
			e.Payload = o
			return e, nil
		}
		e, ok = decodeAs[Order](k, body)
	case KindCommission:
		e, ok = decodeAs[CommissionLine](k, body)
	case KindCommissionPlan:
		e, ok = decodeAs[CommissionPlan](k, body)
	case KindCreatorExperience:
		e, ok = decodeAs[CreatorOrderExperience](k, body)
	}
	if ok {
		return e, nil
	}
	e = Envelope{}
	err := json.Unmarshal(body, &e)
	return e, err
}

// decodeAs is DecodeMessage's one pass for payload type T; ok is false when
// the two-pass decoding must decide.
func decodeAs[T any](k Kind, body []byte) (Envelope, bool) {
	var w struct {
		Envelope
		Data *T `json:"data"`
	}
	if json.Unmarshal(body, &w) != nil || w.Data == nil || w.Type != Type(k) || !dataOnce(body) {
		return Envelope{}, false
	}
	e := w.Envelope
	e.Data = nil
	e.Payload = w.Data
	return e, true
}

// dataOnce reports whether body, a JSON object, has at most one top-level
// "data" member (a repeated member is merged by a struct but replaced by a
// json.RawMessage). It is conservative: every key spelled "data" in any
// letter case counts (encoding/json matches keys without regard to case),
// and a body with a \u00XX escape, which could spell such a key, is never
// judged to have one; either merely sends the body to the two-pass
// decoding. Every event yongjin publishes has one data member.
func dataOnce(body []byte) bool {
	if bytes.Contains(body, escapedASCII) {
		return false
	}
	n := 0
	for i := 0; ; {
		j := bytes.IndexByte(body[i:], '"')
		if j < 0 || i+j+6 > len(body) {
			return true
		}
		i += j + 1
		if body[i+4] == '"' && bytes.EqualFold(body[i:i+4], dataWord) {
			if n++; n > 1 {
				return false
			}
		}
	}
}

var (
	dataWord     = []byte("data")
	escapedASCII = []byte(`\u00`)
)
