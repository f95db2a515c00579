package local

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/prompts"
)

// notesOf runs the notes extraction over turns given as "Speaker: text".
func notesOf(t *testing.T, turns ...string) llm.NotesOutput {
	t.Helper()
	in := &prompts.NotesInput{MeetingDate: meetingDate, Window: 1, Windows: 1}
	for i, turn := range turns {
		sp, text, ok := strings.Cut(turn, ": ")
		require.True(t, ok, turn)
		in.Segments = append(in.Segments, crm.Segment{Index: i, Speaker: sp, Text: text})
	}
	out, err := notes(context.Background(), in)
	require.NoError(t, err)
	return out
}

func segmentsOf(cs []llm.Claim) []int {
	var out []int
	for _, c := range cs {
		out = append(out, c.Segments[0])
	}
	return out
}

func TestDecisionRules(t *testing.T) {
	t.Parallel()
	t.Run("ChoiceAgreedByOthers", func(t *testing.T) {
		t.Parallel()
		out := notesOf(t,
			"Lead: So we're going with the aluminium frame for the first batch.",
			"Engineer: Yeah.",
			"Analyst: Okay, fine.")
		require.Equal(t, []int{0}, segmentsOf(out.Decisions))
	})
	t.Run("ChoiceArguedWith", func(t *testing.T) {
		t.Parallel()
		out := notesOf(t,
			"Lead: So we're going with the aluminium frame for the first batch.",
			"Engineer: No, the steel one is cheaper.")
		require.Empty(t, out.Decisions)
	})
	t.Run("StatementConfirmedOnce", func(t *testing.T) {
		t.Parallel()
		out := notesOf(t,
			"Lead: We confirmed that we're going with the aluminium frame",
			"Engineer: Yeah.",
			"Analyst: The frame is heavy, I think.")
		require.Equal(t, []int{0}, segmentsOf(out.Decisions))
	})
	t.Run("ThingRuledOut", func(t *testing.T) {
		t.Parallel()
		// said of the thing itself, agreed by one other
		out := notesOf(t,
			"Engineer: Okay, the diesel van is definitely out.",
			"Lead: Yeah.")
		require.Equal(t, []int{0}, segmentsOf(out.Decisions))
	})
	t.Run("AlternativeNamed", func(t *testing.T) {
		t.Parallel()
		// a choice against a named alternative needs no answer
		out := notesOf(t, "Engineer: We want to go for leased vans instead of cargo bikes.")
		require.Equal(t, []int{0}, segmentsOf(out.Decisions))
	})
	t.Run("NotDecisions", func(t *testing.T) {
		t.Parallel()
		for _, turns := range [][]string{
			// a recap of an earlier meeting
			{"Lead: As we discussed last time, we're going with the aluminium frame.", "Engineer: Yeah.", "Analyst: Right."},
			// a supposition
			{"Lead: If we go with the aluminium frame the price goes up.", "Engineer: Yeah.", "Analyst: Right."},
			// someone else's choice
			{"Analyst: Most customers go for the cheapest frame in the shop.", "Engineer: Yeah.", "Lead: Right."},
			// a question nobody confirms
			{"Lead: So are we going with the aluminium frame?", "Engineer: I am not sure yet about that."},
			// a plan without the team's agreement
			{"Lead: We'll have a short break and then the presentations."},
			// retold, asked without its mark, still to come
			{"Lead: As we agreed, we're going with the aluminium frame.", "Engineer: Yeah.", "Analyst: Right."},
			// (said as a statement, one "yeah" would make it a decision; asked,
			// it takes two)
			{"Lead: Have we confirmed that we're going with the aluminium frame", "Engineer: Yeah.", "Analyst: The frame is heavy, I think."},
			{"Lead: I think you two should come to a consensus about the frame material.", "Engineer: Yeah.", "Analyst: Right."},
			// a cue with nothing decided after it
			{"Lead: We decided, because of that.", "Engineer: Yeah.", "Analyst: Right."},
		} {
			require.Empty(t, notesOf(t, turns...).Decisions, "%q", turns)
		}
	})
}

func TestRiskRules(t *testing.T) {
	t.Parallel()
	for _, said := range []string{
		"Engineer: The refrigerated trailer is too expensive for our budget.",
		"Engineer: The problem is that the bread goes stale in a day.",
		"Engineer: It might interfere with the morning deliveries.",
		"Analyst: If the supplier is late, that's a deal breaker for the launch.",
	} {
		out := notesOf(t, said)
		require.Len(t, out.Risks, 1, said)
	}
	for _, said := range []string{
		// negated concerns
		"Engineer: You don't have to worry about the ovens at all.",
		"Engineer: The packaging is not very expensive to make.",
		"Engineer: That's no problem for the factory.",
		// an idiom, not a concern
		"Engineer: As far as the timing is concerned, we like Tuesdays.",
		// a question
		"Analyst: Is the packaging too expensive for us?",
		// a risk said to be small, a question without its mark, trouble
		// with the meeting itself
		"Engineer: I'd say the leased van is the lower risk route.",
		"Analyst: What are the hard limits for the pilot.",
		"Engineer: It's very difficult to show that on this screen.",
		// a concern looking back
		"Analyst: The only problem was that we had too little time in the first session.",
	} {
		require.Empty(t, notesOf(t, said).Risks, said)
	}
}

// TestRisksOneConcernOnce: a concern raised over a few turns is one risk.
func TestRisksOneConcernOnce(t *testing.T) {
	t.Parallel()
	out := notesOf(t,
		"Engineer: The spelt flour is expensive.",
		"Analyst: Yeah, spelt is really expensive and difficult to mill.",
		"Lead: Let's look at the next slide about the rota.")
	require.Len(t, out.Risks, 1)
}

func TestSummaryReported(t *testing.T) {
	t.Parallel()
	in := &prompts.NotesInput{MeetingDate: meetingDate, Window: 1, Windows: 1,
		Participants: []crm.Participant{{Name: "Dana Lee"}}}
	for i, turn := range []string{
		"Team Lead: So um I think we we need a smaller delivery van with a large fridge and steel shelves for the shelves.",
		"Dana Lee: I'm going to check the fridge suppliers and the steel shelves prices for the delivery van.",
		"Team Lead: Uh the delivery van should have steel shelves and a large fridge, I mean, that's what the drivers want.",
		"Engineer: The delivery van layout uses a steel floor, a large fridge and shelves on the side of the van.",
		"Team Lead: Okay.",
	} {
		sp, text, _ := strings.Cut(turn, ": ")
		in.Segments = append(in.Segments, crm.Segment{Index: i, Speaker: sp, Text: text})
	}
	out, err := notes(context.Background(), in)
	require.NoError(t, err)
	require.NotEmpty(t, out.Summary)
	words := 0
	for _, c := range out.Summary {
		words += len(strings.Fields(c.Text))
		require.Contains(t, in.Segments[c.Segments[0]].Text, c.Quote, "the quote stays verbatim")
		require.Regexp(t, `^(Team Lead|Dana Lee|Engineer) said `, c.Text)
		for _, w := range []string{" um ", " uh ", "we we", " I ", " I'm ", " we ", "I mean"} {
			require.NotContains(t, " "+c.Text+" ", w, c.Text)
		}
	}
	require.LessOrEqual(t, words, maxSummaryWords)
	for _, c := range out.Summary {
		if c.Segments[0] == 1 {
			require.Equal(t, "Dana Lee said they are going to check the fridge suppliers and the steel shelves prices for the delivery van.", c.Text)
		}
	}
}

func TestSummaryWordBudget(t *testing.T) {
	t.Parallel()
	var turns []string
	for i := range 40 {
		turns = append(turns, "Speaker "+string(rune('A'+i%5))+": The delivery van needs a steel floor, a long fridge life, a bright display and simple shelves for every user of the product, number "+strings.Repeat("x", i%3+1)+".")
	}
	out := notesOf(t, turns...)
	words := 0
	for _, c := range out.Summary {
		words += len(strings.Fields(c.Text))
	}
	require.NotZero(t, words)
	require.LessOrEqual(t, words, maxSummaryWords)
}
