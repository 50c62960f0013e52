package client

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/yongjin-dev/yongjin/pkg/internal/jsonscan"
)

// CountElements returns how many elements the JSON array list holds without
// decoding them (an empty or null list holds none). Fetchers page on the count
// and leave judging the records to the normalizer, so one record of a drifted
// type never blocks a source.
func CountElements(list []byte) (int, error) {
	list = bytes.TrimSpace(list)
	if len(list) == 0 || bytes.Equal(list, []byte("null")) {
		return 0, nil
	}
	if n, ok := countFast(list); ok {
		return n, nil
	}
	return countDecoding(list)
}

// countDecoding is CountElements through encoding/json's decoder (the
// reference countFast is checked against), with its precise errors.
func countDecoding(list []byte) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(list))
	tok, err := dec.Token()
	if err != nil {
		return 0, fmt.Errorf("record list: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return 0, fmt.Errorf("record list: want an array, got %v", tok)
	}
	n := 0
	for dec.More() {
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return n, fmt.Errorf("record list: element %d: %w", n, err)
		}
		n++
	}
	if _, err := dec.Token(); err != nil {
		return n, fmt.Errorf("record list: %w", err)
	}
	return n, nil
}

// countFast is CountElements for a list that is one valid JSON array,
// counted in one validating pass without decoding; ok is false for
// anything else, which CountElements then reads with encoding/json (same
// count where both succeed: FuzzCountElements).
func countFast(list []byte) (n int, ok bool) {
	s := jsonscan.Scanner{B: list}
	ok = s.Array(func() bool {
		n++
		_, _, ok := s.Skip()
		return ok
	})
	return n, ok && s.End()
}
