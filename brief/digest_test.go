package brief

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// TestComposeDigest checks the digest's lines, caps and citations on facts
// made up in memory.
func TestComposeDigest(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	str := func(s string) *string { return &s }
	ref := func(id string, typ crm.ActivityType, at time.Time) store.BriefRef {
		return store.BriefRef{ID: id, Type: typ, OccurredAt: at}
	}
	date := func(s string) crm.Date {
		d, err := crm.ParseDate(s)
		require.NoError(t, err)
		return d
	}
	cursor := "next"
	f := store.DigestFacts{Now: now, Since: now.AddDate(0, 0, -7), Until: now, DueBefore: date("2026-03-17"), StalledDays: 14,
		NextCursor: &cursor}

	// A busy account: more due items and stalled deals than are shown.
	busy := store.DigestAccountFacts{ID: "busy", Name: "Busy", Total: 3,
		Counts: []store.DigestTypeCount{{Type: crm.ActivityEmail, Count: 2}, {Type: crm.ActivitySMS, Count: 1}},
		Recent: []string{"e1", "e2", "s1"},
		Notable: []store.DigestNotable{
			{Ref: ref("m1", crm.ActivityMeeting, now.AddDate(0, 0, -1)), Summary: str("  Budget   approved! Then the rest.")},
			{Ref: ref("m2", crm.ActivityMeeting, now.AddDate(0, 0, -2))},
			{Ref: ref("e1", crm.ActivityEmail, now.AddDate(0, 0, -3))},
		},
	}
	for i := range 8 {
		due := date(fmt.Sprintf("2026-03-%02d", 6+i)) // 6..13: 4 overdue
		busy.Due = append(busy.Due, store.DigestDue{Kind: store.DigestNextStep, Text: "Step " + strings.Repeat("word ", 20),
			DueDate: due, Activity: ref(fmt.Sprintf("n%d", i), crm.ActivityNote, now)})
	}
	busy.DueTotal = 8
	amount := crm.Decimal("1200000")
	for i := range 7 {
		sd := store.StalledDeal{Deal: store.StalledDealRef{ID: fmt.Sprint(i), Name: fmt.Sprintf("Deal %d", i)}, DaysInactive: 20 + i}
		if i == 0 {
			sd.Deal.Amount, sd.Deal.Currency, sd.Deal.Stage = &amount, str("EUR"), str("Proposal")
		}
		if i != 1 {
			sd.LastActivity = &store.StalledActivity{ID: fmt.Sprintf("l%d", i), Type: crm.ActivityCall, OccurredAt: now.AddDate(0, 0, -20-i)}
		}
		busy.Stalled = append(busy.Stalled, sd)
	}
	// An account with nothing to say is left out.
	quiet := store.DigestAccountFacts{ID: "quiet", Name: "Quiet"}
	f.Accounts = []store.DigestAccountFacts{busy, quiet}

	d := ComposeDigest(f)
	require.Equal(t, &cursor, d.NextCursor)
	require.Len(t, d.Items, 1)
	a := d.Items[0]
	require.Equal(t, "Busy", a.Account.Name)

	require.Equal(t, []BriefStatement{
		{Text: "3 activities: 2 emails, 1 sms.", ActivityIDs: []string{"e1", "e2", "s1"}},
		{Text: "Meeting on 2026-03-09: Budget approved!", ActivityIDs: []string{"m1"}},
		{Text: "Meeting on 2026-03-08: no notes yet.", ActivityIDs: []string{"m2"}},
		{Text: "Email on 2026-03-07.", ActivityIDs: []string{"e1"}},
	}, a.Happened)

	require.Len(t, a.Due, digestMaxDue+1)
	require.Equal(t, "Next step: Step word word word word word word word word word word word…; due 2026-03-06, 4 days overdue.", a.Due[0].Text)
	require.Equal(t, []string{"n0"}, a.Due[0].ActivityIDs)
	require.Equal(t, "Next step: Step word word word word word word word word word word word…; due today.", a.Due[4].Text)
	require.Equal(t, BriefStatement{Text: "…and 3 more due.", ActivityIDs: []string{"n5", "n6", "n7"}}, a.Due[5])

	require.Len(t, a.Stalled, digestMaxStalled+1)
	require.Equal(t, BriefStatement{Text: "Deal 0 (EUR 1,200,000, stage Proposal): no activity for 20 days; last: call on 2026-02-18.",
		ActivityIDs: []string{"l0"}}, a.Stalled[0])
	require.Equal(t, BriefStatement{Text: "Deal 1: no activity logged since it was created 21 days ago.", ActivityIDs: []string{}}, a.Stalled[1])
	require.Equal(t, BriefStatement{Text: "…and 2 more stalled deals.", ActivityIDs: []string{"l5", "l6"}}, a.Stalled[5])

	// Every statement but a never-touched deal's cites something.
	for _, sec := range [][]BriefStatement{a.Happened, a.Due, a.Stalled} {
		for _, s := range sec {
			if strings.Contains(s.Text, "no activity logged") {
				continue
			}
			require.NotEmpty(t, s.ActivityIDs, s.Text)
		}
	}

	// Overdue items left out are counted when all were loaded.
	busy.Due = busy.Due[:0]
	for i := range 7 {
		busy.Due = append(busy.Due, store.DigestDue{Kind: store.DigestActionItem, Text: "Item", Owner: str("Dana"),
			DueDate: date(fmt.Sprintf("2026-03-%02d", 1+i)), Activity: ref("m", crm.ActivityMeeting, now)})
	}
	busy.DueTotal = 7
	f.Accounts = []store.DigestAccountFacts{busy}
	d = ComposeDigest(f)
	require.Equal(t, "Action item (Dana): Item; due 2026-03-01, 9 days overdue.", d.Items[0].Due[0].Text)
	require.Equal(t, BriefStatement{Text: "…and 2 more due (2 overdue).", ActivityIDs: []string{"m"}}, d.Items[0].Due[5])
	// …and unknown when they were not.
	busy.DueTotal = 70
	f.Accounts = []store.DigestAccountFacts{busy}
	require.Equal(t, "…and 65 more due.", ComposeDigest(f).Items[0].Due[5].Text)

	// No accounts: an empty list, not null.
	require.NotNil(t, ComposeDigest(store.DigestFacts{Now: now}).Items)
}
