package summarize_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/prompts"
	"logbook/summarize"
)

// realisticMeeting is a 30-segment renewal call between a seller (Sam,
// Jordan) and a customer (Dana, Priya).
func realisticMeeting() summarize.Meeting {
	lines := []struct{ speaker, text string }{
		{"Sam Ortiz", "Thanks for making time today, Dana and Priya. The goal is to review the pilot and agree on the renewal plan."},
		{"Dana Lee", "Happy to. Overall the pilot went well and the support team is using Logbook every day."},
		{"Priya Shah", "From the security side we still have two open items on the questionnaire."},
		{"Sam Ortiz", "Understood. Which two items are still open?"},
		{"Priya Shah", "Data retention and the SSO configuration. Our auditors want both documented before we sign."},
		{"Jordan Miles", "I can answer the retention question. We keep transcripts for 90 days by default and that is configurable."},
		{"Priya Shah", "That helps. Please put that in writing so I can attach it to the questionnaire."},
		{"Jordan Miles", "I'll send the retention policy document by Friday."},
		{"Dana Lee", "On pricing, the current quote is above what we budgeted for this year."},
		{"Sam Ortiz", "How far apart are we?"},
		{"Dana Lee", "About fifteen percent. Finance approved a budget for forty seats, not fifty."},
		{"Sam Ortiz", "We could start with forty seats and add the rest next quarter."},
		{"Dana Lee", "That would work for us. Let's go with forty seats for now."},
		{"Sam Ortiz", "Great, so we agree on forty seats on the annual plan."},
		{"Sam Ortiz", "I'll send the revised quote for forty seats tomorrow."},
		{"Dana Lee", "Our legal team will need to review the order form. That usually takes two weeks."},
		{"Sam Ortiz", "Is there anything we can do to speed that up?"},
		{"Dana Lee", "If you send the DPA early, legal can review both together."},
		{"Jordan Miles", "I will send our standard DPA to Dana today."},
		{"Priya Shah", "For SSO, we use Okta. I might be able to set up a test tenant next week."},
		{"Jordan Miles", "Perfect. I'll share the Okta setup guide with Priya."},
		{"Dana Lee", "One risk is that our CFO wants to compare with a competitor before renewing."},
		{"Sam Ortiz", "Which competitor are you looking at?"},
		{"Dana Lee", "Gong came up in the last budget meeting, mostly because of the call analytics."},
		{"Sam Ortiz", "Understood. Can you set up a call with your CFO so we can walk through the ROI?"},
		{"Dana Lee", "Yes, I'll try to get thirty minutes on his calendar before the end of the month."},
		{"Sam Ortiz", "Thank you. Let's also plan the rollout to the second support team."},
		{"Dana Lee", "The second team starts in April, so the rollout can begin after the renewal."},
		{"Sam Ortiz", "Sounds good. I will follow up by email with a summary and the next steps."},
		{"Dana Lee", "Thanks Sam, talk soon."},
	}
	m := summarize.Meeting{
		Title: "Acme renewal review",
		Date:  time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC),
		Participants: []crm.Participant{
			{Name: "Dana Lee", Email: "dana@acme.com"},
			{Name: "Priya Shah", Email: "priya@acme.com"},
			{Name: "Sam Ortiz", Email: "sam@seller.io"},
			{Name: "Jordan Miles", Email: "jordan@seller.io"},
		},
		From: "Sam Ortiz",
		External: []crm.Participant{
			{Name: "Dana Lee", Email: "dana@acme.com"},
			{Name: "Priya Shah", Email: "priya@acme.com"},
		},
	}
	var at int64
	for i, l := range lines {
		d := int64(len(l.text)) * 60
		m.Segments = append(m.Segments, crm.Segment{Index: i, Speaker: l.speaker, StartMS: at, EndMS: at + d, Text: l.text})
		at += d + 500
	}
	return m
}

// requireGrounded checks the notes' promise: every piece of evidence quotes
// its segment, every owner is a speaker or participant.
func requireGrounded(t testing.TB, m summarize.Meeting, n crm.Notes) {
	t.Helper()
	bySeg := map[int]crm.Segment{}
	for _, s := range m.Segments {
		bySeg[s.Index] = s
	}
	names := map[string]bool{}
	for _, p := range m.Participants {
		names[p.Name] = true
	}
	for _, s := range m.Segments {
		names[s.Speaker] = true
	}
	check := func(what string, ev []crm.Evidence) {
		require.NotEmpty(t, ev, what)
		for _, e := range ev {
			s, ok := bySeg[e.Segment]
			require.True(t, ok, "%s cites segment %d", what, e.Segment)
			require.NotEmpty(t, e.Quote, what)
			require.Contains(t, s.Text, e.Quote, "%s: quote not in segment %d", what, e.Segment)
			require.Equal(t, s.Speaker, e.Speaker)
			require.Equal(t, s.StartMS, e.StartMS)
		}
	}
	for _, a := range n.ActionItems {
		check("action item "+a.Text, a.Evidence)
		if a.Owner != nil {
			require.True(t, names[*a.Owner], "owner %q is not in the meeting", *a.Owner)
		}
	}
	for _, ps := range [][]crm.Point{n.KeyPoints, n.Decisions, n.Risks} {
		for _, p := range ps {
			check("point "+p.Text, p.Evidence)
		}
	}
	if n.Summary != "" {
		check("summary", n.SummaryEvidence)
	}
}

func TestNotesLocalEndToEnd(t *testing.T) {
	t.Parallel()
	m := realisticMeeting()
	s := summarize.New(local.New(256), summarize.Config{})
	n, st, err := s.NotesWithStats(context.Background(), m)
	require.NoError(t, err)

	require.NotEmpty(t, n.Summary)
	require.NotEmpty(t, n.ActionItems)
	requireGrounded(t, m, n)
	require.Equal(t, 1.0, n.Coverage)
	require.Equal(t, prompts.PurposeNotes+"+"+prompts.PurposeFollowUp, n.PromptVersion)
	require.NotNil(t, n.FollowUp)
	require.NotEmpty(t, n.FollowUp.Subject)
	require.NotEmpty(t, n.FollowUp.Body)
	require.Equal(t, m.External, n.FollowUp.To)
	t.Logf("summary: %s", n.Summary)
	for _, a := range n.ActionItems {
		owner, due := "-", "-"
		if a.Owner != nil {
			owner = *a.Owner
		}
		if a.DueDate != nil {
			due = a.DueDate.String()
		}
		t.Logf("action: %q owner=%s due=%s tentative=%v segs=%d", a.Text, owner, due, a.Tentative, a.Evidence[0].Segment)
	}
	t.Logf("stats: kept %d, dropped %d %+v", st.Kept, len(st.Dropped), st.Dropped)

	// Same meeting, map-reduce over small windows: still grounded, every
	// segment read.
	small := summarize.New(local.New(256), summarize.Config{ContextTokens: 200})
	n2, st2, err := small.NotesWithStats(context.Background(), m)
	require.NoError(t, err)
	require.Greater(t, st2.Windows, 2)
	require.Equal(t, 1.0, n2.Coverage)
	require.NotEmpty(t, n2.ActionItems)
	requireGrounded(t, m, n2)
}

// oneHour makes a meeting of about 900 segments (an hour at four seconds a
// turn) from the realistic meeting's lines.
func oneHour() summarize.Meeting {
	base := realisticMeeting()
	m := base
	m.Segments = nil
	for i := range 900 {
		s := base.Segments[i%len(base.Segments)]
		s.Index = i
		s.StartMS = int64(i) * 4000
		s.EndMS = s.StartMS + 3900
		if i%len(base.Segments) == 0 {
			s.Text = fmt.Sprintf("Topic %d. %s", i/len(base.Segments), s.Text)
		}
		m.Segments = append(m.Segments, s)
	}
	return m
}

func TestNotesOneHourLocal(t *testing.T) {
	t.Parallel()
	m := oneHour()
	n, st, err := summarize.New(local.New(256), summarize.Config{}).NotesWithStats(context.Background(), m)
	require.NoError(t, err)
	require.Greater(t, st.Windows, 1, "an hour does not fit one call")
	require.Equal(t, 1.0, n.Coverage)
	require.True(t, st.Reduced)
	requireGrounded(t, m, n)
	require.Less(t, len(n.ActionItems), 900, "repeats were merged")
	require.False(t, strings.Contains(n.Summary, "\n"))
}

func BenchmarkNotesOneHourLocal(b *testing.B) {
	m := oneHour()
	s := summarize.New(local.New(256), summarize.Config{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Notes(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}
