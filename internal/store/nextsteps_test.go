package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// opsNow is "now" in the sales-operations tests (next steps, stalled
// deals, digest): the store clock is pinned to it.
var opsNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// opsBundle is one sales-operations test's org (and a second org) on its
// own rolled-back transaction, with two users.
type opsBundle struct {
	t          *testing.T
	tx         pgx.Tx
	store      *store.Store
	acts       *activity.Service
	org, other string
	olive, ben string // users of org
}

func opsSetup(t *testing.T) *opsBundle {
	t.Helper()
	ctx := context.Background()
	tx := testdb.Tx(t)
	s := store.New(tx)
	s.SetClock(func() time.Time { return opsNow })
	org, err := s.OrgCreate(ctx, "Org A")
	require.NoError(t, err)
	other, err := s.OrgCreate(ctx, "Org B")
	require.NoError(t, err)
	b := &opsBundle{t: t, tx: tx, store: s, acts: activity.New(s), org: org.ID, other: other.ID}
	b.olive = b.user(b.org, "olive@seller.test", "Olive Owner")
	b.ben = b.user(b.org, "ben@seller.test", "Ben Bell")
	return b
}

func (b *opsBundle) user(org, email, name string) string {
	b.t.Helper()
	u, err := b.store.UserCreate(context.Background(), org, crm.UserInput{Email: crm.Some(email), Name: crm.Some(name)})
	require.NoError(b.t, err)
	return u.ID
}

func (b *opsBundle) account(org, name, owner string) string {
	b.t.Helper()
	in := crm.AccountInput{Name: crm.Some(name)}
	if owner != "" {
		in.OwnerID = crm.Some(owner)
	}
	a, err := b.store.AccountCreate(context.Background(), org, in)
	require.NoError(b.t, err)
	return a.ID
}

func (b *opsBundle) contact(org, account, name string) string {
	b.t.Helper()
	c, err := b.store.ContactCreate(context.Background(), org, crm.ContactInput{AccountID: crm.Some(account), Name: crm.Some(name)})
	require.NoError(b.t, err)
	return c.ID
}

// deal makes an open deal (amount "" for none, owner "" for none) created
// at created.
func (b *opsBundle) deal(org, account, name, amount, owner string, created time.Time) string {
	b.t.Helper()
	in := crm.DealInput{AccountID: crm.Some(account), Name: crm.Some(name)}
	if amount != "" {
		in.Amount = crm.Some(json.Number(amount))
		in.Currency = crm.Some("USD")
	}
	if owner != "" {
		in.OwnerID = crm.Some(owner)
	}
	require.NoError(b.t, in.Validate(true))
	d, err := b.store.DealCreate(context.Background(), org, in)
	require.NoError(b.t, err)
	_, err = b.tx.Exec(context.Background(), `UPDATE deals SET created_at = $3 WHERE org_id = $1 AND id = $2`, org, d.ID, created)
	require.NoError(b.t, err)
	return d.ID
}

// log posts an activity through the write rules.
func (b *opsBundle) log(org string, in crm.ActivityInput) crm.Activity {
	b.t.Helper()
	require.NoError(b.t, in.Validate(true))
	a, _, _, err := b.acts.Upsert(context.Background(), org, in)
	require.NoError(b.t, err)
	return a
}

// note is a note on account at, with a next step (text "" for none, due ""
// for none) and an owner ("" for none).
func note(account string, at time.Time, owner, nextStep, due string) crm.ActivityInput {
	in := crm.ActivityInput{Type: crm.Some(crm.ActivityNote), AccountID: crm.Some(account),
		OccurredAt: crm.Some(at.Format(time.RFC3339)), Body: crm.Some("noted")}
	if owner != "" {
		in.OwnerID = crm.Some(owner)
	}
	if nextStep != "" {
		ns := crm.NextStepInput{Text: nextStep}
		if due != "" {
			ns.DueDate = &due
		}
		in.NextStep = crm.Some(ns)
	}
	return in
}

func day(d int) time.Time { return time.Date(2026, 3, d, 9, 0, 0, 0, time.UTC) }

func nextStepIDs(p crm.Page[store.NextStepItem]) []string {
	ids := []string{}
	for _, it := range p.Items {
		ids = append(ids, it.ActivityID)
	}
	return ids
}

func TestNextSteps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("DueAndOverdueOldestFirst", func(t *testing.T) {
		t.Parallel()
		b := opsSetup(t)
		acme := b.account(b.org, "Acme", b.olive)
		bolt := b.account(b.org, "Bolt", "")
		n5 := b.log(b.org, note(acme, day(1), b.ben, "Call the CFO", "2026-03-09"))
		n1 := b.log(b.org, note(acme, day(2), b.olive, "Send the quote", "2026-03-09"))
		n2 := b.log(b.org, note(bolt, day(3), b.ben, "Book the demo", "2026-03-10"))
		n3 := b.log(b.org, note(bolt, day(4), b.olive, "Chase legal", "2026-03-11"))
		b.log(b.org, note(acme, day(5), b.olive, "Someday", "")) // no due date: never listed
		b.log(b.org, note(acme, day(5), b.olive, "", ""))        // no next step
		otherAcct := b.account(b.other, "Other", "")
		b.log(b.other, note(otherAcct, day(1), "", "Theirs", "2026-03-01"))

		p, err := b.store.NextStepList(ctx, b.org, store.NextStepFilter{})
		require.NoError(t, err)
		require.Equal(t, []string{n5.ID, n1.ID, n2.ID}, nextStepIDs(p), "due today or earlier, oldest due, then occurred_at")
		require.Nil(t, p.NextCursor)
		got := p.Items[1]
		require.Equal(t, store.NextStepItem{ActivityID: n1.ID, AccountID: acme, AccountName: "Acme", OwnerID: &b.olive,
			OwnerName: ptr("Olive Owner"), Type: crm.ActivityNote, OccurredAt: day(2), Text: "Send the quote",
			DueDate: crm.Date{Time: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)}, Overdue: true, DaysOverdue: 1}, got)
		require.False(t, p.Items[2].Overdue, "due today is due, not overdue")
		require.Zero(t, p.Items[2].DaysOverdue)

		// due_before is exclusive.
		p, err = b.store.NextStepList(ctx, b.org, store.NextStepFilter{DueBefore: time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)})
		require.NoError(t, err)
		require.Equal(t, []string{n5.ID, n1.ID, n2.ID}, nextStepIDs(p))
		p, err = b.store.NextStepList(ctx, b.org, store.NextStepFilter{DueBefore: time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)})
		require.NoError(t, err)
		require.Equal(t, []string{n5.ID, n1.ID, n2.ID, n3.ID}, nextStepIDs(p))
		require.False(t, p.Items[3].Overdue)

		// Filters.
		p, err = b.store.NextStepList(ctx, b.org, store.NextStepFilter{OwnerID: b.olive})
		require.NoError(t, err)
		require.Equal(t, []string{n1.ID}, nextStepIDs(p))
		p, err = b.store.NextStepList(ctx, b.org, store.NextStepFilter{AccountID: bolt})
		require.NoError(t, err)
		require.Equal(t, []string{n2.ID}, nextStepIDs(p))
		p, err = b.store.NextStepList(ctx, b.org, store.NextStepFilter{AccountID: otherAcct})
		require.NoError(t, err)
		require.Empty(t, p.Items, "another org's account lists nothing")

		// Pages of one.
		var walked []string
		cursor := ""
		for range 5 {
			p, err = b.store.NextStepList(ctx, b.org, store.NextStepFilter{Limit: 1, Cursor: cursor})
			require.NoError(t, err)
			walked = append(walked, nextStepIDs(p)...)
			if p.NextCursor == nil {
				break
			}
			cursor = *p.NextCursor
		}
		require.Equal(t, []string{n5.ID, n1.ID, n2.ID}, walked)
		_, err = b.store.NextStepList(ctx, b.org, store.NextStepFilter{Cursor: "bm9wZQ"})
		require.ErrorIs(t, err, crm.ErrInvalid)

		// The other org sees only its own.
		p, err = b.store.NextStepList(ctx, b.other, store.NextStepFilter{})
		require.NoError(t, err)
		require.Len(t, p.Items, 1)
		require.Equal(t, "Theirs", p.Items[0].Text)
		require.Equal(t, 9, p.Items[0].DaysOverdue)
	})

	t.Run("DoneIsHiddenUntilTheNextStepChanges", func(t *testing.T) {
		t.Parallel()
		b := opsSetup(t)
		acme := b.account(b.org, "Acme", b.olive)
		in := note(acme, day(2), b.olive, "Send the quote", "2026-03-09")
		in.Source, in.ExternalID = crm.Some(crm.Source("api")), crm.Some("crm-1")
		n1 := b.log(b.org, in)
		n2 := b.log(b.org, note(acme, day(3), b.olive, "Book the demo", "2026-03-10"))
		list := func() []string {
			p, err := b.store.NextStepList(ctx, b.org, store.NextStepFilter{})
			require.NoError(t, err)
			return nextStepIDs(p)
		}
		require.Equal(t, []string{n1.ID, n2.ID}, list())

		done, err := b.store.NextStepSetDone(ctx, b.org, n1.ID, true, day(9))
		require.NoError(t, err)
		require.Equal(t, day(9), *done.NextStep.DoneAt)
		require.Equal(t, "Send the quote", done.NextStep.Text)
		require.Equal(t, []string{n2.ID}, list())
		// Idempotent: the first mark stays, and updated_at does not move.
		again, err := b.store.NextStepSetDone(ctx, b.org, n1.ID, true, day(10))
		require.NoError(t, err)
		require.Equal(t, day(9), *again.NextStep.DoneAt)
		require.Equal(t, done.UpdatedAt, again.UpdatedAt)

		// Reopen, and mark again.
		open, err := b.store.NextStepSetDone(ctx, b.org, n1.ID, false, time.Time{})
		require.NoError(t, err)
		require.Nil(t, open.NextStep.DoneAt)
		require.Equal(t, []string{n1.ID, n2.ID}, list())
		_, err = b.store.NextStepSetDone(ctx, b.org, n1.ID, true, day(9))
		require.NoError(t, err)

		// A PATCH that keeps the next step keeps it done; the content hash
		// is as if it had never been marked.
		patched, err := b.acts.Update(ctx, b.org, n1.ID, crm.ActivityInput{Subject: crm.Some("Quote")})
		require.NoError(t, err)
		require.NotNil(t, patched.NextStep.DoneAt)
		require.Equal(t, []string{n2.ID}, list())
		// A re-post of the same content is unchanged and still done.
		in.Subject = crm.Some("Quote")
		require.NoError(t, in.Validate(true))
		a, res, _, err := b.acts.Upsert(ctx, b.org, in)
		require.NoError(t, err)
		require.Equal(t, store.UpsertUnchanged, res)
		require.NotNil(t, a.NextStep.DoneAt)
		// A re-post with other content but the same next step keeps it done.
		in.Body = crm.Some("noted again")
		require.NoError(t, in.Validate(true))
		a, res, _, err = b.acts.Upsert(ctx, b.org, in)
		require.NoError(t, err)
		require.Equal(t, store.UpsertUpdated, res)
		require.Equal(t, day(9), *a.NextStep.DoneAt, "the answer shows the kept mark")
		require.Equal(t, []string{n2.ID}, list())
		// A re-post with a new due date opens it again.
		due := "2026-03-08"
		in.NextStep = crm.Some(crm.NextStepInput{Text: "Send the quote", DueDate: &due})
		require.NoError(t, in.Validate(true))
		a, res, _, err = b.acts.Upsert(ctx, b.org, in)
		require.NoError(t, err)
		require.Equal(t, store.UpsertUpdated, res)
		require.Nil(t, a.NextStep.DoneAt)
		require.Equal(t, []string{n1.ID, n2.ID}, list())

		// A PATCH with a different text opens it again too.
		_, err = b.store.NextStepSetDone(ctx, b.org, n2.ID, true, day(9))
		require.NoError(t, err)
		require.Equal(t, []string{n1.ID}, list())
		patched, err = b.acts.Update(ctx, b.org, n2.ID, crm.ActivityInput{NextStep: crm.Some(crm.NextStepInput{Text: "Book the real demo", DueDate: ptr("2026-03-10")})})
		require.NoError(t, err)
		require.Nil(t, patched.NextStep.DoneAt)
		require.Equal(t, []string{n1.ID, n2.ID}, list())

		// The batch path clears it as well.
		_, err = b.store.NextStepSetDone(ctx, b.org, n1.ID, true, day(9))
		require.NoError(t, err)
		in.NextStep = crm.Some(crm.NextStepInput{Text: "Send the revised quote", DueDate: &due})
		require.NoError(t, in.Validate(true))
		_, err = b.acts.UpsertBatch(ctx, b.org, []crm.ActivityInput{in})
		require.NoError(t, err)
		require.Equal(t, []string{n1.ID, n2.ID}, list())
	})

	t.Run("NoNextStepOrAnotherOrg", func(t *testing.T) {
		t.Parallel()
		b := opsSetup(t)
		acme := b.account(b.org, "Acme", "")
		plain := b.log(b.org, note(acme, day(2), "", "", ""))
		_, err := b.store.NextStepSetDone(ctx, b.org, plain.ID, true, day(3))
		var ve *crm.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "next_step", ve.Fields[0].Field)
		_, err = b.store.NextStepSetDone(ctx, b.org, plain.ID, false, time.Time{})
		require.ErrorAs(t, err, &ve)
		with := b.log(b.org, note(acme, day(2), "", "Call", "2026-03-01"))
		_, err = b.store.NextStepSetDone(ctx, b.other, with.ID, true, day(3))
		require.ErrorIs(t, err, crm.ErrNotFound)
		_, err = b.store.NextStepSetDone(ctx, b.org, store.NewID(), true, day(3))
		require.ErrorIs(t, err, crm.ErrNotFound)
		got, err := b.store.ActivityGet(ctx, b.org, with.ID)
		require.NoError(t, err)
		require.Nil(t, got.NextStep.DoneAt, "another org's key changed nothing")
	})
}

func ptr[T any](v T) *T { return &v }
