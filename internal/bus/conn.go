package bus

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
)

// ConnConfig says how to reach NATS.
type ConnConfig struct {
	// URL is the NATS server URL (nats://127.0.0.1:4222, tls://nats:4222, or
	// a comma-separated list); ignored when InProcess is set. It must not
	// carry credentials: those go in Auth.
	URL string
	// Name is the client connection name shown by the server (e.g. "yongjin-sink").
	Name string
	// InProcess, when set, connects to an embedded server without TCP.
	InProcess nats.InProcessConnProvider
	// Auth is the authentication method and the TLS settings.
	Auth Auth
	// Logger receives connection state changes and the server's asynchronous
	// errors (permission violations).
	Logger *slog.Logger
	// FirstConnectWait bounds the wait for the first connection while the
	// server cannot be reached (default 30 s). Refused credentials and TLS
	// failures are not waited on: they fail at once.
	FirstConnectWait time.Duration
}

// Connect opens a connection that reconnects forever (services must survive a
// NATS restart), logs disconnects and reconnects, and reports the server's
// permission violations (see PermissionError).
//
// The first connection is retried, with backoff and for at most
// FirstConnectWait, only while the server cannot be reached (refused, reset,
// timeouts: it may be starting). Refused credentials, TLS failures
// (x509: certificate signed by unknown authority, ...) and other errors fail
// at once with an error that names the server (URL redacted), the
// authentication method and the reason, and never a secret.
func Connect(cfg ConnConfig) (*nats.Conn, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	url := cfg.URL
	if cfg.InProcess != nil {
		url = ""
	} else if err := CheckURL(url); err != nil {
		return nil, err
	}
	authOpts, err := cfg.Auth.options()
	if err != nil {
		return nil, err
	}
	st := &connState{server: redactURL(url), auth: cfg.Auth.Method(), log: log}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond),
		// Keep reconnecting after the server refused the credentials twice
		// (nats.go would give up and close): a long-running service recovers
		// once the server or the mounted credentials are fixed.
		nats.IgnoreAuthErrorAbort(),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err != nil && !nc.IsClosed() && !nc.IsDraining() {
				log.Warn("nats disconnected, reconnecting", "server", st.server, "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("nats reconnected", "server", nc.ConnectedUrlRedacted()) }),
		nats.ReconnectErrHandler(st.onReconnectError),
		nats.ErrorHandler(st.onAsyncError),
		nats.ClosedHandler(func(nc *nats.Conn) { states.Delete(nc) }),
	}
	opts = append(opts, authOpts...)
	if cfg.InProcess != nil {
		opts = append(opts, nats.InProcessServer(cfg.InProcess))
	}
	wait := cfg.FirstConnectWait
	if wait == 0 {
		wait = 30 * time.Second
	}
	deadline := time.Now().Add(wait)
	pause := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		nc, err := nats.Connect(url, opts...)
		if err == nil {
			states.Store(nc, st)
			return nc, nil
		}
		if !isUnreachable(err) {
			return nil, describeConnectError(url, cfg.Auth, err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			hint := ""
			if strings.Contains(err.Error(), "TLS handshake") {
				hint = " (a server that closes the connection right after the TLS handshake may require a client certificate: --nats-cert, --nats-key)"
			}
			return nil, fmt.Errorf("nats server %s not reachable after %s: %w%s", redactURL(url), wait, sanitizeErr(err), hint)
		}
		if attempt == 1 {
			log.Warn("nats server not reachable yet, retrying", "server", st.server, "for", wait.String(), "err", sanitizeErr(err))
		}
		time.Sleep(min(pause, left))
		pause = min(pause*2, 2*time.Second)
	}
}

// CheckURL refuses a NATS URL (or list of URLs) that carries credentials:
// a URL given as a flag shows in ps and in logs. The error tells where the
// credentials go instead and does not repeat them.
func CheckURL(u string) error {
	for _, s := range strings.Split(u, ",") {
		_, rest, ok := strings.Cut(strings.TrimSpace(s), "://")
		if !ok {
			rest = strings.TrimSpace(s)
		}
		if strings.Contains(rest, "@") {
			return fmt.Errorf("nats URL %s carries credentials, which would show in ps and in logs: "+
				"put the user in $%s and the password in $%s or the file named by $%s_FILE "+
				"(a token in $%s or $%s_FILE), or use --nats-creds / --nats-nkey",
				redactURL(u), EnvNATSUser, EnvNATSPassword, EnvNATSPassword, EnvNATSToken, EnvNATSToken)
		}
	}
	return nil
}

// isUnreachable reports errors that mean the server could not be reached
// (yet): worth retrying while it starts. Refused credentials and TLS
// failures are not.
func isUnreachable(err error) bool {
	if isAuthError(err) || isTLSFailure(err) || errors.Is(err, nats.ErrSecureConnRequired) || errors.Is(err, nats.ErrSecureConnWanted) {
		return false
	}
	if errors.Is(err, nats.ErrNoServers) || errors.Is(err, nats.ErrTimeout) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.ETIMEDOUT, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENETDOWN, syscall.EHOSTDOWN} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		var op *net.OpError
		// A dial, DNS or socket error; not a TLS alert the server sent.
		return !errors.As(err, &op) || op.Op != "remote error"
	}
	return false
}

// authErrors are the server's refusals of a connection's credentials.
var authErrors = []error{nats.ErrAuthorization, nats.ErrAuthExpired, nats.ErrAuthRevoked, nats.ErrAccountAuthExpired}

func isAuthError(err error) bool { return authError(err) != nil }

// authError returns the nats.go sentinel err matches (the server's own text
// varies in case: "Authorization Violation"), or nil.
func authError(err error) error {
	for _, e := range authErrors {
		if errors.Is(err, e) {
			return e
		}
	}
	return nil
}

// isTLSFailure reports a failed certificate verification (either side) or a
// TLS protocol mismatch.
func isTLSFailure(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
	)
	if errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &record) {
		return true
	}
	// A TLS alert from the server (a client certificate it did not accept)
	// reaches nats.go as a *net.OpError "remote error" around an unexported type.
	msg := err.Error()
	return strings.Contains(msg, "x509: ") || strings.Contains(msg, "remote error: tls: ")
}

// describeConnectError turns a failed first connection into an error that
// names the server, the authentication method and the reason, with a hint.
func describeConnectError(u string, a Auth, err error) error {
	server := redactURL(u)
	err = sanitizeErr(err)
	switch {
	case isAuthError(err):
		hint := ""
		if a.Method() == "none" {
			hint = fmt.Sprintf("; the server requires authentication: set $%s and $%s (or _FILE), $%s, --nats-creds or --nats-nkey",
				EnvNATSUser, EnvNATSPassword, EnvNATSToken)
		}
		return fmt.Errorf("nats server %s refused the credentials (%s): %w%s", server, a.Method(), authError(err), hint)
	case isTLSFailure(err):
		hint := ""
		var unknown x509.UnknownAuthorityError
		if a.CAFile == "" && (errors.As(err, &unknown) || strings.Contains(err.Error(), "unknown authority")) {
			hint = "; set --nats-ca to the CA file that signs the server's certificate"
		}
		if strings.Contains(err.Error(), "certificate required") || strings.Contains(err.Error(), "bad certificate") {
			if a.CertFile == "" {
				hint = "; the server requires a client certificate: set --nats-cert and --nats-key"
			} else {
				hint = "; the server did not accept the client certificate " + a.CertFile
			}
		}
		return fmt.Errorf("nats server %s: TLS failed (%s): %w%s", server, a.TLS(), err, hint)
	case errors.Is(err, nats.ErrSecureConnRequired):
		return fmt.Errorf("nats server %s requires TLS: set --nats-ca (or use a tls:// URL): %w", server, err)
	case errors.Is(err, nats.ErrSecureConnWanted):
		return fmt.Errorf("nats server %s does not offer TLS, but --nats-ca/--nats-cert or a tls:// URL ask for it: %w", server, err)
	}
	return connectError(u, err)
}

// sanitizeErr replaces a URL parse error (which quotes the URL, password
// included) by a fixed text.
func sanitizeErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return errors.New("invalid server URL")
	}
	return err
}

// connectError describes a failed Connect without credentials: the URL is
// redacted, and a URL parse error (which quotes the URL, or a piece of it,
// password included) is replaced by a fixed text.
func connectError(u string, err error) error {
	return fmt.Errorf("connect to nats %s: %w", redactURL(u), sanitizeErr(err))
}

// redactURL hides the user information of every server in u, a NATS URL or a
// comma-separated list of them, without parsing: the URL that reaches an
// error message is often one that does not parse (an unescaped '%' in a
// password), and nats.go accepts URLs without a scheme.
func redactURL(u string) string {
	if u == "" {
		return "(in-process)"
	}
	servers := strings.Split(u, ",")
	for i, s := range servers {
		prefix, rest, ok := strings.Cut(s, "://")
		if !ok {
			prefix, rest = "", s
		} else {
			prefix += "://"
		}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			servers[i] = prefix + "[REDACTED]" + rest[at:]
		}
	}
	return strings.Join(servers, ",")
}

// states maps each connection Connect opened to its state.
var states sync.Map // *nats.Conn → *connState

func stateOf(nc *nats.Conn) *connState {
	if nc == nil {
		return nil
	}
	if v, ok := states.Load(nc); ok {
		return v.(*connState)
	}
	return nil
}

// connState is what Connect keeps per connection: the server and method for
// messages, and the watchers waiting for the server's permission violations.
type connState struct {
	server string
	auth   string
	log    *slog.Logger

	mu       sync.Mutex
	watchers map[*watcher]struct{}
	lastLog  map[string]time.Time // reconnect error text → when it was last logged
}

// onAsyncError handles the server's asynchronous errors: a permission
// violation is logged with the server and subject and handed to the
// watchers; anything else is logged as a warning.
func (s *connState) onAsyncError(_ *nats.Conn, sub *nats.Subscription, err error) {
	if pe := s.permissionError(err); pe != nil {
		s.log.Error("nats permission denied", "server", s.server, "auth", s.auth, "op", pe.Op, "subject", pe.Subject)
		s.mu.Lock()
		for w := range s.watchers {
			w.offer(pe)
		}
		s.mu.Unlock()
		return
	}
	args := []any{"server", s.server, "err", err}
	if sub != nil {
		args = append(args, "subject", sub.Subject)
	}
	s.log.Warn("nats error", args...)
}

// onReconnectError logs a failed reconnect that is not about reaching the
// server (refused credentials, TLS), at most once a minute per reason: a
// disconnect is logged already, and a server that is down fails every
// attempt.
func (s *connState) onReconnectError(_ *nats.Conn, err error) {
	if err == nil || isUnreachable(err) {
		return
	}
	msg := err.Error()
	now := time.Now()
	s.mu.Lock()
	if s.lastLog == nil {
		s.lastLog = map[string]time.Time{}
	}
	last := s.lastLog[msg]
	if now.Sub(last) >= time.Minute {
		s.lastLog[msg] = now
	}
	s.mu.Unlock()
	if now.Sub(last) >= time.Minute {
		s.log.Error("nats reconnect refused", "server", s.server, "auth", s.auth, "err", sanitizeErr(err))
	}
}
