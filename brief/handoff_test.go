package brief

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
)

// handoffFixture is the brief's fixture (now 2026-03-10T12:00Z; the store's
// clock is pinned to it) plus what a handoff note reads: activities on both
// sides of the week's edge, next steps (one overdue, one undated on an
// activity older than the week) and a future meeting; lee is the user the
// renewal goes to.
type handoffFixture struct {
	*fixture
	lee                                 string
	old, edge, review, quote, scheduled string
}

func handoffSetup(t *testing.T) *handoffFixture {
	t.Helper()
	f := &handoffFixture{fixture: fixtureSetup(t)}
	f.store.SetClock(func() time.Time { return f.now })
	userIn := crm.UserInput{Email: crm.Some("lee@seller.test"), Name: crm.Some("Lee Park"), Role: crm.Some(crm.Role("rep"))}
	require.NoError(t, userIn.Validate(true))
	lee, err := f.store.UserCreate(context.Background(), f.orgID, userIn)
	require.NoError(t, err)
	f.lee = lee.ID
	due := func(s string) *string { return &s }
	// 8 days before now: not in the last week, but its next step is open.
	f.old = f.activity(crm.ActivityInput{Type: crm.Some(crm.ActivityNote), AccountID: crm.Some(f.account),
		OccurredAt: crm.Some("2026-03-02T12:00:00Z"), Body: crm.Some("Kickoff."),
		NextStep: crm.Some(crm.NextStepInput{Text: "Confirm the legal contact"})})
	// Exactly 7×24 hours before now: the week's first instant, included.
	f.edge = f.activity(crm.ActivityInput{Type: crm.Some(crm.ActivityNote), AccountID: crm.Some(f.account),
		OccurredAt: crm.Some("2026-03-03T12:00:00Z"), Subject: crm.Some("Pricing recap"), OwnerID: crm.Some(f.olive)})
	f.review = f.activity(crm.ActivityInput{Type: crm.Some(crm.ActivityNote), AccountID: crm.Some(f.account),
		OccurredAt: crm.Some("2026-03-06T08:00:00Z"), Body: crm.Some("Security asked for a review."),
		NextStep: crm.Some(crm.NextStepInput{Text: "Book the security review.", DueDate: due("2026-03-05")})})
	f.quote = f.activity(crm.ActivityInput{Type: crm.Some(crm.ActivityCall), Direction: crm.Some(crm.Direction("outbound")),
		AccountID: crm.Some(f.account), ContactIDs: crm.Some([]string{f.dana, f.sam}), OwnerID: crm.Some(f.olive),
		OccurredAt: crm.Some("2026-03-10T09:00:00Z"), Disposition: crm.Some("connected"),
		NextStep: crm.Some(crm.NextStepInput{Text: "Send the revised quote", DueDate: due("2026-03-12")})})
	// Tomorrow: not in the last week either.
	f.scheduled = f.activity(crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(f.account),
		OccurredAt: crm.Some("2026-03-11T15:00:00Z"), Subject: crm.Some("Pricing call")})
	// Before the week, with a next step already done: not handed over.
	done := f.activity(crm.ActivityInput{Type: crm.Some(crm.ActivityNote), AccountID: crm.Some(f.account),
		OccurredAt: crm.Some("2026-03-01T12:00:00Z"), Body: crm.Some("Trial set up."),
		NextStep: crm.Some(crm.NextStepInput{Text: "Ship the trial licence", DueDate: due("2026-03-02")})})
	_, err = f.store.NextStepSetDone(context.Background(), f.orgID, done, true, f.now)
	require.NoError(t, err)
	return f
}

func TestHandoffNote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("SectionsOnTheFixture", func(t *testing.T) {
		t.Parallel()
		f := handoffSetup(t)
		var notes Handoffs
		deal, act, _, err := f.store.DealReassign(ctx, f.orgID, f.renewal,
			crm.ReassignInput{OwnerID: f.lee, Note: "Olive is out sick."}, notes.Compose)
		require.NoError(t, err)
		require.Equal(t, f.lee, *deal.OwnerID)
		note := notes.Note(f.renewal)

		// By hand: the three open items of the meeting (the brief's sides;
		// the pricing sheet was due 2026-03-06, before today 2026-03-10);
		// the week is [2026-03-03T12:00Z, 2026-03-10T12:00Z]: the email of
		// 2026-03-03T09:00 and the note of 2026-03-02 fall before it, the
		// meeting of 2026-03-11 after it; next steps by due date, undated
		// last; the meeting's two risks.
		type line struct {
			text string
			ids  []string
		}
		want := map[string][]line{
			HandoffCommitments: {
				{"Ours — Olive Owner: Send the pricing sheet; due 2026-03-06, overdue.", []string{f.meeting}},
				{"Theirs — Dana Lee: Share the security questionnaire; no due date.", []string{f.meeting}},
				{"No owner named: Draft the SOW (tentative); no due date.", []string{f.meeting}},
			},
			HandoffLastWeek: {
				{"2026-03-10 outbound call (Connected), by Olive Owner, with Dana Lee, Sam Ray.", []string{f.quote}},
				{"2026-03-09 outbound call, with Dana Lee.", []string{f.call}},
				{"2026-03-08 meeting “Acme QBR”, with Dana Lee.", []string{f.meeting}},
				{"2026-03-06 note.", []string{f.review}},
				{"2026-03-03 note “Pricing recap”, by Olive Owner.", []string{f.edge}},
			},
			HandoffNextSteps: {
				{"Book the security review; due 2026-03-05, overdue; from note on 2026-03-06.", []string{f.review}},
				{"Send the revised quote; due 2026-03-12; from outbound call on 2026-03-10 (Olive Owner).", []string{f.quote}},
				{"Confirm the legal contact; no due date; from note on 2026-03-02.", []string{f.old}},
			},
			HandoffRisks: {
				{"Legal review may delay signature past quarter end — meeting on 2026-03-08.", []string{f.meeting}},
				{"Budget owner changes in April — meeting on 2026-03-08.", []string{f.meeting}},
			},
		}
		require.Equal(t, "Acme renewal (Acme) handed from Olive Owner to Lee Park: 3 open commitments (1 overdue); "+
			"5 activities in the last week; 3 next steps; 2 risks raised.", note.Headline)
		var titles []string
		for _, s := range note.Sections {
			titles = append(titles, s.Title)
			var got []line
			for _, st := range s.Statements {
				got = append(got, line{st.Text, st.ActivityIDs})
			}
			require.Equal(t, want[s.Title], got, s.Title)
			require.Zero(t, s.More, s.Title)
		}
		require.Equal(t, []string{HandoffCommitments, HandoffLastWeek, HandoffNextSteps, HandoffRisks}, titles)

		// The activity keeps the note: body is the free text, then the note
		// as plain text with its citations; metadata.handoff is the note.
		wantBody := "Olive is out sick.\n\n" + note.Headline + "\n\n" +
			"Open commitments:\n" +
			"- Ours — Olive Owner: Send the pricing sheet; due 2026-03-06, overdue. [activity " + f.meeting + "]\n" +
			"- Theirs — Dana Lee: Share the security questionnaire; no due date. [activity " + f.meeting + "]\n" +
			"- No owner named: Draft the SOW (tentative); no due date. [activity " + f.meeting + "]\n\n" +
			"Last week:\n" +
			"- 2026-03-10 outbound call (Connected), by Olive Owner, with Dana Lee, Sam Ray. [activity " + f.quote + "]\n" +
			"- 2026-03-09 outbound call, with Dana Lee. [activity " + f.call + "]\n" +
			"- 2026-03-08 meeting “Acme QBR”, with Dana Lee. [activity " + f.meeting + "]\n" +
			"- 2026-03-06 note. [activity " + f.review + "]\n" +
			"- 2026-03-03 note “Pricing recap”, by Olive Owner. [activity " + f.edge + "]\n\n" +
			"Next steps:\n" +
			"- Book the security review; due 2026-03-05, overdue; from note on 2026-03-06. [activity " + f.review + "]\n" +
			"- Send the revised quote; due 2026-03-12; from outbound call on 2026-03-10 (Olive Owner). [activity " + f.quote + "]\n" +
			"- Confirm the legal contact; no due date; from note on 2026-03-02. [activity " + f.old + "]\n\n" +
			"Risks:\n" +
			"- Legal review may delay signature past quarter end — meeting on 2026-03-08. [activity " + f.meeting + "]\n" +
			"- Budget owner changes in April — meeting on 2026-03-08. [activity " + f.meeting + "]"
		require.Equal(t, wantBody, *act.Body)
		var (
			body string
			meta struct {
				From    string          `json:"from_owner_id"`
				To      string          `json:"to_owner_id"`
				Handoff json.RawMessage `json:"handoff"`
			}
		)
		require.NoError(t, f.tx.QueryRow(ctx, `SELECT body, metadata FROM activities WHERE org_id = $1 AND id = $2`,
			f.orgID, act.ID).Scan(&body, &meta))
		require.Equal(t, wantBody, body)
		require.Equal(t, f.olive, meta.From)
		require.Equal(t, f.lee, meta.To)
		noteJSON, err := json.Marshal(note)
		require.NoError(t, err)
		require.JSONEq(t, string(noteJSON), string(meta.Handoff))

		// Handing it back: the first handoff is now the newest activity of
		// the week, and no note ever cites the handoff it is written into.
		var back Handoffs
		_, act2, _, err := f.store.DealReassign(ctx, f.orgID, f.renewal, crm.ReassignInput{OwnerID: f.olive}, back.Compose)
		require.NoError(t, err)
		week := back.Note(f.renewal).Sections[1]
		require.Equal(t, "2026-03-10 handoff “Deal Acme renewal reassigned from…”, by Lee Park.", week.Statements[0].Text)
		require.Equal(t, []string{act.ID}, week.Statements[0].ActivityIDs)
		require.True(t, strings.HasPrefix(*act2.Body, "Acme renewal (Acme) handed from Lee Park to Olive Owner: "), *act2.Body)
		for _, s := range back.Note(f.renewal).Sections {
			for _, st := range s.Statements {
				require.NotContains(t, st.ActivityIDs, act2.ID)
			}
		}
	})

	t.Run("DoneItemsAndNoActivity", func(t *testing.T) {
		t.Parallel()
		f := handoffSetup(t)
		for _, id := range f.items {
			_, err := f.store.ActionItemSetStatus(ctx, f.orgID, id, crm.ActionDone)
			require.NoError(t, err)
		}
		// Nine days later: the week is empty and the meeting is still within
		// the risk window.
		f.now = f.now.Add(9 * 24 * time.Hour)
		var notes Handoffs
		_, _, _, err := f.store.DealReassign(ctx, f.orgID, f.expansion, crm.ReassignInput{OwnerID: f.lee}, notes.Compose)
		require.NoError(t, err)
		note := notes.Note(f.expansion)
		require.Equal(t, "Acme expansion (Acme) handed from unassigned to Lee Park: no open commitments; "+
			"no activity in the last week; 3 next steps; 2 risks raised.", note.Headline)
		require.Empty(t, note.Sections[0].Statements)
		require.Empty(t, note.Sections[1].Statements)
		// 2026-03-12 is before 2026-03-19 now: overdue too.
		require.Equal(t, "Send the revised quote; due 2026-03-12, overdue; from outbound call on 2026-03-10 (Olive Owner).",
			note.Sections[2].Statements[1].Text)
		require.Contains(t, HandoffText(note), "\n\nOpen commitments: none.\n\nLast week: none.\n\nNext steps:\n- ")
	})
}

// TestComposeHandoffCaps checks the caps and their "…and N more" lines on
// made-up facts (no database).
func TestComposeHandoffCaps(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	ref := func(i int) store.BriefRef {
		return store.BriefRef{ID: fmt.Sprintf("a%02d", i), Type: crm.ActivityNote, OccurredAt: now.Add(-time.Duration(i) * time.Hour)}
	}
	f := store.HandoffFacts{Now: now, Deal: crm.Deal{ID: "d", Name: "Big deal"}, AccountName: "Acme", ToName: "Lee"}
	owner := "Sam"
	for i := range 11 {
		side := []store.BriefSide{store.BriefOurs, store.BriefTheirs, store.BriefUnknown}[i%3]
		it := store.BriefActionItem{Side: side, Meeting: ref(i),
			Item: crm.ActionItem{Text: fmt.Sprintf("Item %d", i), Owner: &owner}}
		if i >= 9 {
			d := crm.Date{Time: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
			it.Item.DueDate = &d
		}
		f.OpenActionItems = append(f.OpenActionItems, it)
	}
	f.OpenTotal, f.OpenOverdue = 11, 2
	for i := range 10 {
		f.Week = append(f.Week, store.HandoffActivity{Ref: ref(i)})
	}
	f.WeekTotal = 12 // two more than were loaded
	for i := range 6 {
		f.NextSteps = append(f.NextSteps, store.HandoffNextStep{Ref: ref(i), Text: fmt.Sprintf("Step %d", i)})
	}
	f.NextStepsTotal = 6
	m := store.BriefMeeting{Meeting: ref(1)}
	for i := range 5 {
		m.Risks = append(m.Risks, crm.Point{Text: fmt.Sprintf("Risk %d", i)})
	}
	m.Risks = append(m.Risks, crm.Point{Text: "risk  0"}) // a duplicate, dropped
	f.Meetings = []store.BriefMeeting{m}

	note := ComposeHandoff(f)
	require.Equal(t, "Big deal (Acme) handed from unassigned to Lee: 11 open commitments (2 overdue); "+
		"12 activities in the last week; 6 next steps; 5 risks raised.", note.Headline)
	last := func(s BriefSection) BriefStatement { return s.Statements[len(s.Statements)-1] }

	c := note.Sections[0]
	require.Len(t, c.Statements, handoffMaxCommitments+1)
	require.Equal(t, 3, c.More)
	// Items 8 (unknown), 9 (ours, overdue) and 10 (theirs, overdue) are left out.
	require.Equal(t, BriefStatement{Text: "…and 3 more (1 ours, 1 theirs, 1 unclear, 2 overdue).", ActivityIDs: []string{"a08", "a09", "a10"}}, last(c))

	w := note.Sections[1]
	require.Len(t, w.Statements, handoffMaxWeek+1)
	require.Equal(t, 4, w.More)
	require.Equal(t, BriefStatement{Text: "…and 4 more activities.", ActivityIDs: []string{"a08", "a09"}}, last(w))

	n := note.Sections[2]
	require.Len(t, n.Statements, handoffMaxNextSteps+1)
	require.Equal(t, BriefStatement{Text: "…and 1 more next step.", ActivityIDs: []string{"a05"}}, last(n))

	r := note.Sections[3]
	require.Len(t, r.Statements, handoffMaxRisks+1)
	require.Equal(t, 2, r.More)
	require.Equal(t, BriefStatement{Text: "…and 2 more.", ActivityIDs: []string{"a01"}}, last(r))

	// Every statement cites at least one activity.
	for _, s := range note.Sections {
		for _, st := range s.Statements {
			require.NotEmpty(t, st.ActivityIDs, "%s: %s", s.Title, st.Text)
		}
	}
}
