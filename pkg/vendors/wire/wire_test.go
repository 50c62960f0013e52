package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// errText checks err against want: "" means no error, anything else a
// substring of the error.
func errText(t *testing.T, what string, err error, want string) bool {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
		return false
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Errorf("%s: error %v, want one containing %q", what, err, want)
		return false
	}
	return want == ""
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in     string
		want   int64
		strict string // error substring under Strict ("" = success)
		lax    string // error substring under Lax
	}{
		{in: "0"},
		{in: "1290", want: 1290},
		{in: "-5", want: -5},
		{in: "+7", want: 7},
		{in: "12.0", want: 12},
		{in: "12.000", want: 12},
		{in: "12.", want: 12, strict: "not an integer"},
		{in: "9223372036854775807", want: 9223372036854775807},
		{in: "-9223372036854775808", want: -9223372036854775808},
		{in: "9223372036854775808", strict: "out of int64 range", lax: "out of int64 range"},
		{in: "12.5", strict: "not an integer", lax: "not an integer"},
		{in: "12.0.0", strict: "not an integer", lax: "not an integer"},
		{in: "1e3", strict: "not an integer", lax: "not an integer"},
		{in: "", strict: "not an integer", lax: "not an integer"},
		{in: ".0", strict: "not an integer", lax: "not an integer"},
		{in: " 1", strict: "not an integer", lax: "not an integer"},
		{in: "0x10", strict: "not an integer", lax: "not an integer"},
		{in: strings.Repeat("9", 60), strict: `range: "` + strings.Repeat("9", 40) + `…"`, lax: "out of int64 range"},
	}
	for _, tc := range tests {
		for _, d := range []struct {
			name string
			d    Dialect
			want string
		}{{"Strict", Strict, tc.strict}, {"Lax", Lax, tc.lax}} {
			n, err := d.d.ParseInt(tc.in)
			if errText(t, d.name+".ParseInt("+tc.in+")", err, d.want) && n != tc.want {
				t.Errorf("%s.ParseInt(%q) = %d, want %d", d.name, tc.in, n, tc.want)
			}
		}
	}
}

func TestInts(t *testing.T) {
	tests := []struct {
		in          string
		want        int64
		strict, lax string
	}{
		{in: `null`},
		{in: ` null `},
		{in: `""`},
		{in: `"  "`},
		{in: `1290`, want: 1290},
		{in: `"1290"`, want: 1290},
		{in: `" 1290 "`, want: 1290},
		{in: `-5`, want: -5},
		{in: `"-5"`, want: -5},
		{in: `12.0`, want: 12},
		{in: `"12.00"`, want: 12},
		{in: `"12."`, want: 12, strict: "not an integer"},
		{in: `5049400731628723479`, want: 5049400731628723479},
		{in: `"9223372036854775807"`, want: 9223372036854775807},
		{in: `[]`, strict: "want an integer, got an array"},
		{in: `{ }`, strict: "want an integer, got an object"},
		{in: `[1]`, strict: "got an array", lax: "got an array"},
		{in: `{"a":1}`, strict: "got an object", lax: "got an object"},
		{in: `true`, strict: "got a boolean", lax: "got a boolean"},
		{in: `"9223372036854775808"`, strict: "out of int64 range", lax: "out of int64 range"},
		{in: `12.5`, strict: "not an integer", lax: "not an integer"},
		{in: `"0.07"`, strict: "not an integer", lax: "not an integer"},
		{in: `1e3`, strict: "not an integer", lax: "not an integer"},
		{in: `"abc"`, strict: "not an integer", lax: "not an integer"},
	}
	for _, tc := range tests {
		// through the types, as encoding/json calls them; a failed decode
		// leaves the old value, a successful one replaces it
		var s struct {
			I Int    `json:"i"`
			L LaxInt `json:"l"`
		}
		s.I, s.L = 99, 99
		errI := json.Unmarshal([]byte(`{"i":`+tc.in+`}`), &s)
		errL := json.Unmarshal([]byte(`{"l":`+tc.in+`}`), &s)
		if errText(t, "Int "+tc.in, errI, tc.strict) && int64(s.I) != tc.want {
			t.Errorf("Int(%s) = %d, want %d", tc.in, s.I, tc.want)
		} else if errI != nil && s.I != 99 {
			t.Errorf("Int(%s) failed but changed the value to %d", tc.in, s.I)
		}
		if errText(t, "LaxInt "+tc.in, errL, tc.lax) && int64(s.L) != tc.want {
			t.Errorf("LaxInt(%s) = %d, want %d", tc.in, s.L, tc.want)
		} else if errL != nil && s.L != 99 {
			t.Errorf("LaxInt(%s) failed but changed the value to %d", tc.in, s.L)
		}
	}
	if b, _ := json.Marshal(struct{ I Int }{5}); string(b) != `{"I":5}` {
		t.Errorf("Int encodes as %s, want a JSON number", b)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct {
		in          string
		want        string
		strict, lax string
		laxWant     string // when Lax decodes to something else than Strict
	}{
		{in: `null`},
		{in: `""`},
		{in: `" a b "`, want: " a b "},
		{in: `"梦想食品专营店"`, want: "梦想食品专营店"},
		{in: `"\u68a6\n"`, want: "梦\n"},
		{in: `5049400731628723479`, want: "5049400731628723479"},
		{in: `18446744073709551615`, want: "18446744073709551615"},
		{in: `1.50`, want: "1.50"},
		{in: `-0`, want: "-0"},
		{in: `true`, strict: "want a string or number, got a boolean", laxWant: "true"},
		{in: `false`, strict: "got a boolean", laxWant: "false"},
		{in: `[]`, strict: "want a string or number, got an array"},
		{in: `{}`, strict: "got an object"},
		{in: `["x"]`, strict: "got an array", lax: "want a string, got an array"},
		{in: `{"x":1}`, strict: "got an object", lax: "want a string, got an object"},
	}
	for _, tc := range tests {
		var s struct {
			S String    `json:"s"`
			L LaxString `json:"l"`
		}
		s.S, s.L = "old", "old"
		errS := json.Unmarshal([]byte(`{"s":`+tc.in+`}`), &s)
		errL := json.Unmarshal([]byte(`{"l":`+tc.in+`}`), &s)
		if errText(t, "String "+tc.in, errS, tc.strict) && string(s.S) != tc.want {
			t.Errorf("String(%s) = %q, want %q", tc.in, s.S, tc.want)
		} else if errS != nil && s.S != "old" {
			t.Errorf("String(%s) failed but changed the value to %q", tc.in, s.S)
		}
		want := tc.want
		if tc.laxWant != "" {
			want = tc.laxWant
		}
		if errText(t, "LaxString "+tc.in, errL, tc.lax) && string(s.L) != want {
			t.Errorf("LaxString(%s) = %q, want %q", tc.in, s.L, want)
		}
	}
	if b, _ := json.Marshal(struct{ S String }{"7"}); string(b) != `{"S":"7"}` {
		t.Errorf("String encodes as %s, want a JSON string", b)
	}
}

func TestID(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{`7089334664648722476`, "7089334664648722476", ""},
		{`9223372036854775807`, "9223372036854775807", ""},
		{`123456789012345678901234`, "123456789012345678901234", ""},
		{`"7089334664648722476"`, "7089334664648722476", ""},
		{`" 12 "`, "12", ""},
		{`null`, "", ""},
		{`""`, "", ""},
		{`-1`, "-1", ""},
		{`7.089334664648722e18`, "", "digits lost upstream"},
		{`1E3`, "", "not an integer literal"},
		{`1.0`, "", "not an integer literal"},
		{`false`, "", "want an ID, got a boolean"},
		{`[1]`, "", "want an ID, got an array"},
		{`{}`, "", "want an ID, got an object"},
	}
	for _, tc := range tests {
		var v ID
		err := json.Unmarshal([]byte(tc.in), &v)
		if errText(t, "ID "+tc.in, err, tc.err) && string(v) != tc.want {
			t.Errorf("ID(%s) = %q, want %q", tc.in, v, tc.want)
		}
	}
	if b, _ := json.Marshal(ID("9223372036854775807")); string(b) != `"9223372036854775807"` {
		t.Errorf("ID encodes as %s, want a JSON string", b)
	}
}

func TestIntText(t *testing.T) {
	for in, want := range map[string]string{`" 12 "`: "12", `""`: "", `-3.0`: "-3.0", `"x"`: "x"} {
		if got, err := IntText([]byte(in)); err != nil || got != want {
			t.Errorf("IntText(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{`null`: "got null", ``: "got nothing", `[0]`: "got an array", `true`: "got a boolean"} {
		if _, err := IntText([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("IntText(%s) error %v, want %q", in, err, want)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		in          string
		null, empty bool
		kind        string
	}{
		{``, true, true, "nothing"},
		{`  `, true, true, "nothing"},
		{`null`, true, true, "null"},
		{` null `, true, true, "null"},
		{`""`, false, true, "a string"},
		{`" "`, false, false, "a string"},
		{`[]`, false, true, "an array"},
		{`[ ]`, false, true, "an array"},
		{`{}`, false, true, "an object"},
		{"{\n}", false, true, "an object"},
		{`[0]`, false, false, "an array"},
		{`{"a":1}`, false, false, "an object"},
		{`0`, false, false, "a number"},
		{`-1`, false, false, "a number"},
		{`true`, false, false, "a boolean"},
		{`false`, false, false, "a boolean"},
		{`<html>`, false, false, "invalid JSON"},
		{`[`, false, false, "an array"},
		{`}`, false, false, "invalid JSON"},
	}
	for _, tc := range tests {
		b := []byte(tc.in)
		if IsNull(b) != tc.null || IsEmpty(b) != tc.empty || KindOf(b) != tc.kind {
			t.Errorf("%q: IsNull %v IsEmpty %v KindOf %q; want %v %v %q", tc.in, IsNull(b), IsEmpty(b), KindOf(b), tc.null, tc.empty, tc.kind)
		}
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"", 0, ""},
		{"abc", 0, "…"},
		{"长长", 4, "长…"}, // never cuts a rune: 4 bytes hold one 3-byte rune
		{"长长", 3, "长…"},
		{"长长", 2, "…"},
		{"长长", 6, "长长"},
	}
	for _, tc := range tests {
		if got := Clip(tc.in, tc.n); got != tc.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	utc := func(s string) *time.Time {
		tm, err := time.Parse("2006-01-02 15:04:05.999999999", s)
		if err != nil {
			t.Fatal(err)
		}
		return &tm
	}
	tests := []struct {
		in   string
		want *time.Time
		err  string
	}{
		{"2023-03-25 21:54:37", utc("2023-03-25 13:54:37"), ""},
		{" 2023-03-25 08:00:00 ", utc("2023-03-25 00:00:00"), ""},
		{"2023-01-01 00:00:00.123456789", utc("2022-12-31 16:00:00.123456789"), ""},
		{"1970-01-01 08:00:00", utc("1970-01-01 00:00:00"), ""},
		{"", nil, ""},
		{"   ", nil, ""},
		{"0000-00-00 00:00:00", nil, ""},
		{"1970-01-01 07:59:59", nil, `"1970-01-01 07:59:59" is before 1970`},
		{"0000-01-01 00:00:00", nil, "is before 1970"},
		{"2023/01/01 00:00:00", nil, `"2023/01/01 00:00:00" is not a "2006-01-02 15:04:05" time`},
		{"2023-13-01 00:00:00", nil, "is not a"},
		{"2023-01-01", nil, "is not a"},
		{"2023-01-01T00:00:00Z", nil, "is not a"},
		{strings.Repeat("x", 50), nil, `"` + strings.Repeat("x", 40) + `…" is not a`},
		{"2106-01-01 07:59:59", utc("2105-12-31 23:59:59"), ""},
		{"2106-01-01 08:00:00", nil, `"2106-01-01 08:00:00" is after 2105-12-31 23:59:59 UTC, the latest time storage holds`},
		{"9999-12-31 23:59:59", nil, "the latest time storage holds"},
	}
	for _, tc := range tests {
		got, err := ParseTime(tc.in)
		if !errText(t, "ParseTime("+tc.in+")", err, tc.err) {
			if got != nil {
				t.Errorf("ParseTime(%q) returned %v with an error", tc.in, got)
			}
			continue
		}
		switch {
		case (got == nil) != (tc.want == nil):
			t.Errorf("ParseTime(%q) = %v, want %v", tc.in, got, tc.want)
		case got != nil && (!got.Equal(*tc.want) || got.Location() != time.UTC):
			t.Errorf("ParseTime(%q) = %v (%v), want %v UTC", tc.in, got, got.Location(), tc.want)
		}
	}
	if _, off := time.Date(2023, 7, 1, 0, 0, 0, 0, CST).Zone(); off != 8*3600 {
		t.Errorf("CST offset %d in summer, want UTC+8 all year", off)
	}
}

func TestLatest(t *testing.T) {
	a := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	b, c := a.Add(time.Hour), a.Add(-time.Hour)
	if got := Latest(a); !got.Equal(a) {
		t.Errorf("Latest(a) = %v", got)
	}
	if got := Latest(a, nil, &c, &b, nil); !got.Equal(b) {
		t.Errorf("Latest = %v, want %v", got, b)
	}
	if got := Latest(a, &c); !got.Equal(a) {
		t.Errorf("Latest = %v, want the first", got)
	}
}

type record struct {
	ID    String `json:"id"`
	N     Int    `json:"n"`
	Other Int    `json:"other,omitempty"`
	Plain string
}

func TestDecodeObject(t *testing.T) {
	tests := []struct {
		in   string
		want record
		err  string
	}{
		{`{"id":123,"n":"4","unknown":[1]}`, record{ID: "123", N: 4}, ""},
		{` {"Plain":"p"} `, record{Plain: "p"}, ""},
		{`{}`, record{}, ""},
		{``, record{}, "want an object, got nothing"},
		{`null`, record{}, "want an object, got null"},
		{`[{"id":1}]`, record{}, "want an object, got an array"},
		{`"x"`, record{}, "want an object, got a string"},
		{`7`, record{}, "want an object, got a number"},
		{`{"id":1,"n":1.5}`, record{}, "field n: not an integer"},
		{`{"id":true,"n":1.5}`, record{}, "field id: want a string or number"},
		{`{"n":1,"other":[1]}`, record{}, "field other: want an integer, got an array"},
		{`{"Plain":1}`, record{}, "cannot unmarshal number"},
	}
	for _, tc := range tests {
		got, err := DecodeObject[record]([]byte(tc.in))
		if errText(t, "DecodeObject("+tc.in+")", err, tc.err) && got != tc.want {
			t.Errorf("DecodeObject(%s) = %+v, want %+v", tc.in, got, tc.want)
		} else if err != nil && got != (record{}) {
			t.Errorf("DecodeObject(%s) = %+v with an error, want the zero value", tc.in, got)
		}
	}
}

func TestMalformed(t *testing.T) {
	err := Malformed("data.orders[%d]: %s", 3, "x")
	if !errors.Is(err, vendors.ErrMalformedPage) || err.Error() != vendors.ErrMalformedPage.Error()+": data.orders[3]: x" {
		t.Errorf("Malformed = %v", err)
	}
	if got := TrimBOM([]byte("\xef\xbb\xbf{}")); string(got) != "{}" {
		t.Errorf("TrimBOM = %q", got)
	}
	if got := TrimBOM([]byte(" \xef\xbb\xbf{}")); string(got) != " \xef\xbb\xbf{}" {
		t.Errorf("TrimBOM dropped a BOM that is not leading: %q", got)
	}
}

func TestLabelsAndKeys(t *testing.T) {
	for _, tc := range []struct{ account, err string }{
		{"demo", ""}, {"主账号 1", ""}, {"", "no account label"}, {"a\nb", "control characters"}, {"a\x00", "control characters"},
	} {
		err := CheckAccount(tc.account)
		if errText(t, "CheckAccount("+tc.account+")", err, tc.err) || errors.Is(err, vendors.ErrMalformedPage) {
			continue
		}
		t.Errorf("CheckAccount(%q) = %v, want ErrMalformedPage", tc.account, err)
	}
	for s, want := range map[string]bool{"abc_DEF-123": true, "0": true, "": false, "a b": false, "a/b": false, "é": false, "a.b": false} {
		if ValidKey(s) != want {
			t.Errorf("ValidKey(%q) = %v, want %v", s, !want, want)
		}
	}
	for _, tc := range []struct{ value, want, err string }{
		{" 42 ", "42", ""},
		{"", "", "order without order_id"},
		{"  ", "", "order without order_id"},
		{"4/2", "", `order_id "4/2": want only [0-9A-Za-z_-]`},
	} {
		got, err := Key("order", "order_id", tc.value)
		if errText(t, "Key("+tc.value+")", err, tc.err) && got != tc.want {
			t.Errorf("Key(%q) = %q, want %q", tc.value, got, tc.want)
		}
		if err != nil && !errors.Is(err, vendors.ErrMalformedPage) {
			t.Errorf("Key(%q) = %v, want ErrMalformedPage", tc.value, err)
		}
	}
}

func TestFields(t *testing.T) {
	var f Fields
	paid := f.Time("paid", "2023-01-01 08:00:00")
	none := f.Time("settled", "")
	f.NonNegative("n", 0)
	if f.Err != nil || paid == nil || !paid.Equal(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)) || none != nil {
		t.Fatalf("paid %v none %v err %v", paid, none, f.Err)
	}
	if f.Time("bad", "yesterday"); f.Err == nil || !strings.HasPrefix(f.Err.Error(), `bad: "yesterday" is not a`) {
		t.Fatalf("err = %v", f.Err)
	}
	first := f.Err
	if f.NonNegative("m", -1); f.Time("x", "2023-01-01 00:00:00") != nil || f.Err != first {
		t.Fatalf("a check after the first problem ran: %v", f.Err)
	}
	var g Fields
	g.NonNegative("qty", 1)
	if g.NonNegative("qty", -3); g.Err == nil || g.Err.Error() != "qty is negative (-3)" {
		t.Fatalf("err = %v", g.Err)
	}
}

func TestOrderEnvelopes(t *testing.T) {
	at := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	order := func(id string, at time.Time) (events.Order, []events.CommissionLine, error) {
		o := events.Order{Platform: "p", Account: "a", OrderID: id, PaidAt: at, UpdatedAt: at, Version: at.UnixMilli()}
		l := events.CommissionLine{Platform: "p", Account: "a", OrderID: id, Role: events.RoleCreator, PaidAt: at, UpdatedAt: at}
		return o, []events.CommissionLine{l, l}, nil
	}
	envs, err := OrderEnvelopes("v normalize: orders", []string{"1", "2"}, func(id string) (events.Order, []events.CommissionLine, error) {
		return order(id, at)
	})
	if err != nil || len(envs) != 6 {
		t.Fatalf("%d envelopes, %v", len(envs), err)
	}
	for i, e := range envs {
		want := events.Type(events.KindCommission)
		if i%3 == 0 {
			want = events.Type(events.KindOrder)
		}
		if e.Type != want || !strings.HasPrefix(e.Subject, []string{"1", "2"}[i/3]) {
			t.Errorf("envelope %d = %s %s", i, e.Type, e.Subject)
		}
	}
	if envs, err := OrderEnvelopes("x", nil, func(string) (events.Order, []events.CommissionLine, error) { panic("no orders") }); err != nil || envs == nil || len(envs) != 0 {
		t.Errorf("no orders: %v, %v; want an empty non-nil slice", envs, err)
	}
	bad := errors.New("boom")
	envs, err = OrderEnvelopes("v normalize: orders", []string{"1", "2"}, func(id string) (events.Order, []events.CommissionLine, error) {
		if id == "2" {
			return events.Order{}, nil, bad
		}
		return order(id, at)
	})
	if envs != nil || !errors.Is(err, bad) || err.Error() != "v normalize: orders[1]: boom" {
		t.Errorf("mapping error: %d envelopes, %v", len(envs), err)
	}
	// a time that does not encode (year 10000) makes the envelope fail
	envs, err = OrderEnvelopes("v normalize: orders", []string{"1"}, func(id string) (events.Order, []events.CommissionLine, error) {
		return order(id, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	})
	if envs != nil || !errors.Is(err, vendors.ErrMalformedPage) || !strings.HasPrefix(err.Error(), "v normalize: orders[0]: ") {
		t.Errorf("encoding error: %d envelopes, %v", len(envs), err)
	}
}

func TestDecodeList(t *testing.T) {
	tests := []struct {
		in   string
		want []record
		err  string
	}{
		{`[]`, nil, ""},
		{`[{"id":1},{"n":"2"}]`, []record{{ID: "1"}, {N: 2}}, ""},
		{`[{"id":1},{"n":1.5}]`, nil, "data.list[1]: field n: not an integer"},
		{`[{"id":1},null]`, nil, "data.list[1]: want an object, got null"},
		{`{"id":1}`, nil, "data.list: json: cannot unmarshal object"},
	}
	for _, tc := range tests {
		got, err := DecodeList("data.list", []byte(tc.in), DecodeObject[record])
		if err != nil && !errors.Is(err, vendors.ErrMalformedPage) {
			t.Errorf("DecodeList(%s) = %v, want ErrMalformedPage", tc.in, err)
		}
		if errText(t, "DecodeList("+tc.in+")", err, tc.err) && (len(got) != len(tc.want) || (got == nil) != (tc.want == nil)) {
			t.Errorf("DecodeList(%s) = %+v, want %+v", tc.in, got, tc.want)
		}
		for i := range tc.want {
			if i < len(got) && got[i] != tc.want[i] {
				t.Errorf("DecodeList(%s)[%d] = %+v, want %+v", tc.in, i, got[i], tc.want[i])
			}
		}
	}
	if got, err := DecodeEach("x", nil, DecodeObject[record]); got != nil || err != nil {
		t.Errorf("DecodeEach(nil) = %v, %v", got, err)
	}
}

func TestDecodeRaw(t *testing.T) {
	decode := func(body []byte) (*string, error) {
		s := string(body)
		return &s, nil
	}
	got, err := DecodeRaw(events.RawPage{Account: "a", Body: []byte("b")}, decode)
	if err != nil || *got != "b" {
		t.Errorf("DecodeRaw = %v, %v", got, err)
	}
	for _, acct := range []string{"", "a\tb"} {
		got, err := DecodeRaw(events.RawPage{Account: acct, Body: []byte("b")}, decode)
		if got != nil || !errors.Is(err, vendors.ErrMalformedPage) {
			t.Errorf("DecodeRaw(account %q) = %v, %v; want no result and ErrMalformedPage", acct, got, err)
		}
	}
}

// TestFieldsNotAfter: a time later than the fetch time plus FutureSkew is a
// placeholder (case 7); NotAfter of a zero fetch time is the storage limit.
func TestFieldsNotAfter(t *testing.T) {
	fetched := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		fetched time.Time
		in      string
		err     string
	}{
		{fetched, "2026-10-21 08:00:00", ""}, // exactly fetch + 24h (CST)
		{fetched, "2026-10-21 08:00:01", `t: "2026-10-21 08:00:01" is later than 2026-10-21T00:00:00Z (the fetch time plus 24h0m0s): a placeholder, not a time`},
		{fetched, "9999-12-31 23:59:59", "the latest time storage holds"},
		{time.Time{}, "2105-01-01 00:00:00", ""},
		{time.Time{}, "", ""},
	}
	for _, tc := range tests {
		f := Fields{NotAfter: NotAfter(tc.fetched)}
		f.Time("t", tc.in)
		errText(t, "Time("+tc.in+")", f.Err, tc.err)
	}
	if NotAfter(time.Time{}) != MaxTime || NotAfter(MaxTime) != MaxTime {
		t.Errorf("NotAfter(zero) = %v, NotAfter(MaxTime) = %v; want MaxTime", NotAfter(time.Time{}), NotAfter(MaxTime))
	}
}

// TestRecordVersion: the version is the latest of all times, the update
// time included, so it never goes backwards whichever observation carries
// an update time (case 7).
func TestRecordVersion(t *testing.T) {
	p := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	h := func(n int) *time.Time { t := p.Add(time.Duration(n) * time.Hour); return &t }
	tests := []struct {
		updated *time.Time
		more    []*time.Time
		want    time.Time
	}{
		{nil, nil, p},
		{h(5), []*time.Time{h(2)}, *h(5)},
		{h(2), []*time.Time{h(3), nil, h(6)}, *h(6)}, // a stale update time does not win
		{nil, []*time.Time{h(3), h(1)}, *h(3)},
	}
	for i, tc := range tests {
		if got := RecordVersion(p, tc.updated, tc.more...); !got.Equal(tc.want) {
			t.Errorf("case %d: RecordVersion = %v, want %v", i, got, tc.want)
		}
	}
}
