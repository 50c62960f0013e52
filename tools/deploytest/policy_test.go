package deploytest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

const (
	k8sDir   = "../../deploy/k8s"
	repoRoot = "../.."
)

var overlays = []string{"dev", "prod"}

// rendered renders and strictly decodes an overlay, failing the test on any
// object that does not decode.
func rendered(t *testing.T, overlay string) []Object {
	t.Helper()
	d, err := NewDecoder(filepath.Join(k8sDir, "crds"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Render(filepath.Join(k8sDir, "overlays", overlay))
	if err != nil {
		t.Fatal(err)
	}
	for i := range objs {
		if err := d.Decode(&objs[i]); err != nil {
			t.Errorf("%s: %v", overlay, err)
		}
	}
	return objs
}

// TestStrictDecodeRejectsUnknownFields proves the decoder is strict for
// every kind of object the overlays use: one unknown field, anywhere, fails.
func TestStrictDecodeRejectsUnknownFields(t *testing.T) {
	d, err := NewDecoder(filepath.Join(k8sDir, "crds"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := Render(filepath.Join(k8sDir, "overlays", "prod"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		kind string
		path []string // where the unknown field goes
	}{
		{"Deployment", []string{"spec", "template", "spec"}},
		{"StatefulSet", []string{"spec"}},
		{"Service", []string{"spec"}},
		{"PodDisruptionBudget", []string{"spec"}},
		{"NetworkPolicy", []string{"spec"}},
		{"ScaledObject", []string{"spec"}},
		{"ScaledObject", []string{"spec", "advanced"}},
		{"ServiceMonitor", []string{"spec"}},
		{"PrometheusRule", []string{"spec"}},
		{"ClickHouseInstallation", []string{"spec", "configuration"}},
		{"ClickHouseKeeperInstallation", []string{"spec"}},
		{"ConfigMap", nil},
	}
	for _, c := range cases {
		t.Run(c.kind+"/"+strings.Join(c.path, "."), func(t *testing.T) {
			var o *Object
			for i := range objs {
				if objs[i].Kind == c.kind {
					o = &objs[i]
					break
				}
			}
			if o == nil {
				t.Fatalf("prod renders no %s", c.kind)
			}
			if err := d.Decode(o); err != nil {
				t.Fatalf("the unmodified %s fails: %v", o.ID(), err)
			}
			var raw map[string]any
			if err := json.Unmarshal(o.JSON, &raw); err != nil {
				t.Fatal(err)
			}
			m := raw
			for _, p := range c.path {
				m = m[p].(map[string]any)
			}
			m["replicaz"] = 3
			b, _ := json.Marshal(raw)
			bad, err := parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Decode(&bad); !errors.Is(err, ErrInvalid) {
				t.Fatalf("an unknown field in %s.%s decoded: %v", c.kind, strings.Join(c.path, "."), err)
			}
		})
	}
	unknown, _ := parse([]byte(`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"}}`))
	if err := d.Decode(&unknown); !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("a kind without type or schema decoded: %v", err)
	}
}

// workload is a pod template with its owner.
type workload struct {
	id, name string
	replicas int32
	sel      *metav1.LabelSelector
	tpl      corev1.PodTemplateSpec
	// service marks yongjin's own Deployments, which get every check.
	service bool
}

func workloads(t *testing.T, objs []Object) []workload {
	t.Helper()
	var out []workload
	for _, o := range objs {
		switch v := o.Typed.(type) {
		case *appsv1.Deployment:
			r := int32(1)
			if v.Spec.Replicas != nil {
				r = *v.Spec.Replicas
			}
			out = append(out, workload{id: o.ID(), name: v.Name, replicas: r, sel: v.Spec.Selector, tpl: v.Spec.Template, service: true})
		case *appsv1.StatefulSet:
			r := int32(1)
			if v.Spec.Replicas != nil {
				r = *v.Spec.Replicas
			}
			out = append(out, workload{id: o.ID(), name: v.Name, replicas: r, sel: v.Spec.Selector, tpl: v.Spec.Template})
		}
		if o.Kind == "ClickHouseInstallation" || o.Kind == "ClickHouseKeeperInstallation" {
			for _, pt := range nested[[]any](o.Raw, "spec", "templates", "podTemplates") {
				m := pt.(map[string]any)
				b, _ := json.Marshal(map[string]any{"metadata": m["metadata"], "spec": m["spec"]})
				var tpl corev1.PodTemplateSpec
				if err := yaml.UnmarshalStrict(b, &tpl); err != nil {
					t.Errorf("%s pod template %v: %v", o.ID(), m["name"], err)
					continue
				}
				out = append(out, workload{id: fmt.Sprintf("%s/podTemplate %v", o.ID(), m["name"]), name: o.Name, tpl: tpl})
			}
		}
	}
	return out
}

func nested[T any](m map[string]any, path ...string) T {
	var zero T
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return zero
		}
		cur = mm[p]
	}
	v, _ := cur.(T)
	return v
}

// pinned: a digest, or a tag that names one release (x.y.z...), never latest.
var pinnedTag = regexp.MustCompile(`:v?\d+\.\d+\.\d+[0-9A-Za-z.\-]*$`)

// readOnlyRootExempt are the containers whose images write to their root
// filesystem at start (ClickHouse's entrypoint writes its config.d/users.d
// files from the environment and the operator's settings).
var readOnlyRootExempt = map[string]bool{"clickhouse": true, "clickhouse-keeper": true}

func env(c corev1.Container, name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// lastEnv is the value the container sees: the last entry of that name.
func lastEnv(c corev1.Container, name string) (string, bool) {
	v, found := "", false
	for _, e := range c.Env {
		if e.Name == name {
			v, found = e.Value, true
		}
	}
	return v, found
}

// TestOverlayPolicies checks every workload of every overlay: security
// context, resources, probes, grace period against the ack wait, pinned
// images, and that each is covered by a PodDisruptionBudget, a Service, a
// ServiceMonitor and NetworkPolicies; KEDA scales normalizer and sink on
// their consumers' lag and nothing autoscales the poller.
func TestOverlayPolicies(t *testing.T) {
	for _, ov := range overlays {
		t.Run(ov, func(t *testing.T) {
			objs := rendered(t, ov)
			byKind := map[string][]Object{}
			for _, o := range objs {
				byKind[o.Kind] = append(byKind[o.Kind], o)
				if o.Kind != "Namespace" && o.Namespace != "yongjin" {
					t.Errorf("%s is not in namespace yongjin", o.ID())
				}
			}
			ws := workloads(t, objs)
			if len(ws) < 5 {
				t.Fatalf("%s renders only %d workloads", ov, len(ws))
			}
			for _, w := range ws {
				checkWorkload(t, w)
				checkCoverage(t, w, byKind)
			}
			checkScaling(t, byKind)
			checkSecretsExist(t, ws)
		})
	}
}

func checkWorkload(t *testing.T, w workload) {
	t.Helper()
	ps := w.tpl.Spec
	if w.sel != nil {
		sel, err := metav1.LabelSelectorAsSelector(w.sel)
		if err != nil || !sel.Matches(labels.Set(w.tpl.Labels)) {
			t.Errorf("%s: selector %v does not match its template's labels %v", w.id, w.sel, w.tpl.Labels)
		}
	}
	psc := ps.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("%s: pod must run as a non-root numeric user", w.id)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod seccomp profile must be RuntimeDefault", w.id)
	}
	if w.service {
		if ps.AutomountServiceAccountToken == nil || *ps.AutomountServiceAccountToken {
			t.Errorf("%s: the services need no API token: automountServiceAccountToken: false", w.id)
		}
	}
	if len(ps.Containers) == 0 {
		t.Errorf("%s: no containers", w.id)
	}
	for _, c := range append(append([]corev1.Container{}, ps.InitContainers...), ps.Containers...) {
		id := w.id + " container " + c.Name
		sc := c.SecurityContext
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s: allowPrivilegeEscalation must be false", id)
		}
		if sc == nil || sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s: must drop ALL capabilities and add none", id)
		}
		if sc == nil || sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s: privileged", id)
		}
		if !readOnlyRootExempt[c.Name] && (sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem) {
			t.Errorf("%s: root filesystem must be read-only", id)
		}
		if w.service && (sc == nil || sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault) {
			t.Errorf("%s: container seccomp profile must be RuntimeDefault", id)
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := c.Resources.Requests[r]; !ok {
				t.Errorf("%s: no %s request", id, r)
			}
			if _, ok := c.Resources.Limits[r]; !ok {
				t.Errorf("%s: no %s limit", id, r)
			}
		}
		if !strings.Contains(c.Image, "@sha256:") && !pinnedTag.MatchString(c.Image) {
			t.Errorf("%s: image %q is not pinned (digest or release tag)", id, c.Image)
		}
		if w.tpl.Spec.Containers[0].Name == c.Name && len(ps.Containers) > 0 {
			if c.LivenessProbe == nil || c.ReadinessProbe == nil {
				t.Errorf("%s: needs liveness and readiness probes", id)
			}
		}
		if !w.service {
			continue
		}
		// yongjin's services: /healthz and /readyz on the metrics port
		if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.LivenessProbe.HTTPGet.Port.String() != "metrics" {
			t.Errorf("%s: liveness must be GET /healthz on port metrics", id)
		}
		if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" || c.ReadinessProbe.HTTPGet.Port.String() != "metrics" {
			t.Errorf("%s: readiness must be GET /readyz on port metrics", id)
		}
		stage := strings.ToUpper(strings.TrimPrefix(w.name, "yongjin-"))
		addr, _ := lastEnv(c, "YONGJIN_"+stage+"_METRICS_ADDR")
		if len(c.Ports) != 1 || c.Ports[0].Name != "metrics" || !strings.HasSuffix(addr, ":"+strconv.Itoa(int(c.Ports[0].ContainerPort))) {
			t.Errorf("%s: the metrics port %v must be the one the service listens on (%q)", id, c.Ports, addr)
		}
		ackWait := 60 * time.Second // the commands' default
		if v, ok := lastEnv(c, "YONGJIN_"+stage+"_ACK_WAIT"); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				t.Errorf("%s: ack wait %q: %v", id, v, err)
			}
			ackWait = d
		}
		grace := 30 * time.Second
		if ps.TerminationGracePeriodSeconds != nil {
			grace = time.Duration(*ps.TerminationGracePeriodSeconds) * time.Second
		}
		if grace <= ackWait {
			t.Errorf("%s: termination grace %s must be longer than the ack wait %s", id, grace, ackWait)
		}
	}
}

func selects(sel *metav1.LabelSelector, lbls map[string]string) bool {
	if sel == nil {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && !s.Empty() && s.Matches(labels.Set(lbls))
}

func checkCoverage(t *testing.T, w workload, byKind map[string][]Object) {
	t.Helper()
	lbls := w.tpl.Labels
	if w.sel != nil { // operator-managed pods get their PDBs and Services from the operator
		pdb := false
		for _, o := range byKind["PodDisruptionBudget"] {
			p := o.Typed.(*policyv1.PodDisruptionBudget)
			if selects(p.Spec.Selector, lbls) {
				pdb = true
				if p.Spec.MinAvailable != nil && p.Spec.MinAvailable.IntValue() >= int(w.replicas) && w.replicas > 1 {
					t.Errorf("%s: PDB %s blocks every eviction", w.id, p.Name)
				}
			}
		}
		if !pdb {
			t.Errorf("%s: no PodDisruptionBudget", w.id)
		}
		svc := ""
		for _, o := range byKind["Service"] {
			s := o.Typed.(*corev1.Service)
			if len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(lbls)) {
				svc = s.Name
				if w.service {
					monitored := false
					for _, m := range byKind["ServiceMonitor"] {
						ml := nested[map[string]any](m.Raw, "spec", "selector", "matchLabels")
						sel := map[string]string{}
						for k, v := range ml {
							sel[k] = fmt.Sprint(v)
						}
						if len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(s.Labels)) {
							monitored = true
						}
					}
					if !monitored {
						t.Errorf("%s: Service %s has no ServiceMonitor", w.id, s.Name)
					}
				}
			}
		}
		if svc == "" {
			t.Errorf("%s: no Service", w.id)
		}
	}
	ingress, egress := false, false
	for _, o := range byKind["NetworkPolicy"] {
		np := o.Typed.(*networkingv1.NetworkPolicy)
		if !selects(&np.Spec.PodSelector, lbls) {
			continue
		}
		for _, pt := range np.Spec.PolicyTypes {
			ingress = ingress || pt == networkingv1.PolicyTypeIngress
			egress = egress || pt == networkingv1.PolicyTypeEgress
		}
	}
	if !ingress || (w.service && !egress) {
		t.Errorf("%s: not isolated by NetworkPolicies (ingress %v, egress %v)", w.id, ingress, egress)
	}
}

// checkScaling: normalizer and sink scale on their consumers, the poller does not.
func checkScaling(t *testing.T, byKind map[string][]Object) {
	t.Helper()
	want := map[string][2]string{"yongjin-normalizer": {"YONGJIN_RAW", "normalizer"}, "yongjin-sink": {"YONGJIN_EVENTS", "sink"}}
	seen := map[string]bool{}
	for _, o := range byKind["ScaledObject"] {
		target := nested[string](o.Raw, "spec", "scaleTargetRef", "name")
		w, ok := want[target]
		if !ok {
			t.Errorf("%s scales %s: only normalizer and sink autoscale (pollers share sources through leases)", o.ID(), target)
			continue
		}
		for _, tr := range nested[[]any](o.Raw, "spec", "triggers") {
			m := tr.(map[string]any)
			md, _ := m["metadata"].(map[string]any)
			if m["type"] == "nats-jetstream" && md["stream"] == w[0] && md["consumer"] == w[1] {
				seen[target] = true
			}
		}
		if min, max := nested[float64](o.Raw, "spec", "minReplicaCount"), nested[float64](o.Raw, "spec", "maxReplicaCount"); min < 1 || max < 2 || max < min {
			t.Errorf("%s: replicas %v..%v", o.ID(), min, max)
		}
	}
	for target := range want {
		if !seen[target] {
			t.Errorf("no nats-jetstream ScaledObject on %s's consumer", target)
		}
	}
	if len(byKind["HorizontalPodAutoscaler"]) > 0 {
		t.Errorf("HPAs beside KEDA's: %v", byKind["HorizontalPodAutoscaler"])
	}
}

// checkSecretsExist: every Secret a workload reads has a template with that key.
func checkSecretsExist(t *testing.T, ws []workload) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(k8sDir, "secrets", "*.yaml"))
	keys := map[string]map[string]bool{}
	for _, f := range files {
		objs, err := ReadObjects(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			var s corev1.Secret
			if err := yaml.UnmarshalStrict(o.JSON, &s); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			keys[s.Name] = map[string]bool{}
			for k, v := range s.StringData {
				keys[s.Name][k] = true
				if v != "" {
					t.Errorf("%s: template %s holds a value for %s", f, s.Name, k)
				}
			}
			if len(s.Data) > 0 {
				t.Errorf("%s: template %s has data", f, s.Name)
			}
		}
	}
	for _, w := range ws {
		for _, v := range w.tpl.Spec.Volumes {
			if v.Secret != nil && keys[v.Secret.SecretName] == nil {
				t.Errorf("%s mounts Secret %s, which has no template in deploy/k8s/secrets", w.id, v.Secret.SecretName)
			}
		}
		for _, c := range w.tpl.Spec.Containers {
			for _, e := range c.Env {
				if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil && !keys[r.SecretKeyRef.Name][r.SecretKeyRef.Key] {
					t.Errorf("%s reads %s/%s, which no Secret template has", w.id, r.SecretKeyRef.Name, r.SecretKeyRef.Key)
				}
			}
		}
	}
}

// TestProdTopology checks what the prod overlay promises: a 3-node NATS
// JetStream cluster with routes and a volume per server, whose config is the
// file the scale-out test runs and gets every variable it names from the
// StatefulSet; streams at replicas 3; two replicas of every service;
// ClickHouse replicated through Keeper, the sink pointed at its cluster.
func TestProdTopology(t *testing.T) {
	objs := rendered(t, "prod")
	find := func(kind, name string) Object {
		for _, o := range objs {
			if o.Kind == kind && o.Name == name {
				return o
			}
		}
		t.Fatalf("prod renders no %s %s", kind, name)
		return Object{}
	}
	nats := find("StatefulSet", "nats").Typed.(*appsv1.StatefulSet)
	if *nats.Spec.Replicas != 3 || len(nats.Spec.VolumeClaimTemplates) != 1 {
		t.Errorf("NATS: %d replicas, %d volume claim templates; want 3 and 1", *nats.Spec.Replicas, len(nats.Spec.VolumeClaimTemplates))
	}
	conf, err := os.ReadFile(filepath.Join(k8sDir, "overlays", "prod", "nats", "nats.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var cmName string
	for _, v := range nats.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil {
			cmName = v.ConfigMap.Name
		}
	}
	var cm *corev1.ConfigMap
	for _, o := range objs {
		if c, ok := o.Typed.(*corev1.ConfigMap); ok && c.Name == cmName {
			cm = c
		}
	}
	if cm == nil || cm.Data["nats.conf"] != string(conf) {
		t.Fatalf("the NATS StatefulSet's ConfigMap %q does not hold overlays/prod/nats/nats.conf", cmName)
	}
	natsC := nats.Spec.Template.Spec.Containers[0]
	for _, m := range regexp.MustCompile(`\$([A-Z_]+)`).FindAllStringSubmatch(string(conf), -1) {
		if _, ok := env(natsC, m[1]); !ok && !fieldEnv(natsC, m[1]) {
			t.Errorf("nats.conf uses $%s, which the StatefulSet does not set", m[1])
		}
	}
	routes, _ := env(natsC, "NATS_ROUTES")
	for i := 0; i < 3; i++ {
		if !strings.Contains(routes, fmt.Sprintf("nats://nats-%d.%s.yongjin.svc.cluster.local:6222", i, nats.Spec.ServiceName)) {
			t.Errorf("NATS_ROUTES %q lacks server %d", routes, i)
		}
	}
	if !strings.Contains(string(conf), "routes: $NATS_ROUTES") || !strings.Contains(string(conf), "jetstream") {
		t.Errorf("nats.conf has no JetStream cluster with routes")
	}
	for _, name := range []string{"yongjin-poller", "yongjin-normalizer", "yongjin-sink"} {
		d := find("Deployment", name).Typed.(*appsv1.Deployment)
		if *d.Spec.Replicas != 2 {
			t.Errorf("%s: %d replicas, want 2", name, *d.Spec.Replicas)
		}
		stage := strings.ToUpper(strings.TrimPrefix(name, "yongjin-"))
		if v, _ := lastEnv(d.Spec.Template.Spec.Containers[0], "YONGJIN_"+stage+"_STREAM_REPLICAS"); v != "3" {
			t.Errorf("%s: stream replicas %q, want 3", name, v)
		}
	}
	chi, chk := find("ClickHouseInstallation", "yongjin"), find("ClickHouseKeeperInstallation", "yongjin")
	clusters := nested[[]any](chi.Raw, "spec", "configuration", "clusters")
	if len(clusters) != 1 {
		t.Fatalf("CHI clusters: %v", clusters)
	}
	cluster := clusters[0].(map[string]any)
	if r := nested[float64](cluster, "layout", "replicasCount"); r < 2 {
		t.Errorf("ClickHouse replicas %v, want at least 2", r)
	}
	if r := nested[float64](nested[[]any](chk.Raw, "spec", "configuration", "clusters")[0].(map[string]any), "layout", "replicasCount"); r != 3 {
		t.Errorf("Keeper replicas %v, want 3", r)
	}
	zk := nested[[]any](chi.Raw, "spec", "configuration", "zookeeper", "nodes")
	if len(zk) != 1 || zk[0].(map[string]any)["host"] != "keeper-"+chk.Name {
		t.Errorf("CHI coordination %v, want the Keeper service keeper-%s", zk, chk.Name)
	}
	sink := find("Deployment", "yongjin-sink").Typed.(*appsv1.Deployment).Spec.Template.Spec.Containers[0]
	if v, _ := lastEnv(sink, "YONGJIN_SINK_CLICKHOUSE_CLUSTER"); v != cluster["name"] {
		t.Errorf("sink cluster %q, want the CHI cluster %q", v, cluster["name"])
	}
	if v, _ := lastEnv(sink, "YONGJIN_SINK_CLICKHOUSE_ADDR"); v != "clickhouse-"+chi.Name+":9000" {
		t.Errorf("sink address %q, want the CHI service clickhouse-%s:9000", v, chi.Name)
	}
}

func fieldEnv(c corev1.Container, name string) bool {
	for _, e := range c.Env {
		if e.Name == name && e.ValueFrom != nil {
			return true
		}
	}
	return false
}

// TestAlertsUseExportedMetrics requires the alerts the issue names and that
// every yongjin_ metric an alert uses is one a service registers.
func TestAlertsUseExportedMetrics(t *testing.T) {
	objs := rendered(t, "prod")
	exported := exportedMetrics(t)
	var alerts []string
	for _, o := range objs {
		if o.Kind != "PrometheusRule" {
			continue
		}
		for _, g := range nested[[]any](o.Raw, "spec", "groups") {
			for _, r := range nested[[]any](g.(map[string]any), "rules") {
				rule := r.(map[string]any)
				alerts = append(alerts, fmt.Sprint(rule["alert"]))
				expr := fmt.Sprint(rule["expr"])
				for _, m := range regexp.MustCompile(`\byongjin_[a-z_]+\b`).FindAllString(expr, -1) {
					if !exported[m] {
						t.Errorf("alert %v uses %s, which no service exports", rule["alert"], m)
					}
				}
			}
		}
	}
	sort.Strings(alerts)
	for _, want := range []string{"YongjinConsumerLagHigh", "YongjinDLQDepth", "YongjinDeadLetters", "YongjinCheckpointStale", "YongjinVendorErrorRate", "YongjinPartKeepsFailing"} {
		if i := sort.SearchStrings(alerts, want); i == len(alerts) || alerts[i] != want {
			t.Errorf("no alert %s (have %v)", want, alerts)
		}
	}
}

// exportedMetrics scans the non-test Go sources for metric names registered
// with the Prometheus client (Name: "..." options and NewDesc).
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	re := regexp.MustCompile(`(?:Name:\s*|NewDesc\(\s*)"(yongjin_[a-z_]+)"`)
	out := map[string]bool{}
	for _, dir := range []string{"internal", "cmd", "pkg"} {
		err := filepath.Walk(filepath.Join(repoRoot, dir), func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				out[m[1]] = true
				if strings.Contains(string(b), "NewHistogram") {
					for _, s := range []string{"_bucket", "_sum", "_count"} {
						out[m[1]+s] = true
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d exported metrics: %v", len(out), out)
	}
	return out
}

// TestServiceEnvNamesFlags requires every YONGJIN_<COMMAND>_<FLAG> variable
// the Deployments set to name a flag the command defines (a misspelt one
// would be silently ignored by the service).
func TestServiceEnvNamesFlags(t *testing.T) {
	flagDef := regexp.MustCompile(`fs\.\w+Var\(&[^,]+,\s*"([a-z0-9-]+)"`)
	flags := func(dirs ...string) map[string]bool {
		out := map[string]bool{}
		for _, dir := range dirs {
			files, _ := filepath.Glob(filepath.Join(repoRoot, dir, "*.go"))
			for _, f := range files {
				if strings.HasSuffix(f, "_test.go") {
					continue
				}
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range flagDef.FindAllStringSubmatch(string(b), -1) {
					out[m[1]] = true
				}
			}
		}
		return out
	}
	for _, ov := range overlays {
		for _, o := range rendered(t, ov) {
			d, ok := o.Typed.(*appsv1.Deployment)
			if !ok {
				continue
			}
			stage := strings.TrimPrefix(d.Name, "yongjin-")
			defined := flags("cmd/"+stage, "internal/app")
			if len(defined) < 5 {
				t.Fatalf("found only %d flags of %s: %v", len(defined), stage, defined)
			}
			prefix := "YONGJIN_" + strings.ToUpper(stage) + "_"
			for _, c := range d.Spec.Template.Spec.Containers {
				for _, e := range c.Env {
					if !strings.HasPrefix(e.Name, prefix) {
						continue
					}
					flag := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(e.Name, prefix)), "_", "-")
					if !defined[flag] {
						t.Errorf("%s/%s sets %s, but %s has no flag --%s", ov, d.Name, e.Name, stage, flag)
					}
				}
			}
		}
	}
}
