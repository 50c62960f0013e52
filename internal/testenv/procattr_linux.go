package testenv

import "syscall"

// serverProcAttr puts the server in its own process group (so a terminal's
// Ctrl-C reaches the test binary, which then stops it cleanly) and has the
// kernel kill it if the test binary dies without running Main's cleanup
// (a test timeout panic, SIGKILL).
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
