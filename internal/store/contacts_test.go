package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

func TestContact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	type testBundle struct {
		store        *store.Store
		orgID        string
		accountID    string
		other        string // a second org
		otherAccount string // an account of the second org
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		s := store.New(testdb.Tx(t))
		org, err := s.OrgCreate(ctx, "Org A")
		require.NoError(t, err)
		other, err := s.OrgCreate(ctx, "Org B")
		require.NoError(t, err)
		a, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme")})
		require.NoError(t, err)
		oa, err := s.AccountCreate(ctx, other.ID, crm.AccountInput{Name: crm.Some("Globex")})
		require.NoError(t, err)
		return &testBundle{store: s, orgID: org.ID, accountID: a.ID, other: other.ID, otherAccount: oa.ID}
	}

	create := func(t *testing.T, b *testBundle, orgID, accountID, name, email string) crm.Contact {
		t.Helper()
		in := crm.ContactInput{AccountID: crm.Some(accountID), Name: crm.Some(name)}
		if email != "" {
			in.Email = crm.Some(email)
		}
		c, err := b.store.ContactCreate(ctx, orgID, in)
		require.NoError(t, err)
		return c
	}

	requireInvalidField := func(t *testing.T, err error, field string) {
		t.Helper()
		require.ErrorIs(t, err, crm.ErrInvalid)
		var ve *crm.ValidationError
		require.True(t, errors.As(err, &ve), "%v", err)
		require.Len(t, ve.Fields, 1)
		require.Equal(t, field, ve.Fields[0].Field)
	}

	t.Run("ContactsByEmails", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		dana := create(t, b, b.orgID, b.accountID, "Dana", "dana@acme.com")
		lee := create(t, b, b.orgID, b.accountID, "Lee", "lee@acme.com")
		create(t, b, b.orgID, b.accountID, "Mo", "mo@acme.com")
		create(t, b, b.orgID, b.accountID, "No Email", "")
		create(t, b, b.other, b.otherAccount, "Dana elsewhere", "dana@acme.com")

		got, err := b.store.ContactsByEmails(ctx, b.orgID, []string{" LEE@acme.com ", "Dana@Acme.com", "nobody@acme.com", "", "dana@acme.com"})
		require.NoError(t, err)
		require.Equal(t, []crm.Contact{dana, lee}, got)

		got, err = b.store.ContactsByEmails(ctx, b.orgID, nil)
		require.NoError(t, err)
		require.NotNil(t, got)
		require.Empty(t, got)

		got, err = b.store.ContactsByEmails(ctx, b.other, []string{"lee@acme.com"})
		require.NoError(t, err)
		require.Empty(t, got)
	})

	t.Run("Create", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c, err := b.store.ContactCreate(ctx, b.orgID, crm.ContactInput{
			AccountID: crm.Some(b.accountID), Name: crm.Some("Dana Lee"), Email: crm.Some("Dana@Acme.com"),
			Phone: crm.Some("+1 555 0100"), Title: crm.Some("VP Sales"),
		})
		require.NoError(t, err)
		require.Equal(t, b.accountID, c.AccountID)
		require.Equal(t, "Dana Lee", c.Name)
		require.Equal(t, "dana@acme.com", *c.Email)
		require.Equal(t, "+1 555 0100", *c.Phone)
		require.Equal(t, "VP Sales", *c.Title)
		require.Equal(t, b.orgID, c.OrgID)

		bare := create(t, b, b.orgID, b.accountID, "Bare", "")
		require.Nil(t, bare.Email)
		require.Nil(t, bare.Phone)
		require.Nil(t, bare.Title)
	})

	t.Run("CreateDuplicateEmailIsConflict", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		create(t, b, b.orgID, b.accountID, "Dana", "dana@acme.com")
		_, err := b.store.ContactCreate(ctx, b.orgID, crm.ContactInput{AccountID: crm.Some(b.accountID), Name: crm.Some("Dana 2"), Email: crm.Some("DANA@acme.com")})
		require.ErrorIs(t, err, crm.ErrConflict)
		require.Contains(t, err.Error(), "a contact with this email already exists")
		// Contacts without email never conflict, and the store still works
		// after the failed insert (it ran in a savepoint).
		create(t, b, b.orgID, b.accountID, "No Email 1", "")
		create(t, b, b.orgID, b.accountID, "No Email 2", "")
	})

	t.Run("CreateOnOtherOrgsAccountIsInvalid", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := b.store.ContactCreate(ctx, b.orgID, crm.ContactInput{AccountID: crm.Some(b.otherAccount), Name: crm.Some("Dana")})
		requireInvalidField(t, err, "account_id")
		_, err = b.store.ContactCreate(ctx, b.orgID, crm.ContactInput{AccountID: crm.Some(store.NewID()), Name: crm.Some("Dana")})
		requireInvalidField(t, err, "account_id")
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := create(t, b, b.orgID, b.accountID, "Dana", "dana@acme.com")
		require.ErrorIs(t, b.store.ContactDelete(ctx, b.other, c.ID), crm.ErrNotFound)
		require.NoError(t, b.store.ContactDelete(ctx, b.orgID, c.ID))
		require.ErrorIs(t, b.store.ContactDelete(ctx, b.orgID, c.ID), crm.ErrNotFound)
		_, err := b.store.ContactGet(ctx, b.orgID, c.ID)
		require.ErrorIs(t, err, crm.ErrNotFound)
	})

	t.Run("DeletingAccountDeletesContacts", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := create(t, b, b.orgID, b.accountID, "Dana", "dana@acme.com")
		require.NoError(t, b.store.AccountDelete(ctx, b.orgID, b.accountID))
		_, err := b.store.ContactGet(ctx, b.orgID, c.ID)
		require.ErrorIs(t, err, crm.ErrNotFound)
	})

	t.Run("GetOtherOrgIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c := create(t, b, b.orgID, b.accountID, "Dana", "dana@acme.com")
		got, err := b.store.ContactGet(ctx, b.orgID, c.ID)
		require.NoError(t, err)
		require.Equal(t, c, got)
		_, err = b.store.ContactGet(ctx, b.other, c.ID)
		require.ErrorIs(t, err, crm.ErrNotFound)
	})

	t.Run("List", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		second, err := b.store.AccountCreate(ctx, b.orgID, crm.AccountInput{Name: crm.Some("Initech")})
		require.NoError(t, err)
		for i := range 5 {
			create(t, b, b.orgID, b.accountID, fmt.Sprintf("Contact %d", i), fmt.Sprintf("c%d@acme.com", i))
		}
		bob := create(t, b, b.orgID, second.ID, "Bob", "bob@initech.com")
		create(t, b, b.other, b.otherAccount, "Other", "x@globex.com")

		seen := map[string]bool{}
		cursor := ""
		for range 10 {
			page, err := b.store.ContactList(ctx, b.orgID, store.ContactFilter{Limit: 2, Cursor: cursor})
			require.NoError(t, err)
			for _, c := range page.Items {
				require.False(t, seen[c.ID], "contact listed twice")
				seen[c.ID] = true
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		require.Len(t, seen, 6)

		byAccount, err := b.store.ContactList(ctx, b.orgID, store.ContactFilter{AccountID: second.ID})
		require.NoError(t, err)
		require.Equal(t, []crm.Contact{bob}, byAccount.Items)

		byEmail, err := b.store.ContactList(ctx, b.orgID, store.ContactFilter{Email: "BOB@initech.com"})
		require.NoError(t, err)
		require.Equal(t, []crm.Contact{bob}, byEmail.Items)

		_, err = b.store.ContactList(ctx, b.orgID, store.ContactFilter{Cursor: "garbage!"})
		require.ErrorIs(t, err, crm.ErrInvalid)
	})

	t.Run("UpdateNullClearsAbsentKeeps", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		c, err := b.store.ContactCreate(ctx, b.orgID, crm.ContactInput{
			AccountID: crm.Some(b.accountID), Name: crm.Some("Dana"), Email: crm.Some("dana@acme.com"),
			Phone: crm.Some("555"), Title: crm.Some("CTO"),
		})
		require.NoError(t, err)
		got, err := b.store.ContactUpdate(ctx, b.orgID, c.ID, crm.ContactInput{Phone: crm.Opt[string]{Set: true, Null: true}, Title: crm.Some("CEO")})
		require.NoError(t, err)
		require.Nil(t, got.Phone)
		require.Equal(t, "CEO", *got.Title)
		require.Equal(t, "dana@acme.com", *got.Email)
		require.Equal(t, "Dana", got.Name)
		require.Equal(t, b.accountID, got.AccountID)

		second, err := b.store.AccountCreate(ctx, b.orgID, crm.AccountInput{Name: crm.Some("Initech")})
		require.NoError(t, err)
		got, err = b.store.ContactUpdate(ctx, b.orgID, c.ID, crm.ContactInput{AccountID: crm.Some(second.ID), Email: crm.Opt[string]{Set: true, Null: true}})
		require.NoError(t, err)
		require.Equal(t, second.ID, got.AccountID)
		require.Nil(t, got.Email)
		require.Equal(t, "CEO", *got.Title)
	})

	t.Run("UpdateErrors", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		create(t, b, b.orgID, b.accountID, "Dana", "dana@acme.com")
		c := create(t, b, b.orgID, b.accountID, "Lee", "lee@acme.com")

		_, err := b.store.ContactUpdate(ctx, b.orgID, c.ID, crm.ContactInput{Email: crm.Some("Dana@acme.com")})
		require.ErrorIs(t, err, crm.ErrConflict)
		_, err = b.store.ContactUpdate(ctx, b.orgID, c.ID, crm.ContactInput{AccountID: crm.Some(b.otherAccount)})
		requireInvalidField(t, err, "account_id")
		_, err = b.store.ContactUpdate(ctx, b.other, c.ID, crm.ContactInput{Name: crm.Some("Eve")})
		require.ErrorIs(t, err, crm.ErrNotFound)

		got, err := b.store.ContactGet(ctx, b.orgID, c.ID)
		require.NoError(t, err)
		require.Equal(t, c, got, "a failed update changed the contact")
	})
}
