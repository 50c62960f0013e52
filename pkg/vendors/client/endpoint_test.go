package client

import (
	"strings"
	"testing"
)

func TestEndpointURL(t *testing.T) {
	for _, tc := range []struct{ base, want, err string }{
		{"", "https://default.example/api/x", ""},
		{"http://127.0.0.1:8700", "http://127.0.0.1:8700/api/x", ""},
		{"http://127.0.0.1:8700/prefix/", "http://127.0.0.1:8700/prefix/api/x", ""},
		{"ftp://host", "", "base URL"},
		{"http://host?q=1", "", "base URL"},
		{"http://user:SECRETPW@host", "", "base URL"},
	} {
		got, err := EndpointURL("v", tc.base, "https://default.example", "/api/x", "SECRETPW")
		if tc.err == "" && (err != nil || got != tc.want) {
			t.Errorf("EndpointURL(%q) = %q, %v; want %q", tc.base, got, err, tc.want)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "v: ") || strings.Contains(err.Error(), "SECRETPW")) {
			t.Errorf("EndpointURL(%q) error = %v; want a %q error naming the vendor, without the secret", tc.base, err, tc.err)
		}
	}
}

func TestPageSize(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{0, 20}, {1, 1}, {20, 20}} {
		if got, err := PageSize("v", tc.in, 20); err != nil || got != tc.want {
			t.Errorf("PageSize(%d) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []int{-1, 21} {
		if _, err := PageSize("v", in, 20); err == nil || !strings.Contains(err.Error(), "want 1..20") {
			t.Errorf("PageSize(%d) error = %v", in, err)
		}
	}
}
