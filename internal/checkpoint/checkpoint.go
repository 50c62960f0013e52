// Package checkpoint keeps the poller's progress and its replicas' leases in
// NATS JetStream key-value buckets.
//
// A checkpoint records, per source (and per vendor time type where a source
// polls several), the time up to which every page was acknowledged by
// JetStream, plus the last success, the last error and the next run for
// `poller sources`. It is only ever advanced with compare-and-swap, so two
// writers can never silently overwrite each other.
//
// A lease gives one poller replica the exclusive right to poll a source for
// TTL: it is created only if absent, renewed by revision, released on
// shutdown, and expires on its own (the bucket's max age) when its holder
// dies, so another replica takes the source over within TTL.
package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
)

// Bucket names.
const (
	CheckpointBucket = "YONGJIN_CHECKPOINTS"
	LeaseBucket      = "YONGJIN_LEASES"
	// PageBucket holds the fingerprint of every page a live part stored in
	// RAW, so a look-back re-read of unchanged data stores nothing new.
	PageBucket = "YONGJIN_PAGES"
)

// PageTTL is how long a page fingerprint lives after it was written: a page
// unchanged for that long is stored once more. It is well below RAW's
// retention (30 days), so a fingerprint never outlives the page it stands for.
const PageTTL = 7 * 24 * time.Hour

// ErrConflict means another writer changed the checkpoint or holds the lease.
var ErrConflict = errors.New("checkpoint: changed by another writer")

// ErrLeaseLost means the lease expired or was taken over before renewal.
var ErrLeaseLost = errors.New("lease lost")

// Checkpoint is one source's progress.
type Checkpoint struct {
	// Position: every record with a vendor time up to here has been published.
	Position time.Time `json:"position"`
	// LastSuccess is when a poll of the source last completed.
	LastSuccess time.Time `json:"last_success,omitzero"`
	// LastError is the last poll error (never a secret: vendor errors are redacted).
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// NextRun is when the holder plans to poll the source again.
	NextRun time.Time `json:"next_run,omitzero"`
	// Skipped names the last range the part skipped because the vendor no
	// longer serves it (e.g. douke before 2021-10-01), with the reason.
	Skipped   string    `json:"skipped,omitempty"`
	SkippedAt time.Time `json:"skipped_at,omitzero"`
	// Holder is the replica that wrote this checkpoint.
	Holder string `json:"holder,omitempty"`

	revision uint64
}

// Revision is the KV revision the checkpoint was read at (0 = not stored yet).
func (c Checkpoint) Revision() uint64 { return c.revision }

// Store reads and writes checkpoints and page fingerprints.
type Store struct{ kv, pages jetstream.KeyValue }

// Open creates or binds the checkpoint bucket (file storage, 5 revisions of
// history per key so an operator can see how a checkpoint moved) and the
// page-fingerprint bucket, retrying while JetStream is not ready (replicas
// starting at once against a cluster; see bus.EnsureKeyValue, which logs
// each retry on slog.Default()).
func Open(ctx context.Context, js jetstream.JetStream, replicas int) (*Store, error) {
	if replicas == 0 {
		replicas = 1
	}
	kv, err := bus.EnsureKeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket: CheckpointBucket, Description: "yongjin poller checkpoints", History: 5,
		Storage: jetstream.FileStorage, Replicas: replicas,
	}, slog.Default())
	if err != nil {
		return nil, fmt.Errorf("checkpoint bucket: %w", err)
	}
	pages, err := bus.EnsureKeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket: PageBucket, Description: "yongjin poller: fingerprints of the pages stored in RAW", History: 1, TTL: PageTTL,
		Storage: jetstream.FileStorage, Replicas: replicas,
	}, slog.Default())
	if err != nil {
		return nil, fmt.Errorf("page bucket: %w", err)
	}
	return &Store{kv: kv, pages: pages}, nil
}

// PageKey is the fingerprint key of the index-th page (from 0) of the
// window starting at windowStart of part key partKey, requested with page
// size size.
func PageKey(partKey string, windowStart time.Time, size, index int) string {
	return fmt.Sprintf("%s.%d.%d.%d", partKey, windowStart.Unix(), size, index)
}

// PageFingerprint returns the fingerprint stored at key ("" when none).
func (s *Store) PageFingerprint(ctx context.Context, key string) (string, error) {
	e, err := s.pages.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("page fingerprint %s: %w", key, err)
	}
	return string(e.Value()), nil
}

// SetPageFingerprint records fp at key. Call it only after JetStream
// acknowledged the page: a fingerprint says "this content is in RAW".
func (s *Store) SetPageFingerprint(ctx context.Context, key, fp string) error {
	if _, err := s.pages.PutString(ctx, key, fp); err != nil {
		return fmt.Errorf("page fingerprint %s: %w", key, err)
	}
	return nil
}

// Key is the checkpoint key of a source's stream of windows (part "" for
// sources that poll one time type).
func Key(source, part string) string {
	if part == "" {
		return sanitize(source)
	}
	return sanitize(source) + "." + sanitize(part)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// Get returns the checkpoint at key; a missing key gives a zero Checkpoint
// with Revision 0 and no error.
func (s *Store) Get(ctx context.Context, key string) (Checkpoint, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Checkpoint{}, nil
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint %s: %w", key, err)
	}
	var c Checkpoint
	if err := json.Unmarshal(e.Value(), &c); err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint %s: %w", key, err)
	}
	c.revision = e.Revision()
	return c, nil
}

// Save writes c at key if nobody wrote it since c was read (compare-and-swap
// on c.Revision; 0 means "must not exist yet"). On success it returns c with
// its new revision; a lost race returns ErrConflict.
func (s *Store) Save(ctx context.Context, key string, c Checkpoint) (Checkpoint, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return c, err
	}
	var rev uint64
	if c.revision == 0 {
		rev, err = s.kv.Create(ctx, key, b)
	} else {
		rev, err = s.kv.Update(ctx, key, b, c.revision)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || isWrongSequence(err) {
		return c, fmt.Errorf("checkpoint %s: %w", key, ErrConflict)
	}
	if err != nil {
		return c, fmt.Errorf("checkpoint %s: %w", key, err)
	}
	c.revision = rev
	return c, nil
}

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// Entry is a checkpoint with its key, for listing.
type Entry struct {
	Key string
	Checkpoint
}

// List returns every checkpoint, by key.
func (s *Store) List(ctx context.Context) ([]Entry, error) {
	lister, err := s.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list checkpoints: %w", err)
	}
	var out []Entry
	for k := range lister.Keys() {
		c, err := s.Get(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Key: k, Checkpoint: c})
	}
	return out, nil
}

// Leases grants exclusive, expiring ownership of sources to replicas.
type Leases struct {
	kv     jetstream.KeyValue
	ttl    time.Duration
	holder string
}

// OpenLeases creates or binds the lease bucket whose entries expire ttl after
// their last write, for replica holder, retrying like Open.
func OpenLeases(ctx context.Context, js jetstream.JetStream, ttl time.Duration, holder string, replicas int) (*Leases, error) {
	if ttl < time.Second {
		return nil, fmt.Errorf("lease ttl %s is too short (minimum 1s)", ttl)
	}
	if replicas == 0 {
		replicas = 1
	}
	kv, err := bus.EnsureKeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket: LeaseBucket, Description: "yongjin poller leases", History: 1, TTL: ttl,
		Storage: jetstream.FileStorage, Replicas: replicas,
	}, slog.Default())
	if err != nil {
		return nil, fmt.Errorf("lease bucket: %w", err)
	}
	return &Leases{kv: kv, ttl: ttl, holder: holder}, nil
}

// Lease is a held lease.
type Lease struct {
	Key      string
	revision uint64
}

type leaseValue struct {
	Holder   string    `json:"holder"`
	Acquired time.Time `json:"acquired"`
}

// Acquire takes the lease on key if nobody holds it; ErrConflict if another
// replica does.
func (l *Leases) Acquire(ctx context.Context, key string) (*Lease, error) {
	b, _ := json.Marshal(leaseValue{Holder: l.holder, Acquired: time.Now().UTC()})
	rev, err := l.kv.Create(ctx, key, b)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil, ErrConflict
	}
	if err != nil {
		return nil, fmt.Errorf("acquire lease %s: %w", key, err)
	}
	return &Lease{Key: key, revision: rev}, nil
}

// Renew extends the lease by another TTL; ErrLeaseLost if it expired or was
// taken over meanwhile (the caller must stop polling the source).
func (l *Leases) Renew(ctx context.Context, ls *Lease) error {
	b, _ := json.Marshal(leaseValue{Holder: l.holder, Acquired: time.Now().UTC()})
	rev, err := l.kv.Update(ctx, ls.Key, b, ls.revision)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyExists) || isWrongSequence(err) {
			return fmt.Errorf("lease %s: %w", ls.Key, ErrLeaseLost)
		}
		return fmt.Errorf("renew lease %s: %w", ls.Key, err)
	}
	ls.revision = rev
	return nil
}

// Release gives the lease up if it is still ours.
func (l *Leases) Release(ctx context.Context, ls *Lease) error {
	err := l.kv.Delete(ctx, ls.Key, jetstream.LastRevision(ls.revision))
	if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) && !isWrongSequence(err) {
		return fmt.Errorf("release lease %s: %w", ls.Key, err)
	}
	return nil
}

// Holder returns who holds key ("" if nobody).
func (l *Leases) Holder(ctx context.Context, key string) (string, error) {
	e, err := l.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var v leaseValue
	_ = json.Unmarshal(e.Value(), &v)
	return v.Holder, nil
}

// TTL is the lease length.
func (l *Leases) TTL() time.Duration { return l.ttl }
