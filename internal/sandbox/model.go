package sandbox

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/yongjin-dev/yongjin/pkg/events"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

// Channel is how an order was distributed.
type Channel string

// The distribution channels (they are also douke's media_type_name values).
const (
	ChannelLive          Channel = "Live"
	ChannelProductDetail Channel = "ProductDetail"
	ChannelActivity      Channel = "Activity"
	ChannelMix           Channel = "Mix"
)

// Channels lists every Channel.
var Channels = []Channel{ChannelLive, ChannelProductDetail, ChannelActivity, ChannelMix}

// Fate is an order's whole life cycle, decided when it is generated.
type Fate uint8

// The fates and their shares of generated orders.
const (
	// FatePaid orders stay paid (22%).
	FatePaid Fate = iota
	// FateReceived orders are confirmed and never settle (3.5%).
	FateReceived
	// FateSettled orders are confirmed, then settled (55.5%).
	FateSettled
	// FateRefundedBeforeConfirm orders are refunded before receipt (8%).
	FateRefundedBeforeConfirm
	// FateRefundedAfterConfirm orders are confirmed, then refunded (7%).
	FateRefundedAfterConfirm
	// FateRefundedAfterSettle orders are confirmed, settled, then refunded (4%).
	FateRefundedAfterSettle
)

var fateNames = [...]string{"paid", "received", "settled", "refunded_before_confirm", "refunded_after_confirm", "refunded_after_settle"}

// String names the fate.
func (f Fate) String() string {
	if int(f) < len(fateNames) {
		return fateNames[f]
	}
	return "fate(" + strconv.Itoa(int(f)) + ")"
}

// Roles lists the commission roles of every sandbox order, in Line order.
var Roles = [4]events.Role{events.RoleCreator, events.RoleLiveChannel, events.RoleShop, events.RolePlatformFee}

var statusByCode = [...]events.Status{events.StatusPaid, events.StatusReceived, events.StatusSettled, events.StatusRefunded}

const (
	codePaid uint8 = iota
	codeReceived
	codeSettled
	codeRefunded
)

// step is one transition: the status entered, when (Unix seconds) and the
// vendor update time it carries.
type step struct {
	code    uint8
	at, upd int64
}

// Transition is one step of an order's schedule.
type Transition struct {
	// Status is the status the order enters.
	Status events.Status
	// At is when the transition happens.
	At time.Time
	// UpdatedAt is the vendor update time the order carries from then on; it
	// is At plus 1..120 s and strictly increases along the schedule.
	UpdatedAt time.Time
}

// Product is a catalogue product.
type Product struct {
	ID   string
	Name string
	Img  string
	Shop *Shop
}

// Shop is a catalogue shop.
type Shop struct {
	ID   int64
	Name string
}

// Author is a catalogue creator (the content author an order came through).
type Author struct {
	Nickname string
	OpenID   string
	ShortID  string
	BuyinID  string
}

// Order is one generated order with its full schedule. Orders are immutable;
// their state at a clock time comes from At.
type Order struct {
	// ID is the order ID; IDs increase with the pay time.
	ID uint64
	// Channel is the distribution channel.
	Channel Channel
	// PaidFen is what the buyer paid, in fen.
	PaidFen int64
	// Quantity is the number of items.
	Quantity int64
	// CreatorRateBP is the creator's commission rate in basis points.
	CreatorRateBP int64
	// LiveRateBP is the live channel's promotion rate in basis points (0 unless Live).
	LiveRateBP int64
	// Product, Author and PID are catalogue picks.
	Product *Product
	Author  *Author
	PID     string
	// Variant is random bits vendor handlers use to vary wire shapes
	// deterministically (e.g. null versus "" for absent times).
	Variant uint64

	fate  Fate
	n     uint8
	steps [4]step
}

// IDString is the order ID in decimal.
func (o *Order) IDString() string { return strconv.FormatUint(o.ID, 10) }

// PaidAt is the pay time.
func (o *Order) PaidAt() time.Time { return time.Unix(o.steps[0].at, 0).In(wire.CST) }

// Fate is the order's life cycle.
func (o *Order) Fate() Fate { return o.fate }

// Schedule lists the order's transitions in time order, the first being paid.
func (o *Order) Schedule() []Transition {
	out := make([]Transition, o.n)
	for i := range out {
		s := o.steps[i]
		out[i] = Transition{Status: statusByCode[s.code], At: time.Unix(s.at, 0).In(wire.CST), UpdatedAt: time.Unix(s.upd, 0).In(wire.CST)}
	}
	return out
}

// BuyerOpenID is the buyer's (pseudonymous) open ID, derived from the order.
func (o *Order) BuyerOpenID() string {
	return uuidString(Mix64(o.Variant^0x9e3779b97f4a7c15), Mix64(o.ID))
}

// stepAt is the index of the order's current step at Unix time t, or -1 when
// the order is not visible yet. A step becomes visible at its vendor update
// time (the alliance records a change a little after it happens), so an
// order never shows an update_time later than the sandbox clock.
func (o *Order) stepAt(t int64) int {
	k := -1
	for i := 0; i < int(o.n) && o.steps[i].upd <= t; i++ {
		k = i
	}
	return k
}

// Line is one commission role's amounts of an order in a state.
type Line struct {
	Role events.Role
	// RateBP is the role's rate on the order amount in basis points (0 when
	// the amount is not a rate of the order amount, e.g. the platform fee).
	RateBP       int64
	EstimatedFen int64
	SettledFen   int64
}

// State is an order as it stands at one clock time.
type State struct {
	Status events.Status
	// UpdatedAt is the vendor update time of the current state.
	UpdatedAt time.Time
	// ReceivedAt, SettledAt and RefundedAt are zero until the event happened.
	ReceivedAt time.Time
	SettledAt  time.Time
	RefundedAt time.Time
	// EstimatedBaseFen is the amount commission is estimated on (the paid amount).
	EstimatedBaseFen int64
	// SettledBaseFen is the settled amount commission is computed on (0 unless settled).
	SettledBaseFen int64
	// Lines are the commission lines in Roles order.
	Lines [4]Line
}

// Line returns the state's line of role r.
func (s *State) Line(r events.Role) Line {
	for _, l := range s.Lines {
		if l.Role == r {
			return l
		}
	}
	return Line{Role: r}
}

// At reports the order's state at clock time t; ok is false when the order is
// not visible yet at t (its first update time is after t).
func (o *Order) At(t time.Time) (s State, ok bool) {
	k := o.stepAt(t.Unix())
	if k < 0 {
		return State{}, false
	}
	return o.stateOf(k), true
}

// stateOf builds the state after step k. The sandbox's amount rules:
//   - creator: estimated = paid*creator_rate/10000;
//   - live_channel: estimated = paid*live_rate/10000 for Live orders, else 0;
//   - shop: estimated = creator + live_channel (its expense);
//   - platform_fee: estimated = creator/10;
//   - settled = estimated while settled, else 0;
//   - refunded (at any point, also after settlement): every amount is 0.
func (o *Order) stateOf(k int) State {
	cur := o.steps[k]
	s := State{Status: statusByCode[cur.code], UpdatedAt: time.Unix(cur.upd, 0).In(wire.CST), EstimatedBaseFen: o.PaidFen}
	for i := 1; i <= k; i++ {
		at := time.Unix(o.steps[i].at, 0).In(wire.CST)
		switch o.steps[i].code {
		case codeReceived:
			s.ReceivedAt = at
		case codeSettled:
			s.SettledAt = at
		case codeRefunded:
			s.RefundedAt = at
		}
	}
	creator := o.PaidFen * o.CreatorRateBP / 10000
	live := o.PaidFen * o.LiveRateBP / 10000
	s.Lines = [4]Line{
		{Role: events.RoleCreator, RateBP: o.CreatorRateBP, EstimatedFen: creator},
		{Role: events.RoleLiveChannel, RateBP: o.LiveRateBP, EstimatedFen: live},
		{Role: events.RoleShop, RateBP: o.CreatorRateBP + o.LiveRateBP, EstimatedFen: creator + live},
		{Role: events.RolePlatformFee, EstimatedFen: creator / 10},
	}
	switch cur.code {
	case codeSettled:
		s.SettledBaseFen = o.PaidFen
		for i := range s.Lines {
			s.Lines[i].SettledFen = s.Lines[i].EstimatedFen
		}
	case codeRefunded:
		for i := range s.Lines {
			s.Lines[i].EstimatedFen = 0
		}
	}
	return s
}

// Book is the generated orders of one account, sorted by ID ascending (which
// is also pay-time order). It is immutable and safe for concurrent use.
type Book struct {
	// Account is the account the orders belong to.
	Account Account

	orders  []Order
	maxSpan int64 // longest last-update minus pay time, seconds

	evOnce sync.Once
	events []event // every step by update time, built on first update query
}

// event is one step of one order in the update-time index.
type event struct {
	upd int64
	idx int32
}

// Len is the number of orders in the book.
func (b *Book) Len() int { return len(b.orders) }

// Order returns the i-th order by ascending ID.
func (b *Book) Order(i int) *Order { return &b.orders[i] }

// Lookup returns the order with ID id, or nil.
func (b *Book) Lookup(id uint64) *Order {
	i, ok := slices.BinarySearchFunc(b.orders, id, func(o Order, id uint64) int {
		switch {
		case o.ID < id:
			return -1
		case o.ID > id:
			return 1
		}
		return 0
	})
	if !ok {
		return nil
	}
	return &b.orders[i]
}

// Model is everything the generator produced: one Book per account.
type Model struct {
	books []*Book
}

// Books lists the books of vendor's accounts in configuration order.
func (m *Model) Books(vendor string) []*Book {
	var out []*Book
	for _, b := range m.books {
		if b.Account.Vendor == vendor {
			out = append(out, b)
		}
	}
	return out
}

// Vendors lists the vendors with at least one account, in configuration order.
func (m *Model) Vendors() []string {
	var out []string
	for _, b := range m.books {
		if !slices.Contains(out, b.Account.Vendor) {
			out = append(out, b.Account.Vendor)
		}
	}
	return out
}

// Generate builds the model of cfg. The same cfg always yields the same model.
func Generate(cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Model{}
	perVendor := map[string]int{}
	for _, a := range cfg.Accounts {
		k := perVendor[a.Vendor]
		perVendor[a.Vendor]++
		m.books = append(m.books, generateBook(cfg, a, k))
	}
	return m, nil
}

// Order ID layout: 19 digits starting 50494, one 10^13 block per account of a
// vendor, a seeded offset inside the block and random gaps between orders.
const (
	idBase  = 5049400000000000000
	idBlock = 10_000_000_000_000
)

// Fate thresholds (cumulative).
var fateCum = [...]struct {
	p float64
	f Fate
}{
	{0.08, FateRefundedBeforeConfirm},
	{0.30, FatePaid},
	{0.335, FateReceived},
	{0.405, FateRefundedAfterConfirm},
	{0.96, FateSettled},
	{1, FateRefundedAfterSettle},
}

const (
	minute = 60
	hour   = 3600
	day    = 86400
)

func generateBook(cfg Config, a Account, k int) *Book {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s", a.Vendor, a.Name)
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), h.Sum64()))
	uniform := func(lo, hi int64) int64 { return lo + r.Int64N(hi-lo+1) }

	cat := newCatalog(r)
	n := cfg.Orders
	from, to := cfg.From.Unix(), cfg.To.Unix()
	pays := make([]int64, n)
	for i := range pays {
		pays[i] = from + r.Int64N(to-from)
	}
	slices.Sort(pays)

	maxGap := uint64(60_000_000)
	if n > 0 && uint64(8*idBlock/10)/uint64(n) < maxGap {
		maxGap = uint64(8*idBlock/10) / uint64(n)
	}
	id := uint64(idBase) + uint64(k)*idBlock + r.Uint64N(idBlock/10)

	b := &Book{Account: a, orders: make([]Order, n)}
	for i := range b.orders {
		o := &b.orders[i]
		id += 1 + r.Uint64N(maxGap)
		o.ID = id
		// A fixed number of draws per order keeps the stream aligned.
		fu := r.Float64()
		cu := r.Float64()
		ch := r.IntN(3)
		o.PaidFen = uniform(100, 200000)
		o.CreatorRateBP = uniform(100, 5000)
		liveRate := uniform(100, 3000)
		o.Quantity = 1 + r.Int64N(3) + r.Int64N(3)
		o.Product = &cat.products[r.IntN(len(cat.products))]
		o.Author = &cat.authors[r.IntN(len(cat.authors))]
		o.PID = cat.pids[r.IntN(len(cat.pids))]
		o.Variant = r.Uint64()
		dConfirm := uniform(hour, 7*day)
		dSettle := uniform(3*day, 15*day)
		dRefundEarly := uniform(10*minute, 3*day)
		dRefundConfirmed := uniform(hour, 7*day)
		dRefundSettled := uniform(day, 30*day)
		var upd [4]int64
		for j := range upd {
			upd[j] = uniform(1, 120)
		}

		if cu < 0.4 {
			o.Channel = ChannelLive
			o.LiveRateBP = liveRate
		} else {
			o.Channel = Channels[1+ch]
		}
		for _, c := range fateCum {
			if fu < c.p {
				o.fate = c.f
				break
			}
		}

		t0 := pays[i]
		add := func(code uint8, at int64) {
			o.steps[o.n] = step{code: code, at: at, upd: at + upd[o.n]}
			o.n++
		}
		add(codePaid, t0)
		confirm := t0 + dConfirm
		settle := confirm + dSettle
		switch o.fate {
		case FateRefundedBeforeConfirm:
			add(codeRefunded, t0+dRefundEarly)
		case FateReceived:
			add(codeReceived, confirm)
		case FateRefundedAfterConfirm:
			add(codeReceived, confirm)
			add(codeRefunded, confirm+dRefundConfirmed)
		case FateSettled:
			add(codeReceived, confirm)
			add(codeSettled, settle)
		case FateRefundedAfterSettle:
			add(codeReceived, confirm)
			add(codeSettled, settle)
			add(codeRefunded, settle+dRefundSettled)
		}
		if span := o.steps[o.n-1].upd - t0; span > b.maxSpan {
			b.maxSpan = span
		}
	}
	return b
}

// buildEvents indexes every step of every order by update time.
func (b *Book) buildEvents() {
	b.evOnce.Do(func() {
		total := 0
		for i := range b.orders {
			total += int(b.orders[i].n)
		}
		ev := make([]event, 0, total)
		for i := range b.orders {
			o := &b.orders[i]
			for j := 0; j < int(o.n); j++ {
				ev = append(ev, event{upd: o.steps[j].upd, idx: int32(i)})
			}
		}
		slices.SortFunc(ev, func(x, y event) int {
			if x.upd != y.upd {
				if x.upd < y.upd {
					return -1
				}
				return 1
			}
			return int(x.idx) - int(y.idx)
		})
		b.events = ev
	})
}

// Mix64 is the SplitMix64 finaliser: a cheap, well-spread 64-bit hash. The
// model and every vendor sandbox derive their deterministic values with it
// (changing it changes every generated byte).
func Mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// uuidString formats 128 bits as a lower-case 8-4-4-4-12 hex string.
func uuidString(hi, lo uint64) string {
	const hexd = "0123456789abcdef"
	var b [36]byte
	p := 0
	put := func(v uint64, nibbles int) {
		for i := nibbles - 1; i >= 0; i-- {
			b[p] = hexd[(v>>(4*uint(i)))&0xf]
			p++
		}
	}
	put(hi>>32, 8)
	b[p] = '-'
	p++
	put(hi>>16, 4)
	b[p] = '-'
	p++
	put(hi, 4)
	b[p] = '-'
	p++
	put(lo>>48, 4)
	b[p] = '-'
	p++
	put(lo, 12)
	return string(b[:])
}
