package deploytest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// kubeAPIDir is where scripts/kubeapi.sh builds kube-apiserver and etcd.
func kubeAPIDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("YONGJIN_KUBEAPI_DIR")
	if dir == "" {
		dir = filepath.Join(repoRoot, ".data", "kubeapi")
	}
	for _, b := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			// never a skip: make test builds them (scripts/kubeapi.sh) on a fresh clone
			t.Fatalf("%s is missing in %s (build it with `make kubeapi`; make test does): %v", b, dir, err)
		}
	}
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

type pki struct {
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caPEM  []byte
	serial int64
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "yongjin-deploytest-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	return &pki{ca: ca, caKey: key, caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), serial: 1}
}

// issue returns a certificate and key (PEM) signed by the CA.
func (p *pki) issue(t *testing.T, cn string, orgs []string, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.serial++
	tpl := &x509.Certificate{SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		tpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}

// kubeAPI is a running etcd + kube-apiserver pair on loopback.
type kubeAPI struct {
	url    string
	client *http.Client
}

// startProcess starts name and returns a channel closed when it exits.
func startProcess(t *testing.T, name string, args ...string) <-chan struct{} {
	t.Helper()
	var logs bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			out := logs.String()
			if len(out) > 4000 {
				out = out[len(out)-4000:]
			}
			t.Logf("%s output (tail):\n%s", filepath.Base(name), out)
		}
	})
	return done
}

// startKubeAPI starts etcd and kube-apiserver the way controller-runtime's
// envtest does: loopback only, client-certificate authentication (the test
// is system:masters), RBAC, no controllers.
func startKubeAPI(t *testing.T, ctx context.Context) *kubeAPI {
	t.Helper()
	dir := kubeAPIDir(t)
	work := t.TempDir()
	p := newPKI(t)
	write := func(name string, b []byte) string {
		path := filepath.Join(work, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	caFile := write("ca.pem", p.caPEM)
	sc, sk := p.issue(t, "kube-apiserver", nil, true)
	cc, ck := p.issue(t, "yongjin-deploytest", []string{"system:masters"}, false)
	saKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	saFile := write("sa.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(saKey)}))

	ec, ep := freePort(t), freePort(t)
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", ec)
	startProcess(t, filepath.Join(dir, "etcd"), "--name", "deploytest", "--data-dir", filepath.Join(work, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", ep), "--initial-advertise-peer-urls", fmt.Sprintf("http://127.0.0.1:%d", ep),
		"--initial-cluster", fmt.Sprintf("deploytest=http://127.0.0.1:%d", ep), "--unsafe-no-fsync", "--log-level", "warn")
	port := freePort(t)
	exited := startProcess(t, filepath.Join(dir, "kube-apiserver"),
		"--etcd-servers", etcdURL, "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port), "--cert-dir", filepath.Join(work, "certs"),
		"--tls-cert-file", write("server.pem", sc), "--tls-private-key-file", write("server-key.pem", sk),
		"--client-ca-file", caFile, "--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc", "--service-account-key-file", saFile,
		"--service-account-signing-key-file", saFile, "--service-cluster-ip-range", "10.0.0.0/24",
		"--disable-admission-plugins", "ServiceAccount", "--endpoint-reconciler-type", "none", "--v", "0")

	pair, err := tls.X509KeyPair(cc, ck)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.caPEM)
	k := &kubeAPI{url: fmt.Sprintf("https://127.0.0.1:%d", port), client: &http.Client{Timeout: time.Minute,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}}}}
	var last string
	for {
		code, body, _, err := k.do(ctx, "GET", "/readyz", "", nil)
		if err == nil && code == http.StatusOK {
			return k
		}
		last = fmt.Sprintf("%d %s %v", code, body, err)
		select {
		case <-exited:
			t.Fatalf("kube-apiserver exited: %s", last)
		case <-ctx.Done():
			t.Fatalf("kube-apiserver not ready: %s", last)
		case <-time.After(500 * time.Millisecond): // an external process; nothing to wait on
		}
	}
}

func (k *kubeAPI) do(ctx context.Context, method, path, contentType string, body []byte) (int, []byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, k.url+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	res, err := k.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header, err
}

type apiResource struct {
	name       string
	namespaced bool
}

// resource finds the REST resource of apiVersion/kind through discovery.
func (k *kubeAPI) resource(ctx context.Context, apiVersion, kind string) (apiResource, error) {
	path := "/apis/" + apiVersion
	if apiVersion == "v1" {
		path = "/api/v1"
	}
	code, body, _, err := k.do(ctx, "GET", path, "", nil)
	if err != nil || code != http.StatusOK {
		return apiResource{}, fmt.Errorf("discovery %s: %d %s %v", path, code, body, err)
	}
	var list struct {
		Resources []struct {
			Name       string `json:"name"`
			Kind       string `json:"kind"`
			Namespaced bool   `json:"namespaced"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return apiResource{}, err
	}
	for _, r := range list.Resources {
		if r.Kind == kind && !strings.Contains(r.Name, "/") {
			return apiResource{name: r.Name, namespaced: r.Namespaced}, nil
		}
	}
	return apiResource{}, fmt.Errorf("%s %s not served", apiVersion, kind)
}

// apply server-side-applies o with strict field validation and returns the
// object the server stored and any warnings it gave.
func (k *kubeAPI) apply(ctx context.Context, o Object) (map[string]any, []string, error) {
	r, err := k.resource(ctx, o.APIVersion, o.Kind)
	if err != nil {
		return nil, nil, err
	}
	base := "/apis/" + o.APIVersion
	if o.APIVersion == "v1" {
		base = "/api/v1"
	}
	path := base + "/" + r.name + "/" + o.Name
	if r.namespaced {
		path = base + "/namespaces/" + o.Namespace + "/" + r.name + "/" + o.Name
	}
	code, body, hdr, err := k.do(ctx, "PATCH", path+"?fieldManager=yongjin-deploytest&fieldValidation=Strict&force=true",
		"application/apply-patch+yaml", o.JSON)
	if err != nil {
		return nil, nil, err
	}
	if code != http.StatusOK && code != http.StatusCreated {
		return nil, nil, fmt.Errorf("%s: HTTP %d: %s", o.ID(), code, body)
	}
	var stored map[string]any
	if err := json.Unmarshal(body, &stored); err != nil {
		return nil, nil, err
	}
	return stored, hdr.Values("Warning"), nil
}

// inNamespace moves an overlay's objects to namespace ns (each overlay gets
// its own: a StatefulSet's volume claims cannot change in place).
func inNamespace(t *testing.T, objs []Object, ns string) []Object {
	t.Helper()
	var out []Object
	for _, o := range objs {
		var raw map[string]any
		if err := json.Unmarshal(o.JSON, &raw); err != nil {
			t.Fatal(err)
		}
		md := raw["metadata"].(map[string]any)
		if o.Kind == "Namespace" {
			md["name"] = ns
		} else if _, ok := md["namespace"]; ok {
			md["namespace"] = ns
		}
		b, _ := json.Marshal(raw)
		n, err := parse(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// TestOverlaysAcceptedByAPIServer installs the vendored CRDs into a real
// kube-apiserver (with etcd) and server-side-applies every rendered object
// of both overlays with strict field validation: each must be accepted
// without a warning (the namespace's Pod Security "restricted" warn level
// turns every violation in a pod template into one), and the server's
// defaults must be there when read back.
func TestOverlaysAcceptedByAPIServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	d, err := NewDecoder(filepath.Join(k8sDir, "crds"))
	if err != nil {
		t.Fatal(err)
	}
	k := startKubeAPI(t, ctx)
	for _, crd := range d.CRDs {
		if _, warn, err := k.apply(ctx, crd); err != nil || len(warn) > 0 {
			t.Fatalf("install CRD %s: %v %v", crd.Name, err, warn)
		}
	}
	for _, crd := range d.CRDs {
		var last string
		for {
			code, body, _, err := k.do(ctx, "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"+crd.Name, "", nil)
			if err == nil && code == http.StatusOK && bytes.Contains(body, []byte(`"type":"Established","status":"True"`)) {
				break
			}
			last = fmt.Sprintf("%d %v", code, err)
			select {
			case <-ctx.Done():
				t.Fatalf("CRD %s not established: %s", crd.Name, last)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	for _, ov := range overlays {
		t.Run(ov, func(t *testing.T) {
			objs := inNamespace(t, rendered(t, ov), "yongjin-"+ov)
			sort.SliceStable(objs, func(i, j int) bool { return objs[i].Kind == "Namespace" && objs[j].Kind != "Namespace" })
			kinds := map[string]int{}
			for _, o := range objs {
				var stored map[string]any
				var warn []string
				var err error
				// a just-established CRD may take a moment to appear in discovery
				for attempt := 0; ; attempt++ {
					stored, warn, err = k.apply(ctx, o)
					if err == nil || !strings.Contains(err.Error(), "not served") || attempt > 50 {
						break
					}
					time.Sleep(200 * time.Millisecond)
				}
				if err != nil {
					t.Errorf("rejected: %v", err)
					continue
				}
				if len(warn) > 0 {
					t.Errorf("%s accepted with warnings: %s", o.ID(), strings.Join(warn, "; "))
				}
				kinds[o.Kind]++
				switch o.Kind {
				case "Deployment":
					if nested[float64](stored, "spec", "progressDeadlineSeconds") == 0 {
						t.Errorf("%s: the server's defaults are missing: %v", o.ID(), stored["spec"])
					}
				case "Service":
					if nested[string](stored, "spec", "clusterIP") == "" {
						t.Errorf("%s: no cluster IP allocated", o.ID())
					}
				}
			}
			t.Logf("%s: %d objects accepted: %v", ov, len(objs), kinds)
		})
	}
	// The server's checks bite: an unknown field is rejected, a pod template
	// below the restricted standard draws a warning, a selector that misses
	// its template is invalid.
	objs := inNamespace(t, rendered(t, "dev"), "yongjin-dev")
	var dep Object
	for _, o := range objs {
		if o.Kind == "Deployment" {
			dep = o
		}
	}
	mutate := func(name string, f func(spec map[string]any)) Object {
		var raw map[string]any
		if err := json.Unmarshal(dep.JSON, &raw); err != nil {
			t.Fatal(err)
		}
		raw["metadata"].(map[string]any)["name"] = name
		f(raw["spec"].(map[string]any))
		b, _ := json.Marshal(raw)
		o, err := parse(b)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	if _, _, err := k.apply(ctx, mutate("bad-field", func(s map[string]any) { s["replicaz"] = 2 })); err == nil || !strings.Contains(err.Error(), "replicaz") {
		t.Errorf("an unknown field was accepted: %v", err)
	}
	_, warn, err := k.apply(ctx, mutate("bad-security", func(s map[string]any) {
		c := nested[[]any](s, "template", "spec", "containers")[0].(map[string]any)
		c["securityContext"].(map[string]any)["allowPrivilegeEscalation"] = true
	}))
	if err != nil || len(warn) == 0 {
		t.Errorf("a pod template allowing privilege escalation drew no Pod Security warning: %v %v", warn, err)
	}
	if _, _, err := k.apply(ctx, mutate("bad-selector", func(s map[string]any) {
		s["selector"] = map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "other"}}
	})); err == nil || !strings.Contains(err.Error(), "selector") {
		t.Errorf("a selector that does not match its template was accepted: %v", err)
	}
}
