package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func runSandbox(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunHelp(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		code, out, _ := runSandbox(t, arg)
		if code != 0 {
			t.Fatalf("sandbox %s: exit %d", arg, code)
		}
		for _, want := range []string{"run ", "help ", "/douke/kol_OrderAds", "/_sandbox/clock", "--seed (default 1)", "--clock (default 2026-11-10 00:00:00)", "YONGJIN_SANDBOX_DOUKE_VEKEY"} {
			if !strings.Contains(out, want) {
				t.Errorf("sandbox %s lacks %q:\n%s", arg, want, out)
			}
		}
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--seed=one"}, `invalid value "one" for flag -seed`},
		{[]string{"run", "--from", "soon"}, `invalid value "soon" for flag -from`},
		{[]string{"serve"}, `unknown command "serve"`},
		{[]string{"run", "extra"}, `unexpected arguments ["extra"]`},
		{[]string{"--douke-vekey", ""}, "--douke-vekey must not be empty"},
	} {
		code, out, stderr := runSandbox(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || out != "" {
			t.Errorf("sandbox %q: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, stderr, tc.want)
		}
	}
	t.Setenv("YONGJIN_SANDBOX_ORDERS", "many")
	if code, _, stderr := runSandbox(t); code != 2 || !strings.Contains(stderr, "YONGJIN_SANDBOX_ORDERS") {
		t.Errorf("bad environment value: exit %d, stderr %q", code, stderr)
	}
}

// `sandbox run` serves until its context ends: the test reads the address
// from the start-up log line, asks the clock, then stops it.
func TestRunServes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logr, logw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"run", "--addr", "127.0.0.1:0", "--orders", "5", "--clock", "2026-11-03"}, io.Discard, logw)
		logw.Close()
		done <- code
	}()
	sc := bufio.NewScanner(logr)
	addr := ""
	for addr == "" && sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "sandbox listening" {
			addr = line.Addr
		}
	}
	if addr == "" {
		t.Fatalf("no start-up line; exit %d", <-done)
	}
	go io.Copy(io.Discard, logr)
	res, err := http.Get(addr + "/_sandbox/clock")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	got, err := time.Parse(time.RFC3339, strings.TrimSpace(string(body)))
	if want := time.Date(2026, 11, 2, 16, 0, 0, 0, time.UTC); err != nil || !got.Equal(want) {
		t.Errorf("clock %q (%v), want %s", body, err, want)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after the context ended", code)
	}
}
