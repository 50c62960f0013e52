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

// Options configure the embedded server.
type Options struct {
	// StoreDir holds the JetStream file store; it must be set (a restart with
	// the same dir keeps every stream and consumer).
	StoreDir string
	// Host and Port to listen on; Port 0 picks a free port, -1 disables TCP
	// (in-process connections only).
	Host string
	Port int
}

// Start starts a JetStream-enabled server and waits until it accepts
// connections.
func Start(o Options) (*server.Server, error) {
	if o.StoreDir == "" {
		return nil, errors.New("embedded nats: StoreDir is required")
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	opts := &server.Options{
		ServerName: "yongjin-embedded",
		Host:       o.Host,
		Port:       o.Port,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		NoLog:      true,
		NoSigs:     true,
	}
	switch o.Port {
	case 0:
		opts.Port = server.RANDOM_PORT
	case -1:
		opts.DontListen = true
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, errors.New("embedded nats: not ready after 10s")
	}
	return s, nil
}
