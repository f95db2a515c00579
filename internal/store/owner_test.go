package store_test

import (
	"context"
	"logbook/activity"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

func TestActivityOwnerName(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(testdb.Tx(t))
	org, err := s.OrgCreate(ctx, "Northwind")
	require.NoError(t, err)
	acct, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme")})
	require.NoError(t, err)
	u, err := s.UserCreate(ctx, org.ID, crm.UserInput{Email: crm.Some("maya@northwind.test"), Name: crm.Some("Maya Patel"), Role: crm.Some(crm.RoleRep)})
	require.NoError(t, err)
	owned, _, _, err := activity.New(s).Upsert(ctx, org.ID, crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(acct.ID),
		OwnerID: crm.Some(u.ID), OccurredAt: crm.Some("2026-03-02T15:00:00Z")})
	require.NoError(t, err)
	unowned, _, _, err := activity.New(s).Upsert(ctx, org.ID, crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(acct.ID),
		OccurredAt: crm.Some("2026-03-02T16:00:00Z")})
	require.NoError(t, err)

	name, err := s.ActivityOwnerName(ctx, org.ID, owned.ID)
	require.NoError(t, err)
	require.Equal(t, "Maya Patel", name)
	name, err = s.ActivityOwnerName(ctx, org.ID, unowned.ID)
	require.NoError(t, err)
	require.Empty(t, name)
	other, err := s.OrgCreate(ctx, "Other")
	require.NoError(t, err)
	_, err = s.ActivityOwnerName(ctx, other.ID, owned.ID)
	require.ErrorIs(t, err, crm.ErrNotFound)
}
