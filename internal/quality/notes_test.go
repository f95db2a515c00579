package quality

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// The expected figures are worked out by hand from testdata/devset and
// testdata/notes.jsonl; score_notes.py prints the same on those files.
func TestScoreNotes(t *testing.T) {
	t.Parallel()

	ds := loadFixture(t)
	notes := loadNotes(t, "testdata/notes.jsonl")

	t.Run("ToleranceOne", func(t *testing.T) {
		t.Parallel()

		rep := ScoreNotes(ds, notes, 1)
		require.Equal(t, 2, rep.Meetings)
		ai := rep.ActionItems
		// "Send budget" → turn 2 (half of the turn in the quote): the budget
		// label, owner right despite case and spaces. "Junk item": no turn.
		// "Check contract" → turn 5 by start_ms: the soft label, no owner.
		// "Send budget again" → turn 2: the budget label is taken, so the
		// first free label within one turn, turn 3's, owner wrong.
		// "Meet" → turn 7 (quote inside the turn): owner right.
		require.Equal(t, 5, ai.Predicted)
		require.Equal(t, 4, ai.Matched)
		require.InDelta(t, 0.8, ratio(t, ai.Precision), 1e-12)
		require.InDelta(t, 1.0, ratio(t, ai.Recall), 1e-12)
		require.InDelta(t, 1.0, ratio(t, ai.CoreRecall), 1e-12)
		require.Equal(t, Ratio{2, 3}, ai.OwnerAccuracy)
		require.InDelta(t, 2.5, ratio(t, ai.PerMeeting), 1e-12)

		d := rep.Decisions
		// "Agreed" → turn 3, one from the launch decision (turn 4);
		// "Recap" → turn 0; "Start of call" (start_ms 0) → turn 0, taken.
		require.Equal(t, Ratio{2, 3}, d.Precision)
		require.Equal(t, Ratio{2, 3}, d.Recall)
		require.Equal(t, Ratio{1, 2}, d.NewRecall)

		r := rep.Risks
		// The quote wins over a start_ms pointing elsewhere.
		require.Equal(t, Ratio{1, 1}, r.Precision)
		require.Equal(t, Ratio{1, 2}, r.Recall)

		require.Equal(t, []FalseItem{
			{MeetingID: "TS9001a", Category: "action_items", Text: "Junk item"},
			{MeetingID: "TS9001a", Category: "decisions", Text: "Start of call"},
		}, rep.False)
		require.Equal(t, []string{"TS9001a", "TS9001b"}, rep.MeetingOrder)
		require.Equal(t, MeetingNoteCounts{
			ActionItems: NoteCounts{Predicted: 5, Matched: 4, Labels: 4},
			Decisions:   NoteCounts{Predicted: 3, Matched: 2, Labels: 2},
			Risks:       NoteCounts{Predicted: 1, Matched: 1, Labels: 1},
		}, rep.PerMeeting["TS9001a"])
		require.Equal(t, MeetingNoteCounts{Decisions: NoteCounts{Labels: 1}, Risks: NoteCounts{Labels: 1}},
			rep.PerMeeting["TS9001b"], "a labelled meeting without notes has no items")
	})

	t.Run("ToleranceZero", func(t *testing.T) {
		t.Parallel()

		rep := ScoreNotes(ds, notes, 0)
		require.Equal(t, Ratio{3, 5}, rep.ActionItems.Precision)
		require.Equal(t, Ratio{3, 4}, rep.ActionItems.Recall)
		require.Equal(t, Ratio{2, 3}, rep.ActionItems.CoreRecall)
		require.Equal(t, Ratio{2, 2}, rep.ActionItems.OwnerAccuracy)
		require.Equal(t, Ratio{1, 3}, rep.Decisions.Precision)
		require.Equal(t, Ratio{0, 2}, rep.Decisions.NewRecall)
		require.Len(t, rep.False, 4)
	})

	t.Run("NoNotes", func(t *testing.T) {
		t.Parallel()

		rep := ScoreNotes(ds, nil, 1)
		_, ok := rep.ActionItems.Precision.Value()
		require.False(t, ok, "precision of no predictions is undefined")
		require.Nil(t, rep.ActionItems.Precision.Rounded())
		require.Equal(t, Ratio{0, 4}, rep.ActionItems.Recall)
		require.Equal(t, 0.0, *rep.ActionItems.Recall.Rounded())
	})
}

func TestCoveredByQuote(t *testing.T) {
	t.Parallel()

	turns := tokenizeTurns([]Turn{
		{I: 0, Content: "one two three four five six seven eight nine ten"}, // halves of 5
		{I: 1, Content: "alpha beta gamma delta"},                           // 4 words: whole
		{I: 2, Content: "short one"},                                        // too short to match on its own
		{I: 3, Content: "We {disfmarker} will order the parts"},             // the marker is not a word
	})
	tindex := []TurnTime{{0, 0, 1000}, {1, 1000, 2000}, {2, 2000, 3000}, {3, 3000, 4000}}
	at := func(ms int64) *int64 { return &ms }
	for _, c := range []struct {
		quote string
		start *int64
		want  []int
	}{
		{"one two three four five", nil, []int{0}},           // first half
		{"six seven eight nine ten and more", nil, []int{0}}, // second half
		{"two three four five six", nil, []int{0}},           // 5 words inside the turn
		{"four five six", nil, nil},                          // 3 words: too short, neither half
		{"Alpha, beta gamma delta!", nil, []int{1}},          // whole 4-word turn
		{"short one", nil, nil},                              // 2-word turn never matches
		{"we will order the parts", nil, []int{3}},           // markers dropped
		{"nothing here matches at all", at(2500), []int{2}},  // start_ms fallback
		{"", at(0), []int{0}},                                // start 0 is an instant
		{"", at(9000), nil},                                  // after the last turn
		{"alpha beta gamma delta", at(2500), []int{1}},       // text wins over time
		{"ten alpha beta gamma delta short", nil, []int{1}},  // spans turns: only whole 4+ ones
		{"one two three four five alpha beta gamma delta", nil, []int{0, 1}},
	} {
		got := itemTurns(NoteItem{Evidence: []Evidence{{Quote: c.quote, StartMS: c.start}}}, turns, tindex)
		var list []int
		for i := range 4 {
			if got[i] {
				list = append(list, i)
			}
		}
		require.Equal(t, c.want, list, "quote %q", c.quote)
	}
}

func TestMeetingNotesDecodesAPINotes(t *testing.T) {
	t.Parallel()

	// The notes of a meeting activity as the API returns them.
	var n MeetingNotes
	require.NoError(t, json.Unmarshal([]byte(`{"summary": "s", "action_items": [{"id": "x", "text": "Send it",
		"owner": null, "due_date": null, "status": "open", "tentative": false,
		"evidence": [{"segment": 3, "start_ms": 0, "speaker": "A", "quote": "I will send it"}]}],
		"decisions": [{"text": "Go", "evidence": []}], "risks": []}`), &n))
	require.Len(t, n.ActionItems, 1)
	require.Equal(t, "", n.ActionItems[0].Owner)
	require.NotNil(t, n.ActionItems[0].Evidence[0].StartMS)
	require.Equal(t, int64(0), *n.ActionItems[0].Evidence[0].StartMS)
	require.Equal(t, "Go", n.Decisions[0].Text)
}
