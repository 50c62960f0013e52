package client

import (
	"bytes"
	"encoding/json"
	"fmt"
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
