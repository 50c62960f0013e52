package bus

// Connection security against real nats-server instances (in-process, on
// loopback TCP): every authentication method, TLS verification, the errors
// of each way to get them wrong, and permission violations.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nkeys"

	"github.com/yongjin-dev/yongjin/internal/bus/bustest"
	"github.com/yongjin-dev/yongjin/internal/natsserver"
)

const secret = "sentinel-secret-b7f3"

// startServer runs a JetStream server on a free loopback port with the
// options configure sets and returns its client URL.
func startServer(t *testing.T, configure func(*server.Options)) string {
	t.Helper()
	s, err := natsserver.Start(natsserver.Config{StoreDir: t.TempDir(), Configure: configure})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return "nats://" + s.Addr().(*net.TCPAddr).String()
}

// logWatch is a log destination that records whether any line held what it
// watches for, and closes seen at the first such line.
type logWatch struct {
	what string
	once sync.Once
	seen chan struct{}
}

func newLogWatch(what string) *logWatch { return &logWatch{what: what, seen: make(chan struct{})} }

func (w *logWatch) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.what) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *logWatch) logger() *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// mustFailFast connects with cfg, requires an error that holds every want
// and no secret, given up at the first attempt (Connect retries only a
// server it cannot reach), and returns it.
func mustFailFast(t *testing.T, cfg ConnConfig, want ...string) error {
	t.Helper()
	return mustFail(t, cfg, false, want...)
}

// mustFail is mustFailFast, allowing retries if mayRetry.
func mustFail(t *testing.T, cfg ConnConfig, mayRetry bool, want ...string) error {
	t.Helper()
	retried := newLogWatch("retrying")
	cfg.Logger = retried.logger()
	nc, err := Connect(cfg)
	if err == nil {
		nc.Close()
		t.Fatal("Connect succeeded; want an error")
	}
	select {
	case <-retried.seen:
		if !mayRetry {
			t.Errorf("Connect retried before failing with %v; want it to fail at once", err)
		}
	default:
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q holds a secret", err)
	}
	return err
}

func mustConnect(t *testing.T, cfg ConnConfig) *nats.Conn {
	t.Helper()
	nc, err := Connect(cfg)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func TestConnectUserPasswordAndNKey(t *testing.T) {
	ukp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	upub, _ := ukp.PublicKey()
	seed, _ := ukp.Seed()
	dir := t.TempDir()
	seedFile := filepath.Join(dir, "user.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	other, _ := nkeys.CreateUser()
	otherSeed, _ := other.Seed()
	otherFile := filepath.Join(dir, "other.nk")
	if err := os.WriteFile(otherFile, otherSeed, 0o600); err != nil {
		t.Fatal(err)
	}
	url := startServer(t, func(o *server.Options) {
		o.Users = []*server.User{{Username: "svc", Password: secret}}
		o.Nkeys = []*server.NkeyUser{{Nkey: upub}}
	})

	mustConnect(t, ConnConfig{URL: url, Auth: Auth{User: "svc", Password: secret}})
	mustConnect(t, ConnConfig{URL: url, Auth: Auth{NKeyFile: seedFile}})

	err = mustFailFast(t, ConnConfig{URL: url, Auth: Auth{User: "svc", Password: secret + "-wrong"}},
		url, "authorization violation", `user "svc"`)
	if !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("%v does not match nats.ErrAuthorization", err)
	}
	mustFailFast(t, ConnConfig{URL: url}, url, "authorization violation", "(none)", EnvNATSUser)
	mustFailFast(t, ConnConfig{URL: url, Auth: Auth{NKeyFile: otherFile}}, url, "authorization violation", "nkey seed file "+otherFile)
	mustFailFast(t, ConnConfig{URL: url, Auth: Auth{NKeyFile: filepath.Join(dir, "missing.nk")}}, "--nats-nkey", "missing.nk")
}

func TestConnectToken(t *testing.T) {
	url := startServer(t, func(o *server.Options) { o.Authorization = secret })
	mustConnect(t, ConnConfig{URL: url, Auth: Auth{Token: secret}})
	mustFailFast(t, ConnConfig{URL: url, Auth: Auth{Token: secret + "x"}}, url, "authorization violation", "(token)")
}

// A .creds file (decentralised JWT auth): the server trusts an operator, the
// account is signed by it and the user by the account.
func TestConnectCredsFile(t *testing.T) {
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	oc.Name = "test-operator"
	if _, err := oc.Encode(okp); err != nil {
		t.Fatal(err)
	}
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	ajwt, err := jwt.NewAccountClaims(apub).Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	resolver := &server.MemAccResolver{}
	if err := resolver.Store(apub, ajwt); err != nil {
		t.Fatal(err)
	}
	writeCreds := func(name string, signer nkeys.KeyPair) string {
		ukp, _ := nkeys.CreateUser()
		upub, _ := ukp.PublicKey()
		uc := jwt.NewUserClaims(upub)
		if signer != akp {
			uc.IssuerAccount = apub
		}
		ujwt, err := uc.Encode(signer)
		if err != nil {
			t.Fatal(err)
		}
		seed, _ := ukp.Seed()
		creds, err := jwt.FormatUserConfig(ujwt, seed)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), name+".creds")
		if err := os.WriteFile(path, creds, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := writeCreds("good", akp)
	rogue, _ := nkeys.CreateAccount()
	bad := writeCreds("bad", rogue) // signed by an account the server does not know

	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true,
		TrustedOperators: []*jwt.OperatorClaims{oc}, AccountResolver: resolver})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(2 * time.Minute) {
		t.Fatal("server not ready")
	}
	url := s.ClientURL()
	mustConnect(t, ConnConfig{URL: url, Auth: Auth{CredsFile: good}})
	mustFailFast(t, ConnConfig{URL: url, Auth: Auth{CredsFile: bad}}, url, "authorization violation", "credentials file "+bad)
	mustFailFast(t, ConnConfig{URL: url, Auth: Auth{CredsFile: good + ".missing"}}, "--nats-creds")
}

func TestConnectTLS(t *testing.T) {
	pki := bustest.NewPKI(t)
	serverTLS := func(verify bool) func(*server.Options) {
		return func(o *server.Options) {
			cert, err := tls.LoadX509KeyPair(pki.ServerCert, pki.ServerKey)
			if err != nil {
				t.Fatal(err)
			}
			pool, err := LoadCAFile(pki.CAFile)
			if err != nil {
				t.Fatal(err)
			}
			o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, MinVersion: tls.VersionTLS12}
			if verify {
				o.TLSConfig.ClientAuth = tls.RequireAndVerifyClientCert
				o.TLSVerify = true
			}
			o.TLS, o.TLSTimeout = true, 30 // seconds; generous for a loaded machine
			o.Users = []*server.User{{Username: "svc", Password: secret}}
		}
	}
	url := startServer(t, serverTLS(false))
	mtls := startServer(t, serverTLS(true))
	auth := Auth{User: "svc", Password: secret, CAFile: pki.CAFile}

	nc := mustConnect(t, ConnConfig{URL: url, Auth: auth})
	if st, err := nc.TLSConnectionState(); err != nil || !st.HandshakeComplete {
		t.Fatalf("not a TLS connection: %v", err)
	}
	withCert := auth
	withCert.CertFile, withCert.KeyFile = pki.ClientCert, pki.ClientKey
	mustConnect(t, ConnConfig{URL: mtls, Auth: withCert})

	noCA := auth
	noCA.CAFile = ""
	err := mustFailFast(t, ConnConfig{URL: url, Auth: noCA}, url, "x509: certificate signed by unknown authority", "--nats-ca")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("%v does not wrap x509.UnknownAuthorityError", err)
	}
	otherCA := auth
	otherCA.CAFile = pki.OtherCAFile
	mustFailFast(t, ConnConfig{URL: url, Auth: otherCA}, url, "x509: certificate signed by unknown authority", pki.OtherCAFile)
	// the certificate is for 127.0.0.1, ::1 and localhost, not for 127.0.0.2
	if l, err := net.Listen("tcp", "127.0.0.2:0"); err == nil { // the whole of 127/8 is loopback on Linux
		l.Close()
		s, err := natsserver.Start(natsserver.Config{StoreDir: t.TempDir(), Host: "127.0.0.2", Configure: serverTLS(false)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Shutdown)
		other := "nats://" + s.Addr().(*net.TCPAddr).String()
		mustFailFast(t, ConnConfig{URL: other, Auth: auth}, other, "x509: certificate is valid for", "not 127.0.0.2")
	}
	// with TLS 1.3 the client may first see only the server closing the
	// connection after the handshake, which looks like a server going away
	// and is retried until the alert itself arrives
	mustFail(t, ConnConfig{URL: mtls, Auth: auth}, true, mtls, "certificate required", "--nats-cert")

	plain := startServer(t, func(o *server.Options) {})
	mustFailFast(t, ConnConfig{URL: plain, Auth: Auth{CAFile: pki.CAFile}}, plain, "does not offer TLS")
}

func TestConnectRefusesCredentialsInURL(t *testing.T) {
	for _, u := range []string{
		"nats://svc:" + secret + "@127.0.0.1:4222",
		"tls://" + secret + "@nats:4222",
		"nats://h1:4222,nats://svc:" + secret + "@h2:4222",
		"svc:" + secret + "@h:4222",
	} {
		err := mustFailFast(t, ConnConfig{URL: u}, "carries credentials", EnvNATSPassword, "[REDACTED]")
		if CheckURL(u) == nil {
			t.Errorf("CheckURL(%q) accepted credentials", u)
		}
		_ = err
	}
	for _, u := range []string{"nats://127.0.0.1:4222", "tls://nats.example:4222,nats://10.0.0.1:4222", "127.0.0.1:4222"} {
		if err := CheckURL(u); err != nil {
			t.Errorf("CheckURL(%q) = %v", u, err)
		}
	}
}

// A server that is not there yet is waited for, up to FirstConnectWait.
func TestConnectWaitsForUnreachableServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	url := "nats://127.0.0.1:" + strconv.Itoa(port)
	began := time.Now()
	_, err = Connect(ConnConfig{URL: url, FirstConnectWait: 700 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "not reachable after 700ms") || !strings.Contains(err.Error(), url) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(began); d < 700*time.Millisecond {
		t.Errorf("gave up after %s; want it to wait the whole 700ms", d)
	}

	// the server comes up while Connect waits: it is started once Connect
	// has logged its first failed attempt
	retrying := newLogWatch("retrying")
	dir := t.TempDir()
	started := make(chan *server.Server, 1)
	go func() {
		<-retrying.seen
		s, err := natsserver.Start(natsserver.Config{StoreDir: dir, Port: port})
		if err != nil {
			t.Error(err)
		}
		started <- s
	}()
	mustConnect(t, ConnConfig{URL: url, FirstConnectWait: 5 * time.Minute, Logger: retrying.logger()})
	if s := <-started; s != nil {
		s.Shutdown()
	}
}

// A denied subject fails the operation at once with a *PermissionError that
// names the server, the subject and the user, instead of a timeout.
func TestPermissionViolations(t *testing.T) {
	url := startServer(t, func(o *server.Options) {
		o.Users = []*server.User{
			{Username: "admin", Password: secret},
			{Username: "limited", Password: secret, Permissions: &server.Permissions{
				Publish: &server.SubjectPermission{Allow: []string{"ok.>",
					"$JS.API.STREAM.INFO.OPEN", "$JS.API.CONSUMER.CREATE.OPEN.>", "$JS.API.CONSUMER.INFO.OPEN.>"}},
				Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>"}},
			}},
			{Username: "noinbox", Password: secret, Permissions: &server.Permissions{
				Publish:   &server.SubjectPermission{Allow: []string{">"}},
				Subscribe: &server.SubjectPermission{Allow: []string{"nothing"}},
			}},
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := mustConnect(t, ConnConfig{URL: url, Auth: Auth{User: "admin", Password: secret}})
	ajs, _ := jetstream.New(admin)
	if _, err := EnsureStream(ctx, ajs, jetstream.StreamConfig{Name: "OPEN", Subjects: []string{"ok.>", "denied.>"}}); err != nil {
		t.Fatal(err)
	}
	nc := mustConnect(t, ConnConfig{URL: url, Auth: Auth{User: "limited", Password: secret}})
	js, _ := jetstream.New(nc)

	check := func(name string, err error, subject string) {
		t.Helper()
		var pe *PermissionError
		if !errors.As(err, &pe) || !errors.Is(err, nats.ErrPermissionViolation) {
			t.Fatalf("%s: err = %v; want a *PermissionError", name, err)
		}
		if pe.Subject != subject || pe.Op != "publish" {
			t.Errorf("%s: denied %s %q; want publish %q", name, pe.Op, pe.Subject, subject)
		}
		for _, w := range []string{url, "permissions violation for publish to", `"` + subject + `"`, `user "limited"`} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", name, err, w)
			}
		}
	}
	// each denied operation must fail by itself, not wait for the context
	// to end (a timeout is what the violation would look like otherwise)
	timed := func(name string, f func() error) error {
		t.Helper()
		err := f()
		if ctx.Err() != nil {
			t.Errorf("%s ended with the test's context (%v); want an immediate failure", name, err)
		}
		return err
	}
	noRetry := func(err error) { t.Errorf("a denied publish was retried: %v", err) }

	if err := PublishSync(ctx, js, nats.NewMsg("ok.1"), "id-1", nil); err != nil {
		t.Fatalf("permitted publish: %v", err)
	}
	check("PublishSync", timed("PublishSync", func() error {
		return PublishSync(ctx, js, &nats.Msg{Subject: "denied.1", Data: []byte("x")}, "id-2", noRetry)
	}), "denied.1")
	check("PublishAll", timed("PublishAll", func() error {
		return PublishAll(ctx, js, []*nats.Msg{{Subject: "ok.2", Header: nats.Header{nats.MsgIdHdr: {"a"}}},
			{Subject: "denied.2", Header: nats.Header{nats.MsgIdHdr: {"b"}}}}, noRetry)
	}), "denied.2")
	check("EnsureStream", timed("EnsureStream", func() error {
		_, err := EnsureStream(ctx, js, jetstream.StreamConfig{Name: "OTHER", Subjects: []string{"other.>"}})
		return err
	}), "$JS.API.STREAM.UPDATE.OTHER")
	// EnsureConsumer waits for a missing stream, but not for a permission
	check("EnsureConsumer", timed("EnsureConsumer", func() error {
		_, err := EnsureConsumer(ctx, js, "OTHER", ConsumerOptions{Durable: "c"}, nil)
		return err
	}), "$JS.API.CONSUMER.CREATE.OTHER.c")
	if _, err := EnsureConsumer(ctx, js, "OPEN", ConsumerOptions{Durable: "c"}, nil); err != nil {
		t.Fatalf("permitted consumer: %v", err)
	}

	// without the reply inbox no request is ever answered: say so
	ni := mustConnect(t, ConnConfig{URL: url, Auth: Auth{User: "noinbox", Password: secret}})
	njs, _ := jetstream.New(ni)
	err := timed("no inbox", func() error {
		_, err := EnsureStream(ctx, njs, jetstream.StreamConfig{Name: "OPEN", Subjects: []string{"ok.>", "denied.>"}})
		return err
	})
	var pe *PermissionError
	if !errors.As(err, &pe) || pe.Op != "subscription" || !strings.HasPrefix(pe.Subject, "_INBOX.") {
		t.Fatalf("no inbox: err = %v; want a subscription *PermissionError on _INBOX", err)
	}
}

func TestAuthValidate(t *testing.T) {
	tests := []struct {
		name string
		a    Auth
		want string // "" = valid
	}{
		{"none", Auth{}, ""},
		{"user and password", Auth{User: "u", Password: "p"}, ""},
		{"password without user", Auth{Password: "p"}, EnvNATSUser + " is not"},
		{"user without password", Auth{User: "u"}, EnvNATSPassword},
		{"two methods", Auth{Token: "t", CredsFile: "x.creds"}, "more than one authentication method"},
		{"cert without key", Auth{CertFile: "c.pem"}, "--nats-cert and --nats-key"},
		{"tls with creds", Auth{CredsFile: "x.creds", CAFile: "ca.pem", CertFile: "c", KeyFile: "k"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.a.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate = %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate = %v; want %q", err, tc.want)
			}
		})
	}
}

func TestAuthFromEnv(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvNATSUser, "svc")
	t.Setenv(EnvNATSPassword+"_FILE", pw)
	var a Auth
	if err := a.FromEnv(); err != nil {
		t.Fatal(err)
	}
	if a.User != "svc" || a.Password != secret || a.Token != "" {
		t.Fatalf("FromEnv = %q/%q/%q", a.User, a.Password, a.Token)
	}
	if m := a.Method(); strings.Contains(m, secret) || !strings.Contains(m, "svc") {
		t.Errorf("Method() = %q", m)
	}
	t.Setenv(EnvNATSPassword+"_FILE", filepath.Join(dir, "missing"))
	a = Auth{}
	if err := a.FromEnv(); err == nil || !strings.Contains(err.Error(), EnvNATSPassword+"_FILE") {
		t.Errorf("FromEnv with a missing file = %v", err)
	}
}
