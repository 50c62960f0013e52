package xingtu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// MaxSafeInteger is the largest integer every JSON parser reproduces exactly
// (2^53-1, JavaScript's Number.MAX_SAFE_INTEGER).
const MaxSafeInteger = 1<<53 - 1

// SafeNumbers returns the JSON value data with every number whose magnitude
// exceeds MaxSafeInteger replaced by a JSON string of the same literal
// (3727001234567890123 → "3727001234567890123"), so that no parser rounds
// it: such numbers are IDs (latest_order.order_id), not measures. Everything
// else is kept, in order, as compact JSON. data must be one valid JSON value.
func SafeNumbers(data []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out bytes.Buffer
	if err := safeValue(dec, &out); err != nil {
		return nil, fmt.Errorf("safe numbers: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("safe numbers: trailing data after the JSON value")
	}
	return out.Bytes(), nil
}

// safeValue copies one JSON value from dec to out (see SafeNumbers).
func safeValue(dec *json.Decoder, out *bytes.Buffer) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		closing := byte('}')
		if v == '[' {
			closing = ']'
		}
		out.WriteByte(byte(v))
		for i := 0; dec.More(); i++ {
			if i > 0 {
				out.WriteByte(',')
			}
			if v == '{' {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				writeString(out, k.(string))
				out.WriteByte(':')
			}
			if err := safeValue(dec, out); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
		out.WriteByte(closing)
	case json.Number:
		if unsafeNumber(string(v)) {
			writeString(out, string(v))
		} else {
			out.WriteString(string(v))
		}
	case string:
		writeString(out, v)
	case bool:
		out.WriteString(strconv.FormatBool(v))
	case nil:
		out.WriteString("null")
	}
	return nil
}

// unsafeNumber reports whether the JSON number literal lit lies beyond
// ±MaxSafeInteger.
func unsafeNumber(lit string) bool {
	if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
		return n > MaxSafeInteger || n < -MaxSafeInteger
	}
	f, err := strconv.ParseFloat(lit, 64)
	return err != nil || f > MaxSafeInteger || f < -MaxSafeInteger
}

// writeString writes s as a JSON string without HTML escaping.
func writeString(out *bytes.Buffer, s string) {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	out.Truncate(out.Len() - 1) // Encode's newline
}
