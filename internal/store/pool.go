package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	pgxvec "github.com/pgvector/pgvector-go/pgx"
)

// PoolConfig tunes Connect.
type PoolConfig struct {
	// MaxConns caps the pool; zero keeps pgxpool's default (max(4, NumCPU)).
	MaxConns int32
	// SearchPath, when set, is the search_path of every connection (tests
	// use it to run in a private schema).
	SearchPath string
}

// Connect opens a pool on url and registers pgvector's types on every
// connection. It pings once so a wrong URL fails here, not on first use.
func Connect(ctx context.Context, url string, pc PoolConfig) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: parse database url: %w", err)
	}
	if pc.MaxConns > 0 {
		cfg.MaxConns = pc.MaxConns
	}
	if pc.SearchPath != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pc.SearchPath
	}
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		// The vector type exists only once the extension is created; before
		// the first migration there is nothing to register.
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'vector')`).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return nil
		}
		return pgxvec.RegisterTypes(ctx, conn)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: ping %s: %w", cfg.ConnConfig.Host, err)
	}
	return pool, nil
}
