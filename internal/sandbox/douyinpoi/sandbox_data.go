package douyinpoi

// The sandbox's generated plan data: per account a fixed set of SPUs, each
// with its plans, all derived from the sandbox seed and the account name.
// Every identifier here starts with Sandbox/sandbox.

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/yongjin-dev/yongjin/internal/sandbox"
	api "github.com/yongjin-dev/yongjin/pkg/vendors/douyinpoi"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// Shape of the generated data.
const (
	// SPUsPerAccount is how many SPUs each sandbox account owns.
	SPUsPerAccount = 20
	// MaxPlansPerSPU bounds the plans of one SPU (each has 1..250, so
	// some SPUs need three pages at page_size 100).
	MaxPlansPerSPU = 250
	// ChangingShare is the share of plans whose status and rate change
	// over sandbox time (per their schedule, see sandboxPlan.at).
	ChangingShare = 0.3
)

// Creation times: SPUs are created in [sandboxSPUFrom, sandboxSPUTo), plans
// within a year after their SPU but before sandboxPlanTo. A plan is listed
// only once the sandbox clock reaches its creation time.
var (
	sandboxSPUFrom = time.Date(2022, 1, 1, 0, 0, 0, 0, wire.CST).Unix()
	sandboxSPUTo   = time.Date(2025, 7, 1, 0, 0, 0, 0, wire.CST).Unix()
	sandboxPlanTo  = time.Date(2026, 7, 1, 0, 0, 0, 0, wire.CST).Unix()
)

// sandboxPeriods are the change periods of changing plans.
var sandboxPeriods = []int64{6 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600}

// sandboxSPU is one generated SPU with its plans sorted by plan ID (which is
// also creation order: IDs are creation second << 32 | random bits, like
// Douyin's own IDs).
type sandboxSPU struct {
	id    uint64
	text  string
	plans []sandboxPlan
}

// sandboxPlan is one generated plan.
type sandboxPlan struct {
	id          uint64
	created     int64 // Unix seconds
	rate        int64 // basis points before any change
	contentType int64
	status      int64
	period      int64 // change period in seconds; 0 = never changes
	phase       int64 // offset of the first change after creation
	salt        uint64
	// unixCreate renders create_time as a Unix timestamp number instead of
	// the documented date string (both shapes occur).
	unixCreate bool
}

// at reports the plan's status and rate at Unix time t: the initial values
// until its first change, then per change period a value drawn from the
// plan's salt and the period's index.
func (p *sandboxPlan) at(t int64) (status, rate int64) {
	if p.period == 0 || t < p.created+p.phase {
		return p.status, p.rate
	}
	k := uint64((t - p.created - p.phase) / p.period)
	h := sandbox.Mix64(p.salt ^ (k+1)*0x9e3779b97f4a7c15)
	return 1 + int64(h%3), 100 + int64((h>>8)%4901)
}

// createTime renders create_time as sent.
func (p *sandboxPlan) createTime() any {
	if p.unixCreate {
		return p.created
	}
	return time.Unix(p.created, 0).In(wire.CST).Format(api.DateLayout)
}

// visible returns the prefix of s.plans created at or before t.
func (s *sandboxSPU) visible(t int64) []sandboxPlan {
	n, _ := slices.BinarySearchFunc(s.plans, t, func(p sandboxPlan, t int64) int {
		if p.created <= t {
			return -1
		}
		return 1
	})
	return s.plans[:n]
}

// sandboxCatalogs caches generated catalogs by seed and account.
var sandboxCatalogs sync.Map // string → []sandboxSPU

// sandboxCatalog returns the SPUs of account under seed (generated once).
func sandboxCatalog(seed int64, account string) []sandboxSPU {
	key := strconv.FormatInt(seed, 10) + "\x00" + account
	if v, ok := sandboxCatalogs.Load(key); ok {
		return v.([]sandboxSPU)
	}
	v, _ := sandboxCatalogs.LoadOrStore(key, sandboxGenerate(seed, account))
	return v.([]sandboxSPU)
}

// sandboxGenerate draws account's SPUs and plans from seed.
func sandboxGenerate(seed int64, account string) []sandboxSPU {
	h := fnv.New64a()
	h.Write([]byte(api.Name + "\x00plans\x00" + account))
	r := rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
	spus := make([]sandboxSPU, SPUsPerAccount)
	seen := map[uint64]bool{}
	for i := range spus {
		s := &spus[i]
		created := sandboxSPUFrom + r.Int64N(sandboxSPUTo-sandboxSPUFrom)
		for {
			s.id = uint64(created)<<32 | uint64(r.Uint32())
			if !seen[s.id] {
				break
			}
		}
		seen[s.id] = true
		s.text = strconv.FormatUint(s.id, 10)
		n := 1 + r.IntN(MaxPlansPerSPU)
		until := min(created+365*24*3600, sandboxPlanTo)
		ids := map[uint64]bool{}
		s.plans = make([]sandboxPlan, n)
		for j := range s.plans {
			p := &s.plans[j]
			p.created = created + r.Int64N(until-created)
			for {
				p.id = uint64(p.created)<<32 | uint64(r.Uint32())
				if !ids[p.id] {
					break
				}
			}
			ids[p.id] = true
			p.rate = 100 + r.Int64N(4901)
			p.contentType = 1 + r.Int64N(3)
			p.status = 1 + r.Int64N(3)
			p.salt = r.Uint64()
			p.unixCreate = r.IntN(8) == 0
			if r.Float64() < ChangingShare {
				p.period = sandboxPeriods[r.IntN(len(sandboxPeriods))]
				p.phase = r.Int64N(p.period)
			}
		}
		slices.SortFunc(s.plans, func(a, b sandboxPlan) int {
			switch {
			case a.id < b.id:
				return -1
			case a.id > b.id:
				return 1
			}
			return 0
		})
	}
	return spus
}

// SPUs lists the SPU IDs the sandbox generates for account under seed
// (the sandbox Config.Seed), in generation order: configure a source with
// them all (params spu_ids) to poll every plan of the account.
func SPUs(seed int64, account string) []string {
	cat := sandboxCatalog(seed, account)
	out := make([]string, len(cat))
	for i := range cat {
		out[i] = cat[i].text
	}
	return out
}
