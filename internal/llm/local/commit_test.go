package local

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/prompts"
)

// actionsOf runs the notes extraction over turns given as "Speaker: text"
// (notesOf) and returns the action items.
func actionsOf(t *testing.T, turns ...string) []llm.ActionClaim {
	t.Helper()
	return notesOf(t, turns...).ActionItems
}

func TestLemma(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"looking": "look", "making": "make", "getting": "get", "putting": "put", "sending": "send",
		"focusing": "focus", "preparing": "prepare", "send": "send", "thing": "thing",
	} {
		require.Equal(t, want, lemma(in), in)
	}
}

// TestActionsNotCommitments: questions, hypotheticals, retold plans,
// things done in the meeting, stutters and negations are never items.
func TestActionsNotCommitments(t *testing.T) {
	t.Parallel()
	for _, turns := range [][]string{
		// a stutter is not a request
		{"Ana: Well you could you could have a bigger screen on the front.", "Ben: Yeah."},
		// a question read out, and a question that is no request
		{"Ana: Would you prefer a larger display or a smaller one?", "Ben: Okay."},
		{"Ana: Will I need to prepare the budget report?"},
		// hypothetical
		{"Ana: If the supplier is late, I'll send the prototype to the lab myself."},
		// retold
		{"Ana: I thought I'll draft the report on the train."},
		// done there and then
		{"Ana: I'll just switch that back to the first slide."},
		{"Ana: Let me draw the shape on the board."},
		{"Ana: I'll plug the cable in."},
		{"Ana: I'll take notes for this call."},
		{"Ana: I'm going to present the findings now."},
		{"Ana: Sorry, I'll finish this quick."},
		// one word says nothing to do
		{"Ana: Can you see?", "Ben: Yes."},
		// negation
		{"Ana: You don't have to worry about the fridge.", "Ben: Okay."},
		{"Ana: I won't send the invoice."},
		// too vague: a weak verb, a cut-off clause
		{"Ana: We'll have a bigger budget.", "Ben: Right."},
		{"Ana: I'll check with my"},
		{"Ana: I'll ask him."},
		// a plan described, not a commitment
		{"Ana: What we're going to do is review the figures."},
		// "because you need to…" explains
		{"Ana: Because you need to put all the parts inside the crate.", "Ben: Sure."},
		// the addressee receives something, and does nothing
		{"Ana: So you'll be getting specific instructions once you go back to your desk.", "Ben: Alright."},
		// generic "you" nobody takes on
		{"Ana: With this layout you'll find the shelves easily.", "Ben: The shelves are fine."},
	} {
		require.Empty(t, actionsOf(t, turns...), "%q", turns)
	}
}

func TestActionsOwners(t *testing.T) {
	t.Parallel()
	t.Run("FirstPersonIsTheSpeaker", func(t *testing.T) {
		t.Parallel()
		got := actionsOf(t, "Team Lead: I'll send the minutes to everyone after the meeting.")
		require.Len(t, got, 1)
		require.Equal(t, "Team Lead", got[0].Owner)
		require.Equal(t, "Send the minutes to everyone after the meeting", got[0].Text)
	})
	t.Run("AssignmentTakenOn", func(t *testing.T) {
		t.Parallel()
		// the person addressed is whoever acknowledges it in the next turn
		got := actionsOf(t,
			"Team Lead: Right, for the next meeting you'll be looking at the user survey.",
			"Analyst: Okay.",
			"Engineer: Sounds fine.")
		require.Len(t, got, 1)
		require.Equal(t, "Analyst", got[0].Owner)
		require.Equal(t, "Look at the user survey", got[0].Text)
	})
	t.Run("AssignmentNotTakenOn", func(t *testing.T) {
		t.Parallel()
		got := actionsOf(t,
			"Team Lead: Right, you'll be looking at the user survey.",
			"Analyst: The survey has forty questions and most of them are about colour.")
		require.Empty(t, got)
	})
	t.Run("RoleNamedInFull", func(t *testing.T) {
		t.Parallel()
		// a speaker label of two words, said with a title word after it,
		// and "here" between the person and the verb
		got := actionsOf(t,
			"Team Lead: In the meantime, the Support Lead here is gonna work on the escalation list, and the Analyst will work on the forecast.",
			"Support Lead: Mm-hmm.",
			"Analyst: Fine.")
		require.Len(t, got, 2, "%+v", got)
		require.Equal(t, "Support Lead", got[0].Owner)
		require.Equal(t, "Work on the escalation list", got[0].Text)
		require.Equal(t, "Analyst", got[1].Owner)
	})
	t.Run("SharedHasNoOwner", func(t *testing.T) {
		t.Parallel()
		got := actionsOf(t,
			"Team Lead: And you will work together on the prototype for the next meeting.",
			"Engineer: Okay.")
		require.Len(t, got, 1)
		require.Empty(t, got[0].Owner)
	})
	t.Run("ImperativeTakenOn", func(t *testing.T) {
		t.Parallel()
		got := actionsOf(t,
			"Team Lead: So, send me your slides after the meeting.",
			"Engineer: Sure.")
		require.Len(t, got, 1)
		require.Equal(t, "Engineer", got[0].Owner)
	})
	t.Run("HedgedOfferKeptTentative", func(t *testing.T) {
		t.Parallel()
		// a hedged offer to the people there is still one, marked tentative;
		// a hedged plan of one's own is too weak to keep
		got := actionsOf(t, "Account Lead: I might be able to get you a refund for the outage.")
		require.Len(t, got, 1)
		require.True(t, got[0].Tentative)
		require.Empty(t, actionsOf(t, "Account Lead: I might be able to get the refund approved."))
	})
	t.Run("FalseStart", func(t *testing.T) {
		t.Parallel()
		got := actionsOf(t, "Team Lead: And then I'll take I can send the cost sheet back to the finance team.")
		require.Len(t, got, 1)
		require.Equal(t, "Send the cost sheet back to the finance team", got[0].Text)
	})
}

// TestActionsBudget keeps at most maxActions undated items, the strongest,
// and every item with a calendar due date besides.
func TestActionsBudget(t *testing.T) {
	t.Parallel()
	var turns []string
	for i := range 9 {
		turns = append(turns, fmt.Sprintf("Person %c: I'll send the report number %d to the board.", 'A'+i, i+1))
	}
	turns = append(turns, "Person J: I'll prepare the appendix for the next meeting.")
	turns = append(turns, "Person K: I'll send the budget by Friday.", "Person L: I'll email the venue by March 20.")
	got := actionsOf(t, turns...)
	dated, undated := 0, 0
	for _, a := range got {
		if a.Due != "" {
			dated++
		} else {
			undated++
		}
	}
	require.Equal(t, 2, dated)
	require.Equal(t, maxActions, undated)
	require.True(t, strings.HasPrefix(got[maxActions-1].Text, "Prepare the appendix"), "the strongest undated item is kept: %+v", got)
}

// TestActionsWindowShare: each window of a long meeting keeps its share of
// the undated items, so the meeting keeps at most maxActions.
func TestActionsWindowShare(t *testing.T) {
	t.Parallel()
	for wins, want := range map[int]int{1: maxActions, 2: maxActions / 2, 3: maxActions / 3, 6: 1, 9: 1} {
		in := &prompts.NotesInput{MeetingDate: meetingDate, Window: 1, Windows: wins}
		for i := range 9 {
			in.Segments = append(in.Segments, crm.Segment{Index: i, Speaker: fmt.Sprintf("Person %c", 'A'+i),
				Text: fmt.Sprintf("I'll send the report number %d to the board.", i+1)})
		}
		out, err := notes(context.Background(), in)
		require.NoError(t, err)
		require.Len(t, out.ActionItems, want, "%d windows", wins)
	}
}
