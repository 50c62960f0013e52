// Package schemacompat is the schema compatibility gate of the event
// contract: it compares each JSON Schema of pkg/events with its committed
// baseline (pkg/events/schemas/baseline) and reports every breaking change.
// Its tests run the gate over the embedded schemas; subscribers never need it,
// so it lives outside pkg/events.
package schemacompat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// The gate: a published event type is a
// promise to every subscriber, so its JSON Schema may only evolve in ways that
// keep both the events already stored in the stream (replay) and the code
// written against the earlier schema working.
//
// Compatible (additive) changes: a new optional property, a new enum value,
// a looser numeric or length bound, dropping additionalProperties: false,
// edited titles and descriptions, renamed $defs. Consumers must therefore
// ignore properties they do not know and treat unknown enum values as
// "unknown".
//
// Breaking changes, which need a new event type (order.v2 next to order.v1):
// a removed property; a changed type (including becoming or ceasing to be
// nullable); a new required property (stored events lack it); a property
// that is no longer required (consumers rely on it being there); a removed
// enum value; a changed const, pattern or format; a tightened bound
// (minimum raised, maxLength lowered, ...); additionalProperties: false
// added; a changed $id; and any change to a keyword the gate does not
// understand.

// CheckCompatible compares the JSON Schema current with its published
// baseline and returns the breaking changes, one actionable message each,
// sorted by position in the schema; nil means current is a compatible
// evolution of baseline (see docs/EVENTS.md, "Versioning"). It understands
// the subset of JSON Schema 2020-12 that yongjin's schemas use: type,
// properties, required, enum, const, additionalProperties, local $ref into
// $defs, oneOf/anyOf (nullable fields), items, and the string, number, array
// and object bounds. A change to any other validation keyword is reported as
// breaking, since the gate cannot judge it.
func CheckCompatible(baseline, current []byte) []string {
	b, err := decodeSchema(baseline)
	if err != nil {
		return []string{"baseline schema is not valid JSON: " + err.Error()}
	}
	k, err := decodeSchema(current)
	if err != nil {
		return []string{"current schema is not valid JSON: " + err.Error()}
	}
	c := &compatChecker{baseRoot: b, curRoot: k, expanding: map[[2]string]bool{}}
	bm, _ := b.(map[string]any)
	km, _ := k.(map[string]any)
	if bid, kid := LiveID(str(bm["$id"])), str(km["$id"]); bid != kid {
		c.report("", fmt.Sprintf("$id changed from %q to %q: subscribers find the schema by this URI (the events' dataschema), so a new URI is a new event type", bid, kid))
	}
	c.compare("", b, k)
	sort.SliceStable(c.problems, func(i, j int) bool { return c.problems[i].path < c.problems[j].path })
	var out []string
	for _, p := range c.problems {
		out = append(out, p.String())
	}
	return out
}

// CheckBaseline runs the compatibility gate over a directory of schemas:
// every "*.json" file of current must have a baseline of the same name in
// baseline and be compatible with it (CheckCompatible), and every baseline
// must still exist in current (a published type is never removed). Messages
// name the file and say what to do. Use it with fs.Sub(Schemas, "schemas")
// and the committed copies in pkg/events/schemas/baseline.
func CheckBaseline(baseline, current fs.FS) []string {
	curNames, err := fs.Glob(current, "*.json")
	if err != nil {
		return []string{"list current schemas: " + err.Error()}
	}
	baseNames, err := fs.Glob(baseline, "*.json")
	if err != nil {
		return []string{"list baseline schemas: " + err.Error()}
	}
	var out []string
	for _, name := range curNames {
		cur, err := fs.ReadFile(current, name)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if !slices.Contains(baseNames, name) {
			out = append(out, fmt.Sprintf("%s has no baseline: a new event type (or a new version of one, e.g. order.v2, added side by side with order.v1) must be added to the gate in the same change — copy pkg/events/schemas/%s to pkg/events/schemas/baseline/%s", name, name, name))
			continue
		}
		base, err := fs.ReadFile(baseline, name)
		if err != nil {
			out = append(out, fmt.Sprintf("baseline %s: %v", name, err))
			continue
		}
		if id := baselineID(base); id != BaselineIDPrefix+name {
			out = append(out, fmt.Sprintf("baseline %s has $id %q, want %q: baseline copies must not collide with the live $ids (copy the schema, then set its $id under %s)", name, id, BaselineIDPrefix+name, BaselineIDPrefix))
		}
		problems := CheckCompatible(base, cur)
		for _, p := range problems {
			out = append(out, fmt.Sprintf("%s: breaking change: %s", name, p))
		}
		if len(problems) > 0 {
			typ := strings.TrimSuffix(name, ".json")
			out = append(out, fmt.Sprintf("%s: published schemas must stay compatible (docs/EVENTS.md, \"Versioning\"): revert the change, or publish the new shape as a new type (%s) on its own subject next to %s, with its own baseline file", name, nextVersion(typ), typ))
		}
	}
	for _, name := range baseNames {
		if !slices.Contains(curNames, name) {
			out = append(out, fmt.Sprintf("%s was removed, but subscribers may still consume it: a published event type is only retired after a deprecation period (docs/EVENTS.md, \"Versioning\"); restore pkg/events/schemas/%s, or delete its baseline only when the type is retired", name, name))
		}
	}
	return out
}

// baselineID returns the $id of a baseline schema ("" when it has none or is not JSON).
func baselineID(b []byte) string {
	var s struct {
		ID string `json:"$id"`
	}
	_ = json.Unmarshal(b, &s)
	return s.ID
}

// nextVersion suggests the next version of a type name: "order.v1" → "order.v2".
func nextVersion(typ string) string {
	base, v, ok := strings.Cut(typ, ".v")
	if n, err := strconv.Atoi(v); ok && err == nil {
		return base + ".v" + strconv.Itoa(n+1)
	}
	return typ + ".v2"
}

type compatProblem struct{ path, msg string }

func (p compatProblem) String() string {
	if p.path == "" {
		return p.msg
	}
	return fmt.Sprintf("%s: %s", p.path, p.msg)
}

type compatChecker struct {
	baseRoot, curRoot any
	problems          []compatProblem
	// expanding holds the pairs of $ref targets being compared further up
	// the current path, so recursive schemas terminate.
	expanding map[[2]string]bool
}

func (c *compatChecker) report(p, msg string) {
	c.problems = append(c.problems, compatProblem{path: displayPath(p), msg: msg})
}

func displayPath(p string) string {
	if p == "" {
		return ""
	}
	return "field " + strconv.Quote(p)
}

func decodeSchema(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func str(v any) string { s, _ := v.(string); return s }

// annotation keywords never affect which events are valid.
var annotationKeywords = map[string]bool{
	"$schema": true, "$id": true, "$comment": true, "$anchor": true, "$defs": true, "definitions": true,
	"title": true, "description": true, "examples": true, "default": true,
	"deprecated": true, "readOnly": true, "writeOnly": true,
}

// handledKeywords are the validation keywords the gate compares itself.
var handledKeywords = map[string]bool{
	"$ref": true, "type": true, "properties": true, "required": true, "enum": true, "const": true,
	"additionalProperties": true, "oneOf": true, "anyOf": true, "items": true,
	"pattern": true, "format": true, "multipleOf": true, "uniqueItems": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true,
	"minLength": true, "maxLength": true, "minItems": true, "maxItems": true,
	"minProperties": true, "maxProperties": true, "allOf": true,
}

// compareBindings compares allOf, which yongjin's envelope uses only for type
// bindings: {"if": {"properties": {"type": {"const": T}}, "required":
// ["type"]}, "then": {"properties": {"dataschema": {"const": URI}, "data":
// {"$ref": REF}}}}. Every baseline entry must stay unchanged; an added entry
// must be such a binding (a new type's data bound to its own published
// schema, which stored events of that type already satisfy). Anything else
// in allOf is breaking.
func (c *compatChecker) compareBindings(p string, bm, km map[string]any) {
	ba, _ := bm["allOf"].([]any)
	ka, _ := km["allOf"].([]any)
	if bm["allOf"] != nil && ba == nil || km["allOf"] != nil && ka == nil {
		c.report(p, "allOf is not an array")
		return
	}
	kept := map[string]bool{}
	for _, e := range ka {
		kept[canonical(e)] = true
	}
	for _, e := range ba {
		if !kept[canonical(e)] {
			c.report(p, fmt.Sprintf("allOf entry %s removed or changed: subscribers validate with it", canonical(e)))
		}
		delete(kept, canonical(e))
	}
	for _, e := range ka {
		if kept[canonical(e)] && !isTypeBinding(e) {
			c.report(p, fmt.Sprintf("allOf entry %s added: only type bindings (if type is T then data is $ref T's schema) can be added", canonical(e)))
		}
	}
}

// isTypeBinding reports whether an allOf entry is an envelope type binding
// (see compareBindings).
func isTypeBinding(e any) bool {
	m, _ := e.(map[string]any)
	ifm, _ := m["if"].(map[string]any)
	then, _ := m["then"].(map[string]any)
	if len(m) != 2 || ifm == nil || then == nil || len(ifm) != 2 || len(then) != 1 {
		return false
	}
	ip, _ := ifm["properties"].(map[string]any)
	typ, _ := ip["type"].(map[string]any)
	t, ok := typ["const"].(string)
	if len(ip) != 1 || len(typ) != 1 || !ok || canonical(ifm["required"]) != `["type"]` {
		return false
	}
	tp, _ := then["properties"].(map[string]any)
	ds, _ := tp["dataschema"].(map[string]any)
	data, _ := tp["data"].(map[string]any)
	return len(tp) == 2 && len(ds) == 1 && len(data) == 1 &&
		ds["const"] == "https://yongjin.dev/schemas/"+t+".json" && data["$ref"] == t+".json"
}

// BaselineIDPrefix is where the $ids of the baseline copies live: a baseline
// of https://yongjin.dev/schemas/order.v1.json has the $id
// https://yongjin.dev/schemas/baseline/order.v1.json, so a tool that loads
// the whole schemas folder (baseline/ included) never sees one $id twice, and
// the baseline envelope's relative $refs lead to the baseline data schemas.
const BaselineIDPrefix = "https://yongjin.dev/schemas/baseline/"

// LiveID maps a baseline copy's $id to the $id it is a copy of (other $ids
// are returned as they are).
func LiveID(id string) string {
	if rest, ok := strings.CutPrefix(id, BaselineIDPrefix); ok {
		return events.SchemaBaseURI + rest
	}
	return id
}

// deref resolves a local $ref ("#/$defs/utc") against root, following chains.
// Keywords next to the $ref are merged over the target. It returns the
// resolved node and the last reference followed ("" if none).
func deref(root any, node any) (any, string, error) {
	ref := ""
	for range 32 {
		m, ok := node.(map[string]any)
		if !ok {
			return node, ref, nil
		}
		r, ok := m["$ref"].(string)
		if !ok {
			return node, ref, nil
		}
		target, err := resolvePointer(root, r)
		if err != nil {
			return nil, r, err
		}
		ref = r
		if len(m) > 1 {
			merged := map[string]any{}
			if tm, ok := target.(map[string]any); ok {
				for k, v := range tm {
					merged[k] = v
				}
			}
			for k, v := range m {
				if k != "$ref" {
					merged[k] = v
				}
			}
			target = merged
		}
		node = target
	}
	return nil, ref, fmt.Errorf("$ref chain too long at %s", ref)
}

func resolvePointer(root any, ref string) (any, error) {
	if !strings.HasPrefix(ref, "#") {
		return nil, fmt.Errorf("reference %q is not local; the gate only follows references inside the schema (#/$defs/...)", ref)
	}
	node := root
	p := strings.TrimPrefix(ref, "#")
	if p == "" {
		return node, nil
	}
	for _, tok := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := node.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("reference %q does not resolve", ref)
		}
		if node, ok = m[tok]; !ok {
			return nil, fmt.Errorf("reference %q does not resolve", ref)
		}
	}
	return node, nil
}

// compare checks that schema k (current) is a compatible evolution of b
// (baseline) at data path p.
func (c *compatChecker) compare(p string, b, k any) {
	b, br, err := deref(c.baseRoot, b)
	if err != nil {
		c.report(p, "baseline: "+err.Error())
		return
	}
	k, kr, err := deref(c.curRoot, k)
	if err != nil {
		c.report(p, err.Error())
		return
	}
	if br != "" && kr != "" {
		key := [2]string{br, kr}
		if c.expanding[key] {
			return // a recursive schema: this pair is being compared further up
		}
		c.expanding[key] = true
		defer delete(c.expanding, key)
	}

	balts, err := alternatives(c.baseRoot, b)
	if err != nil {
		c.report(p, "baseline: "+err.Error())
		return
	}
	kalts, err := alternatives(c.curRoot, k)
	if err != nil {
		c.report(p, err.Error())
		return
	}
	bt, kt := typeUnion(balts), typeUnion(kalts)
	if !slices.Equal(bt, kt) {
		c.report(p, fmt.Sprintf("type changed from %s to %s: consumers decode this field as %s (a field that becomes or stops being nullable changes type too)", typeNames(bt), typeNames(kt), typeNames(bt)))
		return
	}
	// Compare the alternatives pairwise by type: for nullable fields the
	// string branch with the string branch, null with null.
	done := map[[2]int]bool{}
	for _, t := range bt {
		bi, ki := altWithType(balts, t), altWithType(kalts, t)
		if bi < 0 || ki < 0 || done[[2]int{bi, ki}] {
			continue
		}
		done[[2]int{bi, ki}] = true
		c.compareNode(p, balts[bi], kalts[ki])
	}
}

// alternatives flattens oneOf/anyOf into the list of schemas a value may
// match; keywords beside oneOf/anyOf are merged into each branch.
func alternatives(root, node any) ([]any, error) {
	m, ok := node.(map[string]any)
	if !ok {
		return []any{node}, nil
	}
	var branches []any
	for _, kw := range []string{"oneOf", "anyOf"} {
		if bs, ok := m[kw].([]any); ok {
			branches = append(branches, bs...)
		}
	}
	if branches == nil {
		return []any{node}, nil
	}
	var out []any
	for _, br := range branches {
		r, _, err := deref(root, br)
		if err != nil {
			return nil, err
		}
		if rm, ok := r.(map[string]any); ok && len(m) > 1 {
			merged := map[string]any{}
			for k, v := range m {
				if k != "oneOf" && k != "anyOf" {
					merged[k] = v
				}
			}
			for k, v := range rm {
				merged[k] = v
			}
			r = merged
		}
		sub, err := alternatives(root, r)
		if err != nil {
			return nil, err
		}
		out = append(out, sub...)
	}
	return out, nil
}

// allTypes is the JSON Schema type set of an unconstrained schema.
var allTypes = []string{"array", "boolean", "integer", "null", "number", "object", "string"}

// typeSet is the sorted set of JSON types a schema admits.
func typeSet(node any) []string {
	switch n := node.(type) {
	case bool:
		if n {
			return allTypes
		}
		return nil
	case map[string]any:
		var ts []string
		switch t := n["type"].(type) {
		case string:
			ts = []string{t}
		case []any:
			for _, x := range t {
				ts = append(ts, str(x))
			}
		default:
			if v, ok := n["const"]; ok {
				ts = []string{jsonType(v)}
			} else if vs, ok := n["enum"].([]any); ok {
				for _, v := range vs {
					ts = append(ts, jsonType(v))
				}
			} else {
				return allTypes
			}
		}
		// integer and number stay distinct: consumers decode int64 and
		// float64 differently, so number → integer is a change of type.
		sort.Strings(ts)
		return slices.Compact(ts)
	}
	return allTypes
}

func typeUnion(alts []any) []string {
	var ts []string
	for _, a := range alts {
		ts = append(ts, typeSet(a)...)
	}
	sort.Strings(ts)
	return slices.Compact(ts)
}

func altWithType(alts []any, t string) int {
	for i, a := range alts {
		if slices.Contains(typeSet(a), t) {
			return i
		}
	}
	return -1
}

func typeNames(ts []string) string {
	switch {
	case len(ts) == 0:
		return "nothing"
	case slices.Equal(ts, allTypes):
		return "any type"
	}
	return strings.Join(ts, " or ")
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return "integer"
		}
		if f, err := x.Float64(); err == nil && f == float64(int64(f)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "unknown"
}

func canonical(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// compareNode compares two single-alternative schemas of the same type.
func (c *compatChecker) compareNode(p string, b, k any) {
	bm, _ := b.(map[string]any)
	km, _ := k.(map[string]any)
	if bm == nil {
		bm = map[string]any{}
	}
	if km == nil {
		km = map[string]any{}
	}

	// const and enum: the values a consumer may see.
	if bc, ok := bm["const"]; ok {
		if kc, ok := km["const"]; !ok || canonical(bc) != canonical(kc) {
			c.report(p, fmt.Sprintf("const changed from %s to %s: consumers rely on the fixed value", canonical(bc), constOrNone(km)))
		}
	} else if kc, ok := km["const"]; ok {
		c.report(p, fmt.Sprintf("const %s added: events already stored may hold other values", canonical(kc)))
	}
	be, bHas := bm["enum"].([]any)
	ke, kHas := km["enum"].([]any)
	switch {
	case bHas && kHas:
		var removed []string
		for _, v := range be {
			if !slices.ContainsFunc(ke, func(x any) bool { return canonical(x) == canonical(v) }) {
				removed = append(removed, canonical(v))
			}
		}
		if len(removed) == 1 {
			c.report(p, fmt.Sprintf("enum narrowed: value %s removed; events already stored carry it and consumers handle it — keep it (values may be added, never removed)", removed[0]))
		} else if len(removed) > 1 {
			c.report(p, fmt.Sprintf("enum narrowed: values %s removed; events already stored carry them and consumers handle them — keep them (values may be added, never removed)", strings.Join(removed, ", ")))
		}
	case !bHas && kHas:
		c.report(p, "enum added: the field was free-form, so events already stored may hold values outside the new list")
	}

	// string, number, array and object constraints.
	for _, kw := range []string{"pattern", "format"} {
		bv, bok := bm[kw]
		kv, kok := km[kw]
		if kw == "format" && !bok && kok && bm["pattern"] != nil && canonical(bm["pattern"]) == canonical(km["pattern"]) {
			// A format added next to an unchanged pattern names what the
			// pattern already enforces (and is an annotation in 2020-12).
			continue
		}
		if bok != kok || canonical(bv) != canonical(kv) {
			c.report(p, fmt.Sprintf("%s changed from %s to %s: consumers parse the value by it (a changed %s is always breaking)", kw, orNone(bv, bok), orNone(kv, kok), kw))
		}
	}
	c.compareBindings(p, bm, km)
	if bv, kv := bm["multipleOf"], km["multipleOf"]; canonical(bv) != canonical(kv) && kv != nil {
		c.report(p, fmt.Sprintf("multipleOf changed from %s to %s", orNone(bv, bv != nil), canonical(kv)))
	}
	if bv, kv := bm["uniqueItems"], km["uniqueItems"]; kv == true && bv != true {
		c.report(p, "uniqueItems added: events already stored may repeat items")
	}
	for _, kw := range []string{"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"} {
		c.compareBound(p, kw, bm, km, +1)
	}
	for _, kw := range []string{"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"} {
		c.compareBound(p, kw, bm, km, -1)
	}

	// objects
	bprops, _ := bm["properties"].(map[string]any)
	kprops, _ := km["properties"].(map[string]any)
	for _, name := range sortedKeys(bprops) {
		kp, ok := kprops[name]
		if !ok {
			c.report(join(p, name), "property removed: consumers read it — keep it (it may be deprecated in its description), or publish the new shape as a new event type")
			continue
		}
		c.compare(join(p, name), bprops[name], kp)
	}
	breq, kreq := stringSet(bm["required"]), stringSet(km["required"])
	for _, name := range sortedKeys(kreq) {
		if !breq[name] {
			c.report(join(p, name), "new required property: events already stored in the stream lack it — add it as optional (listed in properties, not in required)")
		}
	}
	for _, name := range sortedKeys(breq) {
		if _, removed := bprops[name]; removed && kprops[name] == nil {
			continue // reported as removed
		}
		if !kreq[name] {
			c.report(join(p, name), "no longer required: consumers rely on every event carrying it — keep it required")
		}
	}
	if ba, ka := bm["additionalProperties"], km["additionalProperties"]; ka != nil {
		switch {
		case ka == false && ba != false:
			c.report(p, "additionalProperties: false added: events already stored may carry properties the new schema rejects")
		case isSchemaObject(ba) && isSchemaObject(ka):
			c.compare(p+"{*}", ba, ka)
		case !isSchemaObject(ba) && isSchemaObject(ka) && ba != false:
			c.report(p, "additionalProperties restricted to a schema: events already stored may carry other properties")
		}
	}

	// arrays
	bi, bok := bm["items"]
	ki, kok := km["items"]
	if bok || kok {
		if !bok {
			bi = true
		}
		if !kok {
			ki = true
		}
		c.compare(p+"[]", bi, ki)
	}

	// anything else the gate does not understand must not change
	for _, kw := range sortedKeys(unionKeys(bm, km)) {
		if annotationKeywords[kw] || handledKeywords[kw] {
			continue
		}
		if !reflect.DeepEqual(bm[kw], km[kw]) {
			c.report(p, fmt.Sprintf("keyword %q changed (from %s to %s); the compatibility gate cannot judge it — express the rule with the keywords it checks, or publish a new event type", kw, orNone(bm[kw], bm[kw] != nil), orNone(km[kw], km[kw] != nil)))
		}
	}
}

// compareBound reports a tightened lower (dir +1) or upper (dir -1) bound.
func (c *compatChecker) compareBound(p, kw string, bm, km map[string]any, dir int) {
	kv, kok := km[kw]
	if !kok {
		return // removed or absent: looser, compatible
	}
	kf, kerr := number(kv)
	bv, bok := bm[kw]
	if !bok {
		c.report(p, fmt.Sprintf("%s %s added: events already stored may lie outside it", kw, canonical(kv)))
		return
	}
	bf, berr := number(bv)
	if kerr != nil || berr != nil {
		if canonical(bv) != canonical(kv) {
			c.report(p, fmt.Sprintf("%s changed from %s to %s", kw, canonical(bv), canonical(kv)))
		}
		return
	}
	if (dir > 0 && kf > bf) || (dir < 0 && kf < bf) {
		verb := "raised"
		if dir < 0 {
			verb = "lowered"
		}
		c.report(p, fmt.Sprintf("%s %s from %s to %s: events already stored may lie outside it", kw, verb, canonical(bv), canonical(kv)))
	}
}

func number(v any) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		return x.Float64()
	case bool:
		return 0, fmt.Errorf("boolean bound")
	}
	return 0, fmt.Errorf("not a number: %v", v)
}

func constOrNone(m map[string]any) string {
	v, ok := m["const"]
	return orNone(v, ok)
}

func orNone(v any, ok bool) string {
	if !ok {
		return "(none)"
	}
	return canonical(v)
}

func isSchemaObject(v any) bool { _, ok := v.(map[string]any); return ok }

func join(p, name string) string {
	if p == "" {
		return name
	}
	return p + "." + name
}

func stringSet(v any) map[string]bool {
	out := map[string]bool{}
	if xs, ok := v.([]any); ok {
		for _, x := range xs {
			out[str(x)] = true
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func unionKeys(a, b map[string]any) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
