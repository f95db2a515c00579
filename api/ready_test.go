package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/internal/testredis"
)

func TestReadyz(t *testing.T) {
	t.Parallel()
	rdb := testredis.Client(t)
	pool := testdb.Pool(t)
	checks := []ReadyCheck{
		{Name: "postgres", Check: func(ctx context.Context) error { return pool.Ping(ctx) }},
		{Name: "redis", Check: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }},
	}
	h, err := NewHandler(Deps{Store: store.New(pool), Ready: checks})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	down := append(checks, ReadyCheck{Name: "redis-replica", Check: func(context.Context) error { return errors.New("connection refused") }})
	h, err = NewHandler(Deps{Store: store.New(pool), Ready: down})
	require.NoError(t, err)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.Contains(t, rec.Body.String(), "connection refused")
}
