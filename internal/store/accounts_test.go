package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

func TestAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(testdb.Tx(t))
	org, err := s.OrgCreate(ctx, "Acme Sales")
	require.NoError(t, err)
	a, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme"), Domains: crm.Some([]string{"acme.com", "acme.io"})})
	require.NoError(t, err)
	require.Equal(t, []string{"acme.com", "acme.io"}, a.Domains)
	got, err := s.AccountGet(ctx, org.ID, a.ID)
	require.NoError(t, err)
	require.Equal(t, a.ID, got.ID)
	page, err := s.AccountList(ctx, org.ID, store.AccountFilter{Q: "ACME.i"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
}
