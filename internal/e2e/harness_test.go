package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/testenv"
)

// This file is the one process harness of the e2e tests and the chaos suite
// (chaos_test.go, build tag chaos): build the real binaries, start them,
// signal, kill, restart and stop them, and read what they wrote.

// repoRoot is the repository's root directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// buildBinaries compiles the commands into a temporary directory.
func buildBinaries(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := goBuild(dir, names...); err != nil {
		t.Fatal(err)
	}
	return dir
}

// goBuild compiles ./cmd/<name> for each name, or a package path when name
// contains a dot (github.com/nats-io/nats-server/v2), into dir.
func goBuild(dir string, names ...string) error {
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	for _, n := range names {
		if !strings.Contains(n, ".") {
			n = "./cmd/" + n
		}
		args = append(args, n)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = repoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// freeAddr is "127.0.0.1:PORT" for a free loopback port.
func freeAddr(t *testing.T) string { return testenv.FreeAddr(t) }

// proc is one child process of a test: a real binary. Started by start its
// stderr is kept in memory (stderr); with a logPath its stdout and stderr
// are appended to that file instead, across restarts. A watcher notices
// every exit: one the test caused (signal, kill, stop) is expected; any
// other is recorded as unexpected and, while supervise is on, the process is
// started again so that a long run can go on (and fail at the end).
type proc struct {
	name     string
	bin      string
	logPath  string              // "": stderr goes to stderr
	stderr   *testenv.SyncBuffer // the stderr of every start when logPath is ""
	stdout   *testenv.SyncBuffer // the stdout of every start when logPath is "" (nil: discarded)
	lines    chan string         // if set, every stderr line too, as it comes; closed when the process ends (one start only)
	ownGroup bool                // own process group: a terminal's Ctrl-C reaches only the test, which stops its children
	logf     func(format string, a ...any)

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

// start starts bin with args (env on top of the test's) and kills it, if
// still running, when t ends; on failure it logs the tail of its stderr.
func start(t *testing.T, bin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: filepath.Base(bin), bin: bin, stderr: &testenv.SyncBuffer{}}
	p.setArgs(args, env)
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.running() {
			_, _ = p.kill()
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", p.name, tail(p.stderr.String(), 30))
		}
	})
	return p
}

// startPiped is start with stdout kept too and every stderr line sent to
// p.lines as it comes, for tests that follow a process's progress.
func startPiped(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: filepath.Base(bin), bin: bin, stderr: &testenv.SyncBuffer{}, stdout: &testenv.SyncBuffer{}, lines: make(chan string, 1024)}
	p.setArgs(args, nil)
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.running() {
			_, _ = p.kill()
		}
	})
	return p
}

// lineWriter copies a process's stderr to w and sends each complete line
// to lines (blocking: the reader keeps up or the process waits).
type lineWriter struct {
	w       io.Writer
	lines   chan<- string
	partial []byte
}

func (l *lineWriter) Write(b []byte) (int, error) {
	n, err := l.w.Write(b)
	l.partial = append(l.partial, b...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.lines <- string(l.partial[:i])
		l.partial = l.partial[i+1:]
	}
	return n, err
}

// close sends a last unterminated line and closes lines.
func (l *lineWriter) close() {
	if len(l.partial) > 0 {
		l.lines <- string(l.partial)
	}
	close(l.lines)
}

// setArgs sets the arguments and extra environment of the next start.
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
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	var f *os.File
	if p.logPath != "" {
		var err error
		if f, err = os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
			return err
		}
		cmd.Stdout, cmd.Stderr = f, f
	} else {
		cmd.Stdout, cmd.Stderr = io.Discard, p.stderr
		if p.stdout != nil {
			cmd.Stdout = p.stdout
		}
		if p.lines != nil {
			cmd.Stderr = &lineWriter{w: p.stderr, lines: p.lines}
		}
	}
	if p.ownGroup {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	p.starts++
	if f != nil {
		fmt.Fprintf(f, "=== chaos: start #%d of %s at %s\n", p.starts, p.name, time.Now().UTC().Format(time.RFC3339Nano))
	}
	if err := cmd.Start(); err != nil {
		if f != nil {
			f.Close()
		}
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.exitErr, p.expectExit = cmd, done, nil, false
	go p.watch(cmd, done, f)
	return nil
}

func (p *proc) watch(cmd *exec.Cmd, done chan struct{}, f *os.File) {
	err := cmd.Wait()
	if lw, ok := cmd.Stderr.(*lineWriter); ok {
		lw.close() // Wait has copied all of stderr
	}
	if f != nil {
		fmt.Fprintf(f, "=== chaos: %s (pid %d) exited: %v\n", p.name, cmd.Process.Pid, exitText(err))
		f.Close()
	}
	p.mu.Lock()
	p.exitErr = err
	close(done)
	if p.expectExit || p.cmd != cmd {
		p.mu.Unlock()
		return
	}
	msg := fmt.Sprintf("%s (pid %d) exited on its own (%s); last log line: %s", p.name, cmd.Process.Pid, exitText(err), p.lastLine())
	p.unexpected = append(p.unexpected, msg)
	restart := p.supervise
	p.mu.Unlock()
	p.report("UNEXPECTED: %s", msg)
	if restart {
		time.Sleep(time.Second) // a crash loop must not spin; nothing to wait on
		p.mu.Lock()
		if p.supervise && p.cmd == cmd {
			if err := p.startLocked(); err != nil {
				p.report("restarting %s: %v", p.name, err)
			} else {
				p.report("%s restarted after its unexpected exit (pid %d)", p.name, p.cmd.Process.Pid)
			}
		}
		p.mu.Unlock()
	}
}

func (p *proc) report(format string, a ...any) {
	if p.logf != nil {
		p.logf(format, a...)
	}
}

// exited is closed when the current run of the process ends.
func (p *proc) exited() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// exitError is the exit error of the last run that ended (nil: status 0).
func (p *proc) exitError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitErr
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

// kill SIGKILLs the process (an expected exit) and waits for it to end.
func (p *proc) kill() (int, error) {
	pid, _, err := p.signal(syscall.SIGKILL, 10*time.Second)
	return pid, err
}

// terminate sends SIGTERM and requires a clean exit (status 0) within wait.
func (p *proc) terminate(wait time.Duration) error {
	p.setSupervise(false)
	pid, exitErr, err := p.signal(syscall.SIGTERM, wait)
	if err != nil {
		return err
	}
	if exitErr != nil {
		return fmt.Errorf("%s (pid %d) exited with %s after SIGTERM; last log line: %s", p.name, pid, exitText(exitErr), p.lastLine())
	}
	return nil
}

// stop sends SIGTERM and requires a clean exit (within 3 minutes, a bound
// only so that a process that ignores SIGTERM fails the test).
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.terminate(3 * time.Minute); err != nil {
		t.Fatalf("%v\n%s", err, tail(p.output(), 20))
	}
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

// pid is the process ID of the last start (0: never started).
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

// counts returns how often the process was started and SIGKILLed, and its
// unexpected exits.
func (p *proc) counts() (starts, kills int, unexpected []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts, p.kills, append([]string(nil), p.unexpected...)
}

// shutdown stops the process whatever its state: SIGTERM, then SIGKILL
// after wait.
func (p *proc) shutdown(wait time.Duration) {
	p.setSupervise(false)
	if p.running() {
		_, _, _ = p.signal(syscall.SIGTERM, wait)
	}
}

// output is what the process wrote: its stderr, or the end of its log file.
func (p *proc) output() string {
	if p.logPath == "" {
		return p.stderr.String()
	}
	b, _ := tailBytes(p.logPath, 256<<10)
	return string(b)
}

// lastLine is the last non-empty output line that is not a harness marker
// (at most 300 bytes).
func (p *proc) lastLine() string {
	var s string
	if p.logPath == "" {
		s = p.stderr.String()
	} else {
		b, err := tailBytes(p.logPath, 64<<10)
		if err != nil {
			return "(no log)"
		}
		s = string(b)
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
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

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
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

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
