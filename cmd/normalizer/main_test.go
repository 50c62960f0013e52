package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runNormalizer(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestRunHelpListsSubcommands(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		code, out, _ := runNormalizer(t, arg)
		if code != 0 {
			t.Fatalf("normalizer %s: exit %d", arg, code)
		}
		for _, want := range []string{"run ", "replay ", "dlq ", "schema ", "inspect ", "help ", "--workers", "YONGJIN_NORMALIZER_MAX_DELIVER", "docs/SECURITY.md"} {
			if !strings.Contains(out, want) {
				t.Errorf("normalizer %s lacks %q:\n%s", arg, want, out)
			}
		}
	}
	if code, out, _ := runNormalizer(t, "help", "replay"); code != 0 || !strings.Contains(out, "--since") {
		t.Errorf("normalizer help replay: exit %d:\n%s", code, out)
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--workers=many"}, `invalid value "many" for flag -workers`},
		{[]string{"replay", "--nope"}, "flag provided but not defined: -nope"},
		{[]string{"replay"}, "--since is required"},
		{[]string{"replay", "--since", "yesterday"}, `time "yesterday"`},
		{[]string{"normalise"}, `unknown command "normalise"`},
		{[]string{"schema", "order.v9"}, `unknown type "order.v9"`},
	} {
		code, out, stderr := runNormalizer(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || out != "" {
			t.Errorf("normalizer %q: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, stderr, tc.want)
		}
	}
}

// A real subcommand through run: `normalizer schema order.v1` and
// `normalizer inspect` of the douke documentation sample.
func TestRunSubcommands(t *testing.T) {
	code, out, stderr := runNormalizer(t, "schema", "order.v1")
	if code != 0 || !strings.Contains(out, `"$schema"`) {
		t.Fatalf("schema order.v1: exit %d, stderr %q:\n%s", code, stderr, out)
	}
	code, out, stderr = runNormalizer(t, "inspect", "--vendor", "douke", docSample)
	if code != 0 || len(strings.Split(strings.TrimSpace(out), "\n")) != 5 || !strings.Contains(stderr, "5 events") {
		t.Fatalf("inspect: exit %d, stderr %q:\n%s", code, stderr, out)
	}
}
