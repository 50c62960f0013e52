package sandbox

import (
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Stats counts what one vendor's endpoints served.
type Stats struct {
	// Requests is every request admitted by Env.Admit, faulted ones included.
	Requests int64 `json:"requests"`
	// Errors5xx is the requests answered with an injected HTTP 502.
	Errors5xx int64 `json:"errors_5xx"`
	// Throttled is the requests the vendor answered with its throttle envelope.
	Throttled int64 `json:"throttled"`
	// Slowed is the requests delayed by Faults.SlowFor.
	Slowed int64 `json:"slowed"`
	// Malformed is the successful pages served corrupted on purpose
	// (Faults.MalformedPages).
	Malformed int64 `json:"malformed"`
	// MalformedPages says which, in serving order; nil while there are none
	// (a pointer keeps Stats comparable).
	MalformedPages *[]MalformedPage `json:"malformed_pages,omitempty"`
	// DriftedRecords lists the IDs of the records served with a drifted type
	// (Faults.DriftedRecords), in the order they first drifted; nil while
	// there are none.
	DriftedRecords *[]string `json:"drifted_records,omitempty"`
}

// MalformedPage identifies one page a vendor handler corrupted on purpose
// (Faults.MalformedPages), so a test can find it again downstream, e.g. in
// the normalizer's dead-letter queue.
type MalformedPage struct {
	// Seq is the vendor request's sequence number (Call.Seq).
	Seq uint64 `json:"seq"`
	// RequestID is the request ID the response body carries (Call.RequestID).
	RequestID string `json:"request_id"`
	// Page describes the request as the handler chooses (its query
	// parameters without credentials).
	Page string `json:"page"`
	// Record is the ID of the one record the handler corrupted.
	Record string `json:"record"`
	// Reason is what yongjin's normalizer must reject the page for; its
	// dead-letter reason contains this text and Record.
	Reason string `json:"reason"`
	// At is the sandbox clock time the page was served at.
	At time.Time `json:"at"`
}

// Call is one admitted vendor request.
type Call struct {
	// Seq numbers the vendor's requests from 1.
	Seq uint64
	// RequestID is a deterministic, random-looking request ID for the response.
	RequestID string
	// Now is the clock time the request is answered at.
	Now time.Time
	// Throttled means the vendor must answer with its rate-limit response.
	Throttled bool
}

// Env is what a vendor handler gets from the server: its accounts' books, the
// clock and fault injection. It is safe for concurrent use.
type Env struct {
	srv    *Server
	vendor string
	books  []*Book
	salt   uint64

	mu        sync.Mutex
	rng       *rand.Rand
	seq       uint64
	stats     Stats
	malformed []MalformedPage
	drifted   []string
	driftSet  map[string]bool
}

func newEnv(s *Server, vendor string) *Env {
	h := fnv.New64a()
	h.Write([]byte("faults\x00" + vendor))
	salt := h.Sum64()
	return &Env{
		srv: s, vendor: vendor, books: s.model.Books(vendor), salt: salt,
		rng: rand.New(rand.NewPCG(uint64(s.cfg.Seed), salt)),
	}
}

// Vendor is the vendor's name.
func (e *Env) Vendor() string { return e.vendor }

// Faults returns the faults currently injected.
func (e *Env) Faults() Faults { return e.srv.Faults() }

// Clock is the sandbox clock.
func (e *Env) Clock() *Clock { return e.srv.clock }

// Seed is the sandbox seed; vendor handlers derive their own generated data
// (plans, creator snapshots) from it so the same seed gives the same data.
func (e *Env) Seed() int64 { return e.srv.cfg.Seed }

// Accounts lists the vendor's configured accounts in configuration order.
func (e *Env) Accounts() []Account {
	var out []Account
	for _, a := range e.srv.cfg.Accounts {
		if a.Vendor == e.vendor {
			out = append(out, a)
		}
	}
	return out
}

// Books lists the vendor's accounts' books in configuration order.
func (e *Env) Books() []*Book { return e.books }

const badGatewayHTML = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

// Admit counts a vendor request and applies the injected faults. It draws the
// request's fault decisions from the vendor's seeded RNG (the same request
// sequence always gets the same decisions), sleeps Faults.SlowFor when the
// request is slow, and answers HTTP 502 with an HTML body itself when it
// fails. It returns ok=false when the request is already answered (or the
// client went away); otherwise the handler answers, with its throttle
// response when call.Throttled is set.
func (e *Env) Admit(w http.ResponseWriter, r *http.Request) (call Call, ok bool) {
	f := e.srv.Faults()
	e.mu.Lock()
	e.seq++
	call.Seq = e.seq
	u, v := e.rng.Float64(), e.rng.Float64()
	fail := u < f.ErrorRate5xx
	call.Throttled = !fail && u < f.ErrorRate5xx+f.ThrottleRate
	slow := v < f.SlowRate && f.SlowFor > 0
	e.stats.Requests++
	if fail {
		e.stats.Errors5xx++
	}
	if call.Throttled {
		e.stats.Throttled++
	}
	if slow {
		e.stats.Slowed++
	}
	e.mu.Unlock()
	call.RequestID = requestID(Mix64(uint64(e.srv.cfg.Seed)^e.salt) ^ call.Seq)

	if slow {
		tm := time.NewTimer(f.SlowFor)
		select {
		case <-tm.C:
		case <-r.Context().Done():
			tm.Stop()
			return call, false
		}
	}
	if fail {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte(badGatewayHTML))
		return call, false
	}
	call.Now = e.srv.clock.Now()
	return call, true
}

// Malform implements the malformed-page fault (Faults.MalformedPages). A
// handler that supports it calls Malform once for every successful page with
// at least one record, after rendering it and before writing it, naming the
// record it would corrupt, how its request is described (no credentials) and
// the reason the normalizer must give. Malform returns true for the vendor's
// first Faults.MalformedPages such pages (in serving order, so the same
// request sequence corrupts the same pages) and records each in Stats; the
// handler then corrupts exactly that record so that the vendor envelope stays
// valid and the page still pages on as before. Every later page, the same
// query asked again included, is served correctly.
func (e *Env) Malform(call Call, page, record, reason string) bool {
	want := int64(e.srv.Faults().MalformedPages)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stats.Malformed >= want {
		return false
	}
	e.stats.Malformed++
	e.malformed = append(e.malformed, MalformedPage{
		Seq: call.Seq, RequestID: call.RequestID, Page: page, Record: record, Reason: reason, At: call.Now,
	})
	return true
}

// Drift implements the drifted-record fault (Faults.DriftedRecords). A
// handler that supports it calls Drift for every record it serves in a
// successful page; Drift returns true when the record drifts: it is one of
// the vendor's first Faults.DriftedRecords records asked about (over the
// server's life), and while the fault stays on (Faults.DriftedRecords > 0) a
// record that drifted once drifts every time, as a vendor's stored record
// would; with the fault off every record is served correctly again. The
// handler then serves that record with one field of a drifted type, keeping
// the envelope and paging valid. While a record drifts it is not in the
// ground truth (Server.TruthAt): no client can ever take it from the vendor.
func (e *Env) Drift(record string) bool {
	want := e.srv.Faults().DriftedRecords
	e.mu.Lock()
	defer e.mu.Unlock()
	if want == 0 {
		return false
	}
	if e.driftSet[record] {
		return true
	}
	if len(e.drifted) >= want {
		return false
	}
	if e.driftSet == nil {
		e.driftSet = map[string]bool{}
	}
	e.driftSet[record] = true
	e.drifted = append(e.drifted, record)
	return true
}

// drifting reports whether record is served drifted now (see Drift).
func (e *Env) drifting(record string) bool {
	if e.srv.Faults().DriftedRecords == 0 {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.driftSet[record]
}

// Stats reports the vendor's counters.
func (e *Env) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats
	if len(e.malformed) > 0 {
		pages := append([]MalformedPage(nil), e.malformed...)
		s.MalformedPages = &pages
	}
	if len(e.drifted) > 0 {
		ids := append([]string(nil), e.drifted...)
		s.DriftedRecords = &ids
	}
	return s
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// requestID formats a hash of x as 7 base62 characters (like veapi's "wAFXlrc").
func requestID(x uint64) string {
	h := Mix64(x)
	var b [7]byte
	for i := range b {
		b[i] = base62[h%62]
		h /= 62
	}
	return string(b[:])
}
