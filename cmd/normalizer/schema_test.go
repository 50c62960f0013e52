package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

func runSchema(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = schemaCommand(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestSchemaListsTypes(t *testing.T) {
	code, out, stderr := runSchema()
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, k := range events.Kinds {
		if !strings.Contains(out, events.Type(k)+" ") || !strings.Contains(out, events.Subject(k, "<vendor>")) {
			t.Errorf("list lacks %s and its subject:\n%s", events.Type(k), out)
		}
	}
	if !strings.Contains(out, "envelope") {
		t.Errorf("list lacks the envelope:\n%s", out)
	}
}

func TestSchemaPrintsEmbeddedSchema(t *testing.T) {
	for _, typ := range []string{"order.v1", "commission.v1", "commission_plan.v1", "creator_experience.v1", "envelope"} {
		t.Run(typ, func(t *testing.T) {
			code, out, stderr := runSchema(typ)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			want, err := events.SchemaJSON(typ)
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(out) != strings.TrimSpace(string(want)) {
				t.Errorf("printed schema differs from the embedded one")
			}
			var s map[string]any
			if err := json.Unmarshal([]byte(out), &s); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if id, _ := s["$id"].(string); !strings.HasSuffix(id, "/"+strings.TrimSuffix(typ, ".v1")+".v1.json") {
				t.Errorf("$id = %q", id)
			}
		})
	}
}

func TestSchemaRefusesUnknownType(t *testing.T) {
	code, out, stderr := runSchema("order.v2")
	if code != 2 || out != "" {
		t.Fatalf("exit %d, stdout %q; want 2 and nothing on stdout", code, out)
	}
	if !strings.Contains(stderr, `unknown type "order.v2"`) || !strings.Contains(stderr, "order.v1") || !strings.Contains(stderr, "creator_experience.v1") {
		t.Errorf("stderr does not list the types: %q", stderr)
	}
	if code, _, _ := runSchema("order.v1", "commission.v1"); code != 2 {
		t.Errorf("two types: exit %d, want 2", code)
	}
	if code, _, stderr := runSchema("--help"); code != 0 || !strings.Contains(stderr, "usage: normalizer schema") {
		t.Errorf("--help: exit %d, %q", code, stderr)
	}
	if code, _, _ := runSchema("--bogus"); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
}
