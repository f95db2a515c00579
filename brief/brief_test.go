package brief

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// testBundle is a store on a test transaction, an org and a clock the test
// moves.
type testBundle struct {
	t     *testing.T
	tx    pgx.Tx
	store *store.Store
	orgID string
	now   time.Time
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	tx := testdb.Tx(t)
	s := store.New(tx)
	org, err := s.OrgCreate(context.Background(), "Org "+t.Name())
	require.NoError(t, err)
	return &testBundle{t: t, tx: tx, store: s, orgID: org.ID, now: time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)}
}

// brief reads the account's brief as of b.now, as the API does, and returns
// it decoded and as written.
func (b *testBundle) brief(accountID string) (AccountBrief, []byte) {
	b.t.Helper()
	kept, err := New(b.store, nil).Account(context.Background(), b.orgID, accountID, b.now)
	require.NoError(b.t, err)
	body, err := json.Marshal(kept)
	require.NoError(b.t, err)
	var ab AccountBrief
	require.NoError(b.t, json.Unmarshal(body, &ab))
	return ab, body
}

// activity logs an activity through the activity service as the API does.
func (b *testBundle) activity(in crm.ActivityInput) string {
	b.t.Helper()
	require.NoError(b.t, in.Validate(true))
	a, _, _, err := activity.New(b.store).Upsert(context.Background(), b.orgID, in)
	require.NoError(b.t, err)
	return a.ID
}

// fixture is an account with an owner, two contacts, two deals (one with
// activity), an email, a call and a processed meeting with risks and action
// items of both sides.
type fixture struct {
	*testBundle
	account, olive, dana, sam string
	renewal, expansion        string
	email, call, meeting      string
	items                     map[string]string // action item text → id
}

func fixtureSetup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{testBundle: setup(t), items: map[string]string{}}
	s := f.store
	userIn := crm.UserInput{Email: crm.Some("olive@seller.test"), Name: crm.Some("Olive Owner"), Role: crm.Some(crm.Role("rep"))}
	require.NoError(t, userIn.Validate(true))
	olive, err := s.UserCreate(ctx, f.orgID, userIn)
	require.NoError(t, err)
	f.olive = olive.ID
	accountIn := crm.AccountInput{Name: crm.Some("Acme"), Domains: crm.Some([]string{"acme.test"}),
		Segment: crm.Some("enterprise"), OwnerID: crm.Some(f.olive)}
	require.NoError(t, accountIn.Validate(true))
	acct, err := s.AccountCreate(ctx, f.orgID, accountIn)
	require.NoError(t, err)
	f.account = acct.ID
	contact := func(in crm.ContactInput) string {
		in.AccountID = crm.Some(f.account)
		require.NoError(t, in.Validate(true))
		c, err := s.ContactCreate(ctx, f.orgID, in)
		require.NoError(t, err)
		return c.ID
	}
	f.dana = contact(crm.ContactInput{Name: crm.Some("Dana Lee"), Email: crm.Some("dana@acme.test"), Title: crm.Some("CFO")})
	f.sam = contact(crm.ContactInput{Name: crm.Some("Sam Ray"), Email: crm.Some("sam@acme.test")})
	deal := func(in crm.DealInput) string {
		in.AccountID = crm.Some(f.account)
		require.NoError(t, in.Validate(true))
		d, err := s.DealCreate(ctx, f.orgID, in)
		require.NoError(t, err)
		return d.ID
	}
	f.renewal = deal(crm.DealInput{Name: crm.Some("Acme renewal"), Stage: crm.Some("Negotiation"),
		Amount: crm.Some(json.Number("120000")), Currency: crm.Some("USD"), CloseDate: crm.Some("2026-04-30"),
		OwnerID: crm.Some(f.olive)})
	f.expansion = deal(crm.DealInput{Name: crm.Some("Acme expansion")})
	f.email = f.activity(crm.ActivityInput{Type: crm.Some(crm.ActivityEmail), Direction: crm.Some(crm.Direction("inbound")),
		AccountID: crm.Some(f.account), DealID: crm.Some(f.renewal), OccurredAt: crm.Some("2026-03-03T09:00:00Z"),
		Subject: crm.Some("Re: pricing"), ContactIDs: crm.Some([]string{f.sam}),
		Participants: crm.Some([]crm.Participant{{Name: "Sam Ray", Email: "sam@acme.test"}})})

	// The meeting a transcript logged, with its processed notes.
	started := time.Date(2026, 3, 8, 15, 0, 0, 0, time.UTC)
	f.meeting = f.activity(crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(f.account),
		OccurredAt: crm.Some(started.Format(time.RFC3339)), Subject: crm.Some("Acme QBR"),
		Participants: crm.Some([]crm.Participant{{Name: "Dana Lee", Email: "dana@acme.test"},
			{Name: "Olive Owner", Email: "olive@seller.test"}})})
	trID := store.NewID()
	_, err = f.tx.Exec(ctx, `INSERT INTO transcripts (org_id, id, activity_id, account_id, source, format, content,
			content_hash, segments, started_at) VALUES ($1, $2, $3, $4, 'zoom', 'text', 'x', '\x00', '[]', $5)`,
		f.orgID, trID, f.meeting, f.account, started)
	require.NoError(t, err)
	ev := []crm.Evidence{{Segment: 0, Speaker: "Dana Lee", Quote: "We need the pricing sheet."}}
	owner := func(s string) *string { return &s }
	due := func(s string) *crm.Date {
		d, err := crm.ParseDate(s)
		require.NoError(t, err)
		return &d
	}
	_, err = s.NotesSave(ctx, f.orgID, trID, 1, crm.Notes{
		Summary: "Quarterly review: pricing is the open question; legal wants the DPA first.",
		Risks: []crm.Point{{Text: "Legal review may delay signature past quarter end.", Evidence: ev},
			{Text: "Budget owner changes in April.", Evidence: ev}},
		ActionItems: []crm.ActionItem{
			{Text: "Send the pricing sheet", Owner: owner("Olive Owner"), DueDate: due("2026-03-06"), Evidence: ev},
			{Text: "Share the security questionnaire", Owner: owner("Dana Lee"), Evidence: ev},
			{Text: "Draft the SOW", Evidence: ev, Tentative: true},
		},
		Coverage: 1, Model: "test", PromptVersion: "test"}, nil)
	require.NoError(t, err)
	items, err := s.ActionItemList(ctx, f.orgID, store.ActionItemFilter{AccountID: f.account})
	require.NoError(t, err)
	for _, it := range items.Items {
		f.items[it.Text] = it.ID
	}
	require.Len(t, f.items, 3)

	f.call = f.activity(crm.ActivityInput{Type: crm.Some(crm.ActivityCall), Direction: crm.Some(crm.Direction("outbound")),
		AccountID: crm.Some(f.account), ContactIDs: crm.Some([]string{f.dana}), OccurredAt: crm.Some("2026-03-09T10:00:00Z")})
	return f
}

func TestAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("CachedUntilActivityArrives", func(t *testing.T) {
		t.Parallel()
		f := fixtureSetup(t)
		built := f.now
		first, body := f.brief(f.account)
		require.Equal(t, built, first.GeneratedAt)

		// Nothing changed: the kept brief, byte for byte.
		f.now = f.now.Add(time.Hour)
		again, body2 := f.brief(f.account)
		require.Equal(t, built, again.GeneratedAt)
		require.JSONEq(t, string(body), string(body2))

		// A new activity refreshes it.
		f.now = f.now.Add(time.Hour)
		note := f.activity(crm.ActivityInput{Type: crm.Some(crm.ActivityNote), AccountID: crm.Some(f.account),
			OccurredAt: crm.Some("2026-03-10T08:00:00Z"), Body: crm.Some("Dana asked for a call.")})
		fresh, _ := f.brief(f.account)
		require.Equal(t, f.now, fresh.GeneratedAt)
		require.Equal(t, time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC), *fresh.LastActivityAt)
		require.Contains(t, fresh.Brief.Headline, "last touch 2026-03-10 (note)")
		require.Equal(t, []string{note, f.email}, fresh.Brief.Sections[0].Statements[0].ActivityIDs)

		// So does an action item's status change.
		f.now = f.now.Add(time.Hour)
		_, err := f.store.ActionItemSetStatus(ctx, f.orgID, f.items["Send the pricing sheet"], crm.ActionDone)
		require.NoError(t, err)
		done, _ := f.brief(f.account)
		require.Equal(t, f.now, done.GeneratedAt)
		require.Len(t, done.OpenActionItems, 2)
		require.Contains(t, done.Brief.Headline, "2 open commitments;")
		for _, it := range done.OpenActionItems {
			require.NotEqual(t, "Send the pricing sheet", it.Text)
		}

		// And a deal's stage.
		f.now = f.now.Add(time.Hour)
		stage := crm.DealInput{Stage: crm.Some("Contracting")}
		require.NoError(t, stage.Validate(false))
		_, err = f.store.DealUpdate(ctx, f.orgID, f.renewal, stage)
		require.NoError(t, err)
		staged, _ := f.brief(f.account)
		require.Equal(t, f.now, staged.GeneratedAt)
		require.Equal(t, "Contracting", *staged.Deals[0].Stage)

		// Unchanged again: kept.
		kept := staged.GeneratedAt
		f.now = f.now.Add(time.Hour)
		same, _ := f.brief(f.account)
		require.Equal(t, kept, same.GeneratedAt)

		// A new day rebuilds it (what is overdue moves with the date).
		f.now = f.now.Add(24 * time.Hour)
		nextDay, _ := f.brief(f.account)
		require.Equal(t, f.now, nextDay.GeneratedAt)
	})

	t.Run("EveryStatementCitesTheAccountsActivity", func(t *testing.T) {
		t.Parallel()
		f := fixtureSetup(t)
		ab, _ := f.brief(f.account)

		require.Equal(t, "Acme: 2 open deals; 3 open commitments (1 overdue); 2 risks in 90 days; "+
			"last touch 2026-03-09 (outbound call).", ab.Brief.Headline)
		var titles []string
		for _, s := range ab.Brief.Sections {
			titles = append(titles, s.Title)
			require.Zero(t, s.More, "nothing is capped in %s", s.Title)
		}
		require.Equal(t, []string{"The account", "Deals", "Open commitments", "Risks raised", "Last touch per contact",
			"Recent meetings"}, titles)

		// Each citation is an activity of this account, fetched as such.
		checked := map[string]bool{}
		for _, s := range ab.Brief.Sections {
			for _, st := range s.Statements {
				if strings.Contains(st.Text, "no activity logged on it") {
					require.Empty(t, st.ActivityIDs, st.Text)
					continue
				}
				require.NotEmpty(t, st.ActivityIDs, "%s: %q cites nothing", s.Title, st.Text)
				for _, id := range st.ActivityIDs {
					if checked[id] {
						continue
					}
					a, err := f.store.ActivityGet(ctx, f.orgID, id)
					require.NoError(t, err)
					require.Equal(t, f.account, a.AccountID)
					checked[id] = true
				}
			}
		}
		texts := func(title string) []BriefStatement {
			for _, s := range ab.Brief.Sections {
				if s.Title == title {
					return s.Statements
				}
			}
			return nil
		}
		require.Equal(t, []BriefStatement{{
			Text: "Acme (enterprise; acme.test), owned by Olive Owner: 3 activities since 2026-03-03; latest: " +
				"outbound call on 2026-03-09.", ActivityIDs: []string{f.call, f.email}}}, texts("The account"))
		require.Equal(t, []BriefStatement{
			{Text: "Acme renewal: open, stage Negotiation, USD 120,000, closing 2026-04-30, owner Olive Owner; last activity: " +
				"inbound email on 2026-03-03.", ActivityIDs: []string{f.email}},
			{Text: "Acme expansion: open; no activity logged on it.", ActivityIDs: []string{}},
		}, texts("Deals"))
		require.Equal(t, []BriefStatement{
			{Text: "Ours — Olive Owner: Send the pricing sheet; due 2026-03-06, overdue.", ActivityIDs: []string{f.meeting}},
			{Text: "Theirs — Dana Lee: Share the security questionnaire; no due date.", ActivityIDs: []string{f.meeting}},
			{Text: "No owner named: Draft the SOW (tentative); no due date.", ActivityIDs: []string{f.meeting}},
		}, texts("Open commitments"))
		require.Equal(t, []BriefStatement{
			{Text: "Legal review may delay signature past quarter end — meeting on 2026-03-08.", ActivityIDs: []string{f.meeting}},
			{Text: "Budget owner changes in April — meeting on 2026-03-08.", ActivityIDs: []string{f.meeting}},
		}, texts("Risks raised"))
		require.Equal(t, []BriefStatement{
			{Text: "Dana Lee (CFO): outbound call on 2026-03-09.", ActivityIDs: []string{f.call}},
			{Text: "Sam Ray: inbound email on 2026-03-03.", ActivityIDs: []string{f.email}},
		}, texts("Last touch per contact"))
		require.Equal(t, []BriefStatement{
			{Text: "2026-03-08 “Acme QBR”: Quarterly review: pricing is the open question; legal wants the DPA first.",
				ActivityIDs: []string{f.meeting}},
		}, texts("Recent meetings"))

		// The structured facts.
		require.Equal(t, time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC), *ab.LastActivityAt)
		require.Equal(t, f.now, ab.GeneratedAt)
		require.Len(t, ab.Deals, 2)
		require.Equal(t, f.renewal, ab.Deals[0].ID)
		require.Equal(t, crm.Decimal("120000"), *ab.Deals[0].Amount)
		require.Equal(t, "Olive Owner", *ab.Deals[0].OwnerName)
		require.Equal(t, f.email, *ab.Deals[0].LastActivityID)
		require.Equal(t, f.expansion, ab.Deals[1].ID)
		require.Nil(t, ab.Deals[1].LastActivityID)
		sides := map[string]store.BriefSide{}
		for _, it := range ab.OpenActionItems {
			sides[it.Text] = it.Side
			require.Equal(t, f.meeting, it.ActivityID)
			require.Equal(t, "Acme QBR", *it.MeetingSubject)
			require.NotEmpty(t, it.Evidence)
			require.Equal(t, it.Text == "Send the pricing sheet", it.Overdue)
		}
		require.Equal(t, map[string]store.BriefSide{"Send the pricing sheet": store.BriefOurs,
			"Share the security questionnaire": store.BriefTheirs, "Draft the SOW": store.BriefUnknown}, sides)
	})

	t.Run("NotTheOrgsAccount", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, err := New(b.store, nil).Account(ctx, b.orgID, store.NewID(), b.now)
		require.ErrorIs(t, err, crm.ErrNotFound)
	})
}
