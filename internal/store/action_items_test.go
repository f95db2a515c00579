package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// TestActionItemList checks who owes whom on a fixture whose order and
// groups are worked out by hand below.
func TestActionItemList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.Tx(t)
	s := store.New(tx)
	s.SetClock(func() time.Time { return time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC) }) // today: 2026-03-10

	org, err := s.OrgCreate(ctx, "Org A")
	require.NoError(t, err)
	_, err = s.UserCreate(ctx, org.ID, crm.UserInput{Email: crm.Some("olive@seller.test"), Name: crm.Some("Olive Owner")})
	require.NoError(t, err)
	account := func(orgID, name, domain string) string {
		a, err := s.AccountCreate(ctx, orgID, crm.AccountInput{Name: crm.Some(name), Domains: crm.Some([]string{domain})})
		require.NoError(t, err)
		return a.ID
	}
	acme, globex := account(org.ID, "Acme", "acme.test"), account(org.ID, "Globex", "globex.test")
	_, err = s.ContactCreate(ctx, org.ID, crm.ContactInput{AccountID: crm.Some(acme), Name: crm.Some("Dana Lee"),
		Email: crm.Some("dana@acme.test")})
	require.NoError(t, err)

	// meeting logs a processed meeting with its action items and returns
	// their IDs in order.
	meeting := func(orgID, accountID, at, subject string, ps []crm.Participant, items ...crm.ActionItem) []string {
		t.Helper()
		in := crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(accountID), OccurredAt: crm.Some(at),
			Subject: crm.Some(subject), Participants: crm.Some(ps)}
		require.NoError(t, in.Validate(true))
		m, _, _, err := activity.New(s).Upsert(ctx, orgID, in)
		require.NoError(t, err)
		trID := store.NewID()
		_, err = tx.Exec(ctx, `INSERT INTO transcripts (org_id, id, activity_id, account_id, source, format, content,
				content_hash, segments, started_at) VALUES ($1, $2, $3, $4, 'zoom', 'text', 'x', '\x00', '[]', $5)`,
			orgID, trID, m.ID, accountID, m.OccurredAt)
		require.NoError(t, err)
		_, err = s.NotesSave(ctx, orgID, trID, 1, crm.Notes{Summary: "s", ActionItems: items, Coverage: 1, Model: "m", PromptVersion: "v"}, nil)
		require.NoError(t, err)
		_, notes, err := s.MeetingNotes(ctx, orgID, m.ID)
		require.NoError(t, err)
		var ids []string
		for _, it := range notes.ActionItems {
			ids = append(ids, it.ID)
		}
		return ids
	}
	ev := []crm.Evidence{{Segment: 0, Speaker: "Dana Lee", Quote: "quote"}}
	item := func(text, owner, due string) crm.ActionItem {
		it := crm.ActionItem{Text: text, Evidence: ev}
		if owner != "" {
			it.Owner = &owner
		}
		if due != "" {
			d, err := crm.ParseDate(due)
			require.NoError(t, err)
			it.DueDate = &d
		}
		return it
	}
	m1 := meeting(org.ID, acme, "2026-03-02T15:00:00Z", "Acme QBR", []crm.Participant{
		{Name: "Dana Lee", Email: "dana@acme.test"}, {Name: "Priya Shah", Email: "priya@seller.test"}},
		item("Send pricing", "Olive Owner", "2026-03-06"),     // a: ours (a user), overdue
		item("Share questionnaire", "Dana Lee", "2026-03-12"), // b: theirs (a contact)
		item("Draft SOW", "", ""),                             // c: unknown (no owner)
		item("Book review", "priya shah", "2026-03-09"))       // d: ours (participant on the users' domain), overdue
	m2 := meeting(org.ID, acme, "2026-03-08T10:00:00Z", "Pricing call", []crm.Participant{{Name: "Dana Lee", Email: "dana@acme.test"}},
		item("Confirm budget", "dana lee", "2026-03-01"),      // e: theirs, overdue
		item("Send the contract", " Olive Owner ", ""),        // f: ours, done below
		item("Intro to legal", "Stranger Name", "2026-03-20"), // g: unknown (nobody we know)
		item("Send terms", "Olive Owner", "2026-03-06"))       // j: ours, overdue, a newer meeting than a's
	m3 := meeting(org.ID, globex, "2026-03-05T09:00:00Z", "Globex sync", []crm.Participant{{Name: "Dana Lee", Email: "dana@globex.test"}},
		item("Sign the order", "Dana Lee", "2026-03-06"), // h: theirs (participant on Globex's domain), done below
		item("Send invoice", "olive@seller.test", ""))    // i: ours (a user's email)
	a, b, c, d := m1[0], m1[1], m1[2], m1[3]
	e, f, g, j := m2[0], m2[1], m2[2], m2[3]
	h, i := m3[0], m3[1]
	for _, id := range []string{f, h} {
		_, err := s.ActionItemSetStatus(ctx, org.ID, id, crm.ActionDone)
		require.NoError(t, err)
	}
	// Another org's items never show.
	other, err := s.OrgCreate(ctx, "Org B")
	require.NoError(t, err)
	meeting(other.ID, account(other.ID, "Initech", "initech.test"), "2026-03-03T10:00:00Z", "Other",
		[]crm.Participant{{Name: "Olive Owner", Email: "olive@initech.test"}}, item("Secret item", "Olive Owner", "2026-03-01"))

	// By person in byte order of the lower-cased name ("olive owner" before
	// "olive@…": ' ' < '@'), no owner last; overdue first; due date; newest
	// meeting first. h is past due but done: not overdue.
	all := []string{e, h, b, j, a, f, i, d, g, c}
	str := func(s string) *string { return &s }
	groups := []store.ActionItemGroup{
		{Owner: str("Dana Lee"), Side: store.BriefTheirs, Total: 3, Open: 2, Overdue: 1},
		{Owner: str("Olive Owner"), Side: store.BriefOurs, Total: 3, Open: 2, Overdue: 2},
		{Owner: str("olive@seller.test"), Side: store.BriefOurs, Total: 1, Open: 1, Overdue: 0},
		{Owner: str("priya shah"), Side: store.BriefOurs, Total: 1, Open: 1, Overdue: 1},
		{Owner: str("Stranger Name"), Side: store.BriefUnknown, Total: 1, Open: 1, Overdue: 0},
		{Owner: nil, Side: store.BriefUnknown, Total: 1, Open: 1, Overdue: 0},
	}
	sides := map[string]store.BriefSide{a: "ours", b: "theirs", c: "unknown", d: "ours", e: "theirs", f: "ours",
		g: "unknown", h: "theirs", i: "ours", j: "ours"}
	overdue := map[string]bool{a: true, d: true, e: true, j: true}
	meetings := map[string]string{a: "Acme QBR", b: "Acme QBR", c: "Acme QBR", d: "Acme QBR", e: "Pricing call",
		f: "Pricing call", g: "Pricing call", j: "Pricing call", h: "Globex sync", i: "Globex sync"}

	// list pages through with limit n and returns the concatenation, each
	// page's groups checked equal to the first's.
	list := func(f store.ActionItemFilter, n int) ([]string, []store.ActionItemGroup) {
		t.Helper()
		f.Limit = n
		var ids []string
		var first []store.ActionItemGroup
		for page := 0; ; page++ {
			p, err := s.ActionItemList(ctx, org.ID, f)
			require.NoError(t, err)
			require.LessOrEqual(t, len(p.Items), n)
			if page == 0 {
				first = p.Groups
			} else {
				require.Equal(t, first, p.Groups, "every page carries the same groups")
			}
			for _, it := range p.Items {
				ids = append(ids, it.ID)
				require.Equal(t, sides[it.ID], it.Side, it.Text)
				require.Equal(t, overdue[it.ID], it.Overdue, it.Text)
				require.Equal(t, it.ActivityID, it.Meeting.ID, it.Text)
				require.Equal(t, meetings[it.ID], *it.Meeting.Subject, it.Text)
			}
			if p.NextCursor == nil {
				return ids, first
			}
			f.Cursor = *p.NextCursor
			require.Less(t, page, 20)
		}
	}
	total := func(gs []store.ActionItemGroup) int {
		n := 0
		for _, g := range gs {
			n += g.Total
		}
		return n
	}

	t.Run("GroupedByPersonAcrossPages", func(t *testing.T) {
		for _, n := range []int{1, 2, 3, 4, 50} {
			ids, gs := list(store.ActionItemFilter{}, n)
			require.Equal(t, all, ids, "limit %d", n)
			require.Equal(t, groups, gs, "limit %d", n)
			require.Equal(t, len(all), total(gs))
		}
		p, err := s.ActionItemList(ctx, org.ID, store.ActionItemFilter{Limit: 4})
		require.NoError(t, err)
		require.Equal(t, "2026-03-08T10:00:00Z", p.Items[0].Meeting.OccurredAt.Format(time.RFC3339))
	})

	t.Run("Filters", func(t *testing.T) {
		for _, tc := range []struct {
			desc   string
			f      store.ActionItemFilter
			want   []string
			groups int
		}{
			{"Theirs", store.ActionItemFilter{Side: store.BriefTheirs}, []string{e, h, b}, 1},
			{"Ours", store.ActionItemFilter{Side: store.BriefOurs}, []string{j, a, f, i, d}, 3},
			{"Unknown", store.ActionItemFilter{Side: store.BriefUnknown}, []string{g, c}, 2},
			// Exclusive: d, due 2026-03-09, is left out; undated items too.
			{"DueBefore", store.ActionItemFilter{DueBefore: &crm.Date{Time: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)}}, []string{e, h, j, a}, 2},
			{"Open", store.ActionItemFilter{Status: crm.ActionOpen}, []string{e, b, j, a, i, d, g, c}, 6},
			{"Done", store.ActionItemFilter{Status: crm.ActionDone}, []string{h, f}, 2},
			{"Globex", store.ActionItemFilter{AccountID: globex}, []string{h, i}, 2},
			{"OwnerAnyCase", store.ActionItemFilter{Owner: "DANA LEE"}, []string{e, h, b}, 1},
			{"OwnerTrimmed", store.ActionItemFilter{Owner: " olive OWNER"}, []string{j, a, f}, 1},
			{"OursOnAcmeDueBefore", store.ActionItemFilter{Side: store.BriefOurs, AccountID: acme,
				DueBefore: &crm.Date{Time: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)}}, []string{j, a, d}, 2},
		} {
			for _, n := range []int{1, 2, 50} {
				ids, gs := list(tc.f, n)
				require.Equal(t, tc.want, ids, "%s, limit %d", tc.desc, n)
				require.Len(t, gs, tc.groups, tc.desc)
				require.Equal(t, len(tc.want), total(gs), tc.desc)
			}
		}
	})

	t.Run("AnotherOrgSeesOnlyItsOwn", func(t *testing.T) {
		p, err := s.ActionItemList(ctx, other.ID, store.ActionItemFilter{})
		require.NoError(t, err)
		require.Len(t, p.Items, 1)
		require.Equal(t, "Secret item", p.Items[0].Text)
		// Org A's user of that name does not count: in org B she is a
		// participant on the account's domain.
		require.Equal(t, store.BriefTheirs, p.Items[0].Side)
		require.Equal(t, []store.ActionItemGroup{{Owner: str("Olive Owner"), Side: store.BriefTheirs, Total: 1, Open: 1, Overdue: 1}}, p.Groups)
	})

	t.Run("BadCursor", func(t *testing.T) {
		for _, c := range []string{"garbage!", "eA", "MXxffDF8MjAyNi0wMy0wMXx4fHk"} {
			_, err := s.ActionItemList(ctx, org.ID, store.ActionItemFilter{Cursor: c})
			require.ErrorIs(t, err, crm.ErrInvalid, c)
		}
	})
}
