package events

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schemas holds the published JSON Schema files (schemas/*.json): the envelope
// and one schema per event type, named "<type>.json".
//
//go:embed schemas/*.json
var Schemas embed.FS

var (
	compileOnce sync.Once
	compiled    map[string]*jsonschema.Schema
	compileErr  error
)

func compileSchemas() {
	c := jsonschema.NewCompiler()
	names := map[string]string{"envelope": "envelope.v1.json"}
	for _, k := range Kinds {
		names[Type(k)] = Type(k) + ".json"
	}
	compiled = map[string]*jsonschema.Schema{}
	for key, file := range names {
		raw, err := Schemas.ReadFile("schemas/" + file)
		if err != nil {
			compileErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			compileErr = fmt.Errorf("schema %s: %w", file, err)
			return
		}
		url := "https://yongjin.dev/schemas/" + file
		if err := c.AddResource(url, doc); err != nil {
			compileErr = fmt.Errorf("schema %s: %w", file, err)
			return
		}
		if compiled[key], err = c.Compile(url); err != nil {
			compileErr = fmt.Errorf("schema %s: %w", file, err)
			return
		}
	}
}

// Validate checks an encoded envelope (its JSON form) against the envelope
// schema and its data against the schema of its type. It returns a descriptive
// error for the first violation.
func Validate(envelopeJSON []byte) error {
	compileOnce.Do(compileSchemas)
	if compileErr != nil {
		return compileErr
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(envelopeJSON))
	if err != nil {
		return fmt.Errorf("event is not JSON: %w", err)
	}
	if err := compiled["envelope"].Validate(doc); err != nil {
		return fmt.Errorf("envelope: %w", err)
	}
	var e Envelope
	if err := json.Unmarshal(envelopeJSON, &e); err != nil {
		return fmt.Errorf("envelope: %w", err)
	}
	sch, ok := compiled[e.Type]
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownType, e.Type)
	}
	data, err := jsonschema.UnmarshalJSON(bytes.NewReader(e.Data))
	if err != nil {
		return fmt.Errorf("%s data: %w", e.Type, err)
	}
	if err := sch.Validate(data); err != nil {
		return fmt.Errorf("%s %s: %w", e.Type, e.ID, err)
	}
	return nil
}
