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

	mu    sync.Mutex
	rng   *rand.Rand
	seq   uint64
	stats Stats
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
	call.RequestID = requestID(mix64(uint64(e.srv.cfg.Seed)^e.salt) ^ call.Seq)

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

// Stats reports the vendor's counters.
func (e *Env) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// requestID formats a hash of x as 7 base62 characters (like veapi's "wAFXlrc").
func requestID(x uint64) string {
	h := mix64(x)
	var b [7]byte
	for i := range b {
		b[i] = base62[h%62]
		h /= 62
	}
	return string(b[:])
}
