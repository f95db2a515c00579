package activity_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"logbook/activity"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// activityBundle is one test's store on its own rolled-back transaction,
// with an org, and the transaction itself for planting rows with SQL.
type activityBundle struct {
	t     *testing.T
	ctx   context.Context
	tx    pgx.Tx
	store *store.Store
	orgID string
}

func activitySetup(t *testing.T) *activityBundle {
	t.Helper()
	ctx := context.Background()
	tx := testdb.Tx(t)
	s := store.New(tx)
	org, err := s.OrgCreate(ctx, "Org "+t.Name())
	require.NoError(t, err)
	return &activityBundle{t: t, ctx: ctx, tx: tx, store: s, orgID: org.ID}
}

// account creates an account of the bundle's org with these domains.
func (b *activityBundle) account(name string, domains ...string) string {
	b.t.Helper()
	a, err := b.store.AccountCreate(b.ctx, b.orgID, crm.AccountInput{Name: crm.Some(name), Domains: crm.Some(domains)})
	require.NoError(b.t, err)
	return a.ID
}

// contact plants a contact with SQL (the contacts store is not ours).
func (b *activityBundle) contact(accountID, email string) string {
	b.t.Helper()
	id := store.NewID()
	_, err := b.tx.Exec(b.ctx, `INSERT INTO contacts (org_id, id, account_id, name, email) VALUES ($1, $2, $3, $4, $5)`,
		b.orgID, id, accountID, "Contact "+email, email)
	require.NoError(b.t, err)
	return id
}

// user plants a user with SQL.
func (b *activityBundle) user(email string) string {
	b.t.Helper()
	id := store.NewID()
	_, err := b.tx.Exec(b.ctx, `INSERT INTO users (org_id, id, email, name, role) VALUES ($1, $2, $3, 'Rep', 'rep')`,
		b.orgID, id, email)
	require.NoError(b.t, err)
	return id
}

// deal plants a deal with SQL.
func (b *activityBundle) deal(accountID string) string {
	b.t.Helper()
	id := store.NewID()
	_, err := b.tx.Exec(b.ctx, `INSERT INTO deals (org_id, id, account_id, name) VALUES ($1, $2, $3, 'Renewal')`,
		b.orgID, id, accountID)
	require.NoError(b.t, err)
	return id
}

// rows counts the org's activities.
func (b *activityBundle) rows() int {
	b.t.Helper()
	var n int
	require.NoError(b.t, b.tx.QueryRow(b.ctx, `SELECT count(*) FROM activities WHERE org_id = $1`, b.orgID).Scan(&n))
	return n
}

// upsert stores one activity and requires success.
func (b *activityBundle) upsert(fields map[string]any) (crm.Activity, store.UpsertResult) {
	b.t.Helper()
	a, res, _, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(b.t, fields))
	require.NoError(b.t, err)
	return a, res
}

// activityIn decodes fields as a request body would be decoded.
func activityIn(t *testing.T, fields map[string]any) crm.ActivityInput {
	t.Helper()
	raw, err := json.Marshal(fields)
	require.NoError(t, err)
	var in crm.ActivityInput
	require.NoError(t, json.Unmarshal(raw, &in))
	return in
}

// problemFields lists the fields of a validation error.
func problemFields(t *testing.T, err error) []string {
	t.Helper()
	var ve *crm.ValidationError
	require.True(t, errors.As(err, &ve), "want a validation error, got %v", err)
	var out []string
	for _, f := range ve.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestActivityUpsert(t *testing.T) {
	t.Parallel()

	t.Run("EveryTypeRoundTrips", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		owner := b.user("rep@seller.test")
		deal := b.deal(acme)
		for i, typ := range crm.ActivityTypes {
			fields := map[string]any{
				"type": typ, "direction": "outbound", "account_id": acme, "deal_id": deal, "owner_id": owner,
				"occurred_at": "2026-03-02T10:00:00+02:00", "duration_seconds": 60 * i, "subject": "Touch " + string(typ),
				"body": "Body", "next_step": map[string]any{"text": "Send pricing", "due_date": "2026-03-09"},
				"participants": []map[string]any{{"name": " Dana Lee ", "email": "Dana@Acme.test"}},
				"metadata":     map[string]any{"list": "q1", "n": 1},
			}
			if typ.TakesDisposition() {
				fields["disposition"] = "connected"
			}
			a, res := b.upsert(fields)
			require.Equal(t, store.UpsertCreated, res)
			require.Equal(t, typ, a.Type)
			require.Equal(t, crm.SourceAPI, a.Source, "source defaults to api")
			require.Equal(t, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC), a.OccurredAt)
			require.Equal(t, []crm.Participant{{Name: "Dana Lee", Email: "dana@acme.test"}}, a.Participants)

			got, err := b.store.ActivityGet(b.ctx, b.orgID, a.ID)
			require.NoError(t, err)
			require.Equal(t, a.ID, got.ID)
			require.Equal(t, typ, got.Type)
			require.Equal(t, crm.DirectionOutbound, *got.Direction)
			require.Equal(t, acme, got.AccountID)
			require.Equal(t, deal, *got.DealID)
			require.Equal(t, owner, *got.OwnerID)
			require.Equal(t, 60*i, *got.DurationSeconds)
			require.Equal(t, "Touch "+string(typ), *got.Subject)
			require.Equal(t, "Send pricing", got.NextStep.Text)
			require.Equal(t, "2026-03-09", got.NextStep.DueDate.String())
			require.Equal(t, a.Participants, got.Participants)
			require.JSONEq(t, `{"list":"q1","n":1}`, string(got.Metadata))
			require.Equal(t, []string{}, got.ContactIDs)
			require.Equal(t, a.CreatedAt, got.CreatedAt)
			require.Nil(t, got.Notes)
		}
		require.Equal(t, len(crm.ActivityTypes), b.rows())
	})

	t.Run("InvalidInputIsAValidationError", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		_, _, _, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{
			"type": "fax", "occurred_at": "yesterday", "duration_seconds": -1,
		}))
		require.ErrorIs(t, err, crm.ErrInvalid)
		require.ElementsMatch(t, []string{"type", "account_id", "occurred_at", "duration_seconds"}, problemFields(t, err))
	})

	t.Run("ParticipantResolvesByContactEmail", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme", "acme.test")
		b.account("Globex", "globex.test")
		dana := b.contact(acme, "dana@acme.test")
		a, _ := b.upsert(map[string]any{"type": "meeting", "occurred_at": "2026-03-02T15:00:00Z",
			"participants": []map[string]any{{"name": "Dana", "email": "DANA@ACME.TEST"}, {"name": "Rep", "email": "rep@seller.test"}}})
		require.Equal(t, acme, a.AccountID)
		require.Equal(t, []string{dana}, a.ContactIDs)
		got, err := b.store.ActivityGet(b.ctx, b.orgID, a.ID)
		require.NoError(t, err)
		require.Equal(t, []string{dana}, got.ContactIDs)
	})

	t.Run("ParticipantResolvesByDomain", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		b.account("Acme", "acme.test")
		globex := b.account("Globex", "globex.test")
		a, _ := b.upsert(map[string]any{"type": "email", "occurred_at": "2026-03-02T15:00:00Z",
			"participants": []map[string]any{{"name": "Hank", "email": "hank@GLOBEX.test"}}})
		require.Equal(t, globex, a.AccountID)
		require.Empty(t, a.ContactIDs)
	})

	t.Run("ContactMatchesWinOverDomains", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme", "acme.test")
		b.account("Globex", "globex.test")
		// A consultant at another company is a contact of Acme.
		consultant := b.contact(acme, "pat@consulting.test")
		a, _ := b.upsert(map[string]any{"type": "email", "occurred_at": "2026-03-02T15:00:00Z",
			"participants": []map[string]any{{"email": "pat@consulting.test"}, {"email": "x@globex.test"}, {"email": "y@globex.test"}}})
		require.Equal(t, acme, a.AccountID)
		require.Equal(t, []string{consultant}, a.ContactIDs)
	})

	t.Run("MostContactMatchesWinAndOnlyTheirContactsLink", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		globex := b.account("Globex")
		d1 := b.contact(acme, "d1@acme.test")
		d2 := b.contact(acme, "d2@acme.test")
		b.contact(globex, "g1@globex.test")
		a, _ := b.upsert(map[string]any{"type": "meeting", "occurred_at": "2026-03-02T15:00:00Z",
			"participants": []map[string]any{{"email": "g1@globex.test"}, {"email": "d1@acme.test"}, {"email": "d2@acme.test"}}})
		require.Equal(t, acme, a.AccountID)
		require.Equal(t, sorted(d1, d2), a.ContactIDs)
	})

	t.Run("AmbiguousParticipantsAre422", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme", "acme.test")
		globex := b.account("Globex", "globex.test")
		b.contact(acme, "d@acme.test")
		b.contact(globex, "g@globex.test")
		_, _, _, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{"type": "meeting",
			"occurred_at": "2026-03-02T15:00:00Z", "participants": []map[string]any{{"email": "d@acme.test"}, {"email": "g@globex.test"}}}))
		require.Equal(t, []string{"participants"}, problemFields(t, err))
		// By domain, too.
		_, _, _, err = activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{"type": "meeting",
			"occurred_at": "2026-03-02T15:00:00Z", "participants": []map[string]any{{"email": "x@acme.test"}, {"email": "y@globex.test"}}}))
		require.Equal(t, []string{"participants"}, problemFields(t, err))
		require.Zero(t, b.rows())
	})

	t.Run("UnresolvableParticipantsAre422", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		b.account("Acme", "acme.test")
		_, _, _, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{"type": "meeting",
			"occurred_at": "2026-03-02T15:00:00Z", "participants": []map[string]any{{"name": "Nobody", "email": "n@nowhere.test"}, {"name": "Name only"}}}))
		require.Equal(t, []string{"participants"}, problemFields(t, err))
		require.Contains(t, err.Error(), "pass account_id")
	})

	t.Run("ContactIDsResolveTheAccount", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		d1, d2 := b.contact(acme, "d1@acme.test"), b.contact(acme, "d2@acme.test")
		a, _ := b.upsert(map[string]any{"type": "call", "occurred_at": "2026-03-02T15:00:00Z",
			"contact_ids": []string{strings.ToUpper(d2), d1, d2}})
		require.Equal(t, acme, a.AccountID)
		require.Equal(t, sorted(d1, d2), a.ContactIDs)
	})

	t.Run("ContactIDsOfDifferentAccountsAre422", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		d := b.contact(b.account("Acme"), "d@acme.test")
		g := b.contact(b.account("Globex"), "g@globex.test")
		_, _, _, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{"type": "call",
			"occurred_at": "2026-03-02T15:00:00Z", "contact_ids": []string{d, g}}))
		require.Equal(t, []string{"contact_ids"}, problemFields(t, err))
		require.Contains(t, err.Error(), "contacts belong to different accounts; pass account_id")
	})

	t.Run("UnknownContactIDIs422", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		d := b.contact(acme, "d@acme.test")
		_, _, _, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{"type": "call",
			"occurred_at": "2026-03-02T15:00:00Z", "contact_ids": []string{d, store.NewID()}}))
		require.Equal(t, []string{"contact_ids[1]"}, problemFields(t, err))
		// Also when account_id is given.
		_, _, _, err = activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{"type": "call", "account_id": acme,
			"occurred_at": "2026-03-02T15:00:00Z", "contact_ids": []string{store.NewID()}}))
		require.Equal(t, []string{"contact_ids[0]"}, problemFields(t, err))
	})

	t.Run("AccountIDLinksOnlyItsContacts", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		d := b.contact(acme, "d@acme.test")
		g := b.contact(b.account("Globex"), "g@globex.test")
		a, _ := b.upsert(map[string]any{"type": "meeting", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z",
			"contact_ids": []string{g}, "participants": []map[string]any{{"email": "g@globex.test"}, {"email": "d@acme.test"}}})
		require.Equal(t, acme, a.AccountID)
		require.Equal(t, []string{d}, a.ContactIDs)
	})

	t.Run("MissingReferencesAre422AndTheTransactionGoesOn", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		_, _, _, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{"type": "note",
			"account_id": store.NewID(), "deal_id": store.NewID(), "owner_id": store.NewID(), "occurred_at": "2026-03-02T15:00:00Z"}))
		require.Equal(t, []string{"account_id", "deal_id", "owner_id"}, problemFields(t, err))
		// Another org's account is missing too.
		other, err := b.store.OrgCreate(b.ctx, "Other")
		require.NoError(t, err)
		theirs, err := b.store.AccountCreate(b.ctx, other.ID, crm.AccountInput{Name: crm.Some("Theirs")})
		require.NoError(t, err)
		_, _, _, err = activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, map[string]any{"type": "note",
			"account_id": theirs.ID, "occurred_at": "2026-03-02T15:00:00Z", "external_id": "x"}))
		require.Equal(t, []string{"account_id"}, problemFields(t, err))
		// The refused statements did not abort the caller's transaction.
		_, res := b.upsert(map[string]any{"type": "note", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z"})
		require.Equal(t, store.UpsertCreated, res)
	})

	t.Run("Dispositions", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		call := func(fields map[string]any) error {
			base := map[string]any{"type": "call", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z"}
			for k, v := range fields {
				base[k] = v
			}
			_, _, _, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, base))
			return err
		}
		for _, code := range crm.DefaultDispositions {
			require.NoError(t, call(map[string]any{"direction": "outbound", "disposition": code}), code)
		}
		require.Equal(t, []string{"disposition"}, problemFields(t, call(map[string]any{"disposition": "left_message"})))
		require.Equal(t, []string{"disposition"}, problemFields(t, call(map[string]any{"type": "email", "disposition": "connected"})))
		require.NoError(t, call(map[string]any{"type": "voicemail", "disposition": "voicemail"}))
		require.NoError(t, call(map[string]any{"direction": "outbound"}), "not required by default")

		_, err := b.store.SettingsUpdate(b.ctx, b.orgID, crm.SettingsInput{
			Dispositions:       crm.Some([]string{"left_message", "connected"}),
			RequireDisposition: crm.Some(true),
		})
		require.NoError(t, err)
		require.NoError(t, call(map[string]any{"direction": "outbound", "disposition": "left_message"}))
		require.Equal(t, []string{"disposition"}, problemFields(t, call(map[string]any{"disposition": "busy"})), "no longer an org code")
		err = call(map[string]any{"direction": "outbound"})
		require.Equal(t, []string{"disposition"}, problemFields(t, err))
		require.Contains(t, err.Error(), "required on outbound calls")
		require.NoError(t, call(map[string]any{"direction": "inbound"}))
		require.NoError(t, call(map[string]any{}))
		require.NoError(t, call(map[string]any{"type": "email", "direction": "outbound"}))
	})

	t.Run("RepostIsIdempotent", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		d := b.contact(acme, "d@acme.test")
		fields := map[string]any{"type": "call", "direction": "outbound", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z",
			"source": "dialer", "external_id": "call-1", "disposition": "connected", "contact_ids": []string{d},
			"metadata": map[string]any{"b": 1, "a": []int{1, 2}}}
		first, res := b.upsert(fields)
		require.Equal(t, store.UpsertCreated, res)

		again, res := b.upsert(fields)
		require.Equal(t, store.UpsertUnchanged, res)
		require.Equal(t, first.ID, again.ID)
		require.Equal(t, first.UpdatedAt, again.UpdatedAt)
		require.Equal(t, []string{d}, again.ContactIDs)
		require.Equal(t, 1, b.rows())

		// The same external_id from another source is another activity.
		fields["source"] = "manual"
		_, res = b.upsert(fields)
		require.Equal(t, store.UpsertCreated, res)
		require.Equal(t, 2, b.rows())

		// Without contacts to resolve, the statement checks the disposition
		// itself; a re-post still comes back unchanged.
		call := map[string]any{"type": "call", "direction": "outbound", "account_id": acme, "occurred_at": "2026-03-02T16:00:00Z",
			"source": "dialer", "external_id": "call-2", "disposition": "no_answer"}
		first, res = b.upsert(call)
		require.Equal(t, store.UpsertCreated, res)
		again, res = b.upsert(call)
		require.Equal(t, store.UpsertUnchanged, res)
		require.Equal(t, first.ID, again.ID)
		require.Equal(t, first.UpdatedAt, again.UpdatedAt)
		call["disposition"] = "busy"
		again, res = b.upsert(call)
		require.Equal(t, store.UpsertUpdated, res)
		require.Equal(t, "busy", *again.Disposition)
		call["disposition"] = "hung_up"
		_, _, _, err := activity.New(b.store).Upsert(b.ctx, b.orgID, activityIn(t, call))
		require.Equal(t, []string{"disposition"}, problemFields(t, err))
		require.Equal(t, 3, b.rows())
	})

	t.Run("ChangedContentUpdates", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		d1, d2 := b.contact(acme, "d1@acme.test"), b.contact(acme, "d2@acme.test")
		fields := map[string]any{"type": "email", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z",
			"source": "email_sync", "external_id": "msg-1", "subject": "Hello", "contact_ids": []string{d1}}
		first, _ := b.upsert(fields)
		fields["subject"] = "Hello again"
		fields["contact_ids"] = []string{d2}
		updated, res := b.upsert(fields)
		require.Equal(t, store.UpsertUpdated, res)
		require.Equal(t, first.ID, updated.ID)
		require.Equal(t, first.CreatedAt, updated.CreatedAt)
		require.True(t, updated.UpdatedAt.After(first.UpdatedAt))
		got, err := b.store.ActivityGet(b.ctx, b.orgID, first.ID)
		require.NoError(t, err)
		require.Equal(t, "Hello again", *got.Subject)
		require.Equal(t, []string{d2}, got.ContactIDs)
		require.Equal(t, updated.UpdatedAt, got.UpdatedAt)

		// Dropping every contact clears the links.
		delete(fields, "contact_ids")
		_, res = b.upsert(fields)
		require.Equal(t, store.UpsertUpdated, res)
		got, err = b.store.ActivityGet(b.ctx, b.orgID, first.ID)
		require.NoError(t, err)
		require.Empty(t, got.ContactIDs)
		require.Equal(t, 1, b.rows())
	})
}

func TestActivityUpsertConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(testdb.Schema(t))
	org, err := s.OrgCreate(ctx, "Concurrent")
	require.NoError(t, err)
	acc, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme")})
	require.NoError(t, err)

	t.Run("IdenticalPostsMakeOneRow", func(t *testing.T) {
		t.Parallel()
		fields := map[string]any{"type": "note", "account_id": acc.ID, "occurred_at": "2026-03-02T15:00:00Z",
			"external_id": "same-" + store.NewID(), "body": "hello"}
		const n = 8
		var wg sync.WaitGroup
		ids, results, errs := make([]string, n), make([]store.UpsertResult, n), make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, res, _, err := activity.New(s).Upsert(ctx, org.ID, activityIn(t, fields))
				ids[i], results[i], errs[i] = a.ID, res, err
			}()
		}
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i])
			require.Equal(t, ids[0], ids[i])
		}
		require.Equal(t, 1, count(results, store.UpsertCreated))
		require.Equal(t, n-1, count(results, store.UpsertUnchanged))
	})

	t.Run("OverlappingBatchesNeitherFailNorDuplicate", func(t *testing.T) {
		t.Parallel()
		prefix := store.NewID()
		batch := func(reverse bool) []crm.ActivityInput {
			var ins []crm.ActivityInput
			for i := range 200 {
				ins = append(ins, activityIn(t, map[string]any{"type": "email", "account_id": acc.ID,
					"occurred_at": "2026-03-02T15:00:00Z", "external_id": fmt.Sprintf("%s-%03d", prefix, i)}))
			}
			if reverse {
				slices.Reverse(ins)
			}
			return ins
		}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = activity.New(s).UpsertBatch(ctx, org.ID, batch(i%2 == 1))
			}()
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		page, err := s.ActivityListByAccount(ctx, org.ID, acc.ID, store.ActivityFilter{Limit: 200})
		require.NoError(t, err)
		seen := map[string]bool{}
		for _, a := range page.Items {
			if a.ExternalID != nil && strings.HasPrefix(*a.ExternalID, prefix) {
				require.False(t, seen[*a.ExternalID], "duplicate row for %s", *a.ExternalID)
				seen[*a.ExternalID] = true
			}
		}
	})
}

func TestActivityUpsertBatch(t *testing.T) {
	t.Parallel()

	batchOf := func(t *testing.T, n int, account string, mod func(i int, m map[string]any)) []crm.ActivityInput {
		ins := make([]crm.ActivityInput, n)
		for i := range ins {
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
			m := map[string]any{"type": crm.ActivityTypes[i%len(crm.ActivityTypes)], "account_id": account,
				"occurred_at": at.Format(time.RFC3339), "source": "email_sync",
				"external_id": fmt.Sprintf("ext-%04d", i), "subject": fmt.Sprintf("Item %d", i)}
			if mod != nil {
				mod(i, m)
			}
			ins[i] = activityIn(t, m)
		}
		return ins
	}

	t.Run("ThousandItemsThenRepostUnchanged", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		out, err := activity.New(b.store).UpsertBatch(b.ctx, b.orgID, batchOf(t, crm.MaxBatch, acme, nil))
		require.NoError(t, err)
		require.Len(t, out, crm.MaxBatch)
		ids := map[string]bool{}
		for i, o := range out {
			require.Equal(t, store.UpsertCreated, o.Result)
			require.Equal(t, fmt.Sprintf("ext-%04d", i), *o.ExternalID, "input order")
			ids[o.ID] = true
		}
		require.Len(t, ids, crm.MaxBatch)
		require.Equal(t, crm.MaxBatch, b.rows())

		again, err := activity.New(b.store).UpsertBatch(b.ctx, b.orgID, batchOf(t, crm.MaxBatch, acme, nil))
		require.NoError(t, err)
		for i, o := range again {
			require.Equal(t, store.UpsertUnchanged, o.Result)
			require.Equal(t, out[i].ID, o.ID)
		}
		require.Equal(t, crm.MaxBatch, b.rows())
	})

	t.Run("MixOfCreatedUpdatedUnchangedAndLinks", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme", "acme.test")
		d1, d2 := b.contact(acme, "d1@acme.test"), b.contact(acme, "d2@acme.test")
		first, err := activity.New(b.store).UpsertBatch(b.ctx, b.orgID, batchOf(t, 3, acme, func(i int, m map[string]any) {
			m["contact_ids"] = []string{d1}
		}))
		require.NoError(t, err)
		out, err := activity.New(b.store).UpsertBatch(b.ctx, b.orgID, batchOf(t, 5, acme, func(i int, m map[string]any) {
			m["contact_ids"] = []string{d1}
			switch i {
			case 1:
				m["contact_ids"] = []string{d2}
			case 2:
				m["subject"] = "changed"
			case 4:
				delete(m, "external_id")
				delete(m, "account_id")
				delete(m, "contact_ids")
				m["participants"] = []map[string]any{{"email": "d2@acme.test"}, {"email": "new@acme.test"}}
			}
		}))
		require.NoError(t, err)
		var results []store.UpsertResult
		for _, o := range out {
			results = append(results, o.Result)
		}
		require.Equal(t, []store.UpsertResult{store.UpsertUnchanged, store.UpsertUpdated, store.UpsertUpdated,
			store.UpsertCreated, store.UpsertCreated}, results)
		for i := range 3 {
			require.Equal(t, first[i].ID, out[i].ID)
		}
		require.Nil(t, out[4].ExternalID)
		links := func(id string) []string {
			a, err := b.store.ActivityGet(b.ctx, b.orgID, id)
			require.NoError(t, err)
			return a.ContactIDs
		}
		require.Equal(t, []string{d1}, links(out[0].ID))
		require.Equal(t, []string{d2}, links(out[1].ID))
		require.Equal(t, []string{d1}, links(out[2].ID))
		require.Equal(t, []string{d1}, links(out[3].ID))
		require.Equal(t, []string{d2}, links(out[4].ID))
		require.Equal(t, 5, b.rows())
	})

	t.Run("OneBadItemWritesNothing", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		_, err := activity.New(b.store).UpsertBatch(b.ctx, b.orgID, batchOf(t, crm.MaxBatch, acme, func(i int, m map[string]any) {
			if i == 737 {
				m["occurred_at"] = "not a time"
			}
		}))
		require.Equal(t, []string{"activities[737].occurred_at"}, problemFields(t, err))
		require.Zero(t, b.rows())
	})

	t.Run("EveryBadItemIsNamed", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		_, err := activity.New(b.store).UpsertBatch(b.ctx, b.orgID, batchOf(t, 10, acme, func(i int, m map[string]any) {
			switch i {
			case 2:
				m["type"] = "fax"
			case 3:
				m["disposition"] = "connected" // on a note
			case 6:
				delete(m, "account_id")
				m["participants"] = []map[string]any{{"email": "x@nowhere.test"}}
			case 8:
				m["contact_ids"] = []string{store.NewID()}
			}
		}))
		require.Equal(t, []string{"activities[2].type", "activities[3].disposition", "activities[6].participants",
			"activities[8].contact_ids[0]"}, problemFields(t, err))
		require.Zero(t, b.rows())
	})

	t.Run("MissingReferencesNameTheirItems", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		_, err := activity.New(b.store).UpsertBatch(b.ctx, b.orgID, batchOf(t, 20, acme, func(i int, m map[string]any) {
			switch i {
			case 3:
				m["account_id"] = store.NewID()
			case 11:
				m["owner_id"] = store.NewID()
			case 15:
				m["deal_id"] = store.NewID()
			}
		}))
		require.Equal(t, []string{"activities[3].account_id", "activities[11].owner_id", "activities[15].deal_id"},
			problemFields(t, err))
		require.Zero(t, b.rows())
		// The refused batch did not abort the caller's transaction.
		_, err = activity.New(b.store).UpsertBatch(b.ctx, b.orgID, batchOf(t, 2, acme, nil))
		require.NoError(t, err)
	})

	t.Run("SizeLimits", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		_, err := activity.New(b.store).UpsertBatch(b.ctx, b.orgID, nil)
		require.Equal(t, []string{"activities"}, problemFields(t, err))
		_, err = activity.New(b.store).UpsertBatch(b.ctx, b.orgID, batchOf(t, crm.MaxBatch+1, acme, nil))
		require.Equal(t, []string{"activities"}, problemFields(t, err))
		require.Zero(t, b.rows())
	})

	t.Run("DuplicatesInOneBatch", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		out, err := activity.New(b.store).UpsertBatch(b.ctx, b.orgID, batchOf(t, 4, acme, func(i int, m map[string]any) {
			if i == 3 {
				m["external_id"] = "ext-0001"
				m["subject"] = "Item 1"
				m["type"] = crm.ActivityTypes[1]
				m["occurred_at"] = "2026-01-01T00:01:00Z"
			}
		}))
		require.NoError(t, err)
		require.Equal(t, out[1].ID, out[3].ID)
		require.Equal(t, store.UpsertCreated, out[1].Result)
		require.Equal(t, store.UpsertUnchanged, out[3].Result)
		require.Equal(t, 3, b.rows())

		_, err = activity.New(b.store).UpsertBatch(b.ctx, b.orgID, batchOf(t, 4, acme, func(i int, m map[string]any) {
			if i == 3 {
				m["external_id"] = "ext-0001"
			}
		}))
		require.Equal(t, []string{"activities[3].external_id"}, problemFields(t, err))
		require.Equal(t, 3, b.rows())
	})
}

func TestActivityUpdate(t *testing.T) {
	t.Parallel()

	t.Run("PartialUpdate", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		a, _ := b.upsert(map[string]any{"type": "call", "direction": "outbound", "account_id": acme,
			"occurred_at": "2026-03-02T15:00:00Z", "subject": "Intro", "body": "Notes", "disposition": "connected",
			"next_step": map[string]any{"text": "Follow up"}})
		got, err := activity.New(b.store).Update(b.ctx, b.orgID, a.ID, activityIn(t, map[string]any{
			"subject": "Intro call", "direction": nil, "next_step": nil, "duration_seconds": 90}))
		require.NoError(t, err)
		require.Equal(t, "Intro call", *got.Subject)
		require.Equal(t, "Notes", *got.Body, "absent fields stay")
		require.Nil(t, got.Direction)
		require.Nil(t, got.NextStep)
		require.Equal(t, 90, *got.DurationSeconds)
		require.Equal(t, "connected", *got.Disposition)
		require.True(t, got.UpdatedAt.After(a.UpdatedAt))
		require.Equal(t, a.CreatedAt, got.CreatedAt)
	})

	t.Run("DispositionRulesApplyToTheResult", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		a, _ := b.upsert(map[string]any{"type": "call", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z", "disposition": "busy"})
		_, err := activity.New(b.store).Update(b.ctx, b.orgID, a.ID, activityIn(t, map[string]any{"type": "email"}))
		require.Equal(t, []string{"disposition"}, problemFields(t, err))
		_, err = b.store.SettingsUpdate(b.ctx, b.orgID, crm.SettingsInput{RequireDisposition: crm.Some(true)})
		require.NoError(t, err)
		_, err = activity.New(b.store).Update(b.ctx, b.orgID, a.ID, activityIn(t, map[string]any{"disposition": nil, "direction": "outbound"}))
		require.Equal(t, []string{"disposition"}, problemFields(t, err))
		got, err := activity.New(b.store).Update(b.ctx, b.orgID, a.ID, activityIn(t, map[string]any{"type": "email", "disposition": nil}))
		require.NoError(t, err)
		require.Equal(t, crm.ActivityEmail, got.Type)
		require.Nil(t, got.Disposition)
	})

	t.Run("AccountAndContacts", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme, globex := b.account("Acme"), b.account("Globex")
		d := b.contact(acme, "d@acme.test")
		g1, g2 := b.contact(globex, "g1@globex.test"), b.contact(globex, "g2@globex.test")
		a, _ := b.upsert(map[string]any{"type": "meeting", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z", "contact_ids": []string{d}})
		require.Equal(t, []string{d}, a.ContactIDs)

		_, err := activity.New(b.store).Update(b.ctx, b.orgID, a.ID, activityIn(t, map[string]any{"account_id": store.NewID()}))
		require.Equal(t, []string{"account_id"}, problemFields(t, err))
		_, err = activity.New(b.store).Update(b.ctx, b.orgID, a.ID, activityIn(t, map[string]any{"contact_ids": []string{store.NewID()}}))
		require.Equal(t, []string{"contact_ids[0]"}, problemFields(t, err))

		// Moving to Globex drops Acme's contact; contact_ids replace the links.
		got, err := activity.New(b.store).Update(b.ctx, b.orgID, a.ID, activityIn(t, map[string]any{"account_id": globex, "contact_ids": []string{g2, g1, d}}))
		require.NoError(t, err)
		require.Equal(t, globex, got.AccountID)
		require.Equal(t, sorted(g1, g2), got.ContactIDs)
		got, err = activity.New(b.store).Update(b.ctx, b.orgID, a.ID, activityIn(t, map[string]any{"contact_ids": nil}))
		require.NoError(t, err)
		require.Empty(t, got.ContactIDs)
		got, err = activity.New(b.store).Update(b.ctx, b.orgID, a.ID, activityIn(t, map[string]any{"participants": []map[string]any{{"email": "g1@globex.test"}}}))
		require.NoError(t, err)
		require.Equal(t, []string{g1}, got.ContactIDs)
	})

	t.Run("RepostAfterPatchRestoresTheSource", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		fields := map[string]any{"type": "note", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z",
			"external_id": "n-1", "body": "original", "metadata": map[string]any{"z": 1, "a": 2}}
		a, _ := b.upsert(fields)
		_, err := activity.New(b.store).Update(b.ctx, b.orgID, a.ID, activityIn(t, map[string]any{"body": "edited"}))
		require.NoError(t, err)
		got, res := b.upsert(fields)
		require.Equal(t, store.UpsertUpdated, res)
		require.Equal(t, "original", *got.Body)
		// A no-op PATCH keeps the hash of the same content.
		_, err = activity.New(b.store).Update(b.ctx, b.orgID, a.ID, activityIn(t, map[string]any{}))
		require.NoError(t, err)
		_, res = b.upsert(fields)
		require.Equal(t, store.UpsertUnchanged, res)
	})

	t.Run("ExternalIDTakenIsConflict", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		acme := b.account("Acme")
		b.upsert(map[string]any{"type": "note", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z", "external_id": "taken"})
		a, _ := b.upsert(map[string]any{"type": "note", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z"})
		_, err := activity.New(b.store).Update(b.ctx, b.orgID, a.ID, activityIn(t, map[string]any{"external_id": "taken"}))
		require.ErrorIs(t, err, crm.ErrConflict)
	})

	t.Run("AnotherOrgsActivityIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := activitySetup(t)
		a, _ := b.upsert(map[string]any{"type": "note", "account_id": b.account("Acme"), "occurred_at": "2026-03-02T15:00:00Z"})
		other, err := b.store.OrgCreate(b.ctx, "Other")
		require.NoError(t, err)
		_, err = activity.New(b.store).Update(b.ctx, other.ID, a.ID, activityIn(t, map[string]any{"body": "x"}))
		require.ErrorIs(t, err, crm.ErrNotFound)
		_, err = b.store.ActivityGet(b.ctx, other.ID, a.ID)
		require.ErrorIs(t, err, crm.ErrNotFound)
		require.ErrorIs(t, b.store.ActivityDelete(b.ctx, other.ID, a.ID), crm.ErrNotFound)
	})
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func count[T comparable](xs []T, x T) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}
