package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/bus/bustest"
	"github.com/yongjin-dev/yongjin/internal/clickhouse"
	"github.com/yongjin-dev/yongjin/internal/natsserver"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/internal/testenv"
)

// envDiscover, when set to a file path, runs TestSecurity's pipeline with
// every user's permissions lifted and writes the subjects each client
// published and subscribed to (from the server's protocol trace) to that
// file: how the lists in deploy/nats/yongjin-server.conf were worked out.
const envDiscover = "YONGJIN_TEST_NATS_DISCOVER"

// secretPrefix starts every password the test hands out, so a leak is
// easy to find in any output.
const secretPrefix = "sentinel-secret-"

// TestSecurity runs the pipeline's real binaries against a NATS server
// started from deploy/nats/yongjin-server.conf (TLS with the test's own CA,
// mutual TLS, one user per service with the permissions of that file) and a
// private ClickHouse that requires TLS and a password, and requires
// ClickHouse to equal the sandbox truth with no permissions violation on
// the server. Then each way of getting the connection wrong must fail at
// once with an error that names the server and the reason and holds no
// secret.
func TestSecurity(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	pki := bustest.NewPKI(t)
	discover := os.Getenv(envDiscover)
	ns := startSecureNATS(t, pki, discover != "")
	chs := startSecureClickHouse(t, pki)
	bin := buildBinaries(t, "sandbox", "poller", "normalizer", "sink")
	dir := t.TempDir()

	sbAddr := freeAddr(t)
	start(t, filepath.Join(bin, "sandbox"), nil, "--addr", sbAddr, "--orders", "600", "--seed", "5",
		"--clock", "2026-11-20 00:00:00", "--douke-vekey", "sec-vekey")
	waitHTTP(t, "http://"+sbAddr+"/_sandbox/healthz", 2*time.Minute)
	vekey := filepath.Join(dir, "vekey")
	writeFile(t, vekey, "sec-vekey\n")
	sources := filepath.Join(dir, "sources.yaml")
	writeFile(t, sources, fmt.Sprintf(`sources:
  - name: douke-sec
    vendor: douke
    account: sec
    base_url: http://%s
    credentials:
      vekey: {file: %s}
    params: {time_type: pay}
    window: {from: "2026-10-01", to: "2026-11-20"}
    interval: 1s
    rate_per_second: 200
`, sbAddr, vekey))

	// The sink's ClickHouse password comes from a file, the NATS passwords
	// from the environment (poller, sink) and from a file (normalizer).
	chPassFile := filepath.Join(dir, "ch-password")
	writeFile(t, chPassFile, chs.sinkPassword+"\n")
	normPassFile := filepath.Join(dir, "nats-normalizer-password")
	writeFile(t, normPassFile, ns.passwords["normalizer"]+"\n")
	tlsArgs := []string{"--nats-url", ns.url, "--nats-ca", pki.CAFile, "--nats-cert", pki.ClientCert, "--nats-key", pki.ClientKey}
	chArgs := []string{"--clickhouse-addr", chs.secureAddr, "--clickhouse-ca", pki.CAFile, "--clickhouse-user", chs.sinkUser,
		"--clickhouse-database", chs.database}
	pollerEnv := []string{"YONGJIN_NATS_USER=poller", "YONGJIN_NATS_PASSWORD=" + ns.passwords["poller"]}
	normEnv := []string{"YONGJIN_NATS_USER=normalizer", "YONGJIN_NATS_PASSWORD_FILE=" + normPassFile}
	sinkEnv := []string{"YONGJIN_NATS_USER=sink", "YONGJIN_NATS_PASSWORD=" + ns.passwords["sink"],
		"YONGJIN_CLICKHOUSE_PASSWORD=", "YONGJIN_CLICKHOUSE_PASSWORD_FILE=" + chPassFile}

	opsEnv := []string{"YONGJIN_NATS_USER=ops", "YONGJIN_NATS_PASSWORD=" + ns.passwords["ops"]}

	var procs []*proc
	t.Run("pipeline", func(t *testing.T) {
		// least privilege: an admin applies the schema, the sink's user only
		// checks it (--clickhouse-migrate=false)
		runOK(t, ctx, filepath.Join(bin, "sink"), []string{"YONGJIN_CLICKHOUSE_PASSWORD_FILE=", "YONGJIN_CLICKHOUSE_PASSWORD=" + chs.adminPassword},
			"migrate", "--clickhouse-addr", chs.secureAddr, "--clickhouse-ca", pki.CAFile, "--clickhouse-user", "default",
			"--clickhouse-database", chs.database)
		normMetrics, sinkMetrics := freeAddr(t), freeAddr(t)
		norm := start(t, filepath.Join(bin, "normalizer"), normEnv, append([]string{"run", "--metrics-addr", normMetrics}, tlsArgs...)...)
		sink := start(t, filepath.Join(bin, "sink"), sinkEnv,
			append(append([]string{"run", "--metrics-addr", sinkMetrics, "--flush-interval", "100ms", "--clickhouse-migrate=false"}, tlsArgs...), chArgs...)...)
		procs = append(procs, norm, sink)
		runOK(t, ctx, filepath.Join(bin, "poller"), pollerEnv, append([]string{"once", "--config", sources, "--metrics-addr", ""}, tlsArgs...)...)

		// the checkpoint and lease buckets: backfill, sources, run
		runOK(t, ctx, filepath.Join(bin, "poller"), pollerEnv, append([]string{"backfill", "--config", sources, "--source", "douke-sec",
			"--from", "2026-10-01", "--to", "2026-10-08", "--metrics-addr", ""}, tlsArgs...)...)
		run := start(t, filepath.Join(bin, "poller"), pollerEnv, append([]string{"run", "--config", sources, "--metrics-addr", "",
			"--lease-ttl", "3s", "--replica", "sec-a", "--sandbox-clock", "http://" + sbAddr + "/_sandbox/clock"}, tlsArgs...)...)
		procs = append(procs, run)
		waitPolled(t, ctx, filepath.Join(bin, "poller"), pollerEnv, append([]string{"sources", "--config", sources, "--metrics-addr", ""}, tlsArgs...), run)
		run.stop(t)

		// caught up, seen through the consumers' own users
		nc := connectAs(t, ns, pki, "normalizer")
		js, _ := jetstream.New(nc)
		waitConsumer(t, ctx, js, bus.RawStream, "normalizer")
		sc := connectAs(t, ns, pki, "sink")
		sjs, _ := jetstream.New(sc)
		waitConsumer(t, ctx, sjs, bus.EventsStream, "sink")

		var truth sandbox.Truth
		if err := json.Unmarshal(waitHTTP(t, "http://"+sbAddr+"/_sandbox/truth?vendor=douke&orders=false", 2*time.Minute), &truth); err != nil {
			t.Fatal(err)
		}
		if truth.Summary.TotalOrders() != 600 {
			t.Fatalf("sandbox truth has %d orders, want 600", truth.Summary.TotalOrders())
		}
		store, err := clickhouse.Open(ctx, clickhouse.Config{Addr: chs.secureAddr, CAFile: pki.CAFile, Database: chs.database,
			Username: chs.sinkUser, Password: chs.sinkPassword})
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		got, err := store.Summary(ctx, "douke")
		if err != nil {
			t.Fatal(err)
		}
		if diff := summary.Diff(truth.Summary, got); len(diff) > 0 {
			t.Fatalf("ClickHouse differs from the sandbox truth:\n%s", strings.Join(diff, "\n"))
		}

		// consumer lag on /metrics, read with each service's own user
		for _, addr := range []string{normMetrics, sinkMetrics} {
			if m := string(waitHTTP(t, "http://"+addr+"/metrics", 2*time.Minute)); !strings.Contains(m, "yongjin_consumer_pending_messages") {
				t.Errorf("%s/metrics lacks the consumer lag:\n%s", addr, grep(m, "yongjin_consumer"))
			}
		}

		// dead letters: a page the normalizer cannot read (published with
		// the poller's user) and an event the sink cannot decode (with the
		// normalizer's), then the operator's dlq commands with the ops user
		pc := connectAs(t, ns, pki, "poller")
		pjs, _ := jetstream.New(pc)
		bad := nats.NewMsg("yongjin.raw.douke.kol_orderads")
		bad.Header.Set("Yongjin-Vendor", "douke")
		bad.Header.Set("Yongjin-Endpoint", "kol_orderads")
		bad.Data = []byte("not a vendor page")
		if _, err := pjs.PublishMsg(ctx, bad); err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, "yongjin.events.order.v1.douke", []byte("not an event")); err != nil {
			t.Fatal(err)
		}
		dlq := func(stage, verb string, args ...string) string { // flags before the verb's arguments
			return runOK(t, ctx, filepath.Join(bin, stage), opsEnv, append(append([]string{"dlq", verb}, tlsArgs...), args...)...)
		}
		normDLQ := func(verb string, args ...string) string { return dlq("normalizer", verb, args...) }
		sinkDLQ := func(verb string, args ...string) string { return dlq("sink", verb, args...) }
		seq := waitLetter(t, ctx, func() string { return normDLQ("list") })
		if out := normDLQ("show", seq); !strings.Contains(out, "not a vendor page") {
			t.Errorf("normalizer dlq show %s:\n%s", seq, out)
		}
		if out := normDLQ("redrive", "--seq", seq); !strings.Contains(out, "1 dead letters redriven") {
			t.Errorf("normalizer dlq redrive:\n%s", out)
		}
		waitLetter(t, ctx, func() string { return normDLQ("list") }) // still unreadable: dead-lettered again
		sseq := waitLetter(t, ctx, func() string { return sinkDLQ("list") })
		sinkDLQ("show", sseq)
		sinkDLQ("redrive", "--seq", sseq)
		waitLetter(t, ctx, func() string { return sinkDLQ("list") })

		// replay, with the normalizer's user
		runOK(t, ctx, filepath.Join(bin, "normalizer"), normEnv, append([]string{"replay", "--since", "2026-01-01", "--metrics-addr", ""}, tlsArgs...)...)
		waitConsumer(t, ctx, sjs, bus.EventsStream, "sink")
		if got, err = store.Summary(ctx, "douke"); err != nil {
			t.Fatal(err)
		}
		if diff := summary.Diff(truth.Summary, got); len(diff) > 0 {
			t.Fatalf("after replay, ClickHouse differs from the sandbox truth:\n%s", strings.Join(diff, "\n"))
		}
		if v := ns.violations(); len(v) > 0 && discover == "" {
			t.Fatalf("the server refused the services with the example permissions:\n%s", strings.Join(v, "\n"))
		}
		if discover != "" {
			ns.writeDiscovered(t, discover)
		}
	})
	if discover != "" || t.Failed() {
		return
	}

	var expectFailure func(t *testing.T, mayRetry bool, env []string, args ...string) string
	// expect runs a service that must fail at its first attempt (no
	// "retrying" log line: every wait for a server says so) and returns
	// its output, after checking it holds no secret.
	expect := func(t *testing.T, env []string, args ...string) string {
		t.Helper()
		return expectFailure(t, false, env, args...)
	}
	// expectFailure is expect; mayRetry allows retries before the failure.
	expectFailure = func(t *testing.T, mayRetry bool, env []string, args ...string) string {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 3*time.Minute) // only so that a hung service fails the test
		defer cancel()
		began := time.Now()
		cmd := exec.CommandContext(cctx, filepath.Join(bin, args[0]), args[1:]...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("%s succeeded; want a failure\n%s", strings.Join(args, " "), out)
		}
		if cctx.Err() != nil || (!mayRetry && strings.Contains(string(out), "retrying")) {
			t.Errorf("%s retried or hung before failing; want a failure at the first attempt\n%s", args[0], out)
		}
		assertNoSecrets(t, string(out), ns, chs)
		t.Logf("%s failed after %s:\n%s", args[0], time.Since(began).Round(time.Millisecond), out)
		return string(out)
	}
	mustContain := func(t *testing.T, out string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("output lacks %q:\n%s", w, out)
			}
		}
	}
	server := ns.url // the URL as given: it carries no credentials

	t.Run("nats wrong password", func(t *testing.T) {
		out := expect(t, []string{"YONGJIN_NATS_USER=normalizer", "YONGJIN_NATS_PASSWORD=" + secretPrefix + "wrong"},
			append([]string{"normalizer", "run", "--metrics-addr", ""}, tlsArgs...)...)
		mustContain(t, out, server, "authorization violation", `user \"normalizer\"`)
	})
	t.Run("nats no credentials", func(t *testing.T) {
		out := expect(t, nil, append([]string{"poller", "once", "--config", sources, "--metrics-addr", ""}, tlsArgs...)...)
		mustContain(t, out, server, "authorization violation", "YONGJIN_NATS_USER")
	})
	t.Run("nats without the CA", func(t *testing.T) {
		out := expect(t, pollerEnv, "poller", "once", "--config", sources, "--metrics-addr", "", "--nats-url", ns.url,
			"--nats-cert", pki.ClientCert, "--nats-key", pki.ClientKey)
		mustContain(t, out, server, "x509: certificate signed by unknown authority", "--nats-ca")
	})
	t.Run("nats another CA", func(t *testing.T) {
		out := expect(t, pollerEnv, "poller", "once", "--config", sources, "--metrics-addr", "", "--nats-url", ns.url,
			"--nats-ca", pki.OtherCAFile, "--nats-cert", pki.ClientCert, "--nats-key", pki.ClientKey)
		mustContain(t, out, server, "x509: certificate signed by unknown authority")
	})
	t.Run("nats without client certificate", func(t *testing.T) {
		// With TLS 1.3 the client may first see only the server closing the
		// connection after the handshake (a broken pipe under load), which
		// Connect retries until the "certificate required" alert arrives.
		out := expectFailure(t, true, pollerEnv, "poller", "once", "--config", sources, "--metrics-addr", "", "--nats-url", ns.url,
			"--nats-ca", pki.CAFile)
		mustContain(t, out, server, "certificate required", "--nats-cert")
	})
	t.Run("nats password in URL refused", func(t *testing.T) {
		u := strings.Replace(ns.url, "://", "://poller:"+ns.passwords["poller"]+"@", 1)
		out := expect(t, nil, "poller", "once", "--config", sources, "--metrics-addr", "", "--nats-url", u,
			"--nats-ca", pki.CAFile, "--nats-cert", pki.ClientCert, "--nats-key", pki.ClientKey)
		mustContain(t, out, "carries credentials", "YONGJIN_NATS_PASSWORD", "[REDACTED]")
	})
	t.Run("nats subject not permitted", func(t *testing.T) {
		// the poller's user may not touch EVENTS: the normalizer stops at
		// provisioning its stream, with the server's reason
		out := expect(t, pollerEnv, append([]string{"normalizer", "run", "--metrics-addr", ""}, tlsArgs...)...)
		mustContain(t, out, server, "permissions violation for publish to", "YONGJIN_EVENTS", `user \"poller\"`)
		// and the sink's user may not publish raw pages
		out = expect(t, []string{"YONGJIN_NATS_USER=sink", "YONGJIN_NATS_PASSWORD=" + ns.passwords["sink"]},
			append([]string{"poller", "once", "--config", sources, "--metrics-addr", ""}, tlsArgs...)...)
		mustContain(t, out, server, "permissions violation for publish to", "YONGJIN_RAW")
	})
	t.Run("clickhouse wrong password", func(t *testing.T) {
		out := expect(t, append(slices.Clone(sinkEnv), "YONGJIN_CLICKHOUSE_PASSWORD_FILE=", "YONGJIN_CLICKHOUSE_PASSWORD="+secretPrefix+"wrong-ch"),
			append(append([]string{"sink", "migrate"}, tlsArgs...), chArgs...)...)
		mustContain(t, out, chs.secureAddr, "Wrong password for user "+chs.sinkUser)
	})
	t.Run("clickhouse without the CA", func(t *testing.T) {
		out := expect(t, sinkEnv, "sink", "migrate", "--clickhouse-addr", chs.secureAddr, "--clickhouse-tls",
			"--clickhouse-user", chs.sinkUser, "--clickhouse-database", chs.database)
		mustContain(t, out, chs.secureAddr, "x509: certificate signed by unknown authority")
	})
	t.Run("clickhouse other database refused", func(t *testing.T) {
		out := expect(t, sinkEnv, "sink", "migrate", "--clickhouse-addr", chs.secureAddr, "--clickhouse-ca", pki.CAFile,
			"--clickhouse-user", chs.sinkUser, "--clickhouse-database", "not_yongjin")
		mustContain(t, out, chs.secureAddr, "not_yongjin")
	})

	for _, p := range procs {
		if p.running() {
			p.stop(t)
		}
		assertNoSecrets(t, p.stderr.String(), ns, chs)
		if strings.Contains(strings.ToLower(p.stderr.String()), "permission") {
			t.Errorf("%s logged a permission problem:\n%s", p.name, grep(p.stderr.String(), "ermission"))
		}
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// runOK runs a command to completion and fails t if it fails.
func runOK(t *testing.T, ctx context.Context, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, tail(string(out), 30))
	}
	return string(out)
}

// waitPolled runs `poller sources` until the source shows a last success,
// while the `poller run` replica keeps running.
func waitPolled(t *testing.T, ctx context.Context, bin string, env, args []string, run *proc) {
	t.Helper()
	for {
		select {
		case <-run.exited():
			err := run.exitError()
			t.Fatalf("poller run exited (%v):\n%s", err, tail(run.stderr.String(), 20))
		default:
		}
		out := runOK(t, ctx, bin, env, args...)
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			// SOURCE VENDOR ACCOUNT PART CHECKPOINT LAST-SUCCESS ...
			if len(f) >= 6 && f[0] == "douke-sec" && f[5] != "-" {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("poller run never completed a poll:\n%s\n%s", out, tail(run.stderr.String(), 20))
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// assertNoSecrets fails t if text holds any password the test handed out.
func assertNoSecrets(t *testing.T, text string, ns *secureNATS, chs *secureClickHouse) {
	t.Helper()
	if i := strings.Index(text, secretPrefix); i >= 0 {
		t.Errorf("a secret leaked: …%s…", text[max(0, i-120):min(len(text), i+60)])
	}
	for _, pw := range append(mapValues(ns.passwords), chs.sinkPassword, chs.adminPassword) {
		if strings.Contains(text, pw) {
			t.Errorf("a password leaked into the output")
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// secureNATS is a nats-server started from deploy/nats/yongjin-server.conf.
type secureNATS struct {
	url       string
	passwords map[string]string // user → password
	log       *traceLog
}

// repoFile is the path of a file of the repository.
func repoFile(rel string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", rel)
}

// startSecureNATS starts an in-process nats-server on loopback TCP from the
// example configuration, with the certificate paths pointed at pki,
// literal passwords in place of the environment references, and mutual
// TLS on. discover lifts every user's permissions and traces the protocol.
func startSecureNATS(t *testing.T, pki *bustest.PKI, discover bool) *secureNATS {
	t.Helper()
	b, err := os.ReadFile(repoFile("deploy/nats/yongjin-server.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := string(b)
	ns := &secureNATS{passwords: map[string]string{}, log: &traceLog{}}
	for from, to := range map[string]string{
		"/etc/nats/tls/server.pem":     pki.ServerCert,
		"/etc/nats/tls/server-key.pem": pki.ServerKey,
		"/etc/nats/tls/ca.pem":         pki.CAFile,
		"# verify: true":               "verify: true",
	} {
		if !strings.Contains(conf, from) {
			t.Fatalf("deploy/nats/yongjin-server.conf no longer holds %q", from)
		}
		conf = strings.ReplaceAll(conf, from, to)
	}
	for _, user := range []string{"poller", "normalizer", "sink", "ops"} {
		ref := "$YONGJIN_" + strings.ToUpper(user) + "_NATS_PASSWORD"
		if !strings.Contains(conf, ref) {
			t.Fatalf("deploy/nats/yongjin-server.conf no longer holds %s", ref)
		}
		ns.passwords[user] = secretPrefix + user + "-" + strconv.FormatInt(time.Now().UnixNano()%1e6, 10)
		conf = strings.ReplaceAll(conf, ref, strconv.Quote(ns.passwords[user]))
	}
	path := filepath.Join(t.TempDir(), "yongjin-server.conf")
	writeFile(t, path, conf)
	o := natsserver.Config{StoreDir: t.TempDir(), ConfigFile: path, Logger: ns.log}
	if discover {
		o.Trace = true
		o.Configure = func(opts *server.Options) {
			for _, u := range opts.Users {
				u.Permissions = nil
			}
		}
	}
	s, err := natsserver.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	addr := s.Addr().(*net.TCPAddr)
	ns.url = fmt.Sprintf("nats://127.0.0.1:%d", addr.Port)
	return ns
}

// connectAs connects as one of the example's users over mutual TLS.
func connectAs(t *testing.T, ns *secureNATS, pki *bustest.PKI, user string) *nats.Conn {
	t.Helper()
	nc, err := bus.Connect(bus.ConnConfig{URL: ns.url, Name: "test-" + user, FirstConnectWait: 5 * time.Second, Auth: bus.Auth{
		User: user, Password: ns.passwords[user], CAFile: pki.CAFile, CertFile: pki.ClientCert, KeyFile: pki.ClientKey}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// waitLetter runs a `dlq list` until it lists a dead letter and returns the
// sequence of the first.
func waitLetter(t *testing.T, ctx context.Context, list func() string) string {
	t.Helper()
	for {
		out := list()
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 0 && f[0] != "SEQ" {
				if _, err := strconv.ParseUint(f[0], 10, 64); err == nil {
					return f[0]
				}
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no dead letter listed:\n%s", out)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// violations are the server's permission violation log lines.
func (ns *secureNATS) violations() []string { return ns.log.matching("Violation") }

// writeDiscovered writes, per client name, the subjects it published to
// and subscribed to, from the protocol trace, generalised the way the
// permissions are written: inboxes, ack subjects, KV keys, ordered
// consumers' generated names and stream subjects become wildcards.
func (ns *secureNATS) writeDiscovered(t *testing.T, path string) {
	t.Helper()
	seen := map[string]map[string]bool{}
	nameRE := regexp.MustCompile(`"v[^"]*:go:([^"]*)"`)
	opRE := regexp.MustCompile(`<<- \[(PUB|HPUB|SUB) (\S+)`)
	for _, l := range ns.log.matching("<<- [") {
		n, op := nameRE.FindStringSubmatch(l), opRE.FindStringSubmatch(l)
		if n == nil || op == nil {
			continue
		}
		if seen[n[1]] == nil {
			seen[n[1]] = map[string]bool{}
		}
		kind := "publish  "
		if op[1] == "SUB" {
			kind = "subscribe"
		}
		seen[n[1]][kind+" "+generalise(op[2])] = true
	}
	var b bytes.Buffer
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		var subs []string
		for s := range seen[n] {
			subs = append(subs, s)
		}
		sort.Strings(subs)
		fmt.Fprintf(&b, "%s\n  %s\n", n, strings.Join(subs, "\n  "))
	}
	writeFile(t, path, b.String())
	t.Logf("subjects written to %s", path)
}

// generalise maps an observed subject to the permission that covers it.
func generalise(subject string) string {
	tok := strings.Split(subject, ".")
	durable := func(name string) bool { return name == "normalizer" || name == "sink" }
	switch {
	case tok[0] == "_INBOX":
		return "_INBOX.>"
	case tok[0] == "yongjin" && len(tok) > 2:
		if tok[1] == "dlq" && len(tok) > 3 {
			return "yongjin.dlq." + tok[2] + ".>"
		}
		return "yongjin." + tok[1] + ".>"
	case tok[0] == "$KV" && len(tok) > 2:
		return "$KV." + tok[1] + ".>"
	case tok[0] == "$JS" && tok[1] == "ACK" && len(tok) > 4:
		return strings.Join(tok[:4], ".") + ".>"
	case strings.HasPrefix(subject, "$JS.API.DIRECT.GET.") && len(tok) > 5:
		return strings.Join(tok[:5], ".") + ".>"
	case strings.HasPrefix(subject, "$JS.API.CONSUMER.MSG.NEXT.") && len(tok) > 6:
		if durable(tok[6]) {
			return subject
		}
		return strings.Join(tok[:6], ".") + ".*"
	case strings.HasPrefix(subject, "$JS.API.CONSUMER.") && len(tok) > 5 && !durable(tok[5]):
		if len(tok) > 6 {
			return strings.Join(tok[:5], ".") + ".*.>" // a name and a filter subject
		}
		return strings.Join(tok[:5], ".") + ".*"
	}
	return subject
}

// traceLog is a server.Logger that keeps the server's lines.
type traceLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *traceLog) add(format string, v []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, v...))
}

func (l *traceLog) matching(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

func (l *traceLog) Noticef(format string, v ...any) { l.add(format, v) }
func (l *traceLog) Warnf(format string, v ...any)   { l.add(format, v) }
func (l *traceLog) Fatalf(format string, v ...any)  { l.add(format, v) }
func (l *traceLog) Errorf(format string, v ...any)  { l.add(format, v) }
func (l *traceLog) Debugf(format string, v ...any)  { l.add(format, v) }
func (l *traceLog) Tracef(format string, v ...any)  { l.add(format, v) }

// secureClickHouse is a private clickhouse-server this test started, with a
// secure native port (the test's certificate) and users that need a
// password: an admin ("default") and the sink's user of
// deploy/clickhouse/users.d/yongjin-sink.xml, who may use only the yongjin
// database (ClickHouse 18.16 has no SQL GRANTs: allow_databases in
// users.xml, as docs/SECURITY.md shows).
type secureClickHouse struct {
	secureAddr, plainAddr   string
	sinkUser, sinkPassword  string
	adminPassword, database string
}

const chUsersXML = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>10000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password_sha256_hex>%s</password_sha256_hex>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile><quota>default</quota>
    </default>
    %s
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// startSecureClickHouse starts the private server and stops it when t ends.
func startSecureClickHouse(t *testing.T, pki *bustest.PKI) *secureClickHouse {
	t.Helper()
	bin, err := exec.LookPath("clickhouse-server")
	if err != nil {
		bin = "/usr/sbin/clickhouse-server"
	}
	var prefix []string
	if _, err := os.Stat(bin); err != nil {
		if p, err := exec.LookPath("clickhouse"); err == nil {
			bin, prefix = p, []string{"server"}
		} else {
			t.Fatal("no clickhouse-server binary: run `make test` (it installs ClickHouse)")
		}
	}
	dir := t.TempDir()
	c := &secureClickHouse{sinkUser: "yongjin_sink", database: "yongjin",
		sinkPassword:  secretPrefix + "ch-sink-" + strconv.Itoa(os.Getpid()),
		adminPassword: secretPrefix + "ch-admin-" + strconv.Itoa(os.Getpid())}
	// the sink's user exactly as deploy/clickhouse/users.d/yongjin-sink.xml defines it
	example, err := os.ReadFile(repoFile("deploy/clickhouse/users.d/yongjin-sink.xml"))
	if err != nil {
		t.Fatal(err)
	}
	xmlComment := regexp.MustCompile(`(?s)<!--.*?-->`)
	sinkUser := regexp.MustCompile(`(?s)<yongjin_sink>.*</yongjin_sink>`).FindString(xmlComment.ReplaceAllString(string(example), ""))
	const placeholder = "REPLACE_WITH_SHA256_HEX_OF_THE_PASSWORD"
	if sinkUser == "" || !strings.Contains(sinkUser, placeholder) || !strings.Contains(sinkUser, "<database>"+c.database+"</database>") {
		t.Fatalf("deploy/clickhouse/users.d/yongjin-sink.xml no longer defines <yongjin_sink> with %s and database %s", placeholder, c.database)
	}
	sinkUser = strings.Replace(sinkUser, placeholder, sha256Hex(c.sinkPassword), 1)
	users := filepath.Join(dir, "users.xml")
	writeFile(t, users, fmt.Sprintf(chUsersXML, sha256Hex(c.adminPassword), sinkUser))
	for _, d := range []string{"data", "tmp", "uf", "fs", "access"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg, _ := os.ReadFile("/etc/clickhouse-server/config.xml")
	active := xmlComment.ReplaceAllString(string(cfg), "")
	var extra []string
	for _, k := range []string{"https_port", "mysql_port", "postgresql_port", "grpc_port", "interserver_https_port", "tcp_with_proxy_port"} {
		if strings.Contains(active, "<"+k+">") {
			extra = append(extra, k)
		}
	}
	ports := make([]string, 4+len(extra))
	for i := range ports {
		ports[i] = strconv.Itoa(testenv.FreePort(t))
	}
	args := append(prefix, "--")
	if len(cfg) > 0 {
		args = append(prefix, "--config-file=/etc/clickhouse-server/config.xml", "--")
	}
	args = append(args,
		"--listen_host=127.0.0.1",
		"--tcp_port="+ports[0], "--http_port="+ports[1], "--interserver_http_port="+ports[2], "--tcp_port_secure="+ports[3],
		"--openSSL.server.certificateFile="+pki.ServerCert, "--openSSL.server.privateKeyFile="+pki.ServerKey,
		"--openSSL.server.dhParamsFile=",
		"--path="+dir+"/data/", "--tmp_path="+dir+"/tmp/", "--user_files_path="+dir+"/uf/", "--format_schema_path="+dir+"/fs/",
		"--logger.log="+dir+"/ch.log", "--logger.errorlog="+dir+"/ch.err",
		"--users_config="+users,
	)
	for i, k := range extra {
		args = append(args, "--"+k+"="+ports[4+i])
	}
	if strings.Contains(active, "<user_directories>") {
		args = append(args, "--user_directories.users_xml.path="+users, "--user_directories.local_directory.path="+dir+"/access/")
	}
	c.plainAddr, c.secureAddr = "127.0.0.1:"+ports[0], "127.0.0.1:"+ports[3]
	out, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start clickhouse-server: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); out.Close(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(time.Minute):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	deadline := time.Now().Add(3 * time.Minute)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		s, err := clickhouse.Open(ctx, clickhouse.Config{Addr: c.secureAddr, CAFile: pki.CAFile, Password: c.adminPassword, DialTimeout: 10 * time.Second})
		cancel()
		if err == nil {
			s.Close()
			return c
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(filepath.Join(dir, "ch.err"))
			t.Fatalf("clickhouse-server exited during start-up:\n%s", tail(string(b), 20))
		default:
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "ch.err"))
			t.Fatalf("clickhouse-server did not answer on %s: %v\n%s", c.secureAddr, err, tail(string(b), 20))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
