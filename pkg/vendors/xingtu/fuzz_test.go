package xingtu

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/vendorstest"
)

// addSeeds seeds f with every testdata/*.json page plus hand-made edge
// cases; plain `go test` runs exactly these.
func addSeeds(f *testing.F) {
	vendorstest.AddSeeds(f,
		`{"code":0}`,
		`{"code":"0","data":{}}`,
		`{"code":0,"data":[]}`,
		`{"code":0,"data":"x"}`,
		`{"code":0,"data":{"a":1e400,"b":"1e-400","c":-0,"id":1}}`,
		`{"code":0,"data":{"":1,"a":{"":2},"b":[[[]]]}}`,
		`{"code":0,"data":{"a":1,"a":2},"recordTime":"0001-01-01 00:00:00"}`,
		`{"code":0,"data":{"x":"\ud800"},"recordTime":"9999-12-31T23:59:59-23:59"}`,
		"{\"code\":0,\"data\":{\"x\":\"\xff\"}}",
		`{"code":0.000,"message":{"a":[1]},"requestId":[],"recordTime":true,"data":{"a":"12.5"}}`,
		`{"code":"-0","data":{"n":1}}`,
		`{"code":9223372036854775807}`,
		`{"code":1,"message":null}`,
		"\xef\xbb\xbf{\"code\":0,\"data\":{\"n\":1}}",
	)
}

func FuzzDecodeEnvelope(f *testing.F) {
	addSeeds(f)
	vendorstest.FuzzDecode(f, DecodeEnvelope, func(t *testing.T, err error) {
		malformedErr, vendorErr := errors.Is(err, vendors.ErrMalformedPage), errors.Is(err, vendors.ErrVendorError)
		if malformedErr == vendorErr {
			t.Fatalf("error %v must wrap exactly one of ErrMalformedPage and ErrVendorError", err)
		}
		var ae *APIError
		if vendorErr && (!errors.As(err, &ae) || ae.Code == CodeOK) {
			t.Fatalf("vendor error %v without a non-zero code", err)
		}
	}, func(t *testing.T, env *Envelope) {
		if env.Code != CodeOK {
			t.Fatalf("success with code %d", env.Code)
		}
		if env.Data != nil && (!json.Valid(env.Data) || string(env.Data) == "null") {
			t.Fatalf("data %q is not a non-null JSON value", env.Data)
		}
		// stable: re-encoding the decoded envelope decodes to the same values
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		m := map[string]any{"code": 0, "message": env.Message, "recordTime": env.RecordTime, "requestId": env.RequestID}
		if env.Data != nil {
			m["data"] = env.Data
		}
		if err := enc.Encode(m); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		again, err := DecodeEnvelope(buf.Bytes())
		if err != nil {
			t.Fatalf("re-decode %s: %v", buf.Bytes(), err)
		}
		var c1, c2 bytes.Buffer
		if env.Data != nil {
			_ = json.Compact(&c1, env.Data)
			_ = json.Compact(&c2, again.Data)
		}
		if again.Message != env.Message || again.RecordTime != env.RecordTime || again.RequestID != env.RequestID || c1.String() != c2.String() {
			t.Fatalf("round trip changed the envelope:\n%+v\n%+v", env, again)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		page := rawPage(body, "6912345678901234567", Period90)
		envs := vendorstest.Normalized(t, func() ([]events.Envelope, error) { return Normalize(page) })
		if len(envs) > 1 {
			t.Fatalf("%d envelopes from one page", len(envs))
		}
		for _, e := range envs {
			x, err := events.Decode(e)
			if err != nil {
				t.Fatal(err)
			}
			c := x.(*events.CreatorOrderExperience)
			if c.AuthorID != "6912345678901234567" || c.Period != Period90 || c.Version < 0 || c.ObservedAt.Location() != time.UTC {
				t.Fatalf("snapshot %+v", c)
			}
			for i, in := range c.Indicators {
				if in.Name == "" || math.IsInf(in.Value, 0) || math.IsNaN(in.Value) {
					t.Fatalf("indicator %+v", in)
				}
				if i > 0 && c.Indicators[i-1].Name >= in.Name {
					t.Fatalf("indicators not sorted and unique: %q then %q", c.Indicators[i-1].Name, in.Name)
				}
			}
			env, _ := DecodeEnvelope(body)
			want, err := ExtractIndicators(env.Data)
			if err != nil || !reflect.DeepEqual(want, c.Indicators) && len(want)+len(c.Indicators) > 0 {
				t.Fatalf("indicators %v differ from the data's %v (%v)", c.Indicators, want, err)
			}
		}
	})
}

func FuzzExtractIndicators(f *testing.F) {
	addSeeds(f)
	for _, s := range []string{`[]`, `[1,"2",[3]]`, `{"a":{"b":[{"c":"4.5"}]}}`, `1`, `"3"`, `{"a":1}x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inds, err := ExtractIndicators(data)
		if valid := json.Valid(data); valid != (err == nil) {
			t.Fatalf("json.Valid = %v but ExtractIndicators error = %v", valid, err)
		}
		if err != nil {
			return
		}
		for i, in := range inds {
			if in.Name == "" || math.IsInf(in.Value, 0) || math.IsNaN(in.Value) {
				t.Fatalf("indicator %+v", in)
			}
			if i > 0 && inds[i-1].Name >= in.Name {
				t.Fatalf("not sorted and unique: %q then %q", inds[i-1].Name, in.Name)
			}
		}
		// the values encode as JSON numbers
		if _, err := json.Marshal(inds); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzSafeNumbers: for any valid JSON, SafeNumbers returns valid JSON with
// the same structure, in which every number is a safe one and every unsafe
// number of the input has become a string of its literal.
func FuzzSafeNumbers(f *testing.F) {
	for _, s := range []string{
		`{"latest_order":{"order_id":7811076729293002087,"order_price":107981}}`,
		`[9007199254740991,9007199254740992,-1e300,0.5,"x",true,null,{}]`,
		`{"a":{"b":[1e16,{"c":-9007199254740993}]},"s":"<&>\u2028"}`,
		`7811076729293002087`, `"x"`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			if _, err := SafeNumbers(in); err == nil {
				t.Fatalf("SafeNumbers accepted invalid JSON %q", in)
			}
			return
		}
		out, err := SafeNumbers(in)
		if err != nil {
			t.Fatalf("SafeNumbers(%q): %v", in, err)
		}
		var before, after any
		decode := func(b []byte, v *any) {
			d := json.NewDecoder(bytes.NewReader(b))
			d.UseNumber()
			if err := d.Decode(v); err != nil {
				t.Fatalf("decode %q: %v", b, err)
			}
		}
		decode(in, &before)
		decode(out, &after)
		if want := safeForm(before); !reflect.DeepEqual(want, after) {
			t.Fatalf("SafeNumbers(%q) = %s, want the structure %v", in, out, want)
		}
	})
}

// safeForm is v (decoded with UseNumber) with every unsafe number as the
// string of its literal: what SafeNumbers must produce.
func safeForm(v any) any {
	switch x := v.(type) {
	case json.Number:
		if unsafeNumber(string(x)) {
			return string(x)
		}
		return x
	case []any:
		for i := range x {
			x[i] = safeForm(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = safeForm(x[k])
		}
	}
	return v
}
