package poller

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/yongjin-dev/yongjin/internal/cli"
	"github.com/yongjin-dev/yongjin/pkg/vendors"
)

// SourcesFile is the poller's YAML sources file (sources.yaml).
type SourcesFile struct {
	Sources []Source `yaml:"sources"`
}

// Source is one thing to poll: a vendor endpoint for one account with its
// parameters. Credentials are references (environment variable or file),
// never literal secrets.
type Source struct {
	// Name identifies the source in logs, metrics and raw-page envelopes.
	Name    string `yaml:"name"`
	Vendor  string `yaml:"vendor"`
	Account string `yaml:"account"`
	// BaseURL overrides the vendor's production address (e.g. the sandbox).
	BaseURL string `yaml:"base_url"`
	// Credentials maps a vendor credential name (e.g. "vekey") to where it is read from.
	Credentials map[string]CredentialRef `yaml:"credentials"`
	// Params are vendor query parameters (e.g. time_type: update).
	Params map[string]string `yaml:"params"`
	// Window is a fixed range to poll; when absent the poller polls the rolling
	// range [now-Lookback, now].
	Window *FixedWindow `yaml:"window"`
	// Lookback is how far before the checkpoint each run starts again, so
	// records that changed late are read again (default 72h). Without a
	// checkpoint store it is the length of the rolling window [now-Lookback, now].
	Lookback time.Duration `yaml:"lookback"`
	// Start is where polling begins when the source has no checkpoint yet
	// (a config time; default now-Lookback).
	Start string `yaml:"start"`
	// WindowSize caps one query's window (default and maximum: the vendor's limit;
	// 7 days for vendors without one).
	WindowSize time.Duration `yaml:"window_size"`
	// Interval is the time between polls in `poller run` (default 5m).
	Interval time.Duration `yaml:"interval"`
	// PageSize is the requested page size (0 = vendor maximum).
	PageSize int `yaml:"page_size"`
	// RatePerSecond bounds requests per second for this source (default 5).
	// Sources of one vendor account share one budget: the smallest of theirs.
	RatePerSecond float64 `yaml:"rate_per_second"`

	httpClient *http.Client // set by the scheduler: the account's shared budget
}

// CredentialRef says where a secret is read from: an environment variable or
// a file (a mounted Kubernetes Secret). Exactly one must be set.
type CredentialRef struct {
	Env  string `yaml:"env"`
	File string `yaml:"file"`
}

// FixedWindow is a fixed polling range. Times are "2006-01-02 15:04:05" or
// "2006-01-02" in China Standard Time, or RFC 3339 with an explicit zone.
type FixedWindow struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

var sourceName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Range returns the fixed window as UTC times.
func (w FixedWindow) Range() (time.Time, time.Time, error) {
	from, err := cli.ParseOperatorTime(w.From)
	if err != nil {
		return from, from, fmt.Errorf("window.from: %w", err)
	}
	to, err := cli.ParseOperatorTime(w.To)
	if err != nil {
		return from, to, fmt.Errorf("window.to: %w", err)
	}
	if !to.After(from) {
		return from, to, fmt.Errorf("window: to (%s) must be after from (%s)", w.To, w.From)
	}
	return from, to, nil
}

// LoadSources reads and validates a sources file against the vendor registry.
// Unknown keys are errors (a typo must not silently change behaviour).
func LoadSources(path string, reg *vendors.Registry) (*SourcesFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseSources(b, reg)
}

// ParseSources parses and validates the YAML bytes of a sources file.
func ParseSources(b []byte, reg *vendors.Registry) (*SourcesFile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var c SourcesFile
	// an empty (or comments-only) file is io.EOF: report it as "no sources"
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.validate(reg); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *SourcesFile) validate(reg *vendors.Registry) error {
	if len(c.Sources) == 0 {
		return errors.New("config: no sources defined (add at least one under `sources:`)")
	}
	seen := map[string]bool{}
	var errs []error
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.Lookback == 0 {
			s.Lookback = 72 * time.Hour
		}
		if s.Interval == 0 {
			s.Interval = 5 * time.Minute
		}
		if s.RatePerSecond == 0 {
			s.RatePerSecond = 5
		}
		where := fmt.Sprintf("source %d (%s)", i+1, s.Name)
		switch {
		case !sourceName.MatchString(s.Name):
			errs = append(errs, fmt.Errorf("%s: name must match %s", where, sourceName))
		case seen[s.Name]:
			errs = append(errs, fmt.Errorf("%s: duplicate name", where))
		}
		seen[s.Name] = true
		if _, err := reg.Get(s.Vendor); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		if s.Account == "" {
			errs = append(errs, fmt.Errorf("%s: account is required (a label, not a credential)", where))
		}
		if s.Window != nil {
			if _, _, err := s.Window.Range(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
		}
		if s.Start != "" {
			if _, err := cli.ParseOperatorTime(s.Start); err != nil {
				errs = append(errs, fmt.Errorf("%s: start: %w", where, err))
			}
		}
		if s.WindowSize < 0 || (s.WindowSize > 0 && s.WindowSize < time.Minute) {
			errs = append(errs, fmt.Errorf("%s: window_size must be at least 1m", where))
		}
		if s.Lookback < time.Minute || s.Interval < 100*time.Millisecond || s.RatePerSecond < 0 || s.PageSize < 0 {
			errs = append(errs, fmt.Errorf("%s: lookback must be ≥ 1m, interval ≥ 100ms, rate_per_second and page_size ≥ 0 (got lookback %s, interval %s)", where, s.Lookback, s.Interval))
		}
		for name, ref := range s.Credentials {
			if (ref.Env == "") == (ref.File == "") {
				errs = append(errs, fmt.Errorf("%s: credential %s: set exactly one of env or file", where, name))
			}
		}
	}
	return errors.Join(errs...)
}

// ResolveCredentials reads every credential of s from its environment
// variable or file. Errors name the source, credential and reference, never
// a secret value.
func (s Source) ResolveCredentials() (map[string]string, error) {
	out := make(map[string]string, len(s.Credentials))
	for name, ref := range s.Credentials {
		switch {
		case ref.Env != "":
			v, ok := os.LookupEnv(ref.Env)
			if !ok || v == "" {
				return nil, fmt.Errorf("source %s: credential %s: environment variable %s is not set", s.Name, name, ref.Env)
			}
			out[name] = v
		default:
			b, err := os.ReadFile(ref.File)
			if err != nil {
				return nil, fmt.Errorf("source %s: credential %s: %w", s.Name, name, err)
			}
			out[name] = strings.TrimSpace(string(b))
		}
	}
	return out, nil
}
