package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const ttl, stale = 24 * time.Hour, 10 * time.Minute

	type testBundle struct {
		store *store.Store
		key   store.IdempotencyKey
		now   time.Time
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		b := &testBundle{store: store.New(testdb.Tx(t)), now: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)}
		b.store.SetClock(func() time.Time { return b.now })
		org, err := b.store.OrgCreate(ctx, "Org")
		require.NoError(t, err)
		k, err := b.store.APIKeyCreate(ctx, org.ID, "k", []crm.Scope{crm.ScopeWrite})
		require.NoError(t, err)
		b.key = store.IdempotencyKey{OrgID: org.ID, APIKeyID: k.ID, Key: "order-1"}
		return b
	}

	done := store.IdempotencyRecord{RequestHash: []byte{1, 2, 3}, Status: 201,
		Header: map[string]string{"Content-Type": "application/json"}, Body: []byte(`{"id":"x"}`)}

	t.Run("ClaimCompleteAndReadBack", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		lock := store.NewID()
		claimed, _, err := b.store.IdempotencyClaim(ctx, b.key, lock, ttl, stale)
		require.NoError(t, err)
		require.True(t, claimed)

		claimed, rec, err := b.store.IdempotencyClaim(ctx, b.key, store.NewID(), ttl, stale)
		require.NoError(t, err)
		require.False(t, claimed)
		require.True(t, rec.InProgress())

		require.NoError(t, b.store.IdempotencyComplete(ctx, b.key, lock, done))
		claimed, rec, err = b.store.IdempotencyClaim(ctx, b.key, store.NewID(), ttl, stale)
		require.NoError(t, err)
		require.False(t, claimed)
		require.Equal(t, done.Status, rec.Status)
		require.Equal(t, done.RequestHash, rec.RequestHash)
		require.Equal(t, done.Header, rec.Header)
		require.Equal(t, done.Body, rec.Body)
		require.Equal(t, b.now.Add(ttl), rec.ExpiresAt)
	})

	t.Run("ExpiredKeyIsClaimedAgainAndPurged", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		lock := store.NewID()
		_, _, err := b.store.IdempotencyClaim(ctx, b.key, lock, ttl, stale)
		require.NoError(t, err)
		require.NoError(t, b.store.IdempotencyComplete(ctx, b.key, lock, done))

		n, err := b.store.IdempotencyPurge(ctx, 10)
		require.NoError(t, err)
		require.Zero(t, n, "nothing has expired yet")

		b.now = b.now.Add(ttl)
		claimed, _, err := b.store.IdempotencyClaim(ctx, b.key, store.NewID(), ttl, stale)
		require.NoError(t, err)
		require.True(t, claimed, "a key 24 h old is new again")

		b.now = b.now.Add(ttl)
		n, err = b.store.IdempotencyPurge(ctx, 10)
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
	})

	t.Run("StaleInProgressIsTakenOverAndTheOldLockLosesIt", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		old := store.NewID()
		_, _, err := b.store.IdempotencyClaim(ctx, b.key, old, ttl, stale)
		require.NoError(t, err)
		b.now = b.now.Add(stale - time.Second)
		claimed, _, err := b.store.IdempotencyClaim(ctx, b.key, store.NewID(), ttl, stale)
		require.NoError(t, err)
		require.False(t, claimed, "not stale yet")

		b.now = b.now.Add(time.Second)
		fresh := store.NewID()
		claimed, _, err = b.store.IdempotencyClaim(ctx, b.key, fresh, ttl, stale)
		require.NoError(t, err)
		require.True(t, claimed)
		require.ErrorIs(t, b.store.IdempotencyComplete(ctx, b.key, old, done), crm.ErrNotFound)
		require.NoError(t, b.store.IdempotencyRelease(ctx, b.key, old), "releasing a lost key is a no-op")
		require.NoError(t, b.store.IdempotencyComplete(ctx, b.key, fresh, done))
	})

	t.Run("ReleaseLetsTheNextRequestClaim", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		lock := store.NewID()
		_, _, err := b.store.IdempotencyClaim(ctx, b.key, lock, ttl, stale)
		require.NoError(t, err)
		require.NoError(t, b.store.IdempotencyRelease(ctx, b.key, lock))
		claimed, _, err := b.store.IdempotencyClaim(ctx, b.key, store.NewID(), ttl, stale)
		require.NoError(t, err)
		require.True(t, claimed)
	})

	t.Run("KeysAreScopedToTheAPIKey", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, _, err := b.store.IdempotencyClaim(ctx, b.key, store.NewID(), ttl, stale)
		require.NoError(t, err)
		k2, err := b.store.APIKeyCreate(ctx, b.key.OrgID, "k2", []crm.Scope{crm.ScopeWrite})
		require.NoError(t, err)
		other := b.key
		other.APIKeyID = k2.ID
		claimed, _, err := b.store.IdempotencyClaim(ctx, other, store.NewID(), ttl, stale)
		require.NoError(t, err)
		require.True(t, claimed)
	})
}
