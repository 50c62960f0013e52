package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/yongjin-dev/yongjin/internal/cli"
	"github.com/yongjin-dev/yongjin/internal/summary"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// VendorHandler is one vendor protocol served by the sandbox. Register mounts
// it; adding a vendor never needs a change here.
type VendorHandler interface {
	// Name is the vendor's short name; it matches Account.Vendor.
	Name() string
	// Mount registers the vendor's endpoints at their real paths on mux. env
	// gives the vendor's books, the clock and fault injection.
	Mount(mux *http.ServeMux, env *Env)
}

// TruthProvider is implemented by vendor handlers whose ground truth is not
// the order model's as it stands (reference data such as plans or creator
// snapshots, or vendor-specific status semantics). The server then reports
// the handler's summary for that vendor; Truth.Orders stays the model's
// per-order view (empty for vendors without orders).
type TruthProvider interface {
	Truth(env *Env, at time.Time) summary.Summary
}

// AdminPrefix is the path prefix of the admin endpoints.
const AdminPrefix = "/_sandbox/"

// AdminHelp describes the admin endpoints.
const AdminHelp = `Admin endpoints (never faulted):
  GET  /_sandbox/                       this text
  GET  /_sandbox/healthz                "ok"
  GET  /_sandbox/clock                  the sandbox clock, RFC 3339 (CST)
  POST /_sandbox/clock?set=RFC3339      set the clock (also accepts "2006-01-02 15:04:05" CST)
  POST /_sandbox/clock?advance=DURATION move the clock by a Go duration (e.g. 36h, -90m)
  GET  /_sandbox/truth?vendor=NAME      ground truth as JSON: summary and per-order truth
                                        (&at=RFC3339 for another time, &orders=false for the summary only)
  GET  /_sandbox/faults                 the injected fault rates as JSON
  POST /_sandbox/faults?error_rate_5xx=F&throttle_rate=F&slow_rate=F&slow_for=DURATION
       &malformed_pages=N&drifted_records=N&record_padding=BYTES&failing_items=ID,ID
                                        change fault injection (omitted parameters are kept)
  GET  /_sandbox/stats                  requests served per vendor (and faults injected) as JSON
`

// Server is the sandbox HTTP server: vendor handlers at their real paths plus
// the admin endpoints. It is safe for concurrent use.
type Server struct {
	cfg   Config
	model *Model
	clock *Clock
	mux   *http.ServeMux

	mu       sync.Mutex
	faults   Faults
	envs     map[string]*Env // lookup only
	handlers map[string]VendorHandler
	names    []string // registered vendors, in order
}

// NewServer generates the model of cfg and returns a server with the admin
// endpoints mounted and handlers registered in order (see Register; more can
// be registered later). It is the one constructor every vendor sandbox uses:
// NewServer(cfg, douke.Handler{}) serves one vendor, NewServer(cfg, hs...)
// several.
func NewServer(cfg Config, handlers ...VendorHandler) (*Server, error) {
	m, err := Generate(cfg)
	if err != nil {
		return nil, err
	}
	start := cfg.Clock
	if start.IsZero() {
		start = cfg.To
	}
	s := &Server{cfg: cfg, model: m, clock: NewClock(start), mux: http.NewServeMux(), faults: cfg.Faults, envs: map[string]*Env{}, handlers: map[string]VendorHandler{}}
	s.mountAdmin()
	for _, h := range handlers {
		if err := s.Register(h); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Register mounts a vendor handler; a vendor can be registered once.
func (s *Server) Register(h VendorHandler) error {
	name := h.Name()
	s.mu.Lock()
	if _, dup := s.envs[name]; dup || name == "" {
		s.mu.Unlock()
		return fmt.Errorf("sandbox: vendor %q already registered or unnamed", name)
	}
	env := newEnv(s, name)
	s.envs[name] = env
	s.handlers[name] = h
	s.names = append(s.names, name)
	s.mu.Unlock()
	h.Mount(s.mux, env)
	return nil
}

// Handler serves the vendor endpoints and the admin endpoints.
func (s *Server) Handler() http.Handler { return s.mux }

// Clock is the sandbox clock.
func (s *Server) Clock() *Clock { return s.clock }

// Model is the generated model.
func (s *Server) Model() *Model { return s.model }

// Config is the configuration the server was built from.
func (s *Server) Config() Config { return s.cfg }

// Truth is vendor's ground truth at the current clock time.
func (s *Server) Truth(vendor string) Truth { return s.TruthAt(vendor, s.clock.Now()) }

// TruthAt is vendor's ground truth at clock time at. It leaves out the
// orders the vendor serves drifted now (Faults.DriftedRecords, Env.Drift):
// while the fault stays on the vendor keeps serving the drifted field, so
// such an order never reaches a client's storage, and its neighbours do.
func (s *Server) TruthAt(vendor string, at time.Time) Truth {
	s.mu.Lock()
	h, env := s.handlers[vendor], s.envs[vendor]
	s.mu.Unlock()
	orders := s.model.OrderTruths(vendor, at)
	if env != nil {
		orders = slices.DeleteFunc(orders, func(o OrderTruth) bool { return env.drifting(o.OrderID) })
	}
	t := Truth{Vendor: vendor, At: at.In(wire.CST), Summary: Summarize(orders), Orders: orders}
	if tp, ok := h.(TruthProvider); ok {
		t.Summary, t.Orders = tp.Truth(env, at), nil
	}
	return t
}

// Faults reports the injected faults.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// SetFaults changes the injected faults from the next request on.
func (s *Server) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
	return nil
}

// Vendors lists the registered vendors in registration order.
func (s *Server) Vendors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.names)
}

// Stats reports the counters of a registered vendor (zero if unknown).
func (s *Server) Stats(vendor string) Stats {
	s.mu.Lock()
	env := s.envs[vendor]
	s.mu.Unlock()
	if env == nil {
		return Stats{}
	}
	return env.Stats()
}

func (s *Server) mountAdmin() {
	s.mux.HandleFunc("GET /_sandbox/{$}", func(w http.ResponseWriter, r *http.Request) {
		writeText(w, http.StatusOK, AdminHelp)
	})
	s.mux.HandleFunc("GET /_sandbox/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeText(w, http.StatusOK, "ok\n")
	})
	s.mux.HandleFunc("GET /_sandbox/clock", func(w http.ResponseWriter, r *http.Request) {
		writeText(w, http.StatusOK, s.clock.Now().Format(time.RFC3339)+"\n")
	})
	s.mux.HandleFunc("POST /_sandbox/clock", s.postClock)
	s.mux.HandleFunc("GET /_sandbox/truth", s.getTruth)
	s.mux.HandleFunc("GET /_sandbox/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, faultsJSON(s.Faults()))
	})
	s.mux.HandleFunc("POST /_sandbox/faults", s.postFaults)
	s.mux.HandleFunc("GET /_sandbox/stats", func(w http.ResponseWriter, r *http.Request) {
		out := map[string]Stats{}
		for _, v := range s.Vendors() {
			out[v] = s.Stats(v)
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func (s *Server) postClock(w http.ResponseWriter, r *http.Request) {
	set, adv := r.FormValue("set"), r.FormValue("advance")
	switch {
	case set != "" && adv != "":
		writeText(w, http.StatusBadRequest, "give either set or advance, not both\n")
	case set != "":
		t, err := cli.ParseOperatorTime(set)
		if err != nil {
			writeText(w, http.StatusBadRequest, err.Error()+"\n")
			return
		}
		s.clock.Set(t)
		writeText(w, http.StatusOK, s.clock.Now().Format(time.RFC3339)+"\n")
	case adv != "":
		d, err := time.ParseDuration(adv)
		if err != nil {
			writeText(w, http.StatusBadRequest, "advance: "+err.Error()+"\n")
			return
		}
		writeText(w, http.StatusOK, s.clock.Advance(d).Format(time.RFC3339)+"\n")
	default:
		writeText(w, http.StatusBadRequest, "give set=RFC3339 or advance=DURATION\n")
	}
}

func (s *Server) getTruth(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	vendor := q.Get("vendor")
	known := s.model.Vendors()
	if vendor == "" && len(known) == 1 {
		vendor = known[0]
	}
	if !slices.Contains(known, vendor) {
		writeText(w, http.StatusNotFound, fmt.Sprintf("unknown vendor %q (known: %s)\n", vendor, strings.Join(known, ", ")))
		return
	}
	at := s.clock.Now()
	if v := q.Get("at"); v != "" {
		t, err := cli.ParseOperatorTime(v)
		if err != nil {
			writeText(w, http.StatusBadRequest, "at: "+err.Error()+"\n")
			return
		}
		at = t
	}
	tr := s.TruthAt(vendor, at)
	if v := q.Get("orders"); v != "" {
		if b, err := strconv.ParseBool(v); err == nil && !b {
			tr.Orders = nil
		}
	}
	writeJSON(w, http.StatusOK, tr)
}

type faultsView struct {
	ErrorRate5xx float64 `json:"error_rate_5xx"`
	SlowRate     float64 `json:"slow_rate"`
	SlowFor      string  `json:"slow_for"`
	ThrottleRate float64 `json:"throttle_rate"`
}

func faultsJSON(f Faults) faultsView {
	return faultsView{ErrorRate5xx: f.ErrorRate5xx, SlowRate: f.SlowRate, SlowFor: f.SlowFor.String(), ThrottleRate: f.ThrottleRate}
}

func (s *Server) postFaults(w http.ResponseWriter, r *http.Request) {
	f := s.Faults()
	for _, p := range []struct {
		name string
		dst  *float64
	}{{"error_rate_5xx", &f.ErrorRate5xx}, {"slow_rate", &f.SlowRate}, {"throttle_rate", &f.ThrottleRate}} {
		if v := r.FormValue(p.name); v != "" {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				writeText(w, http.StatusBadRequest, p.name+": "+err.Error()+"\n")
				return
			}
			*p.dst = x
		}
	}
	if v := r.FormValue("slow_for"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			writeText(w, http.StatusBadRequest, "slow_for: "+err.Error()+"\n")
			return
		}
		f.SlowFor = d
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"malformed_pages", &f.MalformedPages}, {"drifted_records", &f.DriftedRecords}, {"record_padding", &f.RecordPadding}} {
		if v := r.FormValue(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				writeText(w, http.StatusBadRequest, p.name+": "+err.Error()+"\n")
				return
			}
			*p.dst = n
		}
	}
	if _, ok := r.Form["failing_items"]; ok {
		f.FailingItems = r.FormValue("failing_items")
	}
	if err := s.SetFaults(f); err != nil {
		writeText(w, http.StatusBadRequest, err.Error()+"\n")
		return
	}
	writeJSON(w, http.StatusOK, faultsJSON(f))
}

func writeText(w http.ResponseWriter, code int, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(s))
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		writeText(w, http.StatusInternalServerError, err.Error()+"\n")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}
