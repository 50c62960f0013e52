package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ZooKeeper of the OS package (`zookeeper`, installed by scripts/test.sh via
// scripts/clickhouse.sh ensure-cluster): its jar names its dependencies.
const (
	zooKeeperJar  = "/usr/share/java/zookeeper.jar"
	zooKeeperMain = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
)

// ClusterName is the cluster a ClickHouseCluster's servers know, in their
// remote_servers.
const ClusterName = "yongjin_test"

// ClickHouseCluster is a ClickHouse cluster this test started: a ZooKeeper
// server and shards × replicas clickhouse-server processes (macros {shard}
// = 01, 02, ... and {replica} = r1, r2, ... numbered across the cluster),
// every one on free loopback ports with its data in the test's temporary
// directory. Servers can be stopped and started again on the same data and
// ports.
type ClickHouseCluster struct {
	// Name is the cluster's name in remote_servers (ClusterName).
	Name     string
	replicas []*clusterReplica
	zk       *proc
}

type clusterReplica struct {
	addr string
	dir  string
	bin  []string
	args []string
	mu   sync.Mutex
	p    *proc
}

// proc is a process the cluster started, in its own process group.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func startProc(dir, logName string, name string, args ...string) (*proc, error) {
	out, err := os.OpenFile(filepath.Join(dir, logName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = serverProcAttr()
	if err := spawn(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// stop sends SIGTERM to the process group and waits for the exit (SIGKILL
// after a minute).
func (p *proc) stop() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

// StartClickHouseCluster starts ZooKeeper and a cluster of shards shards of
// replicas replicas each for t, and stops them when t ends. It fails t,
// never skips it, when ZooKeeper (Java and the OS package) or
// clickhouse-server is missing or a server does not come up.
func StartClickHouseCluster(t testing.TB, shards, replicas int) *ClickHouseCluster {
	t.Helper()
	n := shards * replicas
	bin, err := findClickHouse()
	if err != nil {
		t.Fatalf("testenv: cluster: %v", err)
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Fatalf("testenv: cluster: java not found; ZooKeeper needs it: run `make test` or `scripts/clickhouse.sh ensure-cluster` (installs the zookeeper package)")
	}
	if _, err := os.Stat(zooKeeperJar); err != nil {
		t.Fatalf("testenv: cluster: %s missing: run `make test` or `scripts/clickhouse.sh ensure-cluster` (installs the zookeeper package)", zooKeeperJar)
	}
	root := t.TempDir()
	c := &ClickHouseCluster{Name: ClusterName}
	t.Cleanup(func() {
		if t.Failed() {
			for _, r := range c.replicas {
				t.Logf("testenv: cluster replica %s, last lines of ch.err and stdout.log:\n%s\n%s", r.addr,
					tail(filepath.Join(r.dir, "ch.err"), 25), tail(filepath.Join(r.dir, "stdout.log"), 10))
			}
		}
		c.stopAll()
	})

	// ZooKeeper, standalone.
	zkDir := filepath.Join(root, "zk")
	if err := os.MkdirAll(filepath.Join(zkDir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	ports, err := FreePorts(1 + 3*n)
	if err != nil {
		t.Fatalf("testenv: cluster ports: %v", err)
	}
	zkPort := ports[0]
	zoo := fmt.Sprintf("tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\nmaxClientCnxns=0\n4lw.commands.whitelist=srvr,ruok\n",
		filepath.Join(zkDir, "data"), zkPort)
	if err := os.WriteFile(filepath.Join(zkDir, "zoo.cfg"), []byte(zoo), 0o644); err != nil {
		t.Fatal(err)
	}
	c.zk, err = startProc(zkDir, "zookeeper.log", java,
		"-Xmx256m", "-Dzookeeper.log.dir="+zkDir, "-Dzookeeper.root.logger=INFO,CONSOLE",
		"-Dlog4j.configuration=file:/etc/zookeeper/conf/log4j.properties",
		"-cp", "/etc/zookeeper/conf:"+zooKeeperJar, zooKeeperMain, filepath.Join(zkDir, "zoo.cfg"))
	if err != nil {
		t.Fatalf("testenv: cluster: zookeeper: %v", err)
	}
	zkAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(zkPort))
	if err := waitZooKeeper(c.zk, zkAddr, 2*time.Minute); err != nil {
		t.Fatalf("testenv: cluster: zookeeper on %s: %v\n%s", zkAddr, err, tail(filepath.Join(zkDir, "zookeeper.log"), 30))
	}

	var remote strings.Builder
	for sh := 0; sh < shards; sh++ {
		remote.WriteString("<shard><internal_replication>true</internal_replication>")
		for r := 0; r < replicas; r++ {
			fmt.Fprintf(&remote, "<replica><host>127.0.0.1</host><port>%d</port></replica>", ports[1+3*(sh*replicas+r)])
		}
		remote.WriteString("</shard>")
	}
	for i := 0; i < n; i++ {
		tcp, http, inter := ports[1+3*i], ports[2+3*i], ports[3+3*i]
		dir := filepath.Join(root, fmt.Sprintf("r%d", i+1))
		for _, d := range []string{"data", "tmp", "uf", "fs"} {
			if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		cfg := fmt.Sprintf(clusterConfigXML, dir, tcp, http, inter, zkPort, ClusterName, remote.String(), i+1, i/replicas+1)
		if err := os.WriteFile(filepath.Join(dir, "config.xml"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(clusterUsersXML), 0o644); err != nil {
			t.Fatal(err)
		}
		r := &clusterReplica{
			addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp)), dir: dir, bin: bin,
			args: append(append([]string(nil), bin[1:]...), "--config-file="+filepath.Join(dir, "config.xml")),
		}
		c.replicas = append(c.replicas, r)
		if err := r.start(); err != nil {
			t.Fatalf("testenv: cluster: %v", err)
		}
	}
	return c
}

// Addrs are the servers' native-protocol addresses, shard by shard.
func (c *ClickHouseCluster) Addrs() []string {
	out := make([]string, len(c.replicas))
	for i, r := range c.replicas {
		out[i] = r.addr
	}
	return out
}

// StopReplica stops replica i (SIGTERM, waiting for it to exit).
func (c *ClickHouseCluster) StopReplica(t testing.TB, i int) {
	t.Helper()
	r := c.replicas[i]
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p != nil {
		r.p.stop()
		r.p = nil
	}
}

// StartReplica starts replica i again on its data and ports and waits until
// it answers.
func (c *ClickHouseCluster) StartReplica(t testing.TB, i int) {
	t.Helper()
	if err := c.replicas[i].start(); err != nil {
		t.Fatalf("testenv: cluster: %v", err)
	}
}

func (r *clusterReplica) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.p != nil {
		return nil
	}
	p, err := startProc(r.dir, "stdout.log", r.bin[0], r.args...)
	if err != nil {
		return fmt.Errorf("clickhouse-server %s: %w", r.addr, err)
	}
	r.p = p
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case <-p.exited:
			r.p = nil
			return fmt.Errorf("clickhouse-server %s exited during start-up:\n%s\n%s", r.addr,
				tail(filepath.Join(r.dir, "ch.err"), 20), tail(filepath.Join(r.dir, "stdout.log"), 10))
		default:
		}
		err := pingClickHouse(context.Background(), r.addr, 2*time.Second)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("clickhouse-server %s did not answer within 2m: %v\n%s", r.addr, err, tail(filepath.Join(r.dir, "ch.err"), 20))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (c *ClickHouseCluster) stopAll() {
	for _, r := range c.replicas {
		r.mu.Lock()
		if r.p != nil {
			r.p.stop()
			r.p = nil
		}
		r.mu.Unlock()
	}
	if c.zk != nil {
		c.zk.stop()
	}
}

// waitZooKeeper waits until the ZooKeeper at addr serves requests (its
// "srvr" command reports a mode; a listening ZooKeeper still starting
// closes its clients' connections, which ClickHouse 18.16 does not survive)
// or p exits.
func waitZooKeeper(p *proc, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-p.exited:
			return errors.New("exited during start-up")
		default:
		}
		out, err := zkCommand(addr, "srvr")
		if err == nil && strings.Contains(out, "Mode: ") {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("srvr answered %q", out)
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// zkCommand sends a four-letter command to ZooKeeper and returns its answer.
func zkCommand(addr, cmd string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte(cmd)); err != nil {
		return "", err
	}
	b, err := io.ReadAll(conn)
	return string(b), err
}

// clusterConfigXML is a replica's whole server configuration (18.16 and
// current releases read the <yandex> root): directory, tcp, http and
// interserver ports, ZooKeeper port, cluster name, the cluster's shards, the
// server's number and its shard's number.
const clusterConfigXML = `<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>%[1]s/ch.log</log>
        <errorlog>%[1]s/ch.err</errorlog>
        <size>100M</size>
        <count>2</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>%[2]d</tcp_port>
    <http_port>%[3]d</http_port>
    <interserver_http_port>%[4]d</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <path>%[1]s/data/</path>
    <tmp_path>%[1]s/tmp/</tmp_path>
    <user_files_path>%[1]s/uf/</user_files_path>
    <format_schema_path>%[1]s/fs/</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <max_concurrent_queries>100</max_concurrent_queries>
    <mark_cache_size>268435456</mark_cache_size>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <zookeeper>
        <node><host>127.0.0.1</host><port>%[5]d</port></node>
        <session_timeout_ms>30000</session_timeout_ms>
    </zookeeper>
    <remote_servers>
        <%[6]s>%[7]s</%[6]s>
    </remote_servers>
    <macros>
        <shard>%02[9]d</shard>
        <replica>r%[8]d</replica>
    </macros>
    <distributed_ddl>
        <path>/clickhouse/task_queue/ddl</path>
    </distributed_ddl>
</yandex>
`

// clusterUsersXML: the default user without a password, loopback only.
const clusterUsersXML = `<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
`
