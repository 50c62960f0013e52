package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is the kernel's USER_HZ, the unit of utime and stime in
// /proc/PID/stat (100 on every Linux this runs on).
const clockTicks = 100

// proc is one child process of the bench (a real binary), its output
// appended to a log file.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// startProc starts bin with args (and extra environment), output to
// logDir/name.log.
func startProc(name, bin, logDir string, args, env []string) (*proc, error) {
	path := filepath.Join(logDir, name+".log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	fmt.Fprintf(f, "=== bench: %s %s at %s\n", bin, strings.Join(args, " "), time.Now().UTC().Format(time.RFC3339Nano))
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: path, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits (SIGKILL after wait).
func (p *proc) stop(wait time.Duration) {
	if p == nil || p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(wait):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// runProc runs bin to completion, output to the log; it fails on a non-zero exit.
func runProc(name, bin, logDir string, args, env []string) error {
	_, err := runUsage(name, bin, logDir, args, env)
	return err
}

// runUsage is runProc that also returns the finished process's resource usage
// (CPU time, peak RSS).
func runUsage(name, bin, logDir string, args, env []string) (*syscall.Rusage, error) {
	p, err := startProc(name, bin, logDir, args, env)
	if err != nil {
		return nil, err
	}
	<-p.done
	if p.err != nil {
		return nil, fmt.Errorf("%s %s: %w (see %s)", bin, strings.Join(args, " "), p.err, p.log)
	}
	ru, _ := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return ru, nil
}

// cpuTime is the CPU time (user + system, every thread) process pid has
// used so far, from /proc/PID/stat.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: fields count from its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// peakRSS is the process's peak resident set (VmHWM) in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status VmHWM %q: %w", pid, rest, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmHWM", pid)
}

// cpuMeter measures the CPU time a set of processes spend between start and
// stop.
type cpuMeter struct {
	pids  map[string]int
	start map[string]time.Duration
	used  map[string]time.Duration
}

func newCPUMeter() *cpuMeter {
	return &cpuMeter{pids: map[string]int{}, start: map[string]time.Duration{}, used: map[string]time.Duration{}}
}

// add starts measuring pid under name (a pid of 0 is ignored).
func (m *cpuMeter) add(name string, pid int) {
	if pid <= 0 {
		return
	}
	t, err := cpuTime(pid)
	if err != nil {
		return
	}
	m.pids[name], m.start[name] = pid, t
}

// stop records every process's CPU time since add.
func (m *cpuMeter) stop() {
	for name, pid := range m.pids {
		if t, err := cpuTime(pid); err == nil {
			m.used[name] = t - m.start[name]
		}
	}
}

// copyDir copies the directory tree src to dst (which must not exist).
func copyDir(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := exec.Command("cp", "-a", src, dst).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cp -a %s %s: %v: %s", src, dst, err, out)
	}
	return nil
}
