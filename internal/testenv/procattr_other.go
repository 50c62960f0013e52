//go:build !linux

package testenv

import "syscall"

// serverProcAttr puts the server in its own process group. Outside Linux
// there is no parent-death signal: a test binary killed without running
// Main's cleanup leaves the server running until the next run's stale-server
// cleanup.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
