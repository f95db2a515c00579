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

// TestDeletesForgetKeptAnswers: the answers kept for Idempotency-Key
// requests carry customer data (an ask's answer quotes the account's
// records), so deleting an account, a contact's own activities or an
// activity deletes the kept answers about them, and nothing else.
func TestDeletesForgetKeptAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.Tx(t)
	s := store.New(tx)
	org, err := s.OrgCreate(ctx, "Org")
	require.NoError(t, err)
	key, err := s.APIKeyCreate(ctx, org.ID, "k", []crm.Scope{crm.ScopeWrite})
	require.NoError(t, err)
	acme, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme")})
	require.NoError(t, err)
	other, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Other")})
	require.NoError(t, err)
	note := func(accountID string) string {
		row := &store.ActivityRow{ID: store.NewID(), Type: crm.ActivityNote, AccountID: accountID,
			OccurredAt: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC), Source: crm.SourceAPI, Body: new("body")}
		row.Finish()
		a, _, _, err := s.ActivityWrite(ctx, org.ID, row, false)
		require.NoError(t, err)
		return a.ID
	}
	otherNote := note(other.ID)
	acmeNote := note(acme.ID)

	keep := func(name, path, body string) {
		k := store.IdempotencyKey{OrgID: org.ID, APIKeyID: key.ID, Key: name, Path: path}
		lock := store.NewID()
		claimed, _, err := s.IdempotencyClaim(ctx, k, lock, 24*time.Hour, 10*time.Minute)
		require.NoError(t, err)
		require.True(t, claimed)
		require.NoError(t, s.IdempotencyComplete(ctx, k, lock, store.IdempotencyRecord{RequestHash: []byte{1}, Status: 200, Body: []byte(body)}))
	}
	kept := func() []string {
		rows, err := tx.Query(ctx, `SELECT key FROM idempotency_keys WHERE org_id = $1 ORDER BY key`, org.ID)
		require.NoError(t, err)
		var keys []string
		for rows.Next() {
			var k string
			require.NoError(t, rows.Scan(&k))
			keys = append(keys, k)
		}
		require.NoError(t, rows.Err())
		return keys
	}
	keep("ask-acme", "/v1/accounts/"+acme.ID+"/ask", `{"answer":"quoted","citations":[{"activity_id":"`+acmeNote+`"}]}`)
	keep("org-ask-acme", "/v1/ask", `{"citations":[{"account_id":"`+acme.ID+`"}]}`)
	keep("ask-other", "/v1/accounts/"+other.ID+"/ask", `{"citations":[{"activity_id":"`+otherNote+`"}]}`)
	keep("create-account", "/v1/accounts", `{"id":"`+other.ID+`"}`)

	require.NoError(t, s.ActivityDelete(ctx, org.ID, otherNote))
	require.Equal(t, []string{"create-account", "ask-acme", "org-ask-acme"}, sortedLike(kept(), "create-account", "ask-acme", "org-ask-acme"))

	require.NoError(t, s.AccountDelete(ctx, org.ID, acme.ID))
	require.Equal(t, []string{"create-account"}, kept())
}

// sortedLike returns got in the order of want when it holds the same
// elements, else got unchanged (so require.Equal shows the difference).
func sortedLike(got []string, want ...string) []string {
	if len(got) != len(want) {
		return got
	}
	set := map[string]bool{}
	for _, g := range got {
		set[g] = true
	}
	for _, w := range want {
		if !set[w] {
			return got
		}
	}
	return want
}
