package crm

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestNotesReview(t *testing.T) {
	t.Parallel()
	reason := "payment_instructions: mentions a bank account number"
	at := time.Date(2026, 3, 3, 9, 0, 0, 0, time.FixedZone("x", 3600))
	notes := func() Notes {
		return Notes{
			Summary: "Kept.",
			SummarySentences: []Point{{Text: "Kept", Evidence: []Evidence{{Segment: 0}}},
				{Text: "Held sentence.", Evidence: []Evidence{{Segment: 1}}, NeedsReview: true, ReviewReason: &reason}},
			Decisions:   []Point{{Text: "Held decision.", NeedsReview: true, ReviewReason: &reason}, {Text: "Plain."}},
			ActionItems: []ActionItem{{ID: "a1", Text: "Held action", NeedsReview: true}, {ID: "a2", Text: "Plain action"}},
		}
	}

	t.Run("HeldAndReleasable", func(t *testing.T) {
		t.Parallel()
		n := notes()
		require.Equal(t, 3, n.Held())
		r := n.Releasable()
		require.Equal(t, []Point{{Text: "Plain."}}, r.Decisions)
		require.Len(t, r.ActionItems, 1)
		require.Len(t, r.SummarySentences, 1)
		require.Equal(t, []Evidence{{Segment: 0}}, r.SummaryEvidence)
		require.Equal(t, 3, n.Held(), "Releasable leaves n as it was")
		require.Equal(t, "Kept.", SummaryText(n.SummarySentences))
	})

	t.Run("ConfirmReleases", func(t *testing.T) {
		t.Parallel()
		n := notes()
		require.NoError(t, n.Confirm([]NoteRef{{Kind: "decisions", Index: 0}, {Kind: "action_items", ID: "a1"},
			{Kind: "summary_sentences", Index: 1, Text: "Held sentence."}}, "key-1", at))
		require.Zero(t, n.Held())
		require.Equal(t, "key-1", *n.Decisions[0].ConfirmedBy)
		require.Equal(t, at.UTC(), *n.ActionItems[0].ConfirmedAt)
		require.True(t, n.Decisions[0].NeedsReview)
		require.Equal(t, "Kept. Held sentence.", n.Summary)
		require.Len(t, n.SummaryEvidence, 2)
		// A second confirmation keeps the first.
		require.NoError(t, n.Confirm([]NoteRef{{Kind: "decisions", Index: 0}}, "key-2", at.Add(time.Hour)))
		require.Equal(t, "key-1", *n.Decisions[0].ConfirmedBy)
	})

	t.Run("BadRefsChangeNothing", func(t *testing.T) {
		t.Parallel()
		n := notes()
		err := n.Confirm([]NoteRef{{Kind: "decisions", Index: 0}, {Kind: "decisions", Index: 1},
			{Kind: "risks", Index: 0}, {Kind: "action_items", ID: "nope"}, {Kind: "key_points", ID: "a1"},
			{Kind: "summary_sentences", Index: 1, Text: "Other."}, {Kind: "x"}}, "key-1", at)
		var ve *ValidationError
		require.True(t, errors.As(err, &ve))
		var fields []string
		for _, f := range ve.Fields {
			fields = append(fields, f.Field)
		}
		require.Equal(t, []string{"items[1]", "items[2].index", "items[3].id", "items[4].id", "items[5].text", "items[6].kind"}, fields)
		require.Equal(t, 3, n.Held())
		require.Error(t, n.Confirm(nil, "key-1", at))
	})
}
