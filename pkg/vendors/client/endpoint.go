package client

import (
	"fmt"
	"net/url"
	"strings"
)

// EndpointURL validates a vendor base URL (defaultBase when base is empty)
// and appends path to it. The base must be http(s)://host[:port][/prefix]
// without user info, query or fragment; the error names the vendor and never
// shows a secret.
func EndpointURL(vendor, base, defaultBase, path string, secrets ...string) (string, error) {
	if base == "" {
		base = defaultBase
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		shown := base
		if err == nil && u.User != nil {
			shown = u.Redacted()
		}
		return "", fmt.Errorf("%s: base URL %q: want http(s)://host[:port][/prefix] without user info, query or fragment",
			vendor, Redact(shown, secrets...))
	}
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawPath = ""
	return u.String(), nil
}

// PageSize returns the page size to request: requested, or max when
// requested is 0; anything outside 1..max is an error naming the vendor.
func PageSize(vendor string, requested, max int) (int, error) {
	switch {
	case requested == 0:
		return max, nil
	case requested >= 1 && requested <= max:
		return requested, nil
	}
	return 0, fmt.Errorf("%s: page size %d: want 1..%d (0 = %d)", vendor, requested, max, max)
}
