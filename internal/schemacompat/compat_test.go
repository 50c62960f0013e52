package schemacompat

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// baselineDir holds the committed baselines of the published schemas.
const baselineDir = "../../pkg/events/schemas/baseline"

// schemaFiles lists the published schema files: the envelope first.
func schemaFiles() []string {
	files := []string{"envelope.v1.json"}
	for _, k := range events.Kinds {
		files = append(files, events.Type(k)+".json")
	}
	return files
}

// currentSchemas is the embedded schema directory as subscribers get it.
func currentSchemas(t *testing.T) fs.FS {
	t.Helper()
	sub, err := fs.Sub(events.Schemas, "schemas")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// TestSchemasCompatibleWithBaseline is the compatibility gate: every
// published schema must be a compatible evolution of its committed baseline
// (schemas/baseline/<type>.json), and no published type may disappear.
func TestSchemasCompatibleWithBaseline(t *testing.T) {
	cur := currentSchemas(t)
	names, err := fs.Glob(cur, "*.json")
	if err != nil || len(names) == 0 {
		t.Fatalf("no embedded schemas (%v)", err)
	}
	// every type this package emits has a schema, and so a baseline
	for _, k := range events.Kinds {
		if _, err := fs.Stat(cur, events.Type(k)+".json"); err != nil {
			t.Errorf("kind %s has no schema: %v", k, err)
		}
	}
	for _, p := range CheckBaseline(os.DirFS(baselineDir), cur) {
		t.Error(p)
	}
	t.Logf("%d schemas checked against their baselines: %s", len(names), strings.Join(names, ", "))
}

// mutateSchema decodes an embedded schema, lets edit change it and encodes it again.
func mutateSchema(t *testing.T, name string, edit func(s map[string]any)) []byte {
	t.Helper()
	raw, err := events.Schemas.ReadFile("schemas/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	edit(s)
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func props(s map[string]any) map[string]any { return s["properties"].(map[string]any) }

// typeBinding is an envelope allOf entry binding type t to dataschema uri and data to $ref ref.
func typeBinding(t, uri, ref string) map[string]any {
	return map[string]any{
		"if":   map[string]any{"properties": map[string]any{"type": map[string]any{"const": t}}, "required": []any{"type"}},
		"then": map[string]any{"properties": map[string]any{"dataschema": map[string]any{"const": uri}, "data": map[string]any{"$ref": ref}}},
	}
}

func removeRequired(s map[string]any, name string) {
	var keep []any
	for _, r := range s["required"].([]any) {
		if r != name {
			keep = append(keep, r)
		}
	}
	s["required"] = keep
}

// TestCheckCompatibleReportsBreakingChanges feeds deliberately broken
// variants of the published schemas and requires each break to be reported,
// at the right field, with its kind.
func TestCheckCompatibleReportsBreakingChanges(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		edit   func(s map[string]any)
		want   []string // substrings of one reported message, all required
	}{
		{"removed field", "order.v1.json", func(s map[string]any) {
			delete(props(s), "paid_fen")
			removeRequired(s, "paid_fen")
		}, []string{`field "paid_fen"`, "property removed"}},
		{"removed optional field", "order.v1.json", func(s map[string]any) {
			delete(props(s), "parent_order_id")
		}, []string{`field "parent_order_id"`, "property removed"}},
		{"retyped field", "order.v1.json", func(s map[string]any) {
			props(s)["quantity"] = map[string]any{"type": "string"}
		}, []string{`field "quantity"`, "type changed from integer to string"}},
		{"integer widened to number", "commission.v1.json", func(s map[string]any) {
			props(s)["estimated_fen"] = map[string]any{"type": "number"}
		}, []string{`field "estimated_fen"`, "type changed from integer to number"}},
		{"new required field", "commission.v1.json", func(s map[string]any) {
			props(s)["creator_id"] = map[string]any{"type": "string"}
			s["required"] = append(s["required"].([]any), "creator_id")
		}, []string{`field "creator_id"`, "new required property", "add it as optional"}},
		{"optional field made required", "order.v1.json", func(s map[string]any) {
			s["required"] = append(s["required"].([]any), "parent_order_id")
		}, []string{`field "parent_order_id"`, "new required property"}},
		{"required field made optional", "order.v1.json", func(s map[string]any) {
			removeRequired(s, "author_id")
		}, []string{`field "author_id"`, "no longer required"}},
		{"narrowed enum", "order.v1.json", func(s map[string]any) {
			props(s)["status"] = map[string]any{"enum": []any{"paid", "received", "settled", "refunded", "cancelled"}}
		}, []string{`field "status"`, "enum narrowed", `"unknown"`}},
		{"narrowed role enum", "commission.v1.json", func(s map[string]any) {
			props(s)["role"] = map[string]any{"enum": []any{"creator", "shop"}}
		}, []string{`field "role"`, "enum narrowed", `"live_channel", "platform_fee", "service_provider"`}},
		{"enum added to a free-form string", "order.v1.json", func(s map[string]any) {
			props(s)["channel"] = map[string]any{"type": "string", "enum": []any{"Live"}}
		}, []string{`field "channel"`, "enum added"}},
		{"minimum raised", "order.v1.json", func(s map[string]any) {
			props(s)["paid_fen"] = map[string]any{"type": "integer", "minimum": 1}
		}, []string{`field "paid_fen"`, "minimum raised from 0 to 1"}},
		{"maximum added", "commission.v1.json", func(s map[string]any) {
			props(s)["rate_bp"] = map[string]any{"type": "integer", "minimum": 0, "maximum": 10000}
		}, []string{`field "rate_bp"`, "maximum 10000 added"}},
		{"minLength raised", "order.v1.json", func(s map[string]any) {
			props(s)["platform"] = map[string]any{"type": "string", "minLength": 3}
		}, []string{`field "platform"`, "minLength raised from 1 to 3"}},
		{"pattern changed", "commission.v1.json", func(s map[string]any) {
			props(s)["currency"] = map[string]any{"type": "string", "pattern": "^CNY$"}
		}, []string{`field "currency"`, "pattern changed"}},
		{"pattern removed", "commission.v1.json", func(s map[string]any) {
			props(s)["order_id"] = map[string]any{"type": "string"}
		}, []string{`field "order_id"`, "pattern changed", "(none)"}},
		{"pattern changed through $ref", "order.v1.json", func(s map[string]any) {
			s["$defs"].(map[string]any)["utc"] = map[string]any{"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
		}, []string{`field "paid_at"`, "pattern changed"}},
		{"pattern changed inside a nullable field", "order.v1.json", func(s map[string]any) {
			props(s)["settled_at"] = map[string]any{"oneOf": []any{map[string]any{"type": "string", "pattern": "^x$"}, map[string]any{"type": "null"}}}
		}, []string{`field "settled_at"`, "pattern changed"}},
		{"nullable field made non-null", "order.v1.json", func(s map[string]any) {
			props(s)["received_at"] = map[string]any{"$ref": "#/$defs/utc"}
		}, []string{`field "received_at"`, "type changed from null or string to string"}},
		{"field made nullable", "order.v1.json", func(s map[string]any) {
			props(s)["paid_at"] = map[string]any{"oneOf": []any{map[string]any{"$ref": "#/$defs/utc"}, map[string]any{"type": "null"}}}
		}, []string{`field "paid_at"`, "type changed from string to null or string"}},
		{"additionalProperties false added", "envelope.v1.json", func(s map[string]any) {
			s["additionalProperties"] = false
		}, []string{"additionalProperties: false added"}},
		{"const changed", "envelope.v1.json", func(s map[string]any) {
			props(s)["specversion"] = map[string]any{"const": "1.1"}
		}, []string{`field "specversion"`, "const changed"}},
		{"item field retyped", "creator_experience.v1.json", func(s map[string]any) {
			item := props(s)["indicators"].(map[string]any)["items"].(map[string]any)
			props(item)["value"] = map[string]any{"type": "string"}
		}, []string{`field "indicators[].value"`, "type changed from number to string"}},
		{"item field removed", "creator_experience.v1.json", func(s map[string]any) {
			item := props(s)["indicators"].(map[string]any)["items"].(map[string]any)
			delete(props(item), "name")
		}, []string{`field "indicators[].name"`, "property removed"}},
		{"free-form data constrained", "creator_experience.v1.json", func(s map[string]any) {
			props(s)["data"] = map[string]any{"type": "object"}
		}, []string{`field "data"`, "type changed from any type to object"}},
		{"$id changed", "commission_plan.v1.json", func(s map[string]any) {
			s["$id"] = "https://yongjin.dev/schemas/plan.v1.json"
		}, []string{"$id changed"}},
		{"unknown keyword added", "order.v1.json", func(s map[string]any) {
			props(s)["shop_id"] = map[string]any{"type": "string", "contentEncoding": "base64"}
		}, []string{`field "shop_id"`, `keyword "contentEncoding" changed`}},
		{"format changed", "order.v1.json", func(s map[string]any) {
			s["$defs"].(map[string]any)["utc"].(map[string]any)["format"] = "date"
		}, []string{`format changed from "date-time" to "date"`}},
		{"format added without a pattern", "order.v1.json", func(s map[string]any) {
			props(s)["shop_id"] = map[string]any{"type": "string", "format": "uuid"}
		}, []string{`field "shop_id"`, "format changed"}},
		{"type binding removed", "envelope.v1.json", func(s map[string]any) {
			s["allOf"] = s["allOf"].([]any)[1:]
		}, []string{"allOf entry", "removed or changed"}},
		{"type binding retargeted", "envelope.v1.json", func(s map[string]any) {
			s["allOf"].([]any)[0] = typeBinding("order.v1", "https://yongjin.dev/schemas/order.v1.json", "commission.v1.json")
		}, []string{"allOf entry", "removed or changed"}},
		{"allOf entry that is no type binding", "envelope.v1.json", func(s map[string]any) {
			s["allOf"] = append(s["allOf"].([]any), map[string]any{"required": []any{"partitionkey"}})
		}, []string{"allOf entry", "only type bindings"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, err := events.Schemas.ReadFile("schemas/" + tc.schema)
			if err != nil {
				t.Fatal(err)
			}
			got := CheckCompatible(base, mutateSchema(t, tc.schema, tc.edit))
			for _, msg := range got {
				if containsAll(msg, tc.want) {
					return
				}
			}
			t.Errorf("no message contains all of %q; got %d:\n%s", tc.want, len(got), strings.Join(got, "\n"))
		})
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestCheckCompatibleAcceptsAdditiveChanges: the evolutions the versioning
// policy allows without a new type must pass the gate.
func TestCheckCompatibleAcceptsAdditiveChanges(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		edit   func(s map[string]any)
	}{
		{"unchanged", "order.v1.json", func(map[string]any) {}},
		{"new optional field", "commission.v1.json", func(s map[string]any) {
			props(s)["creator_id"] = map[string]any{"type": "string"}
		}},
		{"new enum value", "order.v1.json", func(s map[string]any) {
			st := props(s)["status"].(map[string]any)
			st["enum"] = append(st["enum"].([]any), "partially_refunded")
		}},
		{"description edited", "order.v1.json", func(s map[string]any) {
			s["description"] = "reworded"
			props(s)["channel"].(map[string]any)["description"] = "reworded"
		}},
		{"minimum lowered", "order.v1.json", func(s map[string]any) {
			props(s)["quantity"] = map[string]any{"type": "integer", "minimum": -1}
		}},
		{"minLength removed", "order.v1.json", func(s map[string]any) {
			props(s)["platform"] = map[string]any{"type": "string"}
		}},
		{"additionalProperties false dropped", "order.v1.json", func(s map[string]any) {
			delete(s, "additionalProperties")
		}},
		{"$def renamed", "order.v1.json", func(s map[string]any) {
			defs := s["$defs"].(map[string]any)
			defs["utc_time"] = defs["utc"]
			delete(defs, "utc")
			for _, f := range []string{"paid_at", "updated_at"} {
				props(s)[f] = map[string]any{"$ref": "#/$defs/utc_time"}
			}
			for _, f := range []string{"received_at", "settled_at", "refunded_at"} {
				props(s)[f] = map[string]any{"anyOf": []any{map[string]any{"type": "null"}, map[string]any{"$ref": "#/$defs/utc_time"}}}
			}
		}},
		{"$ref inlined", "commission.v1.json", func(s map[string]any) {
			props(s)["paid_at"] = s["$defs"].(map[string]any)["utc"]
		}},
		{"envelope type gains order.v2", "envelope.v1.json", func(s map[string]any) {
			ty := props(s)["type"].(map[string]any)
			ty["enum"] = append(ty["enum"].([]any), "order.v2")
		}},
		{"envelope binds order.v2 to its schema", "envelope.v1.json", func(s map[string]any) {
			ty := props(s)["type"].(map[string]any)
			ty["enum"] = append(ty["enum"].([]any), "order.v2")
			s["allOf"] = append(s["allOf"].([]any), typeBinding("order.v2", "https://yongjin.dev/schemas/order.v2.json", "order.v2.json"))
		}},
		{"format added next to an unchanged pattern", "order.v1.json", func(s map[string]any) {
			props(s)["order_id"].(map[string]any)["format"] = "uri-reference"
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base, err := events.Schemas.ReadFile("schemas/" + tc.schema)
			if err != nil {
				t.Fatal(err)
			}
			if got := CheckCompatible(base, mutateSchema(t, tc.schema, tc.edit)); len(got) > 0 {
				t.Errorf("compatible change reported as breaking:\n%s", strings.Join(got, "\n"))
			}
		})
	}
}

// TestCheckCompatibleRecursiveSchema: a self-referencing schema terminates.
func TestCheckCompatibleRecursiveSchema(t *testing.T) {
	base := []byte(`{"$defs":{"node":{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}}}},"$ref":"#/$defs/node"}`)
	if got := CheckCompatible(base, base); len(got) > 0 {
		t.Fatalf("identical recursive schemas: %q", got)
	}
	cur := []byte(`{"$defs":{"node":{"type":"object","properties":{"name":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}}}},"$ref":"#/$defs/node"}`)
	got := CheckCompatible(base, cur)
	if len(got) == 0 || !strings.Contains(got[0], `field "name"`) {
		t.Fatalf("retyped field in a recursive schema: %q", got)
	}
}

func TestCheckCompatibleBadInput(t *testing.T) {
	ok, _ := events.Schemas.ReadFile("schemas/order.v1.json")
	if got := CheckCompatible([]byte(`{`), ok); len(got) != 1 || !strings.Contains(got[0], "baseline schema is not valid JSON") {
		t.Errorf("bad baseline: %q", got)
	}
	if got := CheckCompatible(ok, []byte(`{`)); len(got) != 1 || !strings.Contains(got[0], "current schema is not valid JSON") {
		t.Errorf("bad current: %q", got)
	}
	dangling := mutateSchema(t, "order.v1.json", func(s map[string]any) { delete(s, "$defs") })
	if got := CheckCompatible(ok, dangling); len(got) == 0 || !strings.Contains(got[0], "does not resolve") {
		t.Errorf("dangling $ref: %q", got)
	}
}

// TestCheckBaselineNewAndRemovedTypes: a new type (e.g. order.v2 added side
// by side) without a baseline fails the gate with instructions, and so does
// a published type that disappears or breaks.
func TestCheckBaselineNewAndRemovedTypes(t *testing.T) {
	cur := currentSchemas(t)
	base := os.DirFS(baselineDir)
	withV2 := fstest.MapFS{}
	names, _ := fs.Glob(cur, "*.json")
	for _, n := range names {
		b, _ := fs.ReadFile(cur, n)
		withV2[n] = &fstest.MapFile{Data: b}
	}
	v2 := mutateSchema(t, "order.v1.json", func(s map[string]any) {
		s["$id"] = "https://yongjin.dev/schemas/order.v2.json"
		props(s)["paid_fen"] = map[string]any{"type": "string"}
	})
	withV2["order.v2.json"] = &fstest.MapFile{Data: v2}
	got := CheckBaseline(base, withV2)
	if len(got) != 1 || !containsAll(got[0], []string{"order.v2.json has no baseline", "side by side", "copy pkg/events/schemas/order.v2.json to pkg/events/schemas/baseline/order.v2.json"}) {
		t.Errorf("new type without a baseline:\n%s", strings.Join(got, "\n"))
	}

	// the baseline added as told (a copy under the baseline $id): the gate passes
	v2Base := bytes.Replace(v2, []byte(`"https://yongjin.dev/schemas/order.v2.json"`), []byte(`"`+BaselineIDPrefix+`order.v2.json"`), 1)
	withV2Base := fstest.MapFS{"order.v2.json": &fstest.MapFile{Data: v2Base}}
	baseNames, _ := fs.Glob(base, "*.json")
	for _, n := range baseNames {
		b, _ := fs.ReadFile(base, n)
		withV2Base[n] = &fstest.MapFile{Data: b}
	}
	if got := CheckBaseline(withV2Base, withV2); len(got) > 0 {
		t.Errorf("new type with its baseline:\n%s", strings.Join(got, "\n"))
	}

	// a removed type
	withoutPlan := fstest.MapFS{}
	for _, n := range names {
		if n != "commission_plan.v1.json" {
			b, _ := fs.ReadFile(cur, n)
			withoutPlan[n] = &fstest.MapFile{Data: b}
		}
	}
	got = CheckBaseline(base, withoutPlan)
	if len(got) != 1 || !containsAll(got[0], []string{"commission_plan.v1.json was removed", "restore pkg/events/schemas/commission_plan.v1.json"}) {
		t.Errorf("removed type:\n%s", strings.Join(got, "\n"))
	}

	// a broken type: the file is named, and the remedy names the next version
	broken := fstest.MapFS{}
	for _, n := range names {
		b, _ := fs.ReadFile(cur, n)
		broken[n] = &fstest.MapFile{Data: b}
	}
	broken["commission.v1.json"] = &fstest.MapFile{Data: mutateSchema(t, "commission.v1.json", func(s map[string]any) {
		delete(props(s), "rate_bp")
		removeRequired(s, "rate_bp")
	})}
	got = CheckBaseline(base, broken)
	joined := strings.Join(got, "\n")
	if !strings.Contains(joined, `commission.v1.json: breaking change: field "rate_bp": property removed`) ||
		!strings.Contains(joined, "commission.v2") {
		t.Errorf("broken type:\n%s", joined)
	}
}

// TestSchemasCompatibleWithFirstPublication: the schemas stay a compatible
// evolution of the first published v1 files (testdata/published-v1-first:
// strict objects, no formats, an envelope without type bindings), so
// consumer schemas, date-time formats, the type bindings and the new amount
// fields are all additive within v1.
func TestSchemasCompatibleWithFirstPublication(t *testing.T) {
	for _, name := range schemaFiles() {
		first, err := os.ReadFile("testdata/published-v1-first/" + name)
		if err != nil {
			t.Fatal(err)
		}
		cur, err := events.Schemas.ReadFile("schemas/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range CheckCompatible(first, cur) {
			t.Errorf("%s: breaking change against the first publication: %s", name, p)
		}
	}
}
