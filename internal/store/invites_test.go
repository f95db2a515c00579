package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// TestInvites: an invite is the org's user's, lasts InviteTTL, works once
// (setting the password and ending the user's sessions), a newer one
// retires the older, and the token is all that finds it.
func TestInvites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(testdb.Tx(t))
	org, err := s.OrgCreate(ctx, "Invites")
	require.NoError(t, err)
	other, err := s.OrgCreate(ctx, "Other")
	require.NoError(t, err)
	u, err := s.UserCreate(ctx, org.ID, crm.UserInput{Email: crm.Some("wei@seller.test"), Name: crm.Some("Wei Chen")})
	require.NoError(t, err)

	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s.SetClock(func() time.Time { return now })
	inv, token, err := s.InviteCreate(ctx, org.ID, u.ID, 0)
	require.NoError(t, err)
	require.Len(t, token, 43, "256 bits, base64url")
	require.Equal(t, now.Add(7*24*time.Hour), inv.ExpiresAt)
	require.Equal(t, "Invites", inv.OrgName)
	require.Equal(t, "wei@seller.test", inv.Email)

	_, _, err = s.InviteCreate(ctx, other.ID, u.ID, 0)
	require.ErrorIs(t, err, crm.ErrNotFound, "another org's user")

	got, err := s.InviteLookup(ctx, token)
	require.NoError(t, err)
	require.True(t, got.Usable())
	require.Equal(t, inv.ID, got.ID)
	_, err = s.InviteLookup(ctx, token+"x")
	require.ErrorIs(t, err, crm.ErrNotFound)

	// Expiry by the store's clock.
	s.SetClock(func() time.Time { return now.Add(store.InviteTTL) })
	got, err = s.InviteLookup(ctx, token)
	require.NoError(t, err)
	require.True(t, got.Expired)
	_, err = s.InviteAccept(ctx, token, "$argon2id$x")
	require.ErrorIs(t, err, crm.ErrNotFound, "an expired invite sets nothing")
	s.SetClock(func() time.Time { return now.Add(time.Hour) })

	// A newer invite retires the older one.
	_, token2, err := s.InviteCreate(ctx, org.ID, u.ID, time.Hour)
	require.NoError(t, err)
	_, err = s.InviteLookup(ctx, token)
	require.ErrorIs(t, err, crm.ErrNotFound)

	// Accepting sets the password and ends the user's sessions, once.
	_, sess, err := s.SessionCreate(ctx, org.ID, u.ID, time.Hour)
	require.NoError(t, err)
	acc, err := s.InviteAccept(ctx, token2, "$argon2id$v=19$hash")
	require.NoError(t, err)
	require.Equal(t, u.ID, acc.UserID)
	require.NotNil(t, acc.UsedAt)
	_, err = s.SessionLookup(ctx, sess)
	require.ErrorIs(t, err, crm.ErrNotFound)
	_, err = s.InviteAccept(ctx, token2, "$argon2id$v=19$other")
	require.ErrorIs(t, err, crm.ErrNotFound, "a link works once")
	got, err = s.InviteLookup(ctx, token2)
	require.NoError(t, err)
	require.False(t, got.Usable())

	cands, err := s.SignInCandidates(ctx, "WEI@seller.test")
	require.NoError(t, err)
	require.Equal(t, []store.SignInCandidate{{OrgID: org.ID, OrgName: "Invites", UserID: u.ID, PasswordHash: "$argon2id$v=19$hash"}}, cands)

	// Candidates across orgs, the oldest org first; no password is "".
	s.SetClock(func() time.Time { return now.Add(2 * time.Hour) })
	u2, err := s.UserCreate(ctx, other.ID, crm.UserInput{Email: crm.Some("wei@seller.test"), Name: crm.Some("Wei")})
	require.NoError(t, err)
	cands, err = s.SignInCandidates(ctx, "wei@seller.test")
	require.NoError(t, err)
	require.Len(t, cands, 2)
	require.Equal(t, org.ID, cands[0].OrgID)
	require.Equal(t, store.SignInCandidate{OrgID: other.ID, OrgName: "Other", UserID: u2.ID}, cands[1])
	byEmail, err := s.UserGetByEmail(ctx, other.ID, "Wei@Seller.test")
	require.NoError(t, err)
	require.Equal(t, u2.ID, byEmail.ID)

	// Deleting the user deletes its invites.
	_, token3, err := s.InviteCreate(ctx, other.ID, u2.ID, 0)
	require.NoError(t, err)
	require.NoError(t, s.UserDelete(ctx, other.ID, u2.ID))
	_, err = s.InviteLookup(ctx, token3)
	require.ErrorIs(t, err, crm.ErrNotFound)
}

// TestInviteAcceptRace: two browsers post the same link at once; one sets
// the password, the other is told the link is used.
func TestInviteAcceptRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := testdb.Schema(t)
	s := store.New(pool)
	org, err := s.OrgCreate(ctx, "Race")
	require.NoError(t, err)
	u, err := s.UserCreate(ctx, org.ID, crm.UserInput{Email: crm.Some("a@b.test"), Name: crm.Some("A")})
	require.NoError(t, err)
	_, token, err := s.InviteCreate(ctx, org.ID, u.ID, 0)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = s.InviteAccept(ctx, token, "$argon2id$h") })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			require.ErrorIs(t, err, crm.ErrNotFound)
		}
	}
	require.Equal(t, 1, ok)
}
