package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

const docSample = "../../pkg/vendors/douke/testdata/doc_sample.json"

func runInspect(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = inspect(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestInspectDoukeDocSample(t *testing.T) {
	code, out, stderr := runInspect(t, "", "--vendor", "douke", docSample)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("want 5 events (1 order + 4 lines), got %d", len(lines))
	}
	var e events.Envelope
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil {
		t.Fatal(err)
	}
	p, err := events.Decode(e)
	if err != nil {
		t.Fatal(err)
	}
	o := p.(*events.Order)
	if o.OrderID != "5049400731628723479" || o.PaidFen != 1290 || o.PaidAt.Format("2006-01-02T15:04:05Z07:00") != "2023-03-25T13:54:37Z" {
		t.Fatalf("order = %+v", o)
	}
	for _, l := range lines {
		if err := events.Validate([]byte(l)); err != nil {
			t.Fatalf("invalid event: %v", err)
		}
	}
}

func TestInspectStdinAndEnvelope(t *testing.T) {
	body, err := os.ReadFile(docSample)
	if err != nil {
		t.Fatal(err)
	}
	code, fromStdin, _ := runInspect(t, string(body), "--vendor", "douke", "-")
	if code != 0 {
		t.Fatal("stdin page refused")
	}
	page := events.RawPage{Vendor: "douke", Endpoint: "kol_orderads", Account: "inspect", SourceID: "inspect", HTTPStatus: 200, Body: body}
	env, _ := json.Marshal(map[string]any{"headers": page.Headers(), "body": string(body)})
	file := filepath.Join(t.TempDir(), "envelope.json")
	if err := os.WriteFile(file, env, 0o600); err != nil {
		t.Fatal(err)
	}
	code, fromEnvelope, stderr := runInspect(t, "", file)
	if code != 0 {
		t.Fatalf("envelope refused: %s", stderr)
	}
	if fromStdin != fromEnvelope {
		t.Fatalf("the envelope and the bare body map differently")
	}
}

func TestInspectRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		msg         string
	}{
		{"vendor error", `{"error":"40001","msg":"vekey错误或已失效","data":null}`, []string{"--vendor", "douke", "-"}, 1, "40001"},
		{"not json", `<html>`, []string{"--vendor", "douke", "-"}, 1, "malformed"},
		{"unknown vendor", `{}`, []string{"--vendor", "nope", "-"}, 2, "unknown vendor"},
		{"no vendor", `{}`, []string{"-"}, 2, "--vendor is required"},
		{"no file", ``, []string{"--vendor", "douke"}, 2, "usage"},
		{"bad param", ``, []string{"--vendor", "douke", "--param", "novalue", "-"}, 2, "key=value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runInspect(t, tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.msg) || out != "" {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q (want it to mention %q)", code, tc.code, out, stderr, tc.msg)
			}
		})
	}
}
