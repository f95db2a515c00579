package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

func TestPhoneKey(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"+1 (415) 555-0100": "155550100", "4155550100": "155550100", "+44 20 7946 0958": "079460958",
		"020 7946 0958": "079460958", "555-0100": "5550100", "1234": "", "": "", "ext. 12": "",
	} {
		require.Equal(t, want, store.PhoneKey(in), in)
	}
}

func TestDialerStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(testdb.Tx(t))
	org, err := s.OrgCreate(ctx, "Org A")
	require.NoError(t, err)
	other, err := s.OrgCreate(ctx, "Org B")
	require.NoError(t, err)

	t.Run("Secrets", func(t *testing.T) {
		_, err := s.DialerSecretGet(ctx, org.ID, store.DialerTwilioAuthToken)
		require.ErrorIs(t, err, crm.ErrNotFound, "not set")
		require.NoError(t, s.DialerSecretSet(ctx, org.ID, store.DialerTwilioAuthToken, []byte("sealed")))
		got, err := s.DialerSecretGet(ctx, org.ID, store.DialerTwilioAuthToken)
		require.NoError(t, err)
		require.Equal(t, []byte("sealed"), got)
		_, err = s.DialerSecretGet(ctx, other.ID, store.DialerTwilioAuthToken)
		require.ErrorIs(t, err, crm.ErrNotFound, "another org's")
		_, err = s.DialerSecretGet(ctx, org.ID, store.DialerAircallToken)
		require.ErrorIs(t, err, crm.ErrNotFound, "the other setting")
		_, err = s.DialerSecretGet(ctx, "not-an-org", store.DialerTwilioAuthToken)
		require.ErrorIs(t, err, crm.ErrNotFound)
		st, err := s.SettingsGet(ctx, org.ID)
		require.NoError(t, err)
		require.True(t, st.TwilioAuthTokenSet)
		require.False(t, st.AircallTokenSet)
		require.NoError(t, s.DialerSecretSet(ctx, org.ID, store.DialerTwilioAuthToken, nil))
		_, err = s.DialerSecretGet(ctx, org.ID, store.DialerTwilioAuthToken)
		require.ErrorIs(t, err, crm.ErrNotFound, "removed")
		require.NotEqual(t, store.DialerSecretAAD(org.ID, store.DialerTwilioAuthToken), store.DialerSecretAAD(other.ID, store.DialerTwilioAuthToken))
		require.NotEqual(t, store.DialerSecretAAD(org.ID, store.DialerTwilioAuthToken), store.DialerSecretAAD(org.ID, store.DialerAircallToken))
	})

	t.Run("Match", func(t *testing.T) {
		a, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme")})
		require.NoError(t, err)
		c, err := s.ContactCreate(ctx, org.ID, crm.ContactInput{AccountID: crm.Some(a.ID), Name: crm.Some("Wei"), Phone: crm.Some("(415) 555-0100")})
		require.NoError(t, err)
		oa, err := s.AccountCreate(ctx, other.ID, crm.AccountInput{Name: crm.Some("Globex")})
		require.NoError(t, err)
		_, err = s.ContactCreate(ctx, other.ID, crm.ContactInput{AccountID: crm.Some(oa.ID), Name: crm.Some("Other"), Phone: crm.Some("+14155550100")})
		require.NoError(t, err)
		u, err := s.UserCreate(ctx, org.ID, crm.UserInput{Email: crm.Some("rep@seller.test"), Name: crm.Some("Rep")})
		require.NoError(t, err)

		m, err := s.DialerMatchFind(ctx, org.ID, "+1 415 555 0100", "REP@seller.test")
		require.NoError(t, err)
		require.Equal(t, []store.DialerContact{{ID: c.ID, AccountID: a.ID}}, m.Contacts, "only this org's contact")
		require.Equal(t, u.ID, m.OwnerID)
		m, err = s.DialerMatchFind(ctx, org.ID, "+1 415 555 0199", "nobody@seller.test")
		require.NoError(t, err)
		require.Empty(t, m.Contacts)
		require.Empty(t, m.OwnerID)
	})
}
