package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

// CreatorKey is what the running totals are kept by: one creator (the
// order's author) of one platform, one commission role, one currency.
// Role "creator" is the creator's own commission; the other roles are the
// other beneficiaries of the creator's orders.
type CreatorKey struct {
	Platform string      `json:"platform"`
	AuthorID string      `json:"author_id"`
	Role     events.Role `json:"role"`
	Currency string      `json:"currency"`
}

// Amount is a running total: the latest version of each commission line,
// summed.
type Amount struct {
	Lines        int64 `json:"lines"`
	EstimatedFen int64 `json:"estimated_fen"`
	SettledFen   int64 `json:"settled_fen"`
}

// Stats count what happened to the events applied.
type Stats struct {
	// Applied events changed the state (a new record or a newer version).
	Applied int64 `json:"applied"`
	// Superseded counts applied events that replaced an older version of
	// their record (status changes, settlements, refunds).
	Superseded int64 `json:"superseded"`
	// Duplicates carried the event ID already applied for their record
	// (a redelivery, a replay, a re-poll).
	Duplicates int64 `json:"duplicates"`
	// Stale events were older versions than the one already applied.
	Stale int64 `json:"stale"`
	// Ignored events were of another type than order.v1 or commission.v1.
	Ignored int64 `json:"ignored"`
}

// orderKey is an order's natural key.
type orderKey struct{ Platform, OrderID string }

// orderState is everything kept about one order: its author (from its
// latest order.v1 event, once one arrived) and the latest version of each
// of its commission lines.
type orderState struct {
	Platform string `json:"platform"`
	OrderID  string `json:"order_id"`
	// Known is false until the order's own event arrived; its lines are
	// then kept but not attributed to anyone yet.
	Known    bool                       `json:"known"`
	EventID  string                     `json:"event_id,omitempty"`
	Version  int64                      `json:"version,omitempty"`
	AuthorID string                     `json:"author_id,omitempty"`
	Lines    map[events.Role]*lineState `json:"lines,omitempty"`
}

// lineState is the latest applied version of one commission line.
type lineState struct {
	EventID      string `json:"event_id"`
	Version      int64  `json:"version"`
	Currency     string `json:"currency"`
	EstimatedFen int64  `json:"estimated_fen"`
	SettledFen   int64  `json:"settled_fen"`
}

// Totals is the subscriber's state: commission per creator, kept current
// as order.v1 and commission.v1 events arrive in any order and any number
// of times.
//
// commission.v1 carries no creator, so lines are joined with their order's
// order.v1 event by (platform, order_id) and attributed to its author_id.
// For each record (an order, or an order's line for one role) only the
// latest version counts: an event with the ID already applied is a
// duplicate and an older version is stale; both change nothing. Since an
// event ID is derived from the record's key and version, comparing versions
// per record de-duplicates by ID without keeping every ID ever seen.
//
// A Totals is not safe for concurrent use.
type Totals struct {
	orders    map[orderKey]*orderState
	byCreator map[CreatorKey]*Amount
	stats     Stats
}

// NewTotals returns empty totals.
func NewTotals() *Totals {
	return &Totals{orders: map[orderKey]*orderState{}, byCreator: map[CreatorKey]*Amount{}}
}

// Apply applies one event and reports whether it changed the state: an
// order.v1 event with the lines it carries, a commission.v1 event alone.
// Events of other types are counted as ignored; a payload that does not
// decode is an error (and changes nothing).
func (t *Totals) Apply(env events.Envelope) (bool, error) {
	if env.Type != events.Type(events.KindOrder) && env.Type != events.Type(events.KindCommission) {
		t.stats.Ignored++
		return false, nil
	}
	p, err := events.Decode(env)
	if err != nil {
		return false, err
	}
	switch v := p.(type) {
	case *events.Order:
		return t.applyOrder(env.ID, v), nil
	case *events.CommissionLine:
		return t.applyLine(env.ID, v), nil
	}
	return false, fmt.Errorf("event %s: unexpected payload %T", env.ID, p)
}

func (t *Totals) order(platform, orderID string) *orderState {
	k := orderKey{platform, orderID}
	o := t.orders[k]
	if o == nil {
		o = &orderState{Platform: platform, OrderID: orderID, Lines: map[events.Role]*lineState{}}
		t.orders[k] = o
	}
	return o
}

// classify says whether an event (id, version) is new for a record last
// applied at (appliedID, appliedVersion), counting duplicates and stale ones.
func (t *Totals) classify(have bool, appliedID string, appliedVersion int64, id string, version int64) bool {
	switch {
	case !have:
		return true
	case id == appliedID:
		t.stats.Duplicates++
		return false
	case version <= appliedVersion:
		t.stats.Stale++
		return false
	}
	t.stats.Superseded++
	return true
}

func (t *Totals) applyOrder(id string, o *events.Order) bool {
	st := t.order(o.Platform, o.OrderID)
	if !t.classify(st.Known, st.EventID, st.Version, id, o.Version) {
		return false
	}
	if !st.Known || st.AuthorID != o.AuthorID {
		// attribute the order's lines to its (new) author
		for role, l := range st.Lines {
			if st.Known {
				t.add(CreatorKey{st.Platform, st.AuthorID, role, l.Currency}, l, -1)
			}
			t.add(CreatorKey{st.Platform, o.AuthorID, role, l.Currency}, l, +1)
		}
	}
	st.Known, st.EventID, st.Version, st.AuthorID = true, id, o.Version, o.AuthorID
	t.stats.Applied++
	// The lines the order event carries (commission_lines, added within
	// v1) are applied like the commission.v1 events of the same version: a
	// commission.v1 event for the same line and version, before or after,
	// is then stale and changes nothing.
	for _, l := range o.Lines() {
		t.applyLine(id, &l)
	}
	return true
}

func (t *Totals) applyLine(id string, c *events.CommissionLine) bool {
	st := t.order(c.Platform, c.OrderID)
	old := st.Lines[c.Role]
	if old != nil && !t.classify(true, old.EventID, old.Version, id, c.Version) {
		return false
	}
	l := &lineState{EventID: id, Version: c.Version, Currency: c.Currency, EstimatedFen: c.EstimatedFen, SettledFen: c.SettledFen}
	if st.Known {
		if old != nil {
			t.add(CreatorKey{st.Platform, st.AuthorID, c.Role, old.Currency}, old, -1)
		}
		t.add(CreatorKey{st.Platform, st.AuthorID, c.Role, l.Currency}, l, +1)
	}
	st.Lines[c.Role] = l
	t.stats.Applied++
	return true
}

// add adds (sign +1) or removes (sign -1) one line's amounts to a total.
func (t *Totals) add(k CreatorKey, l *lineState, sign int64) {
	a := t.byCreator[k]
	if a == nil {
		a = &Amount{}
		t.byCreator[k] = a
	}
	a.Lines += sign
	a.EstimatedFen += sign * l.EstimatedFen
	a.SettledFen += sign * l.SettledFen
	if *a == (Amount{}) {
		delete(t.byCreator, k)
	}
}

// ByCreator returns a copy of the running totals.
func (t *Totals) ByCreator() map[CreatorKey]Amount {
	out := make(map[CreatorKey]Amount, len(t.byCreator))
	for k, a := range t.byCreator {
		out[k] = *a
	}
	return out
}

// Unattributed is the number of commission lines whose order.v1 event has
// not arrived (yet): they are kept, and counted once it does.
func (t *Totals) Unattributed() int {
	n := 0
	for _, o := range t.orders {
		if !o.Known {
			n += len(o.Lines)
		}
	}
	return n
}

// Stats returns the event counters.
func (t *Totals) Stats() Stats { return t.stats }

// stateFile is the JSON form of Totals on disk. The totals themselves are
// derived from the orders when loading.
type stateFile struct {
	Orders []*orderState `json:"orders"`
	Stats  Stats         `json:"stats"`
}

// Save writes the state to path atomically (a temporary file renamed over
// it), so a crash leaves either the old or the new state, never half of one.
func (t *Totals) Save(path string) error {
	sf := stateFile{Stats: t.stats, Orders: make([]*orderState, 0, len(t.orders))}
	for _, o := range t.orders {
		sf.Orders = append(sf.Orders, o)
	}
	sort.Slice(sf.Orders, func(i, j int) bool {
		a, b := sf.Orders[i], sf.Orders[j]
		return a.Platform < b.Platform || (a.Platform == b.Platform && a.OrderID < b.OrderID)
	})
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	defer os.Remove(f.Name())
	if err := json.NewEncoder(f).Encode(sf); err != nil {
		f.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("save state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// LoadTotals reads a state file written by Save; a missing file gives
// empty totals.
func LoadTotals(path string) (*Totals, error) {
	t := NewTotals()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return t, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load state: %w", err)
	}
	defer f.Close()
	var sf stateFile
	if err := json.NewDecoder(f).Decode(&sf); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("load state %s: %w", path, err)
	}
	t.stats = sf.Stats
	for _, o := range sf.Orders {
		if o.Lines == nil {
			o.Lines = map[events.Role]*lineState{}
		}
		t.orders[orderKey{o.Platform, o.OrderID}] = o
		if o.Known {
			for role, l := range o.Lines {
				t.add(CreatorKey{o.Platform, o.AuthorID, role, l.Currency}, l, +1)
			}
		}
	}
	return t, nil
}

// WriteTable prints the totals sorted by platform, creator, role and
// currency, amounts in yuan.
func (t *Totals) WriteTable(w io.Writer) error {
	keys := make([]CreatorKey, 0, len(t.byCreator))
	for k := range t.byCreator {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].less(keys[j]) })
	if _, err := fmt.Fprintf(w, "%-12s %-40s %-16s %-4s %7s %16s %16s\n", "PLATFORM", "CREATOR", "ROLE", "CUR", "LINES", "ESTIMATED", "SETTLED"); err != nil {
		return err
	}
	for _, k := range keys {
		a := t.byCreator[k]
		if _, err := fmt.Fprintf(w, "%-12s %-40s %-16s %-4s %7d %16s %16s\n", k.Platform, k.AuthorID, k.Role, k.Currency, a.Lines, yuan(a.EstimatedFen), yuan(a.SettledFen)); err != nil {
			return err
		}
	}
	s := t.stats
	_, err := fmt.Fprintf(w, "%d events applied (%d superseded an older version), %d duplicates and %d stale versions skipped; %d lines await their order\n",
		s.Applied, s.Superseded, s.Duplicates, s.Stale, t.Unattributed())
	return err
}

func (k CreatorKey) less(o CreatorKey) bool {
	if k.Platform != o.Platform {
		return k.Platform < o.Platform
	}
	if k.AuthorID != o.AuthorID {
		return k.AuthorID < o.AuthorID
	}
	if k.Role != o.Role {
		return k.Role < o.Role
	}
	return k.Currency < o.Currency
}

// yuan formats fen as yuan with two decimals: 1290 → "12.90".
func yuan(fen int64) string {
	sign := ""
	u := uint64(fen)
	if fen < 0 {
		sign, u = "-", uint64(-fen)
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}
