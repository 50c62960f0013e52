// Package deploytest renders yongjin's Kubernetes overlays (deploy/k8s) with
// the kustomize Go API and decodes every object strictly: built-in kinds
// into their k8s.io/api types, custom resources against the schemas of the
// CRDs vendored in deploy/k8s/crds. Its tests check the deployment policies
// on the result and apply it to a real kube-apiserver.
package deploytest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// ErrUnknownKind is returned for an object whose kind has neither a Go type
// nor a vendored CRD schema.
var ErrUnknownKind = errors.New("deploytest: unknown kind")

// ErrInvalid is returned for an object that does not decode strictly or does
// not match its CRD schema.
var ErrInvalid = errors.New("deploytest: invalid object")

// Object is one rendered object: its identity, its JSON, and, for built-in
// kinds, the decoded Go value (*appsv1.Deployment, ...).
type Object struct {
	APIVersion, Kind, Namespace, Name string
	JSON                              []byte
	Typed                             any
	Raw                               map[string]any
}

// ID is "Kind/namespace/name".
func (o Object) ID() string { return o.Kind + "/" + o.Namespace + "/" + o.Name }

// Render builds the kustomization in dir (e.g. deploy/k8s/overlays/prod).
func Render(dir string) ([]Object, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("deploytest: kustomize build %s: %w", dir, err)
	}
	var out []Object
	for _, r := range m.Resources() {
		b, err := r.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("deploytest: %s: %w", r.CurId(), err)
		}
		o, err := parse(b)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// ReadObjects reads every object of a multi-document YAML file.
func ReadObjects(path string) ([]Object, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("deploytest: %w", err)
	}
	var out []Object
	for _, doc := range bytes.Split(b, []byte("\n---")) {
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("deploytest: %s: %w", path, err)
		}
		if string(j) == "null" {
			continue
		}
		o, err := parse(j)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, o)
	}
	return out, nil
}

func parse(b []byte) (Object, error) {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return Object{}, fmt.Errorf("deploytest: %w", err)
	}
	o := Object{JSON: b, Raw: raw}
	o.APIVersion, _ = raw["apiVersion"].(string)
	o.Kind, _ = raw["kind"].(string)
	if md, ok := raw["metadata"].(map[string]any); ok {
		o.Name, _ = md["name"].(string)
		o.Namespace, _ = md["namespace"].(string)
	}
	return o, nil
}

// builtin maps apiVersion/kind to a constructor of its k8s.io/api type.
var builtin = map[string]func() any{
	"v1/Namespace":                       func() any { return &corev1.Namespace{} },
	"v1/Service":                         func() any { return &corev1.Service{} },
	"v1/ConfigMap":                       func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                          func() any { return &corev1.Secret{} },
	"apps/v1/Deployment":                 func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                func() any { return &appsv1.StatefulSet{} },
	"policy/v1/PodDisruptionBudget":      func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/NetworkPolicy": func() any { return &networkingv1.NetworkPolicy{} },
	"apiextensions.k8s.io/v1/CustomResourceDefinition": func() any { return &apiextensionsv1.CustomResourceDefinition{} },
}

// Decoder decodes objects strictly: unknown or duplicate fields fail.
type Decoder struct {
	schemas map[string]*jsonschema.Schema // "group/version/Kind"
	// CRDs are the vendored definitions, for installing into an API server.
	CRDs []Object
}

// NewDecoder loads the CRDs vendored in crdDir (deploy/k8s/crds).
func NewDecoder(crdDir string) (*Decoder, error) {
	files, err := filepath.Glob(filepath.Join(crdDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("deploytest: no CRDs in %s: %v", crdDir, err)
	}
	sort.Strings(files)
	d := &Decoder{schemas: map[string]*jsonschema.Schema{}}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	pending := map[string]string{}
	for _, f := range files {
		objs, err := ReadObjects(f)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			var crd apiextensionsv1.CustomResourceDefinition
			if err := yaml.UnmarshalStrict(o.JSON, &crd); err != nil {
				return nil, fmt.Errorf("deploytest: CRD %s: %w", f, err)
			}
			d.CRDs = append(d.CRDs, o)
			for _, v := range crd.Spec.Versions {
				if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
					return nil, fmt.Errorf("deploytest: CRD %s version %s has no schema", crd.Name, v.Name)
				}
				b, err := json.Marshal(v.Schema.OpenAPIV3Schema)
				if err != nil {
					return nil, err
				}
				var s any
				if err := json.Unmarshal(b, &s); err != nil {
					return nil, err
				}
				key := crd.Spec.Group + "/" + v.Name + "/" + crd.Spec.Names.Kind
				url := "mem://crd/" + strings.ReplaceAll(key, "/", "_") + ".json"
				if err := c.AddResource(url, closeSchema(s)); err != nil {
					return nil, fmt.Errorf("deploytest: schema %s: %w", key, err)
				}
				pending[key] = url
			}
		}
	}
	for key, url := range pending {
		s, err := c.Compile(url)
		if err != nil {
			return nil, fmt.Errorf("deploytest: compile schema %s: %w", key, err)
		}
		d.schemas[key] = s
	}
	return d, nil
}

// Decode checks o strictly and sets o.Typed for built-in kinds.
func (d *Decoder) Decode(o *Object) error {
	if mk, ok := builtin[o.APIVersion+"/"+o.Kind]; ok {
		v := mk()
		if err := yaml.UnmarshalStrict(o.JSON, v); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalid, o.ID(), err)
		}
		o.Typed = v
		return nil
	}
	s, ok := d.schemas[o.APIVersion+"/"+o.Kind]
	if !ok {
		return fmt.Errorf("%w: %s %s", ErrUnknownKind, o.APIVersion, o.Kind)
	}
	if err := s.Validate(o.Raw); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, o.ID(), err)
	}
	return nil
}

// closeSchema turns a CRD's structural OpenAPI v3 schema into a JSON Schema
// with the API server's pruning made strict: an object with properties and
// without x-kubernetes-preserve-unknown-fields accepts no other field;
// int-or-string and nullable become the types they stand for.
func closeSchema(v any) any {
	switch s := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range s {
			if strings.HasPrefix(k, "x-kubernetes-") || k == "nullable" {
				continue
			}
			out[k] = closeSchema(x)
		}
		if s["x-kubernetes-int-or-string"] == true {
			delete(out, "type")
			if _, ok := out["anyOf"]; !ok {
				out["anyOf"] = []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}
			}
		}
		if s["nullable"] == true {
			if t, ok := out["type"].(string); ok {
				out["type"] = []any{t, "null"}
			}
		}
		_, hasProps := s["properties"]
		_, hasAdd := s["additionalProperties"]
		if hasProps && !hasAdd && s["x-kubernetes-preserve-unknown-fields"] != true {
			out["additionalProperties"] = false
		}
		if md, ok := out["properties"].(map[string]any); ok {
			// metadata is an ObjectMeta the server checks itself
			if m, ok := md["metadata"].(map[string]any); ok && len(m) <= 1 {
				md["metadata"] = map[string]any{"type": "object"}
			}
		}
		return out
	case []any:
		out := make([]any, len(s))
		for i, x := range s {
			out[i] = closeSchema(x)
		}
		return out
	default:
		return v
	}
}
