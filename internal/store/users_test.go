package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

func TestUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		store *store.Store
		orgID string
		other string // a second org
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		s := store.New(testdb.Tx(t))
		org, err := s.OrgCreate(ctx, "Org A")
		require.NoError(t, err)
		other, err := s.OrgCreate(ctx, "Org B")
		require.NoError(t, err)
		return &testBundle{store: s, orgID: org.ID, other: other.ID}
	}

	create := func(t *testing.T, b *testBundle, orgID, email, name string, role crm.Role) crm.User {
		t.Helper()
		in := crm.UserInput{Email: crm.Some(email), Name: crm.Some(name)}
		if role != "" {
			in.Role = crm.Some(role)
		}
		u, err := b.store.UserCreate(ctx, orgID, in)
		require.NoError(t, err)
		return u
	}

	t.Run("CreateDefaultsRoleToRepAndLowercasesEmail", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := create(t, b, b.orgID, "Dana@Acme.COM", "Dana Lee", "")
		require.Equal(t, crm.RoleRep, u.Role)
		require.Equal(t, "dana@acme.com", u.Email)
		require.Equal(t, "Dana Lee", u.Name)
		require.Equal(t, b.orgID, u.OrgID)
		require.True(t, crm.ValidID(u.ID))
		require.False(t, u.CreatedAt.IsZero())
		require.Equal(t, "UTC", u.CreatedAt.Location().String())

		m := create(t, b, b.orgID, "mo@acme.com", "Mo", crm.RoleManager)
		require.Equal(t, crm.RoleManager, m.Role)
	})

	t.Run("CreateDuplicateEmailIsConflict", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		create(t, b, b.orgID, "dana@acme.com", "Dana", "")
		_, err := b.store.UserCreate(ctx, b.orgID, crm.UserInput{Email: crm.Some("DANA@acme.com"), Name: crm.Some("Dana 2")})
		require.ErrorIs(t, err, crm.ErrConflict)
		require.Contains(t, err.Error(), "a user with this email already exists")

		// Another org may use the same address.
		create(t, b, b.other, "dana@acme.com", "Dana", "")
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := create(t, b, b.orgID, "dana@acme.com", "Dana", "")
		require.ErrorIs(t, b.store.UserDelete(ctx, b.other, u.ID), crm.ErrNotFound)
		require.NoError(t, b.store.UserDelete(ctx, b.orgID, u.ID))
		require.ErrorIs(t, b.store.UserDelete(ctx, b.orgID, u.ID), crm.ErrNotFound)
		_, err := b.store.UserGet(ctx, b.orgID, u.ID)
		require.ErrorIs(t, err, crm.ErrNotFound)
	})

	t.Run("DeleteLeavesOwnedRecordsUnowned", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := create(t, b, b.orgID, "dana@acme.com", "Dana", "")
		a, err := b.store.AccountCreate(ctx, b.orgID, crm.AccountInput{Name: crm.Some("Acme"), OwnerID: crm.Some(u.ID)})
		require.NoError(t, err)
		require.NoError(t, b.store.UserDelete(ctx, b.orgID, u.ID))
		a, err = b.store.AccountGet(ctx, b.orgID, a.ID)
		require.NoError(t, err)
		require.Nil(t, a.OwnerID)
	})

	t.Run("GetOtherOrgIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := create(t, b, b.orgID, "dana@acme.com", "Dana", "")
		got, err := b.store.UserGet(ctx, b.orgID, u.ID)
		require.NoError(t, err)
		require.Equal(t, u, got)
		_, err = b.store.UserGet(ctx, b.other, u.ID)
		require.ErrorIs(t, err, crm.ErrNotFound)
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for i := range 5 {
			role := crm.RoleRep
			if i%2 == 0 {
				role = crm.RoleCSM
			}
			create(t, b, b.orgID, fmt.Sprintf("u%d@acme.com", i), fmt.Sprintf("User %d", i), role)
		}
		create(t, b, b.other, "x@other.com", "Other", crm.RoleCSM)

		seen := map[string]bool{}
		var last string
		cursor := ""
		for range 10 {
			page, err := b.store.UserList(ctx, b.orgID, store.UserFilter{Limit: 2, Cursor: cursor})
			require.NoError(t, err)
			require.LessOrEqual(t, len(page.Items), 2)
			for _, u := range page.Items {
				require.False(t, seen[u.ID], "user listed twice")
				seen[u.ID] = true
				if last != "" {
					require.Less(t, u.ID, last, "not newest first")
				}
				last = u.ID
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		require.Len(t, seen, 5)

		csm, err := b.store.UserList(ctx, b.orgID, store.UserFilter{Role: crm.RoleCSM})
		require.NoError(t, err)
		require.Len(t, csm.Items, 3)
		require.Nil(t, csm.NextCursor)
		for _, u := range csm.Items {
			require.Equal(t, crm.RoleCSM, u.Role)
		}

		empty, err := b.store.UserList(ctx, b.orgID, store.UserFilter{Role: crm.RoleAdmin})
		require.NoError(t, err)
		require.NotNil(t, empty.Items)
		require.Empty(t, empty.Items)

		_, err = b.store.UserList(ctx, b.orgID, store.UserFilter{Cursor: "garbage!"})
		require.ErrorIs(t, err, crm.ErrInvalid)
	})

	t.Run("UpdateKeepsAbsentFields", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := create(t, b, b.orgID, "dana@acme.com", "Dana", "")
		got, err := b.store.UserUpdate(ctx, b.orgID, u.ID, crm.UserInput{Role: crm.Some(crm.RoleManager)})
		require.NoError(t, err)
		require.Equal(t, crm.RoleManager, got.Role)
		require.Equal(t, "dana@acme.com", got.Email)
		require.Equal(t, "Dana", got.Name)
		require.False(t, got.UpdatedAt.Before(u.UpdatedAt))

		got, err = b.store.UserUpdate(ctx, b.orgID, u.ID, crm.UserInput{Email: crm.Some("Dana.Lee@Acme.com"), Name: crm.Some("Dana Lee")})
		require.NoError(t, err)
		require.Equal(t, "dana.lee@acme.com", got.Email)
		require.Equal(t, "Dana Lee", got.Name)
		require.Equal(t, crm.RoleManager, got.Role)
	})

	t.Run("UpdateMissingOrOtherOrgIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		u := create(t, b, b.orgID, "dana@acme.com", "Dana", "")
		_, err := b.store.UserUpdate(ctx, b.other, u.ID, crm.UserInput{Name: crm.Some("Eve")})
		require.ErrorIs(t, err, crm.ErrNotFound)
		_, err = b.store.UserUpdate(ctx, b.orgID, store.NewID(), crm.UserInput{Name: crm.Some("Eve")})
		require.ErrorIs(t, err, crm.ErrNotFound)
		got, err := b.store.UserGet(ctx, b.orgID, u.ID)
		require.NoError(t, err)
		require.Equal(t, "Dana", got.Name)
	})

	t.Run("UpdateToTakenEmailIsConflict", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		create(t, b, b.orgID, "dana@acme.com", "Dana", "")
		u := create(t, b, b.orgID, "lee@acme.com", "Lee", "")
		_, err := b.store.UserUpdate(ctx, b.orgID, u.ID, crm.UserInput{Email: crm.Some("Dana@acme.com")})
		require.ErrorIs(t, err, crm.ErrConflict)
	})
}
