package events

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// baselineIDPrefix is where the baseline copies' $ids live
// (schemacompat.BaselineIDPrefix, which this package's tests cannot import).
const baselineIDPrefix = "https://yongjin.dev/schemas/baseline/"

// withAddedFields is ev with a property no v1 schema lists added to its data
// and an unknown attribute (a CloudEvents extension) added to the envelope:
// what an additive v1 change looks like to a subscriber holding today's files.
func withAddedFields(t *testing.T, ev Envelope) []byte {
	t.Helper()
	return envelopeJSON(t, ev, func(env, data map[string]any) {
		env["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
		data["coupon_fen"] = 150
	})
}

// TestConsumerSchemasAcceptAdditiveFields: the published (consumer) schemas
// accept an event that gained a field; the producer's strict check rejects
// it, so yongjin itself never emits a property its schemas do not list.
func TestConsumerSchemasAcceptAdditiveFields(t *testing.T) {
	order, err := sampleOrder().Envelope()
	if err != nil {
		t.Fatal(err)
	}
	line, err := sampleLine().Envelope()
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []Envelope{order, line} {
		b := withAddedFields(t, ev)
		if err := ValidateConsumer(b); err != nil {
			t.Errorf("%s with an added field: consumer schemas reject it: %v", ev.Type, err)
		}
		if err := Validate(b); err == nil || !strings.Contains(err.Error(), "coupon_fen") {
			t.Errorf("%s with an added field: producer check = %v, want it rejected naming coupon_fen", ev.Type, err)
		}
	}
}

// TestEnvelopeValidatesData: one validation with the envelope schema covers
// the data (the type binding), and a dataschema that does not name the
// type's schema is rejected.
func TestEnvelopeValidatesData(t *testing.T) {
	order, err := sampleOrder().Envelope()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		mutate  func(env, data map[string]any)
		wantErr string
	}{
		{"data violates order.v1", func(_, d map[string]any) { d["paid_fen"] = "12.50" }, "/data/paid_fen"},
		{"dataschema of another type", func(e, _ map[string]any) { e["dataschema"] = SchemaURI(KindCommission) }, "/dataschema"},
		{"time not a date-time", func(e, _ map[string]any) { e["time"] = "2026-13-01T00:00:00Z" }, "/time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateConsumer(envelopeJSON(t, order, tc.mutate))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("ValidateConsumer = %v, want an error at %s", err, tc.wantErr)
			}
		})
	}
}

// TestSchemaFolderLoadsWithoutCollisions loads every schema file under
// schemas/ (baseline/ included) into one compiler, as a tool given the folder
// does: no $id may appear twice, and the baseline envelope (the published
// copy) validates an event that gained fields, data included.
func TestSchemaFolderLoadsWithoutCollisions(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	seen := map[string]string{}
	err := filepath.WalkDir("schemas", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return err
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if prev, dup := seen[id]; dup {
			t.Errorf("$id %s in both %s and %s", id, prev, path)
		}
		seen[id] = path
		return c.AddResource(id, doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2*len(schemaFiles()) {
		t.Fatalf("loaded %d schemas, want %d (live and baseline)", len(seen), 2*len(schemaFiles()))
	}
	for _, id := range []string{SchemaBaseURI + "envelope.v1.json", baselineIDPrefix + "envelope.v1.json"} {
		sch, err := c.Compile(id)
		if err != nil {
			t.Fatal(err)
		}
		line, err := sampleLine().Envelope()
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(withAddedFields(t, line)))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(doc); err != nil {
			t.Errorf("%s rejects an event with added fields: %v", id, err)
		}
		bad, err := jsonschema.UnmarshalJSON(bytes.NewReader(envelopeJSON(t, line, func(_, d map[string]any) { d["role"] = "buyer" })))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(bad); err == nil {
			t.Errorf("%s accepts a commission line with role buyer: the data is not validated", id)
		}
	}
}

// TestEventIDWorkedExample recomputes the worked example of docs/EVENTS.md
// ("Recomputing an event ID") from its inputs, both with NewID and from the
// documented recipe (sha256 over the NUL-joined inputs, first 16 bytes,
// lowercase hex), and requires the documented ID.
func TestEventIDWorkedExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/EVENTS.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := bytes.Cut(doc, []byte("<!-- event-id-example -->\n```text\n"))
	if !ok {
		t.Fatal("docs/EVENTS.md has no worked event-ID example (<!-- event-id-example --> then a text block)")
	}
	block, _, _ = bytes.Cut(block, []byte("```"))
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(block))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok {
			fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	version, err := strconv.ParseInt(fields["version"], 10, 64)
	if err != nil {
		t.Fatalf("example version %q: %v", fields["version"], err)
	}
	typ, vendor, account, key, want := fields["type"], fields["vendor"], fields["account"], fields["key"], fields["id"]
	if typ == "" || vendor == "" || account == "" || key == "" || want == "" {
		t.Fatalf("example lacks type, vendor, account, key or id: %v", fields)
	}
	input := typ + "\x00" + vendor + "\x00" + account + "\x00" + key + "\x00" + strconv.FormatInt(version, 10)
	if got := fields["hash input (hex)"]; got != hex.EncodeToString([]byte(input)) {
		t.Errorf("documented hash input %s, the recipe gives %x", got, input)
	}
	sum := sha256.Sum256([]byte(input))
	if got := fields["sha256"]; got != hex.EncodeToString(sum[:]) {
		t.Errorf("documented sha256 %s, want %x", got, sum)
	}
	if got := hex.EncodeToString(sum[:16]); got != want {
		t.Errorf("recipe gives %s, documented id %s", got, want)
	}
	k, _, _ := strings.Cut(typ, ".")
	if got := NewID(Kind(k), vendor, account, key, version); got != want {
		t.Errorf("NewID gives %s, documented id %s", got, want)
	}
}
