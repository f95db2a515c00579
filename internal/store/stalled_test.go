package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
)

func stalledIDs(p store.StalledPage) []string {
	ids := []string{}
	for _, it := range p.Items {
		ids = append(ids, it.Deal.ID)
	}
	return ids
}

// stalledFixture is the stalled-deals fixture: with now 2026-03-10 12:00
// UTC and 14 days (the default setting), the cutoff is 2026-02-24 12:00.
type stalledFixture struct {
	*opsBundle
	// Stalled, in list order: bigDeal (12000.5, no activity, created
	// 2026-02-01: 37 days), handed (5000, last counting activity
	// 2026-01-10 12:00: 59 days; a handoff since), edge (5000, activity
	// exactly at the cutoff: 14 days), bare (no amount, created
	// 2026-01-01 12:00: 68 days).
	bigDeal, handed, edge, bare string
	// Fresh: onDeal, onAccount, onContact, young, justIn.
	onDeal, onAccount, onContact, young, justIn string
	handedLast                                  string // the activity handed's last_activity is
}

func newStalledFixture(t *testing.T) *stalledFixture {
	b := opsSetup(t)
	f := &stalledFixture{opsBundle: b}
	ctx := context.Background()
	at := func(y int, m time.Month, d, h, min, s int) time.Time {
		return time.Date(y, m, d, h, min, s, 0, time.UTC)
	}
	old := at(2025, 12, 1, 0, 0, 0)

	// An activity on the deal keeps it fresh (its account has nothing else).
	a1 := b.account(b.org, "A1 deal touch", "")
	f.onDeal = b.deal(b.org, a1, "On deal", "100", b.olive, old)
	in := note(a1, at(2026, 3, 5, 9, 0, 0), "", "", "")
	in.DealID = crm.Some(f.onDeal)
	b.log(b.org, in)

	// An activity on the account keeps it fresh.
	a2 := b.account(b.org, "A2 account touch", "")
	f.onAccount = b.deal(b.org, a2, "On account", "100", b.olive, old)
	b.log(b.org, note(a2, at(2026, 3, 1, 9, 0, 0), "", "", ""))
	b.log(b.org, note(a2, at(2025, 12, 1, 9, 0, 0), "", "", ""))

	// An activity of another account, linked to a contact that then moved
	// to A3, keeps A3's deal fresh.
	a3 := b.account(b.org, "A3 contact touch", "")
	a3x := b.account(b.org, "A3x elsewhere", "")
	c := b.contact(b.org, a3x, "Casey Moved")
	f.onContact = b.deal(b.org, a3, "On contact", "100", b.olive, old)
	in = note(a3x, at(2026, 3, 8, 9, 0, 0), "", "", "")
	in.ContactIDs = crm.Some([]string{c})
	b.log(b.org, in)
	_, err := b.store.ContactUpdate(ctx, b.org, c, crm.ContactInput{AccountID: crm.Some(a3)})
	require.NoError(t, err)

	// A handoff does not count: the deal's last counting activity is older.
	a4 := b.account(b.org, "A4 handed", "")
	f.handed = b.deal(b.org, a4, "Handed", "5000", b.olive, old)
	f.handedLast = b.log(b.org, note(a4, at(2026, 1, 10, 12, 0, 0), "", "", "")).ID
	b.log(b.org, note(a4, at(2026, 1, 9, 12, 0, 0), "", "", ""))
	_, _, _, err = b.store.DealReassign(ctx, b.org, f.handed, crm.ReassignInput{OwnerID: b.ben, Note: "over to Ben"}, nil)
	require.NoError(t, err)

	// No activity at all: stalled when created long enough ago; won and
	// lost deals never are.
	a5 := b.account(b.org, "A5 quiet", "")
	f.bare = b.deal(b.org, a5, "Bare", "", b.olive, at(2026, 1, 1, 12, 0, 0))
	f.bigDeal = b.deal(b.org, a5, "Big", "12000.5", b.olive, at(2026, 2, 1, 12, 0, 0))
	f.young = b.deal(b.org, a5, "Young", "99999", b.olive, at(2026, 3, 1, 12, 0, 0))
	for _, st := range []crm.DealStatus{crm.DealWon, crm.DealLost} {
		id := b.deal(b.org, a5, string(st), "777777", b.olive, old)
		_, err := b.store.DealUpdate(ctx, b.org, id, crm.DealInput{Status: crm.Some(st)})
		require.NoError(t, err)
	}

	// The boundary: an activity exactly at the cutoff is stalled, one a
	// second later is not.
	a7 := b.account(b.org, "A7 edge", "")
	f.edge = b.deal(b.org, a7, "Edge", "5000", b.olive, old)
	b.log(b.org, note(a7, at(2026, 2, 24, 12, 0, 0), "", "", ""))
	a8 := b.account(b.org, "A8 just in", "")
	f.justIn = b.deal(b.org, a8, "Just in", "5000", b.olive, old)
	b.log(b.org, note(a8, at(2026, 2, 24, 12, 0, 1), "", "", ""))

	// Another org's stalled deal is never shown.
	ox := b.account(b.other, "Other", "")
	b.deal(b.other, ox, "Theirs", "1000000", "", old)
	return f
}

func TestStalledDeals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("WhatCountsAndTheOrder", func(t *testing.T) {
		t.Parallel()
		f := newStalledFixture(t)
		p, err := f.store.StalledDealList(ctx, f.org, store.StalledFilter{})
		require.NoError(t, err)
		require.Equal(t, 14, p.Days, "the org's stalled_after_days")
		require.Equal(t, []string{f.bigDeal, f.handed, f.edge, f.bare}, stalledIDs(p))
		require.Nil(t, p.NextCursor)

		big, handed, edge, bare := p.Items[0], p.Items[1], p.Items[2], p.Items[3]
		require.Equal(t, "12000.5", string(*big.Deal.Amount))
		require.Equal(t, "USD", *big.Deal.Currency)
		require.Equal(t, crm.DealOpen, big.Deal.Status)
		require.Equal(t, "A5 quiet", big.Account.Name)
		require.Equal(t, "Olive Owner", *big.OwnerName)
		require.Nil(t, big.LastActivity)
		require.Equal(t, 37, big.DaysInactive)

		require.NotNil(t, handed.LastActivity)
		require.Equal(t, f.handedLast, handed.LastActivity.ID, "the handoff does not count")
		require.Equal(t, crm.ActivityNote, handed.LastActivity.Type)
		require.Equal(t, 59, handed.DaysInactive)
		require.Equal(t, f.ben, *handed.Deal.OwnerID)
		require.Equal(t, "Ben Bell", *handed.OwnerName)

		require.Equal(t, 14, edge.DaysInactive)
		require.Nil(t, bare.Deal.Amount)
		require.Equal(t, 68, bare.DaysInactive)
	})

	t.Run("PagesOwnerAndDays", func(t *testing.T) {
		t.Parallel()
		f := newStalledFixture(t)
		var walked []string
		cursor := ""
		for range 6 {
			p, err := f.store.StalledDealList(ctx, f.org, store.StalledFilter{Limit: 1, Cursor: cursor})
			require.NoError(t, err)
			walked = append(walked, stalledIDs(p)...)
			if p.NextCursor == nil {
				break
			}
			cursor = *p.NextCursor
		}
		require.Equal(t, []string{f.bigDeal, f.handed, f.edge, f.bare}, walked)

		p, err := f.store.StalledDealList(ctx, f.org, store.StalledFilter{OwnerID: f.ben})
		require.NoError(t, err)
		require.Equal(t, []string{f.handed}, stalledIDs(p))

		p, err = f.store.StalledDealList(ctx, f.org, store.StalledFilter{Days: 60})
		require.NoError(t, err)
		require.Equal(t, []string{f.bare}, stalledIDs(p))
		require.Equal(t, 60, p.Days)

		// The default follows the setting.
		_, err = f.store.SettingsUpdate(ctx, f.org, crm.SettingsInput{StalledAfterDays: crm.Some(30)})
		require.NoError(t, err)
		p, err = f.store.StalledDealList(ctx, f.org, store.StalledFilter{})
		require.NoError(t, err)
		require.Equal(t, 30, p.Days)
		require.Equal(t, []string{f.bigDeal, f.handed, f.bare}, stalledIDs(p))

		// A day is enough for the deals touched this week to stay fresh.
		p, err = f.store.StalledDealList(ctx, f.org, store.StalledFilter{Days: 3})
		require.NoError(t, err)
		require.NotContains(t, stalledIDs(p), f.onContact)
		require.Contains(t, stalledIDs(p), f.onDeal, "touched 5 days ago")

		_, err = f.store.StalledDealList(ctx, f.org, store.StalledFilter{Cursor: "bm9wZQ"})
		require.ErrorIs(t, err, crm.ErrInvalid)

		p, err = f.store.StalledDealList(ctx, f.other, store.StalledFilter{})
		require.NoError(t, err)
		require.Len(t, p.Items, 1)
		require.Equal(t, "Theirs", p.Items[0].Deal.Name)
	})
}

// TestStalledDealsPlan loads an org with many deals, contacts and
// activities and checks the plan of the stalled-deals query: every way an
// activity counts is an index scan per deal (never a scan of the org's
// activities), and it answers in time.
func TestStalledDealsPlan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := opsSetup(t)
	// 1,000 accounts, 3 contacts and 2 open deals each (one of 5 deals
	// won), 100 activities each (every 3rd linked to a contact, every 7th
	// on a deal, every 50th a handoff), over two years.
	_, err := b.tx.Exec(ctx, `
		INSERT INTO accounts (org_id, id, name) SELECT $1, gen_random_uuid(), 'acct ' || g FROM generate_series(1, 1000) g;
		`, b.org)
	require.NoError(t, err)
	for _, q := range []string{
		`INSERT INTO contacts (org_id, id, account_id, name)
		 SELECT a.org_id, gen_random_uuid(), a.id, 'c' || g FROM accounts a, generate_series(1, 3) g WHERE a.org_id = $1`,
		`INSERT INTO deals (org_id, id, account_id, name, amount, status, created_at)
		 SELECT a.org_id, gen_random_uuid(), a.id, 'd' || g, (random() * 100000)::numeric(20, 4),
		        CASE WHEN random() < 0.2 THEN 'won' ELSE 'open' END, '2024-01-01'
		 FROM accounts a, generate_series(1, 2) g WHERE a.org_id = $1`,
		`INSERT INTO activities (org_id, id, type, account_id, deal_id, occurred_at, source)
		 SELECT a.org_id, gen_random_uuid(), CASE WHEN g % 50 = 0 THEN 'handoff' ELSE 'note' END, a.id,
		        CASE WHEN g % 7 = 0 THEN (SELECT d.id FROM deals d WHERE d.org_id = a.org_id AND d.account_id = a.id LIMIT 1) END,
		        timestamptz '2026-03-10' - (random() * 730 || ' days')::interval, 'api'
		 FROM accounts a, generate_series(1, 100) g WHERE a.org_id = $1`,
		`INSERT INTO activity_contacts (org_id, activity_id, contact_id)
		 SELECT x.org_id, x.id, (SELECT c.id FROM contacts c WHERE c.org_id = x.org_id AND c.account_id = x.account_id LIMIT 1)
		 FROM activities x WHERE x.org_id = $1 AND random() < 0.33`,
	} {
		_, err := b.tx.Exec(ctx, q, b.org)
		require.NoError(t, err)
	}
	for _, tbl := range []string{"accounts", "contacts", "deals", "activities", "activity_contacts"} {
		_, err := b.tx.Exec(ctx, `ANALYZE `+tbl)
		require.NoError(t, err)
	}
	q, args, err := store.StalledSQL(b.org, 14, opsNow)
	require.NoError(t, err)
	var plan []map[string]any
	require.NoError(t, b.tx.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+q, args...).Scan(&plan))
	var scans []string
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		if rel, _ := n["Relation Name"].(string); rel == "activities" || rel == "activity_contacts" {
			require.NotEqual(t, "Seq Scan", n["Node Type"], "%s is never scanned whole: %v", rel, plan)
			scans = append(scans, n["Node Type"].(string)+" "+rel+" "+asString(n["Index Name"]))
		}
		for _, c := range asSlice(n["Plans"]) {
			walk(c.(map[string]any))
		}
	}
	walk(plan[0]["Plan"].(map[string]any))
	t.Logf("scans: %v", scans)
	require.Contains(t, scans, "Index Scan activities activities_timeline_idx")

	start := time.Now()
	p, err := b.store.StalledDealList(ctx, b.org, store.StalledFilter{Now: opsNow})
	require.NoError(t, err)
	t.Logf("stalled deals of 1,000 accounts, ~1,600 open deals, 100,000 activities: %d on the first page in %v", len(p.Items), time.Since(start))

	// The digest's first page over the same org (every account has
	// something to say), and a week for one owner.
	start = time.Now()
	d, err := b.store.DigestFacts(ctx, b.org, store.DigestFilter{Since: opsNow.AddDate(0, 0, -7), Until: opsNow, Now: opsNow})
	require.NoError(t, err)
	require.Len(t, d.Accounts, store.DefaultLimit)
	t.Logf("digest, first page of %d accounts: %v", len(d.Accounts), time.Since(start))
	start = time.Now()
	_, err = b.store.DigestFacts(ctx, b.org, store.DigestFilter{OwnerID: b.olive, Since: opsNow.AddDate(0, 0, -7), Until: opsNow, Now: opsNow})
	require.NoError(t, err)
	t.Logf("digest for an owner of nothing: %v", time.Since(start))
	for _, owner := range []string{"", b.olive} {
		q, args, err := store.DigestAccountsSQL(b.org, store.DigestFilter{OwnerID: owner, Since: opsNow.AddDate(0, 0, -7), Until: opsNow},
			14, opsNow, "2026-03-17")
		require.NoError(t, err)
		var plan []map[string]any
		require.NoError(t, b.tx.QueryRow(ctx, `EXPLAIN (FORMAT JSON) `+q, args...).Scan(&plan))
		var walk func(n map[string]any)
		walk = func(n map[string]any) {
			if rel, _ := n["Relation Name"].(string); rel == "activities" || rel == "activity_contacts" || rel == "deals" {
				require.NotEqual(t, "Seq Scan", n["Node Type"], "the digest's accounts never scan %s whole: %v", rel, plan)
			}
			for _, c := range asSlice(n["Plans"]) {
				walk(c.(map[string]any))
			}
		}
		walk(plan[0]["Plan"].(map[string]any))
	}
	if testing.Verbose() {
		for _, owner := range []string{"", b.olive} {
			q, args, err := store.DigestAccountsSQL(b.org, store.DigestFilter{OwnerID: owner, Since: opsNow.AddDate(0, 0, -7), Until: opsNow},
				14, opsNow, "2026-03-17")
			require.NoError(t, err)
			rows, err := b.tx.Query(ctx, `EXPLAIN (ANALYZE, COSTS OFF) `+q, args...)
			require.NoError(t, err)
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			require.NoError(t, err)
			t.Logf("digest accounts (owner %q):\n%s", owner, strings.Join(lines, "\n"))
		}
	}
}

func asString(v any) string {
	s, _ := v.(string)
	return s
}
