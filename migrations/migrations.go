// Package migrations holds Logbook's schema as goose v3 SQL migrations,
// embedded in the binary, and the functions that apply and inspect them.
//
// Files are named NNNNN_name.sql (sequential, so two changes that pick the
// same number collide in review). Each runs in its own transaction unless it
// says "-- +goose NO TRANSACTION".
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed *.sql
var files embed.FS

// Options tune how migrations run.
type Options struct {
	// Lock takes goose's Postgres advisory session lock, so two processes
	// migrating at once run one after the other. Tests that migrate private
	// schemas leave it off: the lock covers the whole database.
	Lock bool
}

func provider(db *sql.DB, opts Options) (*goose.Provider, error) {
	var po []goose.ProviderOption
	if opts.Lock {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("migrations: session locker: %w", err)
		}
		po = append(po, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, files, po...)
	if err != nil {
		return nil, fmt.Errorf("migrations: new provider: %w", err)
	}
	return p, nil
}

// Up applies every pending migration and returns how many ran.
func Up(ctx context.Context, db *sql.DB, opts Options) (int, error) {
	p, err := provider(db, opts)
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migrations: up: %w", err)
	}
	return len(res), nil
}

// Pending reports how many migrations have not been applied yet.
func Pending(ctx context.Context, db *sql.DB) (int, error) {
	p, err := provider(db, Options{})
	if err != nil {
		return 0, err
	}
	cur, target, err := p.GetVersions(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrations: versions: %w", err)
	}
	if cur >= target {
		return 0, nil
	}
	n := 0
	for _, s := range p.ListSources() {
		if s.Version > cur {
			n++
		}
	}
	return n, nil
}

// DownTo rolls migrations back until version is the newest applied (0:
// all of them) and returns how many ran.
func DownTo(ctx context.Context, db *sql.DB, version int64, opts Options) (int, error) {
	p, err := provider(db, opts)
	if err != nil {
		return 0, err
	}
	res, err := p.DownTo(ctx, version)
	if err != nil {
		return len(res), fmt.Errorf("migrations: down to %d: %w", version, err)
	}
	return len(res), nil
}
