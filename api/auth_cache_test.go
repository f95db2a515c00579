package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// authFunc is a Deps.Auth made of a function.
type authFunc func(ctx context.Context, secret string) (crm.Principal, error)

func (f authFunc) Authenticate(ctx context.Context, secret string) (crm.Principal, error) {
	return f(ctx, secret)
}

func TestAuthCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// setupCache is setup with committed data (a schema of its own, as
	// notifications need) and a running KeyCache as Deps.Auth, as serve has.
	setupCache := func(t *testing.T) (*testBundle, *store.KeyCache) {
		t.Helper()
		pool := testdb.Schema(t)
		s := store.New(pool)
		cache := store.NewKeyCache(pool, s, store.KeyCacheOptions{})
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- cache.Run(runCtx) }()
		t.Cleanup(func() { cancel(); <-done })
		require.Eventually(t, cache.Live, 5*time.Second, 5*time.Millisecond)

		h, err := NewHandler(Deps{Store: s, Auth: cache})
		require.NoError(t, err)
		org, err := s.OrgCreate(ctx, "Org "+t.Name())
		require.NoError(t, err)
		k, err := s.APIKeyCreate(ctx, org.ID, "admin", []crm.Scope{crm.ScopeAdmin})
		require.NoError(t, err)
		b := &testBundle{t: t, store: s, handler: h, orgID: org.ID, key: k.Key}
		require.NoError(t, json.Unmarshal(h.(interface{ spec() []byte }).spec(), &b.spec))
		return b, cache
	}

	t.Run("DatabaseErrorIs503AndLogged", func(t *testing.T) {
		t.Parallel()
		var logs bytes.Buffer
		h, err := NewHandler(Deps{
			Store:  store.New(testdb.Tx(t)),
			Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			Auth: authFunc(func(context.Context, string) (crm.Principal, error) {
				return crm.Principal{}, errors.New("store: authenticate: connection refused")
			}),
		})
		require.NoError(t, err)
		b := &testBundle{t: t, handler: h}
		require.NoError(t, json.Unmarshal(h.(interface{ spec() []byte }).spec(), &b.spec))
		res := b.doKey("lbk_whatever", "GET", "/v1/accounts", nil)
		require.Equal(t, http.StatusServiceUnavailable, res.Status)
		require.NotEmpty(t, res.Header.Get("Retry-After"))
		require.Empty(t, res.Header.Get("WWW-Authenticate"))
		require.Contains(t, string(res.Body), "cannot check the API key right now")
		require.Contains(t, logs.String(), "connection refused")
	})

	t.Run("RevokedKeyIs401OnTheNextRequest", func(t *testing.T) {
		t.Parallel()
		b, cache := setupCache(t)
		k, err := b.store.APIKeyCreate(ctx, b.orgID, "reader", []crm.Scope{crm.ScopeRead})
		require.NoError(t, err)
		for range 3 {
			require.Equal(t, http.StatusOK, b.doKey(k.Key, "GET", "/v1/accounts", nil).Status)
		}
		require.Equal(t, 1, cache.Len(), "the reader's key is cached")

		res := b.do("DELETE", "/v1/api-keys/"+k.ID, nil)
		require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
		res = b.doKey(k.Key, "GET", "/v1/accounts", nil)
		require.Equal(t, http.StatusUnauthorized, res.Status, "a revoked key was accepted: %s", res.Body)
		require.Contains(t, string(res.Body), "invalid or revoked API key")
		require.Equal(t, http.StatusUnauthorized, b.doKey(k.Key, "GET", "/v1/accounts", nil).Status)
		// The admin key is unaffected.
		require.Equal(t, http.StatusOK, b.do("GET", "/v1/accounts", nil).Status)
	})

	t.Run("UnknownKeyIs401", func(t *testing.T) {
		t.Parallel()
		b, cache := setupCache(t)
		res := b.doKey(store.KeyPrefix+"unknown", "GET", "/v1/accounts", nil)
		require.Equal(t, http.StatusUnauthorized, res.Status)
		require.Contains(t, string(res.Body), "invalid or revoked API key")
		require.Zero(t, cache.Len())
	})
}
