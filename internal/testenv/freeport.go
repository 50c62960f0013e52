package testenv

import (
	"fmt"
	"net"
	"testing"
)

// FreePorts returns n distinct loopback TCP ports that nothing listened on a
// moment ago (each was bound, all at once, and released). It is the tree's
// one free-port helper: tests, the chaos suite and cmd/bench use it for the
// servers and processes they start on 127.0.0.1.
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testenv: free loopback port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// FreePort returns one free loopback TCP port (see FreePorts); it fails t
// when none can be had.
func FreePort(t testing.TB) int {
	t.Helper()
	ports, err := FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	return ports[0]
}

// FreeAddr returns "127.0.0.1:PORT" for a free loopback TCP port (see
// FreePorts); it fails t when none can be had.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", FreePort(t))
}
