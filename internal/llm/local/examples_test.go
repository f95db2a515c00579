package local

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/datephrase"
	"logbook/internal/llm"
	"logbook/internal/transcript"
	"logbook/prompts"
)

// TestNotesOnExamples runs the notes extraction over every sample meeting in
// examples/: no panic (a clause ending in "and" once indexed past the
// sentence), some action items, and every quote taken from its segment.
func TestNotesOnExamples(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "..", "examples")
	b, err := os.ReadFile(filepath.Join(dir, "meetings.json"))
	require.NoError(t, err)
	var ms []struct {
		File         string            `json:"file"`
		Format       string            `json:"format"`
		Participants []crm.Participant `json:"participants"`
	}
	require.NoError(t, json.Unmarshal(b, &ms))
	require.NotEmpty(t, ms)
	for _, m := range ms {
		c, err := os.ReadFile(filepath.Join(dir, m.File))
		require.NoError(t, err)
		segs, err := transcript.Parse(m.Format, c)
		require.NoError(t, err, m.File)
		res, err := New(256).Complete(context.Background(), llm.CompletionRequest{Purpose: prompts.PurposeNotes,
			Data: &prompts.NotesInput{Title: m.File, MeetingDate: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
				Participants: m.Participants, Segments: segs, Window: 1, Windows: 1}})
		require.NoError(t, err, m.File)
		var out llm.NotesOutput
		require.NoError(t, json.Unmarshal([]byte(res.Text), &out), m.File)
		require.NotEmpty(t, out.ActionItems, m.File)
		require.NotEmpty(t, out.Summary, m.File)
		for _, a := range out.ActionItems {
			require.NotEmpty(t, a.Segments, m.File)
			require.Contains(t, segs[a.Segments[0]].Text+" "+textOf(segs, a.Segments), a.Quote, m.File)
		}
	}
}

func textOf(segs []crm.Segment, idx []int) string {
	var parts []string
	for _, i := range idx {
		parts = append(parts, segs[i].Text)
	}
	return strings.Join(parts, " ")
}

func TestClauseEndingInAnd(t *testing.T) {
	t.Parallel()
	segs := []crm.Segment{{Index: 0, Speaker: "Maya Patel", Text: "I'll send the guide and"}}
	_, err := New(64).Complete(context.Background(), llm.CompletionRequest{Purpose: prompts.PurposeNotes,
		Data: &prompts.NotesInput{Segments: segs, Window: 1, Windows: 1}})
	require.NoError(t, err)
}

// TestDecisionsAreTheMeetings keeps retold or third-party "decided/agreed"
// out of the decisions, and the meeting's own in.
func TestDecisionsAreTheMeetings(t *testing.T) {
	t.Parallel()
	segs := []crm.Segment{
		{Index: 0, Speaker: "Hector Alvarez", Text: "Sorry I'm late, Teams decided to update itself."},
		{Index: 1, Speaker: "Raj Mehta", Text: "Our old tool said a customer agreed to a price increase that was never discussed."},
		{Index: 2, Speaker: "Maya Patel", Text: "We decided to keep annual billing for the pilot."},
		{Index: 3, Speaker: "Raj Mehta", Text: "And we agreed that the pilot covers twelve CSMs."},
	}
	res, err := New(64).Complete(context.Background(), llm.CompletionRequest{Purpose: prompts.PurposeNotes,
		Data: &prompts.NotesInput{Segments: segs, Window: 1, Windows: 1}})
	require.NoError(t, err)
	var out llm.NotesOutput
	require.NoError(t, json.Unmarshal([]byte(res.Text), &out))
	var got []int
	for _, d := range out.Decisions {
		got = append(got, d.Segments...)
	}
	require.ElementsMatch(t, []int{2, 3}, got)
}

// TestExampleCommitments measures the offline extraction against the
// commitments examples/meetings.json lists for each sample meeting: every
// one is found (its quote is the item's quote or lies in a segment the item
// cites), with the expected owner (except "We'll …", which names no owner by
// design) and, where the expected due phrase is a calendar date, that phrase.
func TestExampleCommitments(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "..", "..", "examples")
	b, err := os.ReadFile(filepath.Join(dir, "meetings.json"))
	require.NoError(t, err)
	var ms []struct {
		File         string            `json:"file"`
		Format       string            `json:"format"`
		Participants []crm.Participant `json:"participants"`
		Expect       struct {
			Commitments []struct {
				Owner string `json:"owner"`
				Due   string `json:"due"`
				Quote string `json:"quote"`
			} `json:"commitments"`
		} `json:"expect"`
	}
	require.NoError(t, json.Unmarshal(b, &ms))
	ref := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	total := 0
	for _, m := range ms {
		c, err := os.ReadFile(filepath.Join(dir, m.File))
		require.NoError(t, err)
		segs, err := transcript.Parse(m.Format, c)
		require.NoError(t, err)
		res, err := New(256).Complete(context.Background(), llm.CompletionRequest{Purpose: prompts.PurposeNotes,
			Data: &prompts.NotesInput{MeetingDate: ref, Participants: m.Participants, Segments: segs, Window: 1, Windows: 1}})
		require.NoError(t, err)
		var out llm.NotesOutput
		require.NoError(t, json.Unmarshal([]byte(res.Text), &out))
		for _, e := range m.Expect.Commitments {
			total++
			var hit *llm.ActionClaim
			for i, a := range out.ActionItems {
				if strings.Contains(a.Quote, e.Quote) || strings.Contains(e.Quote, a.Quote) ||
					strings.Contains(textOf(segs, a.Segments), e.Quote) {
					hit = &out.ActionItems[i]
					break
				}
			}
			require.NotNil(t, hit, "%s: no action item for %q", m.File, e.Quote)
			if !strings.HasPrefix(e.Quote, "We'll") {
				require.Equal(t, e.Owner, hit.Owner, "%s: %q", m.File, e.Quote)
			}
			if _, ok := datephrase.Resolve(e.Due, ref); ok {
				require.Contains(t, strings.ToLower(hit.Due), strings.ToLower(strings.TrimPrefix(e.Due, "by ")), "%s: %q", m.File, e.Quote)
			}
		}
	}
	require.GreaterOrEqual(t, total, 15)
}
