package store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// TestUnavailable: errors that say the database cannot answer now wrap
// store.ErrUnavailable; the client's mistakes and a caller giving up do not.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ClosedPort", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		pool, err := pgxpool.New(ctx, fmt.Sprintf("postgres://postgres@%s/x?sslmode=disable&connect_timeout=2", addr))
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		_, err = store.New(pool).AccountGet(ctx, uuid.NewString(), uuid.NewString())
		require.ErrorIs(t, err, store.ErrUnavailable)
		require.NotErrorIs(t, err, crm.ErrNotFound)
		_, err = store.New(pool).APIKeyAuthenticate(ctx, store.KeyPrefix+"whatever")
		require.ErrorIs(t, err, store.ErrUnavailable)
		// Classify finds it in an error that did not come through a
		// Store method.
		require.ErrorIs(t, store.Classify(pool.Ping(ctx)), store.ErrUnavailable)
	})

	t.Run("StatementTimeout", func(t *testing.T) {
		t.Parallel()
		pool, err := store.Connect(ctx, testdb.URL(), store.PoolConfig{MaxConns: 1, StatementTimeout: 20 * time.Millisecond})
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		var s string
		require.NoError(t, pool.QueryRow(ctx, `SHOW statement_timeout`).Scan(&s))
		require.Equal(t, "20ms", s)
		_, err = pool.Exec(ctx, `SELECT pg_sleep(2)`)
		require.Error(t, err)
		require.ErrorIs(t, store.Classify(err), store.ErrUnavailable)
	})

	t.Run("Deadline", func(t *testing.T) {
		t.Parallel()
		pool := testdb.Pool(t)
		dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		_, err := pool.Exec(dctx, `SELECT pg_sleep(2)`)
		require.Error(t, err)
		require.ErrorIs(t, store.Classify(err), store.ErrUnavailable)
	})

	t.Run("NotUnavailable", func(t *testing.T) {
		t.Parallel()
		s := store.New(testdb.Tx(t))
		_, err := s.AccountGet(ctx, uuid.NewString(), uuid.NewString())
		require.ErrorIs(t, err, crm.ErrNotFound)
		require.NotErrorIs(t, store.Classify(err), store.ErrUnavailable)
		_, err = s.APIKeyAuthenticate(ctx, store.KeyPrefix+"whatever")
		require.ErrorIs(t, err, crm.ErrNotFound)
		require.NotErrorIs(t, err, store.ErrUnavailable)

		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = testdb.Pool(t).Exec(cctx, `SELECT 1`)
		require.Error(t, err)
		require.NotErrorIs(t, store.Classify(err), store.ErrUnavailable, "a caller that gave up is not an outage")
		require.Nil(t, store.Classify(nil))
		plain := errors.New("boom")
		require.Equal(t, plain, store.Classify(plain))
	})
}
