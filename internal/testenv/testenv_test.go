package testenv

import (
	"errors"
	"io"
	"net"
	"os"
	"reflect"
	"testing"
	"time"
)

func TestOptionalPortKeys(t *testing.T) {
	// 18.16's config.xml: the extra listeners are commented out.
	old := activeConfig(`<yandex><http_port>8123</http_port><tcp_port>9000</tcp_port>
	<!-- <https_port>8443</https_port>
	<tcp_port_secure>9440</tcp_port_secure> -->
	<interserver_http_port>9009</interserver_http_port></yandex>`)
	if got := optionalPortKeys(old); len(got) != 0 {
		t.Errorf("18.16-style config: extra ports %v, want none", got)
	}
	// A current release's config.xml enables MySQL and PostgreSQL ports.
	cur := activeConfig(`<clickhouse><tcp_port>9000</tcp_port><mysql_port>9004</mysql_port>
	<postgresql_port>9005</postgresql_port><!-- <grpc_port>9100</grpc_port> -->
	<prometheus><endpoint>/metrics</endpoint><port>9363</port></prometheus></clickhouse>`)
	if got, want := optionalPortKeys(cur), []string{"mysql_port", "postgresql_port", "prometheus.port"}; !reflect.DeepEqual(got, want) {
		t.Errorf("current config: extra ports %v, want %v", got, want)
	}
}

func TestProxyStopStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // an echo server
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	p := NewProxy(t, ln.Addr().String())
	echo := func() error {
		c, err := net.DialTimeout("tcp", p.Addr(), time.Minute)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Minute)) // only so that a broken proxy fails the test
		if _, err := c.Write([]byte("ping")); err != nil {
			return err
		}
		b := make([]byte, 4)
		_, err = io.ReadFull(c, b)
		return err
	}
	if err := echo(); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	held, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	// a round trip proves the proxy accepted and pipes it
	held.SetDeadline(time.Now().Add(time.Minute))
	if _, err := held.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(held, make([]byte, 1)); err != nil {
		t.Fatalf("held connection: %v", err)
	}
	p.Stop()
	if err := echo(); err == nil {
		t.Fatal("proxy stopped, yet a connection went through")
	}
	// Stop must close it: a read that only times out means it survived
	if _, err := held.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("an open connection survived Stop (read: %v)", err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := echo(); err != nil {
		t.Fatalf("after Start: %v", err)
	}
}
