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
// and one schema per event type, named "<type>.json". They are consumer
// schemas: objects accept properties they do not list, so a subscriber that
// validates with today's files keeps accepting events that gained an additive
// v1 field. Their $ids (https://yongjin.dev/schemas/<file>) are identifiers to
// preload, not addresses to fetch; the envelope binds each type's data to its
// schema by a relative $ref.
//
//go:embed schemas/*.json
var Schemas embed.FS

// schemaSet is one compiled set of the published schemas.
type schemaSet struct {
	once     sync.Once
	strict   bool
	envelope *jsonschema.Schema
	err      error
}

var (
	// consumerSchemas are the files as published.
	consumerSchemas = &schemaSet{}
	// producerSchemas are the same files with additionalProperties: false on
	// every object that lists its properties: the producer's own strictness.
	producerSchemas = &schemaSet{strict: true}
)

// schemaFiles lists the published schema files: the envelope first.
func schemaFiles() []string {
	files := []string{"envelope.v1.json"}
	for _, k := range Kinds {
		files = append(files, Type(k)+".json")
	}
	return files
}

func (s *schemaSet) compile() {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, file := range schemaFiles() {
		raw, err := Schemas.ReadFile("schemas/" + file)
		if err != nil {
			s.err = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			s.err = fmt.Errorf("schema %s: %w", file, err)
			return
		}
		if s.strict {
			closeObjects(doc)
		}
		if err := c.AddResource(SchemaBaseURI+file, doc); err != nil {
			s.err = fmt.Errorf("schema %s: %w", file, err)
			return
		}
	}
	if s.envelope, s.err = c.Compile(SchemaBaseURI + "envelope.v1.json"); s.err != nil {
		s.err = fmt.Errorf("schema envelope.v1.json: %w", s.err)
	}
}

// closeObjects sets additionalProperties: false on every schema object of
// doc that declares "type": "object" with "properties" and says nothing
// about additional properties.
func closeObjects(doc any) {
	switch v := doc.(type) {
	case map[string]any:
		if _, has := v["properties"]; has && v["type"] == "object" {
			if _, set := v["additionalProperties"]; !set {
				v["additionalProperties"] = false
			}
		}
		for _, x := range v {
			closeObjects(x)
		}
	case []any:
		for _, x := range v {
			closeObjects(x)
		}
	}
}

// SchemaBaseURI is the base of every published schema's $id.
const SchemaBaseURI = "https://yongjin.dev/schemas/"

// Validate is the producer's check: it validates an encoded envelope (its
// JSON form), data included, against the published schemas made strict (no
// property they do not list, at any level), with formats asserted. Every
// event yongjin emits must pass it; subscribers use ValidateConsumer, which
// accepts later additive fields. It returns a descriptive error for the
// first violation, wrapping ErrUnknownType for a type this version does not
// know.
func Validate(envelopeJSON []byte) error { return producerSchemas.validate(envelopeJSON) }

// ValidateConsumer validates an encoded envelope with the schemas exactly as
// published (what a subscriber in any language does): unknown properties are
// accepted, formats asserted, data validated through the envelope's type
// binding.
func ValidateConsumer(envelopeJSON []byte) error { return consumerSchemas.validate(envelopeJSON) }

func (s *schemaSet) validate(envelopeJSON []byte) error {
	s.once.Do(s.compile)
	if s.err != nil {
		return s.err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(envelopeJSON))
	if err != nil {
		return fmt.Errorf("event is not JSON: %w", err)
	}
	var e struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal(envelopeJSON, &e); err != nil {
		return fmt.Errorf("envelope: %w", err)
	}
	known := false
	for _, k := range Kinds {
		known = known || e.Type == Type(k)
	}
	if err := s.envelope.Validate(doc); err != nil {
		if !known {
			return fmt.Errorf("%w %q: %w", ErrUnknownType, e.Type, err)
		}
		return fmt.Errorf("%s %s: %w", e.Type, e.ID, err)
	}
	return nil
}
