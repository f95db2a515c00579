package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// handoffWorld is an org with an account, three users, three deals (two
// owned by dana, one unassigned), a webhook on activity.created, and a
// second org with a deal.
type handoffWorld struct {
	db                   store.DBTX
	store                *store.Store
	mu                   sync.Mutex // composeLocked's
	orgID, account       string
	dana, lee, kim       string
	d1, d2, d3           string
	otherOrg, otherDeal  string
	webhook, otherOwner  string
	composed             []string // deal IDs composed, in order
	failCompose          bool
	composeFactsAccounts []string
}

func newHandoffWorld(t *testing.T, db store.DBTX) *handoffWorld {
	t.Helper()
	ctx := context.Background()
	s := store.New(db)
	w := &handoffWorld{db: db, store: s}
	org, err := s.OrgCreate(ctx, "Org A")
	require.NoError(t, err)
	w.orgID = org.ID
	acct, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme")})
	require.NoError(t, err)
	w.account = acct.ID
	user := func(orgID, email, name string) string {
		u, err := s.UserCreate(ctx, orgID, crm.UserInput{Email: crm.Some(email), Name: crm.Some(name)})
		require.NoError(t, err)
		return u.ID
	}
	w.dana, w.lee, w.kim = user(org.ID, "dana@seller.test", "Dana Lee"), user(org.ID, "lee@seller.test", "Lee Park"),
		user(org.ID, "kim@seller.test", "Kim Ono")
	deal := func(orgID, accountID, name string, owner *string) string {
		in := crm.DealInput{AccountID: crm.Some(accountID), Name: crm.Some(name)}
		if owner != nil {
			in.OwnerID = crm.Some(*owner)
		}
		require.NoError(t, in.Validate(true))
		d, err := s.DealCreate(ctx, orgID, in)
		require.NoError(t, err)
		return d.ID
	}
	w.d1 = deal(org.ID, acct.ID, "Renewal", &w.dana)
	w.d2 = deal(org.ID, acct.ID, "Expansion", &w.dana)
	w.d3 = deal(org.ID, acct.ID, "Pilot", nil)
	other, err := s.OrgCreate(ctx, "Org B")
	require.NoError(t, err)
	w.otherOrg = other.ID
	oa, err := s.AccountCreate(ctx, other.ID, crm.AccountInput{Name: crm.Some("Globex")})
	require.NoError(t, err)
	w.otherOwner = user(other.ID, "olga@other.test", "Olga")
	w.otherDeal = deal(other.ID, oa.ID, "Globex deal", &w.otherOwner)
	hook, err := s.WebhookCreate(ctx, org.ID, crm.WebhookInput{URL: "https://a.example.test/",
		Events: []string{string(store.EventActivityCreated)}})
	require.NoError(t, err)
	w.webhook = hook.ID
	return w
}

// compose is a HandoffComposer that records what it was asked for.
func (w *handoffWorld) compose(f store.HandoffFacts) (store.HandoffNote, error) {
	if w.failCompose {
		return store.HandoffNote{}, errors.New("compose failed")
	}
	w.composed = append(w.composed, f.Deal.ID)
	w.composeFactsAccounts = append(w.composeFactsAccounts, f.AccountName)
	return store.HandoffNote{Text: "Note for " + f.Deal.Name, Structured: map[string]string{"deal": f.Deal.Name}}, nil
}

// owners reads the deals' owners.
func (w *handoffWorld) owners(t *testing.T, ids ...string) []*string {
	t.Helper()
	var out []*string
	for _, id := range ids {
		d, err := w.store.DealGet(context.Background(), w.orgID, id)
		require.NoError(t, err)
		out = append(out, d.OwnerID)
	}
	return out
}

func (w *handoffWorld) handoffs(t *testing.T) int {
	t.Helper()
	n := 0
	for _, id := range []string{w.d1, w.d2, w.d3} {
		c, err := w.store.DealHandoffCount(context.Background(), w.orgID, id)
		require.NoError(t, err)
		n += c
	}
	return n
}

func TestDealReassignBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("AllInInputOrder", func(t *testing.T) {
		t.Parallel()
		w := newHandoffWorld(t, testdb.Tx(t))
		in := crm.ReassignBatchInput{OwnerID: w.lee, DealIDs: []string{w.d3, w.d1, w.d2}, Note: "Dana is out."}
		require.NoError(t, in.Validate())
		out, deliveries, err := w.store.DealReassignBatch(ctx, w.orgID, in, w.compose)
		require.NoError(t, err)
		require.Len(t, out, 3)
		for i, want := range []struct{ id, subject, from string }{
			{w.d3, "Deal Pilot reassigned from unassigned to Lee Park", "null"},
			{w.d1, "Deal Renewal reassigned from Dana Lee to Lee Park", `"` + w.dana + `"`},
			{w.d2, "Deal Expansion reassigned from Dana Lee to Lee Park", `"` + w.dana + `"`},
		} {
			require.Equal(t, want.id, out[i].Deal.ID)
			require.Equal(t, w.lee, *out[i].Deal.OwnerID)
			require.Equal(t, want.subject, *out[i].Activity.Subject)
			require.Equal(t, want.id, *out[i].Activity.DealID)
			require.Equal(t, "Dana is out.\n\nNote for "+out[i].Deal.Name, *out[i].Activity.Body)
			require.JSONEq(t, `{"from_owner_id":`+want.from+`,"to_owner_id":"`+w.lee+
				`","handoff":{"deal":"`+out[i].Deal.Name+`"}}`, string(out[i].Activity.Metadata))
		}
		// Composed in input order, each before any deal changed.
		require.Equal(t, []string{w.d3, w.d1, w.d2}, w.composed)
		require.Equal(t, []string{"Acme", "Acme", "Acme"}, w.composeFactsAccounts)
		require.Equal(t, []*string{&w.lee, &w.lee, &w.lee}, w.owners(t, w.d1, w.d2, w.d3))
		require.Equal(t, 3, w.handoffs(t))

		// One activity.created delivery per handoff, for the one webhook.
		require.Len(t, deliveries, 3)
		ids, acts := w.deliveries(t)
		require.ElementsMatch(t, deliveries, ids)
		require.ElementsMatch(t, []string{out[0].Activity.ID, out[1].Activity.ID, out[2].Activity.ID}, acts)
	})

	t.Run("OneBadIDChangesNothing", func(t *testing.T) {
		t.Parallel()
		w := newHandoffWorld(t, testdb.Tx(t))
		unknown := store.NewID()
		for _, tc := range []struct {
			desc   string
			in     crm.ReassignBatchInput
			fields []string
		}{
			{"UnknownDeal", crm.ReassignBatchInput{OwnerID: w.lee, DealIDs: []string{w.d1, unknown, w.d2}}, []string{"deal_ids[1]"}},
			{"AnotherOrgsDeal", crm.ReassignBatchInput{OwnerID: w.lee, DealIDs: []string{w.d1, w.d2, w.otherDeal}}, []string{"deal_ids[2]"}},
			{"AlreadyTheOwners", crm.ReassignBatchInput{OwnerID: w.dana, DealIDs: []string{w.d3, w.d1}}, []string{"deal_ids[1]"}},
			{"Repeated", crm.ReassignBatchInput{OwnerID: w.lee, DealIDs: []string{w.d1, w.d2, w.d1}}, []string{"deal_ids[2]"}},
			{"Several", crm.ReassignBatchInput{OwnerID: w.dana, DealIDs: []string{w.d2, w.d3, unknown}}, []string{"deal_ids[0]", "deal_ids[2]"}},
			{"UnknownOwner", crm.ReassignBatchInput{OwnerID: store.NewID(), DealIDs: []string{w.d1}}, []string{"owner_id"}},
			{"AnotherOrgsOwner", crm.ReassignBatchInput{OwnerID: w.otherOwner, DealIDs: []string{w.d1}}, []string{"owner_id"}},
		} {
			_, _, err := w.store.DealReassignBatch(ctx, w.orgID, tc.in, w.compose)
			var ve *crm.ValidationError
			require.ErrorAs(t, err, &ve, tc.desc)
			var fields []string
			for _, f := range ve.Fields {
				fields = append(fields, f.Field)
			}
			require.Equal(t, tc.fields, fields, tc.desc)
		}
		require.Empty(t, w.composed, "nothing is composed before every deal checks out")

		// A failing composer rolls back the deals changed before it ran.
		w.failCompose = true
		_, _, err := w.store.DealReassignBatch(ctx, w.orgID, crm.ReassignBatchInput{OwnerID: w.lee, DealIDs: []string{w.d1, w.d2}}, w.compose)
		require.ErrorContains(t, err, "compose failed")

		require.Equal(t, []*string{&w.dana, &w.dana, nil}, w.owners(t, w.d1, w.d2, w.d3))
		require.Zero(t, w.handoffs(t))
		ids, _ := w.deliveries(t)
		require.Empty(t, ids)
		d, err := w.store.DealGet(ctx, w.otherOrg, w.otherDeal)
		require.NoError(t, err)
		require.Equal(t, w.otherOwner, *d.OwnerID)
	})
}

// TestDealReassignConcurrent runs reassignments of the same deal at once
// on separate connections: each actual change logs exactly one handoff,
// from the owner it really had.
func TestDealReassignConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newHandoffWorld(t, testdb.Schema(t))
	s := w.store

	// The same target twice: one wins, the other finds it already owned.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				_, _, _, errs[i] = s.DealReassign(ctx, w.orgID, w.d1, crm.ReassignInput{OwnerID: w.lee}, w.composeLocked())
			} else {
				_, _, errs[i] = s.DealReassignBatch(ctx, w.orgID,
					crm.ReassignBatchInput{OwnerID: w.lee, DealIDs: []string{w.d2, w.d1}}, w.composeLocked())
			}
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		require.ErrorIs(t, err, crm.ErrInvalid)
	}
	require.Equal(t, 1, ok, "errors: %v", errs)
	n1, err := s.DealHandoffCount(ctx, w.orgID, w.d1)
	require.NoError(t, err)
	require.Equal(t, 1, n1)

	// Different targets: every one is a change, each from the one before.
	targets := []string{w.dana, w.kim, w.lee, w.kim}
	errs = make([]error, len(targets))
	for i, to := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _, errs[i] = s.DealReassign(ctx, w.orgID, w.d3, crm.ReassignInput{OwnerID: to}, w.composeLocked())
		}()
	}
	wg.Wait()
	changes := 0
	for _, err := range errs {
		if err == nil {
			changes++
		} else {
			require.ErrorIs(t, err, crm.ErrInvalid, "only a target that already owns it is refused")
		}
	}
	rows, err := w.db.Query(ctx, `SELECT metadata->>'from_owner_id', metadata->>'to_owner_id' FROM activities
		WHERE org_id = $1 AND deal_id = $2 ORDER BY occurred_at, id`, w.orgID, w.d3)
	require.NoError(t, err)
	var chain [][2]*string
	for rows.Next() {
		var from, to *string
		require.NoError(t, rows.Scan(&from, &to))
		chain = append(chain, [2]*string{from, to})
	}
	require.NoError(t, rows.Err())
	require.Len(t, chain, changes)
	require.Nil(t, chain[0][0], "the first handoff is from unassigned")
	for i := 1; i < len(chain); i++ {
		require.Equal(t, *chain[i-1][1], *chain[i][0], "each handoff starts where the one before ended")
		require.NotEqual(t, *chain[i][0], *chain[i][1])
	}
	d, err := s.DealGet(ctx, w.orgID, w.d3)
	require.NoError(t, err)
	require.Equal(t, *chain[len(chain)-1][1], *d.OwnerID)
}

// composeLocked is compose for concurrent callers.
func (w *handoffWorld) composeLocked() store.HandoffComposer {
	return func(f store.HandoffFacts) (store.HandoffNote, error) {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.compose(f)
	}
}

// deliveries lists the org's webhook deliveries and the activities they
// announce.
func (w *handoffWorld) deliveries(t *testing.T) (ids, activities []string) {
	t.Helper()
	rows, err := w.db.Query(context.Background(), `SELECT id::text, payload->'data'->>'activity_id' FROM webhook_deliveries
		WHERE org_id = $1 AND webhook_id = $2 AND event = $3`, w.orgID, w.webhook, string(store.EventActivityCreated))
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var id, act string
		require.NoError(t, rows.Scan(&id, &act))
		ids, activities = append(ids, id), append(activities, act)
	}
	require.NoError(t, rows.Err())
	return ids, activities
}
