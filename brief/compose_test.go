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

// TestComposeAccountBrief checks the caps, the "…and N more" statements
// and the length of the longest brief, on facts made up in memory.
func TestComposeAccountBrief(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	long := strings.Repeat("very ", 40) + "long text."
	ref := func(i int, typ crm.ActivityType) store.BriefRef {
		subject := "Subject " + long
		return store.BriefRef{ID: fmt.Sprintf("act-%d", i), Type: typ, OccurredAt: now.Add(-time.Duration(i) * time.Hour), Subject: &subject}
	}
	str := func(s string) *string { return &s }
	amount := crm.Decimal("1234567.25")
	f := store.BriefFacts{
		Account:   crm.Account{Name: "Acme " + long, Domains: []string{"a.test", "b.test", "c.test", "d.test", "e.test"}, Segment: str("enterprise")},
		OwnerName: str("Olive Owner"), Activities: 500, Contacts: 40,
	}
	firstRef, lastRef := ref(400, crm.ActivityNote), ref(0, crm.ActivityCall)
	f.First, f.Last = &firstRef, &lastRef
	for i := range 10 {
		d := store.BriefDeal{Deal: crm.Deal{Name: fmt.Sprintf("Deal %d %s", i, long), Stage: str("Negotiation"),
			Amount: &amount, Currency: str("EUR"), Status: crm.DealOpen, CloseDate: &crm.Date{Time: now}}, OwnerName: str("Olive Owner")}
		if i%2 == 0 {
			r := ref(100+i, crm.ActivityEmail)
			d.Last = &r
		}
		f.Deals = append(f.Deals, d)
	}
	f.DealsTotal, f.DealsOpen = 12, 11
	sides := []store.BriefSide{store.BriefOurs, store.BriefTheirs, store.BriefUnknown}
	for i := range 30 {
		due := crm.Date{Time: now.AddDate(0, 0, i-5)}
		f.OpenActionItems = append(f.OpenActionItems, store.BriefActionItem{
			Item: crm.ActionItem{ID: fmt.Sprint(i), Text: long, Owner: str("Someone With A Long Name"), DueDate: &due, Tentative: true},
			Side: sides[i%3], Meeting: ref(200+i, crm.ActivityMeeting)})
	}
	f.OpenTotal, f.OpenOverdue = 30, 5
	for i := range 5 {
		m := store.BriefMeeting{Meeting: ref(300+i, crm.ActivityMeeting), Summary: long}
		for j := range 3 {
			m.Risks = append(m.Risks, crm.Point{Text: fmt.Sprintf("Risk %d.%d %s", i, j, long)})
		}
		f.Meetings = append(f.Meetings, m)
	}
	for i := range 20 {
		f.Touches = append(f.Touches, store.BriefTouch{ContactID: fmt.Sprint(i), Name: "Contact With A Long Name",
			Title: str("Vice President of Procurement"), Last: ref(i+1, crm.ActivityEmail)})
	}
	f.TouchedTotal = 25

	ab := composeAccountBrief(f, now)
	bySection := map[string]BriefSection{}
	words := len(strings.Fields(ab.Brief.Headline))
	for _, s := range ab.Brief.Sections {
		bySection[s.Title] = s
		for _, st := range s.Statements {
			words += len(strings.Fields(st.Text))
			require.NotNil(t, st.ActivityIDs)
		}
	}
	// About 250 words a minute: the longest brief reads in under a minute.
	require.LessOrEqual(t, words, 250, "the longest brief has %d words", words)

	last := func(s BriefSection) BriefStatement { return s.Statements[len(s.Statements)-1] }
	deals := bySection["Deals"]
	require.Len(t, deals.Statements, briefMaxDeals+1)
	require.Equal(t, 9, deals.More)
	require.Equal(t, "…and 9 more (8 open).", last(deals).Text)
	require.Equal(t, []string{"act-104", "act-106", "act-108"}, last(deals).ActivityIDs, "the omitted deals' activities")

	open := bySection["Open commitments"]
	require.Len(t, open.Statements, briefMaxCommitments+1)
	require.Equal(t, 26, open.More)
	require.Equal(t, "…and 26 more (8 ours, 9 theirs, 9 unclear).", last(open).Text)
	require.Len(t, last(open).ActivityIDs, 26)

	risks := bySection["Risks raised"]
	require.Len(t, risks.Statements, briefMaxRisks+1)
	require.Equal(t, 13, risks.More)

	touches := bySection["Last touch per contact"]
	require.Len(t, touches.Statements, briefMaxTouches+1)
	require.Equal(t, 22, touches.More)
	require.Equal(t, "…and 22 more contacts.", last(touches).Text)
	require.Len(t, last(touches).ActivityIDs, 17, "the loaded ones it leaves out")

	require.Len(t, bySection["Recent meetings"].Statements, briefMaxMeetings)
	require.Contains(t, ab.Brief.Sections[0].Statements[0].Text, "a.test, b.test, 3 more")

	// Meetings in the window without risks say so, citing them.
	quiet := f
	quiet.Meetings = []store.BriefMeeting{{Meeting: ref(1, crm.ActivityMeeting)}, {Meeting: ref(30, crm.ActivityMeeting)}}
	found := false
	for _, s := range composeAccountBrief(quiet, now).Brief.Sections {
		if s.Title == "Risks raised" {
			found = true
			require.Equal(t, []BriefStatement{{Text: "No risks raised in the 2 meetings since 2026-03-09.",
				ActivityIDs: []string{"act-1", "act-30"}}}, s.Statements)
		}
	}
	require.True(t, found)

	// Meetings older than the window raise no risks.
	for i := range f.Meetings {
		f.Meetings[i].Meeting.OccurredAt = now.Add(-briefRiskWindow - time.Hour)
	}
	ab = composeAccountBrief(f, now)
	for _, s := range ab.Brief.Sections {
		require.NotEqual(t, "Risks raised", s.Title)
	}
	require.NotContains(t, ab.Brief.Headline, "risk")
}

func TestBriefHelpers(t *testing.T) {
	t.Parallel()
	usd := "USD"
	require.Equal(t, "USD 1,234,567.25", briefAmount("1234567.25", &usd))
	require.Equal(t, "-999", briefAmount("-999", nil))
	require.Equal(t, "1,000", briefAmount("1000", nil))
	require.Equal(t, "one two…", briefClip("one two, three", 2))
	require.Equal(t, "one two three", briefClip(" one  two\nthree ", 3))
	require.Equal(t, []string{"a", "b"}, briefIDs("a", "", "b", "a"))
	require.Equal(t, []string{}, briefIDs())
}
