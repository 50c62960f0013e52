package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is one of the suite's child processes (a real binary). Its stdout and
// stderr are appended to its log file, across restarts. A watcher notices
// every exit: one the suite caused (kill, stop) is expected; any other is
// recorded as unexpected and, while the supervisor is on, the process is
// started again so the run can go on (the run then fails).
type proc struct {
	name    string
	bin     string
	logPath string
	r       *runner

	mu         sync.Mutex
	args       []string
	env        []string
	cmd        *exec.Cmd
	done       chan struct{}
	exitErr    error
	expectExit bool
	supervise  bool
	starts     int
	kills      int
	unexpected []string
}

func (p *proc) setArgs(args, env []string) {
	p.mu.Lock()
	p.args, p.env = args, env
	p.mu.Unlock()
}

// start starts the process (it must not be running).
func (p *proc) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.startLocked()
}

func (p *proc) startLocked() error {
	if p.cmd != nil {
		select {
		case <-p.done:
		default:
			return fmt.Errorf("%s is already running (pid %d)", p.name, p.cmd.Process.Pid)
		}
	}
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = f, f
	// Own process group: a Ctrl-C on the suite's terminal reaches the suite,
	// which then stops its children itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.starts++
	fmt.Fprintf(f, "=== chaos: start #%d of %s at %s\n", p.starts, p.name, time.Now().UTC().Format(time.RFC3339Nano))
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.exitErr, p.expectExit = cmd, done, nil, false
	go p.watch(cmd, done, f)
	return nil
}

func (p *proc) watch(cmd *exec.Cmd, done chan struct{}, f *os.File) {
	err := cmd.Wait()
	fmt.Fprintf(f, "=== chaos: %s (pid %d) exited: %v\n", p.name, cmd.Process.Pid, exitText(err))
	f.Close()
	p.mu.Lock()
	p.exitErr = err
	close(done)
	if p.expectExit || p.cmd != cmd {
		p.mu.Unlock()
		return
	}
	msg := fmt.Sprintf("%s (pid %d) exited on its own (%s); last log line: %s", p.name, cmd.Process.Pid, exitText(err), lastLine(p.logPath))
	p.unexpected = append(p.unexpected, msg)
	restart := p.supervise
	p.mu.Unlock()
	p.r.logf("UNEXPECTED: %s", msg)
	if restart {
		time.Sleep(time.Second)
		p.mu.Lock()
		if p.supervise && p.cmd == cmd {
			if err := p.startLocked(); err != nil {
				p.r.logf("restarting %s: %v", p.name, err)
			} else {
				p.r.logf("%s restarted after its unexpected exit (pid %d)", p.name, p.cmd.Process.Pid)
			}
		}
		p.mu.Unlock()
	}
}

// signal sends sig to the running process and waits (bounded) for it to
// exit; the exit is expected. It returns the process's exit error.
func (p *proc) signal(sig syscall.Signal, wait time.Duration) (pid int, exitErr error, err error) {
	p.mu.Lock()
	if p.cmd == nil {
		p.mu.Unlock()
		return 0, nil, fmt.Errorf("%s was never started", p.name)
	}
	cmd, done := p.cmd, p.done
	select {
	case <-done:
		p.mu.Unlock()
		return cmd.Process.Pid, p.exitErr, fmt.Errorf("%s is not running", p.name)
	default:
	}
	p.expectExit = true
	if sig == syscall.SIGKILL {
		p.kills++
	}
	p.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return cmd.Process.Pid, nil, fmt.Errorf("signal %s: %w", p.name, err)
	}
	select {
	case <-done:
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		<-done
		p.mu.Lock()
		defer p.mu.Unlock()
		return cmd.Process.Pid, p.exitErr, fmt.Errorf("%s (pid %d) did not exit within %s of %s; killed", p.name, cmd.Process.Pid, wait, sig)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return cmd.Process.Pid, p.exitErr, nil
}

// kill SIGKILLs the process (an expected exit).
func (p *proc) kill() (int, error) {
	pid, _, err := p.signal(syscall.SIGKILL, 10*time.Second)
	return pid, err
}

// stop sends SIGTERM and requires a clean exit (status 0) within wait.
func (p *proc) stop(wait time.Duration) error {
	p.mu.Lock()
	p.supervise = false
	p.mu.Unlock()
	pid, exitErr, err := p.signal(syscall.SIGTERM, wait)
	if err != nil {
		return err
	}
	if exitErr != nil {
		return fmt.Errorf("%s (pid %d) exited with %s after SIGTERM; last log line: %s", p.name, pid, exitText(exitErr), lastLine(p.logPath))
	}
	return nil
}

// running reports whether the process is alive.
func (p *proc) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

func (p *proc) setSupervise(on bool) {
	p.mu.Lock()
	p.supervise = on
	p.mu.Unlock()
}

func (p *proc) counts() (starts, kills int, unexpected []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts, p.kills, append([]string(nil), p.unexpected...)
}

// shutdown stops the process at the end of the run, whatever its state:
// SIGTERM, then SIGKILL after wait.
func (p *proc) shutdown(wait time.Duration) {
	p.setSupervise(false)
	if p.running() {
		_, _, _ = p.signal(syscall.SIGTERM, wait)
	}
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// lastLine is the last non-empty line of a log file that is not a chaos
// marker (at most 300 bytes).
func lastLine(path string) string {
	b, err := tailBytes(path, 64<<10)
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l != "" && !strings.HasPrefix(l, "=== chaos:") {
			if len(l) > 300 {
				l = l[:300] + "…"
			}
			return l
		}
	}
	return "(empty log)"
}

func tailBytes(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > n {
		if _, err := f.Seek(st.Size()-n, io.SeekStart); err != nil {
			return nil, err
		}
	}
	return io.ReadAll(f)
}

// tailLines returns the last n lines of a log file.
func tailLines(path string, n int) []string {
	b, err := tailBytes(path, 256<<10)
	if err != nil {
		return nil
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}
