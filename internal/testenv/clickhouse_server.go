package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ClickHouseConfig is the configuration file of the OS package; the private
// server uses it with its ports and directories overridden.
const ClickHouseConfig = "/etc/clickhouse-server/config.xml"

// clickHouseStartTimeout bounds waiting for a private server to answer.
const clickHouseStartTimeout = 3 * time.Minute

// tempPrefix names the temporary directories of private servers.
const tempPrefix = "yongjin-clickhouse-"

// server is a clickhouse-server process this test binary started.
type server struct {
	addr   string
	dir    string
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
}

var (
	serversMu sync.Mutex
	servers   []*server
)

func registerServer(s *server) {
	serversMu.Lock()
	defer serversMu.Unlock()
	servers = append(servers, s)
}

// StopServers stops every server testenv started and removes their data.
// Main calls it after the tests; call it yourself only if you do not use Main.
func StopServers() {
	serversMu.Lock()
	defer serversMu.Unlock()
	for _, s := range servers {
		s.stop()
	}
	servers = nil
}

func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		// The server runs in its own process group; signal the group.
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
	}
	_ = os.RemoveAll(s.dir)
}

// findClickHouse returns the command that runs a ClickHouse server: the
// clickhouse-server binary (OS package) or "clickhouse server" (single binary).
func findClickHouse() ([]string, error) {
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return []string{p}, nil
	}
	for _, p := range []string{"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server", "/usr/local/bin/clickhouse-server"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return []string{p}, nil
		}
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return []string{p, "server"}, nil
	}
	return nil, errors.New("no clickhouse-server binary found (looked in PATH, /usr/sbin, /usr/bin, /usr/local/bin).\n" +
		"Integration tests need a real ClickHouse server: run `make test` (it installs and starts one), or run " +
		"`scripts/clickhouse.sh start` and then `export " + EnvClickHouseAddr + "=$(scripts/clickhouse.sh addr)`, " +
		"or point " + EnvClickHouseAddr + " at your own ClickHouse")
}

// startClickHouse starts a private server on free loopback ports, retrying
// with other ports if one was taken between choosing and binding it.
func startClickHouse() (*server, error) {
	bin, err := findClickHouse()
	if err != nil {
		return nil, err
	}
	cleanStale()
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := startOnce(bin)
		if err == nil {
			return s, nil
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	return nil, lastErr
}

var errPortTaken = errors.New("port already in use")

func startOnce(bin []string) (*server, error) {
	dir, err := os.MkdirTemp("", tempPrefix)
	if err != nil {
		return nil, fmt.Errorf("clickhouse-server: temp dir: %w", err)
	}
	fail := func(err error) (*server, error) {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fail(fmt.Errorf("clickhouse-server: %w", err))
	}
	for _, d := range []string{"data", "tmp", "uf", "fs", "access"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fail(fmt.Errorf("clickhouse-server: %w", err))
		}
	}

	cfgText := ""
	var args []string
	args = append(args, bin[1:]...)
	if b, err := os.ReadFile(ClickHouseConfig); err == nil {
		cfgText = activeConfig(string(b))
		args = append(args, "--config-file="+ClickHouseConfig)
	}
	extra := optionalPortKeys(cfgText)
	ports, err := FreePorts(3 + len(extra))
	if err != nil {
		return fail(fmt.Errorf("clickhouse-server: choose ports: %w", err))
	}
	args = append(args, "--",
		"--listen_host=127.0.0.1",
		"--tcp_port="+strconv.Itoa(ports[0]),
		"--http_port="+strconv.Itoa(ports[1]),
		"--interserver_http_port="+strconv.Itoa(ports[2]),
		"--path="+dir+"/data/",
		"--tmp_path="+dir+"/tmp/",
		"--user_files_path="+dir+"/uf/",
		"--format_schema_path="+dir+"/fs/",
		"--logger.log="+dir+"/ch.log",
		"--logger.errorlog="+dir+"/ch.err",
	)
	for i, k := range extra {
		args = append(args, "--"+k+"="+strconv.Itoa(ports[3+i]))
	}
	if strings.Contains(cfgText, "<local_directory>") {
		args = append(args, "--user_directories.local_directory.path="+dir+"/access/")
	}

	out, err := os.Create(filepath.Join(dir, "stdout.log"))
	if err != nil {
		return fail(fmt.Errorf("clickhouse-server: %w", err))
	}
	defer out.Close()
	cmd := exec.Command(bin[0], args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = serverProcAttr()
	if err := spawn(cmd); err != nil {
		return fail(fmt.Errorf("clickhouse-server: start %s: %w", bin[0], err))
	}
	s := &server{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])), dir: dir, cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.exited) }()
	_ = os.WriteFile(filepath.Join(dir, "server.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)

	deadline := time.Now().Add(clickHouseStartTimeout)
	for {
		select {
		case <-s.exited:
			logs := tail(filepath.Join(dir, "ch.err"), 20) + "\n" + tail(filepath.Join(dir, "stdout.log"), 20)
			_ = os.RemoveAll(dir)
			if strings.Contains(logs, "Address already in use") {
				return nil, fmt.Errorf("clickhouse-server exited: %w:\n%s", errPortTaken, logs)
			}
			return nil, fmt.Errorf("clickhouse-server (%s) exited during start-up: %s\nlast log lines:\n%s",
				strings.Join(bin, " "), cmd.ProcessState, logs)
		default:
		}
		if err := pingClickHouse(context.Background(), s.addr, 2*time.Second); err == nil {
			return s, nil
		} else if time.Now().After(deadline) {
			logs := tail(filepath.Join(dir, "ch.err"), 20)
			s.stop()
			return nil, fmt.Errorf("clickhouse-server on %s did not answer within %s: %v\nlast lines of ch.err:\n%s",
				s.addr, clickHouseStartTimeout, err, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

var commentRE = regexp.MustCompile(`(?s)<!--.*?-->`)

// activeConfig strips XML comments, leaving the settings in force.
func activeConfig(xml string) string { return commentRE.ReplaceAllString(xml, "") }

// optionalPortKeys lists the listening ports, beyond tcp/http/interserver,
// that the configuration enables (current releases enable the MySQL and
// PostgreSQL ports, 18.16 knows neither): each must move off its default so
// it cannot collide with another server.
func optionalPortKeys(cfg string) []string {
	var keys []string
	for _, k := range []string{"https_port", "tcp_port_secure", "mysql_port", "postgresql_port", "grpc_port",
		"interserver_https_port", "tcp_with_proxy_port"} {
		if strings.Contains(cfg, "<"+k+">") {
			keys = append(keys, k)
		}
	}
	if regexp.MustCompile(`(?s)<prometheus>.*?<port>`).MatchString(cfg) {
		keys = append(keys, "prometheus.port")
	}
	return keys
}

// spawn starts cmd from one OS thread that stays alive for the life of the
// process, so that Pdeathsig (tied to the parent thread on Linux) fires only
// when the test binary itself exits.
func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnCh = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for r := range spawnCh {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error)
	spawnCh <- spawnReq{cmd: cmd, done: done}
	return <-done
}

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

var (
	spawnOnce sync.Once
	spawnCh   chan spawnReq
)

// cleanStale removes the directories (and, if still alive, the servers) of
// private servers whose test binary died without cleaning up.
func cleanStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, d := range dirs {
		owner := readPid(filepath.Join(d, "owner.pid"))
		if owner == 0 || alive(owner) {
			continue
		}
		if pid := readPid(filepath.Join(d, "server.pid")); pid > 0 && alive(pid) {
			if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(cmdline), d) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		_ = os.RemoveAll(d)
	}
}

func readPid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
