package local

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/prompts"
)

// A long segment without punctuation (speech recognition output) full of
// cues stays fast.
func TestNotesRunOnSegment(t *testing.T) {
	t.Parallel()
	text := strings.Repeat("I'll be there and can you hear me and Priya will I think we agreed to the risk if it isn't ready by Friday ", 400)
	in := &prompts.NotesInput{MeetingDate: meetingDate, Segments: []crm.Segment{
		{Index: 0, Speaker: "Priya", Text: text}, {Index: 1, Speaker: "Sam", Text: text},
	}}
	start := time.Now()
	out, err := notes(context.Background(), in)
	require.NoError(t, err)
	// Linear: ~0.1 s; a quadratic scan would take minutes. Generous for
	// the race detector on a loaded machine.
	require.Less(t, time.Since(start), 10*time.Second)
	for _, a := range out.ActionItems {
		require.Contains(t, in.Segments[a.Segments[0]].Text, a.Quote)
	}
}

func TestNotesWeOwners(t *testing.T) {
	t.Parallel()
	in := &prompts.NotesInput{MeetingDate: meetingDate, Segments: []crm.Segment{
		{Index: 0, Speaker: "Dana", Text: "Sam, we'll need the revised quote by Friday."},
		{Index: 1, Speaker: "Dana", Text: "Priya, we'll send you the contract on Monday."},
		{Index: 2, Speaker: "Sam", Text: "We'll have Dana book the onsite workshop for April 2."},
		{Index: 3, Speaker: "Priya", Text: "I'll do it."},
	}, Participants: []crm.Participant{{Name: "Sam Ortiz"}, {Name: "Priya Raman"}}}
	out, err := notes(context.Background(), in)
	require.NoError(t, err)
	require.Len(t, out.ActionItems, 3, "%+v", out.ActionItems)
	require.Equal(t, "Sam", out.ActionItems[0].Owner)
	require.Empty(t, out.ActionItems[1].Owner)
	require.Equal(t, "on Monday", out.ActionItems[1].Due)
	require.Equal(t, "Dana", out.ActionItems[2].Owner)
	require.Equal(t, "Book the onsite workshop for April 2", out.ActionItems[2].Text)
	require.Equal(t, "for April 2", out.ActionItems[2].Due)
}

func TestNotesSpokenForms(t *testing.T) {
	t.Parallel()
	in := &prompts.NotesInput{MeetingDate: meetingDate, Participants: []crm.Participant{{Name: "Tom Becker"}}, Segments: []crm.Segment{
		{Index: 0, Speaker: "Ana", Text: "So I'll send over the proposal, and Tom, can you get legal to review it by end of month?"},
		{Index: 1, Speaker: "Ben", Text: "uh yeah so i'll i'll get the pricing over to you by eod tomorrow"},
		{Index: 2, Speaker: "Ana", Text: "Maybe I'll send the deck Friday, okay?"},
		{Index: 3, Speaker: "Ben", Text: "Tom's going to draft the SOW."},
		{Index: 4, Speaker: "Ana", Text: "I'll be honest with you. Let me share my screen. We'll see how it goes. I can't make it on Friday."},
		{Index: 5, Speaker: "Ben", Text: "Would you be open to a pilot? Can you walk me through the pricing?"},
	}}
	out, err := notes(context.Background(), in)
	require.NoError(t, err)
	type got struct {
		seg              int
		owner, due, text string
		tentative        bool
	}
	var items []got
	for _, a := range out.ActionItems {
		items = append(items, got{a.Segments[0], a.Owner, a.Due, a.Text, a.Tentative})
	}
	require.Equal(t, []got{
		{0, "Ana", "", "Send over the proposal", false},
		{0, "Tom Becker", "by end of month", "Get legal to review it by end of month", false},
		{1, "Ben", "by eod tomorrow", "Get the pricing over to you by eod tomorrow", false},
		{2, "Ana", "Friday", "Send the deck Friday", true},
		{3, "Tom Becker", "", "Draft the SOW", false},
	}, items)
}
