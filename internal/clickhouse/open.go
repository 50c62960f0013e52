package clickhouse

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// OpenReady opens a store on cfg and migrates it (migrate true) or checks
// that its schema is current (CheckSchema), retrying with backoff (0.5 s
// doubling to 15 s) while ClickHouse is unreachable (IsTransient): it may
// start after the service. It returns when the store is ready, on a
// permanent error, or when ctx ends. log receives a warning per retry.
func OpenReady(ctx context.Context, cfg Config, migrate bool, log *slog.Logger) (*Store, error) {
	wait := 500 * time.Millisecond
	for {
		store, err := Open(ctx, cfg)
		if err == nil {
			if migrate {
				err = store.Migrate(ctx)
			} else {
				err = store.CheckSchema(ctx)
			}
			if err == nil {
				return store, nil
			}
			store.Close()
		}
		if !IsTransient(err) || ctx.Err() != nil {
			return nil, err
		}
		log.Warn("clickhouse not reachable yet, retrying", "addr", cfg.Addr, "retry_in", wait.String(), "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 15*time.Second)
	}
}

// CheckSchema requires every migration this build knows to be applied, for
// a sink that may not run DDL itself (`sink --clickhouse-migrate=false`).
func (s *Store) CheckSchema(ctx context.Context) error {
	applied, err := s.AppliedMigrations(ctx)
	if err != nil {
		return fmt.Errorf("check schema (--clickhouse-migrate=false): %w", err)
	}
	done := make(map[uint32]bool, len(applied))
	for _, v := range applied {
		done[v] = true
	}
	for _, m := range Migrations {
		if !done[m.Version] {
			return fmt.Errorf("clickhouse %s database %s: migration %d (%s) not applied and --clickhouse-migrate=false: "+
				"run `sink migrate` as a user allowed to create tables", s.Addr(), s.Database(), m.Version, m.Name)
		}
	}
	return nil
}
