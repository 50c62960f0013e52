package events

import (
	"fmt"
	"strings"
)

// SchemaJSON returns the published JSON Schema of an event type ("order.v1",
// "commission.v1", "commission_plan.v1", "creator_experience.v1") or of the
// envelope ("envelope" or "envelope.v1"), exactly as embedded in Schemas. An
// unknown type gives an error wrapping ErrUnknownType that lists the known
// ones.
func SchemaJSON(typ string) ([]byte, error) {
	name := typ
	if typ == "envelope" {
		name = "envelope.v1"
	}
	known := []string{"envelope"}
	ok := name == "envelope.v1"
	for _, k := range Kinds {
		known = append(known, Type(k))
		ok = ok || name == Type(k)
	}
	if !ok {
		return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownType, typ, strings.Join(known, ", "))
	}
	return Schemas.ReadFile("schemas/" + name + ".json")
}
