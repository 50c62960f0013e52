// Package vendorstest holds helpers for a vendor package's own tests:
// testdata files, golden event files, schema validation of every envelope,
// the bodies of decode and normalize fuzz targets and benchmarks, and the
// other host of the credential-forwarding redirect tests. It depends on
// nothing but pkg/, so the vendor packages' tests need nothing from
// internal/; the conformance suite against the sandboxes is
// internal/vendortest.
package vendorstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
	"github.com/yongjin-dev/yongjin/pkg/vendors/client"
)

// Update is the -update flag of every test binary that imports vendorstest:
// `go test ./pkg/vendors/douke -update` rewrites that package's golden (and
// fixture) files from the current code instead of comparing with them.
var Update = flag.Bool("update", false, "rewrite testdata golden files from the current code")

// ReadTestdata returns the file testdata/name of the package under test.
func ReadTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jsonl renders envelopes as golden files hold them: each one's JSON
// encoding on a line of its own.
func jsonl(t testing.TB, envs []events.Envelope) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, e := range envs {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// Validate checks every envelope against its published JSON Schema,
// reporting each one that fails, and returns how many it checked.
func Validate(t testing.TB, envs []events.Envelope) int {
	t.Helper()
	for i, e := range envs {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("envelope %d: %v", i, err)
		}
		if err := events.Validate(b); err != nil {
			t.Errorf("envelope %d (%s %s) fails its schema: %v\n%s", i, e.Type, e.Subject, err, b)
		}
	}
	return len(envs)
}

// Golden validates envs (see Validate) and compares their JSONL rendering
// with the golden file at path, failing at the first line that differs.
// Under -update it first rewrites the file; rerun without -update, and
// review the diff, to prove the change.
func Golden(t testing.TB, path string, envs []events.Envelope) {
	t.Helper()
	Validate(t, envs)
	GoldenBytes(t, path, jsonl(t, envs))
}

// GoldenBytes compares got with the file at path, failing at the first line
// that differs. Under -update it first rewrites the file; rerun without
// -update, and review the diff, to prove the change.
func GoldenBytes(t testing.TB, path string, got []byte) {
	t.Helper()
	if *Update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s line %d differs:\n got: %s\nwant: %s", path, i+1, g, w)
		}
	}
}

// GoldenPages runs one subtest per name: normalize turns the page
// testdata/<name>.json into envelopes, which must match the golden file
// testdata/<name>.golden.jsonl (see Golden).
func GoldenPages(t *testing.T, names []string, normalize func(name string, body []byte) ([]events.Envelope, error)) {
	t.Helper()
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			envs, err := normalize(name, ReadTestdata(t, name+".json"))
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			Golden(t, filepath.Join("testdata", name+".golden.jsonl"), envs)
		})
	}
}

// OrderEvents checks the shape of an order vendor's envelopes: each order's
// order.v1 envelope followed by exactly linesPerOrder commission.v1
// envelopes.
func OrderEvents(t testing.TB, envs []events.Envelope, linesPerOrder int) {
	t.Helper()
	per := 1 + linesPerOrder
	if len(envs)%per != 0 {
		t.Fatalf("%d envelopes: want %d per order", len(envs), per)
	}
	for i, e := range envs {
		want := events.Type(events.KindCommission)
		if i%per == 0 {
			want = events.Type(events.KindOrder)
		}
		if e.Type != want {
			t.Fatalf("envelope %d is %s, want %s", i, e.Type, want)
		}
	}
}

// Checks is a table of mapped values a test compares with what they should
// be, one row per field.
type Checks []struct {
	Field     string
	Got, Want any
}

// Verify reports every row whose Got differs from its Want
// (reflect.DeepEqual).
func (cs Checks) Verify(t testing.TB) {
	t.Helper()
	for _, c := range cs {
		if !reflect.DeepEqual(c.Got, c.Want) {
			t.Errorf("%s = %v, want %v", c.Field, c.Got, c.Want)
		}
	}
}

// SameRecords fails t unless got holds the same records as want, in the same
// order (what names a record in the message, e.g. "order"): the check of a
// decode–encode–decode round trip.
func SameRecords[T comparable](t testing.TB, what string, want, got []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d %ss, want %d", len(got), what, len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s %d changed in a round trip:\n%+v\n%+v", what, i, want[i], got[i])
		}
	}
}

// AddSeeds seeds a fuzz target with every testdata/*.json file of the
// package under test, an empty body, "null" and "{}", then with extra; plain
// `go test` runs exactly these.
func AddSeeds(f *testing.F, extra ...string) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range append([]string{``, `null`, `{}`}, extra...) {
		f.Add([]byte(s))
	}
}

// TypedError fails t unless err wraps vendors.ErrMalformedPage or
// vendors.ErrVendorError, the only errors a decoder or normalizer may return.
func TypedError(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, vendors.ErrMalformedPage) && !errors.Is(err, vendors.ErrVendorError) {
		t.Fatalf("error %v wraps neither ErrMalformedPage nor ErrVendorError", err)
	}
}

// DecodeFailed is the common part of a decode fuzz target: it reports
// whether the decode that returned (got, err) failed, and when it did, fails
// t if a result came back with the error or the error is not typed (see
// TypedError).
func DecodeFailed[T any](t testing.TB, got *T, err error) bool {
	t.Helper()
	if err == nil {
		return false
	}
	if got != nil {
		t.Fatalf("a result returned with error %v", err) // not printed: it may hold a secret
	}
	TypedError(t, err)
	return true
}

// Normalized is the body of a normalize fuzz target: normalize (which
// normalizes one fuzzed page) must not panic; when it fails it must return no
// envelopes and a typed error (see TypedError), and Normalized returns nil;
// when it succeeds every envelope must validate against its schema and a
// second run must give the same IDs and data (normalizing is pure), and
// Normalized returns the envelopes for the vendor's own checks.
func Normalized(t testing.TB, normalize func() ([]events.Envelope, error)) []events.Envelope {
	t.Helper()
	envs, err := normalize()
	if err != nil {
		if envs != nil {
			t.Fatalf("%d envelopes returned with error %v", len(envs), err)
		}
		TypedError(t, err)
		return nil
	}
	for i, e := range envs {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("envelope %d: %v", i, err)
		}
		if err := events.Validate(b); err != nil {
			t.Fatalf("envelope %d does not validate: %v\n%s", i, err, b)
		}
	}
	again, err := normalize()
	if err != nil || len(again) != len(envs) {
		t.Fatalf("second run: %d envelopes, %v", len(again), err)
	}
	for i := range envs {
		if envs[i].ID != again[i].ID || !bytes.Equal(envs[i].Data, again[i].Data) {
			t.Fatalf("envelope %d differs between runs", i)
		}
	}
	return envs
}

// BenchmarkNormalize measures normalize (decode + map + envelope encoding)
// over the body of testdata/<name>.json, reporting allocations and
// records/s (order.v1 events when the page has any, else every event).
func BenchmarkNormalize(b *testing.B, name string, normalize func(body []byte) ([]events.Envelope, error)) {
	b.Helper()
	body := ReadTestdata(b, name+".json")
	envs, err := normalize(body)
	if err != nil || len(envs) == 0 {
		b.Fatalf("testdata/%s.json: %d events, %v", name, len(envs), err)
	}
	records := 0
	for _, e := range envs {
		if e.Type == events.Type(events.KindOrder) {
			records++
		}
	}
	if records == 0 {
		records = len(envs)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := normalize(body); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*records)/b.Elapsed().Seconds(), "records/s")
}

// RawPage is a vendor test's raw page as the poller would publish it:
// source "<vendor>-demo", account "demo", HTTP 200, with the given cursor,
// fetch time and body (a test sets the window, time type or params it
// needs on the result).
func RawPage(vendor, endpoint, cursor string, fetchedAt time.Time, body []byte) events.RawPage {
	return events.RawPage{SourceID: vendor + "-demo", Vendor: vendor, Endpoint: endpoint, Account: "demo",
		Cursor: cursor, HTTPStatus: 200, FetchedAt: fetchedAt, Body: body}
}

// FastCore tunes a test's HTTP core: a high rate limit and millisecond
// backoff, so retries cost the test nothing.
func FastCore(c *client.Config) {
	c.RatePerSecond = 1000
	c.Burst = 100
	c.InitialBackoff = time.Millisecond
	c.MaxBackoff = 5 * time.Millisecond
}

// FuzzDecode is the body of a decode fuzz target: for every fuzzed body,
// decode must not panic; when it fails (see DecodeFailed) failed, when not
// nil, checks the error; when it succeeds ok checks the result.
func FuzzDecode[T any](f *testing.F, decode func([]byte) (*T, error), failed func(t *testing.T, err error), ok func(t *testing.T, got *T)) {
	f.Helper()
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := decode(body)
		if DecodeFailed(t, got, err) {
			if failed != nil {
				failed(t, err)
			}
			return
		}
		ok(t, got)
	})
}

// Redecode is the middle of a decode round trip: it encodes v as JSON and
// decodes that with decode, failing t when either step fails, and returns
// the second decode's result for the caller to compare with the first.
func Redecode[T any](t testing.TB, v any, decode func([]byte) (*T, error)) *T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("re-encode: %v", err)
	}
	got, err := decode(b)
	if err != nil {
		t.Fatalf("re-decode %s: %v", b, err)
	}
	return got
}

// FuzzOrderNormalize is the body of an order vendor's normalize fuzz
// target: every fuzzed body, normalized by normalize, must pass Normalized
// and come out as orders of linesPerOrder commission lines each (see
// OrderEvents).
func FuzzOrderNormalize(f *testing.F, linesPerOrder int, normalize func(body []byte) ([]events.Envelope, error)) {
	f.Helper()
	f.Fuzz(func(t *testing.T, body []byte) {
		envs := Normalized(t, func() ([]events.Envelope, error) { return normalize(body) })
		OrderEvents(t, envs, linesPerOrder)
	})
}

// WantErr is the error half of a table case that either fails with an error
// containing wantErr or, when wantErr is "", succeeds: it fails t when err
// does not match, and reports whether the case expected an error (so the
// caller returns, having nothing more to check).
func WantErr(t testing.TB, err error, wantErr string) (failed bool) {
	t.Helper()
	if wantErr != "" {
		ErrContains(t, err, wantErr)
		return true
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	return false
}

// ErrContains fails t unless err is an error whose text contains want.
func ErrContains(t testing.TB, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want containing %q", err, want)
	}
}

// OnlyClass fails t unless err wraps the error class want and none of the
// other classes a vendor's classify may return (client.ErrUnauthorized,
// client.ErrRateLimited, client.ErrTransient, client.ErrPermanent).
func OnlyClass(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
	for _, other := range []error{client.ErrUnauthorized, client.ErrRateLimited, client.ErrTransient, client.ErrPermanent} {
		if other != want && errors.Is(err, other) {
			t.Errorf("err %v is also %v", err, other)
		}
	}
}

// ParseCase is one row of a parser's table test: parsing In gives Want, or,
// when WantErr is not "", fails with an error containing WantErr. Name names
// the subtest ("" names it by In).
type ParseCase[T comparable] struct {
	Name    string
	In      string
	Want    T
	WantErr string
}

// RunParse runs one subtest per case, checking parse(In) against it (see
// ParseCase); on an expected error the value is not checked.
func RunParse[T comparable](t *testing.T, parse func(in string) (T, error), cases []ParseCase[T]) {
	t.Helper()
	for _, tc := range cases {
		name := tc.Name
		if name == "" {
			name = tc.In
		}
		t.Run(name, func(t *testing.T) {
			got, err := parse(tc.In)
			if WantErr(t, err, tc.WantErr) {
				return
			}
			if got != tc.Want {
				t.Fatalf("parse(%q) = %#v, want %#v", tc.In, got, tc.Want)
			}
		})
	}
}

// Count fails t unless the normalize call that returned (envs, err)
// succeeded with exactly want envelopes.
func Count(t testing.TB, envs []events.Envelope, err error, want int) {
	t.Helper()
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if len(envs) != want {
		t.Fatalf("got %d envelopes, want %d", len(envs), want)
	}
}

// DecodeAs decodes e (see events.Decode) and fails t unless it holds a *T.
func DecodeAs[T any](t testing.TB, e events.Envelope) *T {
	t.Helper()
	v, err := events.Decode(e)
	if err != nil {
		t.Fatal(err)
	}
	x, ok := v.(*T)
	if !ok {
		t.Fatalf("envelope %s %s decodes to %T, want %T", e.Type, e.Subject, v, x)
	}
	return x
}

// GoldenNormalize is GoldenPages for a vendor whose pages all normalize
// alike: each page body becomes the raw page page(body), which normalize
// turns into envelopes.
func GoldenNormalize(t *testing.T, names []string, normalize func(events.RawPage) ([]events.Envelope, error), page func(body []byte) events.RawPage) {
	t.Helper()
	GoldenPages(t, names, func(_ string, body []byte) ([]events.Envelope, error) { return normalize(page(body)) })
}
