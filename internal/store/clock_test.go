package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/store"
)

// TestStoreClock checks that rows are stamped by the Store's clock (in UTC,
// at PostgreSQL's microsecond precision), that the Stores WithTx derives keep
// it, and that a write after the clock moves is stamped with the new time.
func TestStoreClock(t *testing.T) {
	t.Parallel()
	b := activitySetup(t)
	at := time.Date(2031, 5, 6, 7, 8, 9, 123456000, time.UTC)
	now := at
	// A zone other than UTC and nanoseconds PostgreSQL cannot keep: what is
	// stored is the same instant in UTC, truncated to the microsecond.
	b.store.SetClock(func() time.Time { return now.In(time.FixedZone("UTC+1", 3600)).Add(789) })
	acme := b.account("Acme")

	a, res := b.upsert(map[string]any{"type": "note", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z",
		"source": "api", "external_id": "clock-1", "subject": "first"})
	require.Equal(t, store.UpsertCreated, res)
	require.Equal(t, at, a.CreatedAt)
	require.Equal(t, at, a.UpdatedAt)
	got, err := b.store.ActivityGet(b.ctx, b.orgID, a.ID)
	require.NoError(t, err)
	require.Equal(t, at, got.CreatedAt, "read back")

	require.NoError(t, b.store.WithTx(b.ctx, func(tx *store.Store) error {
		in := activityIn(t, map[string]any{"type": "note", "account_id": acme, "occurred_at": "2026-03-02T16:00:00Z"})
		a2, _, _, err := activity.New(tx).Upsert(b.ctx, b.orgID, in)
		require.NoError(t, err)
		require.Equal(t, at, a2.CreatedAt, "a transaction's Store keeps the clock")
		return nil
	}))

	now = at.Add(time.Hour)
	up, err := activity.New(b.store).Update(b.ctx, b.orgID, a.ID, activityIn(t, map[string]any{"subject": "second"}))
	require.NoError(t, err)
	require.Equal(t, at, up.CreatedAt)
	require.Equal(t, at.Add(time.Hour), up.UpdatedAt)

	acc, err := b.store.AccountUpdate(b.ctx, b.orgID, acme, crm.AccountInput{Segment: crm.Some("enterprise")})
	require.NoError(t, err)
	require.True(t, at.Add(time.Hour).Equal(acc.UpdatedAt), "account updated_at %v", acc.UpdatedAt)
}
