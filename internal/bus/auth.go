package bus

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/yongjin-dev/yongjin/internal/cli"
)

// Environment variables that carry NATS secrets. Each can also be given as
// a file (the variable name plus _FILE, e.g. YONGJIN_NATS_PASSWORD_FILE), the
// form a Kubernetes Secret or a Docker secret is mounted in. Secrets are never
// flags: a flag value shows in ps and in /proc.
const (
	EnvNATSUser     = "YONGJIN_NATS_USER"
	EnvNATSPassword = "YONGJIN_NATS_PASSWORD"
	EnvNATSToken    = "YONGJIN_NATS_TOKEN"
)

// Auth says how a client authenticates to NATS and secures the connection.
// At most one authentication method is set: a credentials file (JWT and
// NKEY seed, decentralised auth), an NKEY seed file, a user and password, or
// a token. TLS is independent of the method: CAFile turns it on with server
// verification against that CA, CertFile and KeyFile add a client
// certificate (mutual TLS). A tls:// server URL turns TLS on with the
// system's roots.
type Auth struct {
	// CredsFile is a .creds file (user JWT and NKEY seed), as nsc writes it.
	CredsFile string
	// NKeyFile is a file holding a user NKEY seed (SU...).
	NKeyFile string
	// User and Password authenticate with a user name and password.
	User, Password string
	// Token authenticates with a token.
	Token string
	// CAFile is a PEM file of the CAs that sign the server's certificate;
	// setting it turns TLS on (with verification; it is never skipped).
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and its key, for
	// servers that verify clients (mutual TLS).
	CertFile, KeyFile string
}

// RegisterFlags defines the NATS authentication and TLS flags on fs. They
// name files only: the secrets themselves come from the environment (see
// FromEnv).
func (a *Auth) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&a.CredsFile, "nats-creds", "", "NATS user credentials file (.creds: JWT and NKEY seed)")
	fs.StringVar(&a.NKeyFile, "nats-nkey", "", "NATS user NKEY seed file")
	fs.StringVar(&a.CAFile, "nats-ca", "", "PEM file of the CA that signs the NATS server certificate; turns TLS on with verification")
	fs.StringVar(&a.CertFile, "nats-cert", "", "PEM client certificate for NATS mutual TLS (with --nats-key)")
	fs.StringVar(&a.KeyFile, "nats-key", "", "PEM private key of --nats-cert")
}

// FromEnv reads the user, password and token from $YONGJIN_NATS_USER,
// $YONGJIN_NATS_PASSWORD and $YONGJIN_NATS_TOKEN, or from the files their
// _FILE variants name. Values already set are kept.
func (a *Auth) FromEnv() error {
	for _, s := range []struct {
		env string
		dst *string
	}{{EnvNATSUser, &a.User}, {EnvNATSPassword, &a.Password}, {EnvNATSToken, &a.Token}} {
		if *s.dst != "" {
			continue
		}
		v, err := cli.Secret(s.env)
		if err != nil {
			return fmt.Errorf("nats credentials: %w", err)
		}
		*s.dst = v
	}
	return nil
}

// Validate reports a contradictory or incomplete configuration.
func (a Auth) Validate() error {
	var methods []string
	if a.CredsFile != "" {
		methods = append(methods, "--nats-creds")
	}
	if a.NKeyFile != "" {
		methods = append(methods, "--nats-nkey")
	}
	if a.User != "" || a.Password != "" {
		methods = append(methods, EnvNATSUser+"/"+EnvNATSPassword)
	}
	if a.Token != "" {
		methods = append(methods, EnvNATSToken)
	}
	var errs []error
	if len(methods) > 1 {
		errs = append(errs, fmt.Errorf("more than one authentication method given (%s): choose one", strings.Join(methods, ", ")))
	}
	if a.Password != "" && a.User == "" {
		errs = append(errs, fmt.Errorf("%s is set but %s is not", EnvNATSPassword, EnvNATSUser))
	}
	if a.User != "" && a.Password == "" {
		errs = append(errs, fmt.Errorf("%s is set but %s (or %s_FILE) is not", EnvNATSUser, EnvNATSPassword, EnvNATSPassword))
	}
	if (a.CertFile == "") != (a.KeyFile == "") {
		errs = append(errs, errors.New("--nats-cert and --nats-key go together"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("nats auth: %w", err)
	}
	return nil
}

// Method names the authentication method for logs and errors, without any
// secret: "credentials file /etc/yongjin/poller.creds", `user "poller"`,
// "token", "nkey seed file ..." or "none".
func (a Auth) Method() string {
	switch {
	case a.CredsFile != "":
		return "credentials file " + a.CredsFile
	case a.NKeyFile != "":
		return "nkey seed file " + a.NKeyFile
	case a.User != "":
		return fmt.Sprintf("user %q with password", a.User)
	case a.Token != "":
		return "token"
	}
	return "none"
}

// TLS describes the TLS settings for logs and errors. Without a CA file TLS
// is used when the URL is tls:// or the server requires it, verified
// against the system's roots.
func (a Auth) TLS() string {
	switch {
	case a.CAFile != "" && a.CertFile != "":
		return "CA file " + a.CAFile + ", client certificate " + a.CertFile
	case a.CAFile != "":
		return "CA file " + a.CAFile
	case a.CertFile != "":
		return "system roots, client certificate " + a.CertFile
	}
	return "system roots"
}

// options turns a into nats.go options. Files are read here, so a missing or
// unreadable file fails at once with the flag that names it.
func (a Auth) options() ([]nats.Option, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	var opts []nats.Option
	switch {
	case a.CredsFile != "":
		if err := readable("--nats-creds", a.CredsFile); err != nil {
			return nil, err
		}
		opts = append(opts, nats.UserCredentials(a.CredsFile))
	case a.NKeyFile != "":
		if err := readable("--nats-nkey", a.NKeyFile); err != nil {
			return nil, err
		}
		o, err := nats.NkeyOptionFromSeed(a.NKeyFile)
		if err != nil {
			// nats.go's errors here never quote the seed.
			return nil, fmt.Errorf("nats auth: --nats-nkey %s: %w", a.NKeyFile, err)
		}
		opts = append(opts, o)
	case a.User != "":
		opts = append(opts, nats.UserInfo(a.User, a.Password))
	case a.Token != "":
		opts = append(opts, nats.Token(a.Token))
	}
	if a.CAFile != "" || a.CertFile != "" {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if a.CAFile != "" {
			pool, err := LoadCAFile(a.CAFile)
			if err != nil {
				return nil, fmt.Errorf("nats auth: --nats-ca: %w", err)
			}
			cfg.RootCAs = pool
		}
		if a.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(a.CertFile, a.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("nats auth: --nats-cert %s / --nats-key %s: %w", a.CertFile, a.KeyFile, err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, nats.Secure(cfg))
	}
	return opts, nil
}

// LoadCAFile reads a PEM file of CA certificates into a pool.
func LoadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", path)
	}
	return pool, nil
}

func readable(flagName, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("nats auth: %s: %w", flagName, err)
	}
	return f.Close()
}
