package store_test

import (
	"context"
	"encoding/json"
	"logbook/activity"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

func TestAccountBrief(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	today := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

	type testBundle struct {
		tx        pgx.Tx
		store     *store.Store
		orgID     string
		other     string // a second org
		accountID string
		olive     crm.User // the account owner, a user of orgID
		dana, sam string   // contacts of the account
	}

	setup := func(t *testing.T) *testBundle {
		t.Helper()
		tx := testdb.Tx(t)
		s := store.New(tx)
		org, err := s.OrgCreate(ctx, "Org A")
		require.NoError(t, err)
		other, err := s.OrgCreate(ctx, "Org B")
		require.NoError(t, err)
		olive, err := s.UserCreate(ctx, org.ID, crm.UserInput{Email: crm.Some("olive@seller.test"), Name: crm.Some("Olive Owner")})
		require.NoError(t, err)
		a, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Acme"), Segment: crm.Some("enterprise"),
			Domains: crm.Some([]string{"acme.test"}), OwnerID: crm.Some(olive.ID)})
		require.NoError(t, err)
		contact := func(name, email, title string) string {
			c, err := s.ContactCreate(ctx, org.ID, crm.ContactInput{AccountID: crm.Some(a.ID), Name: crm.Some(name),
				Email: crm.Some(email), Title: crm.Some(title)})
			require.NoError(t, err)
			return c.ID
		}
		return &testBundle{tx: tx, store: s, orgID: org.ID, other: other.ID, accountID: a.ID, olive: olive,
			dana: contact("Dana Lee", "dana@acme.test", "CFO"), sam: contact("Sam Ray", "sam@acme.test", "IT lead")}
	}

	// activity logs an activity of the bundle's account.
	activity := func(t *testing.T, b *testBundle, in crm.ActivityInput) crm.Activity {
		t.Helper()
		in.AccountID = crm.Some(b.accountID)
		require.NoError(t, in.Validate(true))
		a, _, _, err := activity.New(b.store).Upsert(ctx, b.orgID, in)
		require.NoError(t, err)
		return a
	}

	// meeting logs a meeting with participants and saves its notes through
	// the pipeline's NotesSave.
	meeting := func(t *testing.T, b *testBundle, at time.Time, subject string, ps []crm.Participant, n crm.Notes) crm.Activity {
		t.Helper()
		m := activity(t, b, crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), OccurredAt: crm.Some(at.Format(time.RFC3339)),
			Subject: crm.Some(subject), Participants: crm.Some(ps)})
		trID := store.NewID()
		_, err := b.tx.Exec(ctx, `INSERT INTO transcripts (org_id, id, activity_id, account_id, source, format, content,
				content_hash, segments, started_at) VALUES ($1, $2, $3, $4, 'zoom', 'text', 'x', '\x00', '[]', $5)`,
			b.orgID, trID, m.ID, b.accountID, at)
		require.NoError(t, err)
		n.Coverage, n.Model, n.PromptVersion = 1, "m", "v"
		_, err = b.store.NotesSave(ctx, b.orgID, trID, 1, n, nil)
		require.NoError(t, err)
		return m
	}

	ev := []crm.Evidence{{Segment: 0, Speaker: "Dana Lee", Quote: "quote"}}
	item := func(text, owner, due string) crm.ActionItem {
		it := crm.ActionItem{Text: text, Evidence: ev}
		if owner != "" {
			it.Owner = &owner
		}
		if due != "" {
			d, err := crm.ParseDate(due)
			if err != nil {
				panic(err)
			}
			it.DueDate = &d
		}
		return it
	}

	t.Run("FactsComeFromSQL", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s := b.store

		// Deals: open with a close date, open undated, and a won one.
		deal := func(name, status, closeDate string) crm.Deal {
			in := crm.DealInput{AccountID: crm.Some(b.accountID), Name: crm.Some(name), Status: crm.Some(crm.DealStatus(status)),
				OwnerID: crm.Some(b.olive.ID), Amount: crm.Some(json.Number("120000.50")), Currency: crm.Some("USD")}
			if closeDate != "" {
				in.CloseDate = crm.Some(closeDate)
			}
			require.NoError(t, in.Validate(true))
			d, err := s.DealCreate(ctx, b.orgID, in)
			require.NoError(t, err)
			return d
		}
		undated := deal("Expansion", "open", "")
		won := deal("Pilot", "won", "2025-12-01")
		renewal := deal("Renewal", "open", "2026-04-30")

		day := func(d int) time.Time { return time.Date(2026, 3, d, 15, 0, 0, 0, time.UTC) }
		first := activity(t, b, crm.ActivityInput{Type: crm.Some(crm.ActivityNote), OccurredAt: crm.Some(day(1).Format(time.RFC3339))})
		onRenewal := activity(t, b, crm.ActivityInput{Type: crm.Some(crm.ActivityEmail), Direction: crm.Some(crm.DirectionInbound),
			OccurredAt: crm.Some(day(3).Format(time.RFC3339)), Subject: crm.Some("Re: pricing"),
			DealID: crm.Some(renewal.ID), ContactIDs: crm.Some([]string{b.sam})})
		ps := []crm.Participant{
			{Name: "Dana Lee", Email: "dana@acme.test"},
			{Name: "Chris Ng", Email: "chris@acme.test"},   // at the account's domain, not a contact
			{Name: "Pat Vendor", Email: "pat@seller.test"}, // at a user's domain, not a user
			{Name: "Guest", Email: "guest@elsewhere.test"},
			{Name: "Olive", Email: "olive@seller.test"}, // a user's email under another name
		}
		older := meeting(t, b, day(5), "Kickoff", ps[:1], crm.Notes{Summary: "Kickoff.",
			Risks: []crm.Point{{Text: "Budget freeze until Q3", Evidence: ev}}})
		m := meeting(t, b, day(8), "Acme QBR", ps, crm.Notes{Summary: "Quarterly review.",
			Risks: []crm.Point{{Text: "Legal review may slip", Evidence: ev}},
			ActionItems: []crm.ActionItem{
				item("Send the pricing sheet", "olive owner", "2026-03-06"), // a user's name: ours, overdue
				item("Share the questionnaire", "Dana Lee", "2026-03-20"),   // a contact: theirs
				item("Loop in security", "Chris Ng", ""),                    // participant at acme.test: theirs
				item("Book the review", "Pat Vendor", "2026-03-12"),         // participant at seller.test: ours
				item("Ask around", "Guest", ""),                             // participant elsewhere: unknown
				item("Draft the SOW", "", "2026-03-25"),                     // no owner: unknown
				item("Send the deck", "Olive", ""),                          // participant with a user's email: ours
			}})
		// Linked to Dana by contact_ids, and the newest activity.
		last := activity(t, b, crm.ActivityInput{Type: crm.Some(crm.ActivityCall), Direction: crm.Some(crm.DirectionOutbound),
			Disposition: crm.Some("connected"), OccurredAt: crm.Some(day(9).Format(time.RFC3339)),
			ContactIDs: crm.Some([]string{b.dana})})

		f, err := s.AccountBriefFacts(ctx, b.orgID, b.accountID, store.BriefOptions{Today: today})
		require.NoError(t, err)

		require.Equal(t, "Acme", f.Account.Name)
		require.Equal(t, []string{"acme.test"}, f.Account.Domains)
		require.Equal(t, "Olive Owner", *f.OwnerName)
		require.Equal(t, 5, f.Activities)
		require.Equal(t, 2, f.Contacts)
		require.Equal(t, first.ID, f.First.ID)
		require.Equal(t, last.ID, f.Last.ID)
		require.Equal(t, crm.ActivityCall, f.Last.Type)
		require.Equal(t, crm.DirectionOutbound, *f.Last.Direction)

		// Deals: open by close date (undated last), then closed.
		require.Equal(t, 3, f.DealsTotal)
		require.Equal(t, 2, f.DealsOpen)
		var names []string
		for _, d := range f.Deals {
			names = append(names, d.Deal.Name)
			require.Equal(t, "Olive Owner", *d.OwnerName)
		}
		require.Equal(t, []string{renewal.Name, undated.Name, won.Name}, names)
		require.Equal(t, crm.Decimal("120000.5"), *f.Deals[0].Deal.Amount)
		require.Equal(t, onRenewal.ID, f.Deals[0].Last.ID, "a deal cites its latest activity")
		require.Nil(t, f.Deals[1].Last, "no activity is logged on the undated deal")

		// Open action items: soonest due first (undated last), sides by the rule.
		require.Equal(t, 7, f.OpenTotal)
		require.Equal(t, 1, f.OpenOverdue)
		got := map[string]store.BriefSide{}
		var order []string
		for _, it := range f.OpenActionItems {
			got[it.Item.Text] = it.Side
			order = append(order, it.Item.Text)
			require.Equal(t, m.ID, it.Meeting.ID)
			require.Equal(t, "Acme QBR", *it.Meeting.Subject)
			require.NotEmpty(t, it.Item.Evidence)
		}
		require.Equal(t, map[string]store.BriefSide{
			"Send the pricing sheet":  store.BriefOurs,
			"Share the questionnaire": store.BriefTheirs,
			"Loop in security":        store.BriefTheirs,
			"Book the review":         store.BriefOurs,
			"Ask around":              store.BriefUnknown,
			"Draft the SOW":           store.BriefUnknown,
			"Send the deck":           store.BriefOurs,
		}, got)
		require.Equal(t, []string{"Send the pricing sheet", "Book the review", "Share the questionnaire", "Draft the SOW"}, order[:4])

		// Meetings newest first, with their risks.
		require.Len(t, f.Meetings, 2)
		require.Equal(t, m.ID, f.Meetings[0].Meeting.ID)
		require.Equal(t, "Legal review may slip", f.Meetings[0].Risks[0].Text)
		require.Equal(t, older.ID, f.Meetings[1].Meeting.ID)

		// Touches: Dana (the call) before Sam (the email).
		require.Equal(t, 2, f.TouchedTotal)
		require.Len(t, f.Touches, 2)
		require.Equal(t, b.dana, f.Touches[0].ContactID)
		require.Equal(t, last.ID, f.Touches[0].Last.ID)
		require.Equal(t, "CFO", *f.Touches[0].Title)
		require.Equal(t, b.sam, f.Touches[1].ContactID)
		require.Equal(t, onRenewal.ID, f.Touches[1].Last.ID)

		// Limits cut the lists, not the totals.
		f, err = s.AccountBriefFacts(ctx, b.orgID, b.accountID, store.BriefOptions{Today: today, Deals: 1, ActionItems: 2, Meetings: 1, Touches: 1})
		require.NoError(t, err)
		require.Len(t, f.Deals, 1)
		require.Equal(t, 3, f.DealsTotal)
		require.Len(t, f.OpenActionItems, 2)
		require.Equal(t, 7, f.OpenTotal)
		require.Len(t, f.Meetings, 1)
		require.Len(t, f.Touches, 1)
		require.Equal(t, 2, f.TouchedTotal)
	})

	t.Run("EmptyAccount", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		f, err := b.store.AccountBriefFacts(ctx, b.orgID, b.accountID, store.BriefOptions{})
		require.NoError(t, err)
		require.Zero(t, f.Activities)
		require.Nil(t, f.First)
		require.Nil(t, f.Last)
		require.Empty(t, f.Deals)
		require.Empty(t, f.OpenActionItems)
		require.Empty(t, f.Meetings)
		require.Empty(t, f.Touches)
		require.Zero(t, f.TouchedTotal)
	})

	t.Run("AnotherOrgsAccountIsNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		_, _, err := b.store.AccountBriefState(ctx, b.other, b.accountID, today)
		require.ErrorIs(t, err, crm.ErrNotFound)
		_, err = b.store.AccountBriefFacts(ctx, b.other, b.accountID, store.BriefOptions{})
		require.ErrorIs(t, err, crm.ErrNotFound)
		// Saving for another org's account keeps nothing for anyone.
		require.NoError(t, b.store.AccountBriefSave(ctx, b.other, b.accountID, store.AccountBrief{
			Brief: json.RawMessage(`{}`), Fingerprint: "x", GeneratedAt: today}))
		_, kept, err := b.store.AccountBriefState(ctx, b.orgID, b.accountID, today)
		require.NoError(t, err)
		require.Nil(t, kept)
	})

	t.Run("FingerprintMovesWithWhatTheBriefReads", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		s := b.store
		state := func(day time.Time) (string, *store.AccountBrief) {
			t.Helper()
			fp, kept, err := s.AccountBriefState(ctx, b.orgID, b.accountID, day)
			require.NoError(t, err)
			require.Len(t, fp, 32)
			return fp, kept
		}
		fp, kept := state(today)
		require.Nil(t, kept, "nothing kept yet")
		again, _ := state(today)
		require.Equal(t, fp, again, "nothing changed, same fingerprint")
		tomorrow, _ := state(today.Add(24 * time.Hour))
		require.NotEqual(t, fp, tomorrow, "the date is part of it")

		// Keep a brief and read it back as stored.
		last := today.Add(-time.Hour).Truncate(time.Microsecond)
		require.NoError(t, s.AccountBriefSave(ctx, b.orgID, b.accountID, store.AccountBrief{
			Brief: json.RawMessage(`{"headline":"Acme"}`), OpenActionItems: json.RawMessage(`[{"id":"1"}]`),
			LastActivityAt: &last, Fingerprint: fp, GeneratedAt: today}))
		cur, kept := state(today)
		require.Equal(t, fp, cur)
		require.NotNil(t, kept)
		require.Equal(t, fp, kept.Fingerprint)
		require.JSONEq(t, `{"headline":"Acme"}`, string(kept.Brief))
		require.JSONEq(t, `[{"id":"1"}]`, string(kept.OpenActionItems))
		require.JSONEq(t, `[]`, string(kept.Deals))
		require.Equal(t, last, *kept.LastActivityAt)
		require.Equal(t, today, kept.GeneratedAt)

		// Each change moves the fingerprint.
		steps := []struct {
			name   string
			change func()
		}{
			{"NewActivity", func() {
				activity(t, b, crm.ActivityInput{Type: crm.Some(crm.ActivityNote), OccurredAt: crm.Some("2026-03-01T10:00:00Z")})
			}},
			{"MeetingNotes", func() {
				meeting(t, b, today, "Sync", nil, crm.Notes{Summary: "Sync.",
					ActionItems: []crm.ActionItem{item("Send the deck", "Dana Lee", "")}})
			}},
			{"ActionItemDone", func() {
				items, err := s.ActionItemList(ctx, b.orgID, store.ActionItemFilter{AccountID: b.accountID})
				require.NoError(t, err)
				_, err = s.ActionItemSetStatus(ctx, b.orgID, items.Items[0].ID, crm.ActionDone)
				require.NoError(t, err)
			}},
			{"NewDeal", func() {
				in := crm.DealInput{AccountID: crm.Some(b.accountID), Name: crm.Some("Renewal")}
				require.NoError(t, in.Validate(true))
				_, err := s.DealCreate(ctx, b.orgID, in)
				require.NoError(t, err)
			}},
			{"ContactRenamed", func() {
				_, err := s.ContactUpdate(ctx, b.orgID, b.sam, crm.ContactInput{Name: crm.Some("Samantha Ray")})
				require.NoError(t, err)
			}},
			{"AccountUpdated", func() {
				_, err := s.AccountUpdate(ctx, b.orgID, b.accountID, crm.AccountInput{Segment: crm.Some("mid-market")})
				require.NoError(t, err)
			}},
		}
		seen := map[string]string{fp: "start"}
		for _, step := range steps {
			step.change()
			next, _ := state(today)
			prev, dup := seen[next]
			require.False(t, dup, "%s left the fingerprint as it was after %s", step.name, prev)
			seen[next] = step.name
		}

		// The account's deletion takes its brief along.
		require.NoError(t, s.AccountDelete(ctx, b.orgID, b.accountID))
		var n int
		require.NoError(t, b.tx.QueryRow(ctx, `SELECT count(*) FROM account_briefs WHERE org_id = $1`, b.orgID).Scan(&n))
		require.Zero(t, n)
	})
}
