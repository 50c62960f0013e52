// Package natsserver runs an embedded NATS JetStream server (the nats-server
// Go module) for the all-in-one dev mode and the tests. Production points the
// services at a NATS cluster instead.
package natsserver

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Config configures the embedded server.
type Config struct {
	// StoreDir holds the JetStream file store; it must be set (a restart with
	// the same dir keeps every stream and consumer).
	StoreDir string
	// Host and Port to listen on; Port 0 picks a free port, -1 disables TCP
	// (in-process connections only).
	Host string
	Port int
	// ConfigFile, if set, is a nats-server configuration file (such as
	// deploy/nats/yongjin-server.conf) the server starts from: its TLS,
	// users, accounts and permissions apply. StoreDir, Host and Port above
	// override its listen address and JetStream store, and JetStream is
	// always on.
	ConfigFile string
	// Configure, if set, adjusts the server options last (after ConfigFile),
	// e.g. to add TLS or users in tests.
	Configure func(*server.Options)
	// Logger, if set, receives the server's log; Debug and Trace turn on its
	// debug and protocol trace lines (every PUB and SUB with its subject).
	Logger       server.Logger
	Debug, Trace bool
}

// Start starts a JetStream-enabled server and waits until it accepts
// connections.
func Start(o Config) (*server.Server, error) {
	if o.StoreDir == "" {
		return nil, errors.New("embedded nats: StoreDir is required")
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	opts := &server.Options{}
	if o.ConfigFile != "" {
		var err error
		if opts, err = server.ProcessConfigFile(o.ConfigFile); err != nil {
			// The parser's errors name the file, line and key, never a value.
			return nil, fmt.Errorf("embedded nats: config %s: %w", o.ConfigFile, err)
		}
	}
	if opts.ServerName == "" {
		opts.ServerName = "yongjin-embedded"
	}
	opts.Host, opts.Port = o.Host, o.Port
	opts.JetStream, opts.StoreDir = true, o.StoreDir
	opts.NoLog, opts.NoSigs = o.Logger == nil, true
	opts.Debug, opts.Trace = o.Debug, o.Trace
	switch o.Port {
	case 0:
		opts.Port = server.RANDOM_PORT
	case -1:
		opts.DontListen = true
	}
	if o.Configure != nil {
		o.Configure(opts)
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	if o.Logger != nil {
		s.SetLogger(o.Logger, o.Debug, o.Trace)
	}
	s.Start()
	// generous: a loaded machine (tests beside other work, CI) can take
	// seconds to start JetStream and recover its store
	const readyWait = 2 * time.Minute
	if !s.ReadyForConnections(readyWait) {
		s.Shutdown()
		return nil, fmt.Errorf("embedded nats: not ready after %s", readyWait)
	}
	return s, nil
}
