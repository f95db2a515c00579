package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"logbook/activity"
	"slices"
	"strings"
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

func TestActivityDelete(t *testing.T) {
	t.Parallel()
	b := activitySetup(t)
	acme := b.account("Acme")
	d := b.contact(acme, "d@acme.test")
	a, _ := b.upsert(map[string]any{"type": "note", "account_id": acme, "occurred_at": "2026-03-02T15:00:00Z", "contact_ids": []string{d}})
	require.NoError(t, b.store.ActivityDelete(b.ctx, b.orgID, a.ID))
	_, err := b.store.ActivityGet(b.ctx, b.orgID, a.ID)
	require.ErrorIs(t, err, crm.ErrNotFound)
	require.ErrorIs(t, b.store.ActivityDelete(b.ctx, b.orgID, a.ID), crm.ErrNotFound)
	var links int
	require.NoError(t, b.tx.QueryRow(b.ctx, `SELECT count(*) FROM activity_contacts WHERE org_id = $1`, b.orgID).Scan(&links))
	require.Zero(t, links)
}

func TestActivityListByAccount(t *testing.T) {
	t.Parallel()

	// timeline plants 30 activities on Acme: three per minute (equal
	// occurred_at ties), types cycling, every third linked to a contact,
	// every fifth on a deal and owned by a user; and one on Globex.
	type timeline struct {
		*activityBundle
		acme, globex, contact, deal, owner string
		ids                                []string // Acme's, newest first by (occurred_at, id)
	}
	plant := func(t *testing.T) *timeline {
		b := activitySetup(t)
		tl := &timeline{activityBundle: b, acme: b.account("Acme"), globex: b.account("Globex")}
		tl.contact, tl.deal, tl.owner = b.contact(tl.acme, "d@acme.test"), b.deal(tl.acme), b.user("rep@seller.test")
		var ins []crm.ActivityInput
		base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		for i := range 30 {
			m := map[string]any{"type": []string{"call", "email", "meeting"}[i%3], "account_id": tl.acme,
				"occurred_at": base.Add(time.Duration(i/3) * time.Minute).Format(time.RFC3339)}
			if i%3 == 0 {
				m["contact_ids"] = []string{tl.contact}
			}
			if i%5 == 0 {
				m["deal_id"], m["owner_id"] = tl.deal, tl.owner
			}
			ins = append(ins, activityIn(t, m))
		}
		ins = append(ins, activityIn(t, map[string]any{"type": "note", "account_id": tl.globex, "occurred_at": base.Format(time.RFC3339)}))
		out, err := activity.New(b.store).UpsertBatch(b.ctx, b.orgID, ins)
		require.NoError(t, err)
		type key struct {
			at time.Time
			id string
		}
		var keys []key
		for i, o := range out[:30] {
			keys = append(keys, key{base.Add(time.Duration(i/3) * time.Minute), o.ID})
		}
		slices.SortFunc(keys, func(a, b key) int {
			if c := b.at.Compare(a.at); c != 0 {
				return c
			}
			return strings.Compare(b.id, a.id)
		})
		for _, k := range keys {
			tl.ids = append(tl.ids, k.id)
		}
		return tl
	}
	list := func(t *testing.T, tl *timeline, f store.ActivityFilter) []crm.Activity {
		t.Helper()
		f.Limit = 200
		page, err := tl.store.ActivityListByAccount(tl.ctx, tl.orgID, tl.acme, f)
		require.NoError(t, err)
		require.Nil(t, page.NextCursor)
		return page.Items
	}

	t.Run("PagesInOrderWithoutDuplicates", func(t *testing.T) {
		t.Parallel()
		tl := plant(t)
		var got []string
		cursor := ""
		for range 20 {
			page, err := tl.store.ActivityListByAccount(tl.ctx, tl.orgID, tl.acme, store.ActivityFilter{Limit: 7, Cursor: cursor})
			require.NoError(t, err)
			for _, a := range page.Items {
				got = append(got, a.ID)
			}
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		require.Equal(t, tl.ids, got)
		_, err := tl.store.ActivityListByAccount(tl.ctx, tl.orgID, tl.acme, store.ActivityFilter{Cursor: "garbage!"})
		require.ErrorIs(t, err, crm.ErrInvalid)
	})

	t.Run("FiltersEach", func(t *testing.T) {
		t.Parallel()
		tl := plant(t)
		all := list(t, tl, store.ActivityFilter{})
		require.Len(t, all, 30)
		for _, a := range all {
			require.Equal(t, tl.acme, a.AccountID)
		}
		require.Equal(t, 3, len(all[29].ContactIDs)+2, "the oldest is linked to the contact")

		calls := list(t, tl, store.ActivityFilter{Types: []crm.ActivityType{crm.ActivityCall, crm.ActivityMeeting}})
		require.Len(t, calls, 20)
		for _, a := range calls {
			require.Contains(t, []crm.ActivityType{crm.ActivityCall, crm.ActivityMeeting}, a.Type)
		}

		since, until := time.Date(2026, 3, 1, 9, 2, 0, 0, time.UTC), time.Date(2026, 3, 1, 9, 5, 0, 0, time.UTC)
		window := list(t, tl, store.ActivityFilter{Since: &since, Until: &until})
		require.Len(t, window, 9, "since inclusive, until exclusive: minutes 2, 3 and 4")
		for _, a := range window {
			require.False(t, a.OccurredAt.Before(since))
			require.True(t, a.OccurredAt.Before(until))
		}

		withContact := list(t, tl, store.ActivityFilter{ContactID: tl.contact})
		require.Len(t, withContact, 10)
		for _, a := range withContact {
			require.Equal(t, []string{tl.contact}, a.ContactIDs)
		}
		require.Len(t, list(t, tl, store.ActivityFilter{DealID: tl.deal}), 6)
		require.Len(t, list(t, tl, store.ActivityFilter{OwnerID: tl.owner}), 6)
		require.Len(t, list(t, tl, store.ActivityFilter{OwnerID: tl.owner, Types: []crm.ActivityType{crm.ActivityCall}}), 2)
	})

	t.Run("UnknownAccountIsNotFoundEvenWhenEmpty", func(t *testing.T) {
		t.Parallel()
		tl := plant(t)
		_, err := tl.store.ActivityListByAccount(tl.ctx, tl.orgID, store.NewID(), store.ActivityFilter{})
		require.ErrorIs(t, err, crm.ErrNotFound)
		other, err := tl.store.OrgCreate(tl.ctx, "Other")
		require.NoError(t, err)
		_, err = tl.store.ActivityListByAccount(tl.ctx, other.ID, tl.acme, store.ActivityFilter{})
		require.ErrorIs(t, err, crm.ErrNotFound)
		page, err := tl.store.ActivityListByAccount(tl.ctx, tl.orgID, tl.acme, store.ActivityFilter{Types: []crm.ActivityType{crm.ActivitySMS}})
		require.NoError(t, err)
		require.Empty(t, page.Items)
		require.NotNil(t, page.Items)
		empty := tl.account("Empty")
		page, err = tl.store.ActivityListByAccount(tl.ctx, tl.orgID, empty, store.ActivityFilter{})
		require.NoError(t, err)
		require.Empty(t, page.Items)
	})
}

// TestActivityTimelinePlan pins the timeline to a range scan of
// activities_timeline_idx in index order, with no Sort: a keyset page then
// costs the same at page 10,000 as at page 1.
func TestActivityTimelinePlan(t *testing.T) {
	t.Parallel()
	b := activitySetup(t)
	var accounts []string
	for i := range 4 {
		accounts = append(accounts, b.account(fmt.Sprintf("Account %d", i)))
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, acc := range accounts {
		ins := make([]crm.ActivityInput, crm.MaxBatch)
		for i := range ins {
			ins[i] = activityIn(t, map[string]any{"type": crm.ActivityTypes[i%len(crm.ActivityTypes)], "account_id": acc,
				"occurred_at": base.Add(time.Duration(i/2) * time.Hour).Format(time.RFC3339)})
		}
		_, err := activity.New(b.store).UpsertBatch(b.ctx, b.orgID, ins)
		require.NoError(t, err)
	}
	_, err := b.tx.Exec(b.ctx, `ANALYZE activities`)
	require.NoError(t, err)

	page, err := b.store.ActivityListByAccount(b.ctx, b.orgID, accounts[1], store.ActivityFilter{Limit: 50})
	require.NoError(t, err)
	since, until := base.Add(24*time.Hour), base.Add(400*time.Hour)
	filters := map[string]store.ActivityFilter{
		"FirstPage":  {},
		"LaterPage":  {Cursor: *page.NextCursor},
		"TypesRange": {Types: []crm.ActivityType{crm.ActivityCall, crm.ActivityEmail}, Since: &since, Until: &until, Cursor: *page.NextCursor},
	}
	for name, f := range filters {
		q, args, err := store.ActivityTimelineSQL(b.orgID, accounts[1], f)
		require.NoError(t, err)
		var plan []map[string]any
		require.NoError(t, b.tx.QueryRow(b.ctx, `EXPLAIN (FORMAT JSON) `+q, args...).Scan(&plan))
		top := plan[0]["Plan"].(map[string]any)
		require.Equal(t, "Limit", top["Node Type"], name)
		scan := top["Plans"].([]any)[0].(map[string]any)
		require.Equal(t, "Index Scan", scan["Node Type"], "%s: %v", name, plan)
		require.Equal(t, "activities_timeline_idx", scan["Index Name"], name)
		require.Equal(t, "Forward", scan["Scan Direction"], name)
		if f.Cursor != "" {
			require.Contains(t, scan["Index Cond"], "ROW(occurred_at, id) <", "%s: the keyset bounds the scan", name)
		}
		// Nothing sorts, anywhere; and the page itself reads nothing but the
		// index range (SubPlans are the per-row contact_ids lookups).
		var walk func(n map[string]any, inSubPlan bool)
		walk = func(n map[string]any, inSubPlan bool) {
			require.NotContains(t, []string{"Sort", "Incremental Sort"}, n["Node Type"], name)
			if !inSubPlan {
				require.NotContains(t, []string{"Seq Scan", "Bitmap Heap Scan", "Hash Join", "Merge Join"}, n["Node Type"], name)
			}
			for _, c := range asSlice(n["Plans"]) {
				child := c.(map[string]any)
				walk(child, inSubPlan || child["Parent Relationship"] == "SubPlan")
			}
		}
		walk(top, false)
	}
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}
