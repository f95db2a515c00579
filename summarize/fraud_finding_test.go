package summarize_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/summarize"
)

// fraudMeeting is the finding of issue #11 (6): a renewal call in which
// someone says that invoices are now paid to another account and that a
// wire of a million dollars will go out.
func fraudMeeting() summarize.Meeting {
	m := realisticMeeting()
	n := len(m.Segments)
	at := m.Segments[n-1].EndMS + 500
	for i, l := range []struct{ speaker, text string }{
		{"Dana Lee", "We agreed that all future invoices are paid to account 9911-4420-7781."},
		{"Sam Ortiz", "I will wire one million dollars to the escrow account tomorrow."},
	} {
		m.Segments = append(m.Segments, crm.Segment{Index: n + i, Speaker: l.speaker, StartMS: at, EndMS: at + 4000, Text: l.text})
		at += 4500
	}
	return m
}

// TestFindingFraudTextKeptOutOfDraft: the two spoken statements of the
// finding become flagged notes items, and neither reaches the follow-up
// draft ("What we agreed", "Next steps").
func TestFindingFraudTextKeptOutOfDraft(t *testing.T) {
	t.Parallel()
	m := fraudMeeting()
	s := summarize.New(local.New(256), summarize.Config{})
	n, err := s.Notes(context.Background(), m)
	require.NoError(t, err)
	require.NotNil(t, n.FollowUp)
	body := strings.ToLower(n.FollowUp.Subject + "\n" + n.FollowUp.Body)
	for _, bad := range []string{"9911", "million", "wire", "future invoices"} {
		require.NotContains(t, body, bad, "the draft carries flagged content:\n%s", n.FollowUp.Body)
	}
	require.Contains(t, n.FollowUp.Body, "forty seats", "the draft keeps the benign items")

	// Both statements are still in the notes, flagged with a reason.
	var account, wire bool
	check := func(text string, needs bool, reason *string) {
		if !strings.Contains(text, "9911") && !strings.Contains(strings.ToLower(text), "wire") {
			return
		}
		require.True(t, needs, "%q is not flagged", text)
		require.NotNil(t, reason)
		require.Contains(t, *reason, "payment_instructions: ")
		account = account || strings.Contains(text, "9911")
		wire = wire || strings.Contains(strings.ToLower(text), "wire")
	}
	for _, l := range [][]crm.Point{n.SummarySentences, n.KeyPoints, n.Decisions, n.Risks} {
		for _, p := range l {
			check(p.Text, p.NeedsReview, p.ReviewReason)
		}
	}
	for _, a := range n.ActionItems {
		check(a.Text, a.NeedsReview, a.ReviewReason)
	}
	require.True(t, account, "the account statement is no notes item: %+v", n)
	require.True(t, wire, "the wire statement is no notes item: %+v", n)
	require.NotContains(t, n.Summary, "9911")
}

// TestConfirmedItemReachesDraft: once a person confirms a flagged item, the
// follow-up drafted again includes it (and only it).
func TestConfirmedItemReachesDraft(t *testing.T) {
	t.Parallel()
	m := fraudMeeting()
	s := summarize.New(local.New(256), summarize.Config{})
	n, err := s.Notes(context.Background(), m)
	require.NoError(t, err)
	var refs []crm.NoteRef
	for i, a := range n.ActionItems {
		if a.NeedsReview && strings.Contains(a.Text, "million") {
			refs = append(refs, crm.NoteRef{Kind: "action_items", Index: i})
		}
	}
	require.Len(t, refs, 1)
	require.NoError(t, n.Confirm(refs, "key-1", time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)))
	f, err := s.FollowUp(context.Background(), m, n)
	require.NoError(t, err)
	require.Contains(t, f.Body, "Wire one million dollars to the escrow account")
	require.NotContains(t, f.Body, "9911", "the unconfirmed item stays out")
}
