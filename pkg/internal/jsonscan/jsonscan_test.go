package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzSkip checks that Skip accepts exactly the documents encoding/json
// calls valid (short of maxDepth), and that Str reads a string document
// as encoding/json unquotes it.
func FuzzSkip(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,-0,2.5e-3,true,false,null,"x\u00e9\n"]}`, `"\ud800"`, "\"\xff\"", `01`, `1.`, `-`, `[1,]`,
		`{"a" 1}`, `"\x"`, `"\u12"`, ` [ ] `, `{}`, `1e+5`, `"a` + "\t" + `b"`, strings.Repeat("[", 600) + strings.Repeat("]", 600),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := Scanner{B: b}
		_, _, ok := s.Skip()
		got := ok && s.End()
		if want := json.Valid(b); got != want && !(want && strings.Count(string(b), "[")+strings.Count(string(b), "{") > maxDepth) {
			t.Fatalf("Skip(%q) = %v; json.Valid = %v", b, got, want)
		}
		var want string
		if json.Unmarshal(b, &want) == nil {
			var str string
			s := Scanner{B: b, Text: string(b)}
			if !s.Str(&str) || !s.End() || str != want {
				t.Fatalf("Str(%q) = %q; encoding/json %q", b, str, want)
			}
		}
	})
}

func TestParseInt(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{{"0", 0, true}, {"-7", -7, true}, {"999999999999999999", 999999999999999999, true}, {"9223372036854775807", 1<<63 - 1, true}, {"-9223372036854775808", -1 << 63, true}, {"9223372036854775808", 0, false}} {
		n, ok := ParseInt([]byte(tc.in))
		if ok != tc.ok || (ok && n != tc.want) {
			t.Errorf("ParseInt(%s) = %d, %v; want %d, %v", tc.in, n, ok, tc.want, tc.ok)
		}
	}
}
