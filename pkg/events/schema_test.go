package events

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestSchemaJSON(t *testing.T) {
	for _, k := range Kinds {
		b, err := SchemaJSON(Type(k))
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			ID string `json:"$id"`
		}
		if err := json.Unmarshal(b, &s); err != nil || s.ID != SchemaURI(k) {
			t.Errorf("SchemaJSON(%s): $id %q, %v; want %s", Type(k), s.ID, err, SchemaURI(k))
		}
	}
	for _, name := range []string{"envelope", "envelope.v1"} {
		if b, err := SchemaJSON(name); err != nil || !strings.Contains(string(b), "envelope.v1.json") {
			t.Errorf("SchemaJSON(%s): %v", name, err)
		}
	}
	_, err := SchemaJSON("order.v9")
	if !errors.Is(err, ErrUnknownType) || !strings.Contains(err.Error(), "order.v1, commission.v1") {
		t.Errorf("SchemaJSON(order.v9) = %v", err)
	}
}
