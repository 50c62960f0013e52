package client

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

func TestCountElements(t *testing.T) {
	for _, tc := range []struct {
		list string
		want int
		err  bool
	}{
		{``, 0, false}, {`null`, 0, false}, {`[]`, 0, false}, {` [ {"a":[1,2]}, null, "x" ] `, 3, false},
		{`[1,2] x`, 2, false}, {`{}`, 0, true}, {`[1,`, 1, true}, {`[01]`, 1, true},
	} {
		n, err := CountElements([]byte(tc.list))
		if n != tc.want || (err != nil) != tc.err {
			t.Errorf("CountElements(%q) = %d, %v; want %d, error %v", tc.list, n, err, tc.want, tc.err)
		}
	}
}

// FuzzCountElements checks that the one-pass count agrees with
// encoding/json wherever it answers.
func FuzzCountElements(f *testing.F) {
	for _, s := range []string{`[]`, `[1,"a",{"b":[null,true]}]`, `[1] `, `[[[]]]`, `["\u00e9\n"]`, `[1,]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, list []byte) {
		n, ok := countFast(list)
		if !ok {
			return
		}
		m, err := countDecoding(list)
		if err != nil || m != n {
			t.Fatalf("countFast(%q) = %d; encoding/json %d, %v", list, n, m, err)
		}
	})
}

// TestReadBody checks that a body is read whole and exactly, with and
// without an announced length, and that the limit holds.
func TestReadBody(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 8000) // 128,000 bytes
	for _, tc := range []struct {
		name   string
		length int64 // ContentLength as the client sees it (-1: chunked)
		limit  int64
		want   []byte
	}{
		{"announced", int64(len(body)), 64 << 20, body},
		{"chunked", -1, 64 << 20, body},
		{"over the limit", int64(len(body)), 1000, body[:1000]},
		{"empty", 0, 64 << 20, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := body
			if tc.want == nil {
				src = nil
			}
			res := &http.Response{ContentLength: tc.length, Body: io.NopCloser(bytes.NewReader(src))}
			got, err := readBody(res, tc.limit)
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("readBody = %d bytes, %v; want %d bytes", len(got), err, len(tc.want))
			}
		})
	}
}
