package summarize_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/prompts"
	"logbook/summarize"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	seg := func(text string) crm.Segment { return crm.Segment{Speaker: "A", Text: text} }
	many := make([]crm.Segment, 11)
	for i := range many {
		many[i] = seg("hello there")
	}
	cfg := summarize.Config{MaxSegments: 10, MaxSegmentChars: 1000, MaxTotalTokens: 500}
	for name, tc := range map[string]struct {
		segs []crm.Segment
		want string
	}{
		"Fine":             {[]crm.Segment{seg("We agreed on the pilot.")}, ""},
		"Empty":            {nil, "no speech found"},
		"TooManyTurns":     {many, "11 speaker turns; at most 10"},
		"BlobNoBreaks":     {[]crm.Segment{seg(strings.Repeat("x", 4000))}, "4 KB in one stretch with no sentence breaks"},
		"ParagraphNoTurns": {[]crm.Segment{seg(strings.Repeat("We talked. ", 200))}, "no speaker turns or timestamps"},
		"TooManyTokens":    {[]crm.Segment{seg(strings.Repeat("a ", 450)), seg(strings.Repeat("b ", 450)), seg(strings.Repeat("c ", 450))}, "too long"},
		"EmptyTurns":       {[]crm.Segment{seg(""), seg(" ")}, "segments are empty"},
		"NoWords":          {[]crm.Segment{seg("... 12:04 ?!"), seg(strings.Repeat("Zm9v", 20))}, "hold no words"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := summarize.Check(cfg, tc.segs)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			var rej *summarize.RejectedError
			require.ErrorAs(t, err, &rej)
			require.Contains(t, rej.Reason, tc.want)
			require.ErrorIs(t, err, llm.ErrPermanent)
			require.ErrorIs(t, err, crm.ErrInvalid)
		})
	}
}

// TestRejectedBeforeAnyCall: a transcript over the limits costs no call.
func TestRejectedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	m := meeting()
	m.Segments = []crm.Segment{{Speaker: "A", Text: strings.Repeat("x", summarize.DefaultMaxSegmentChars+1)}}
	fake := &scripted{reply: answer(t, goodNotes())}
	_, err := summarize.New(fake, summarize.Config{}).Notes(context.Background(), m)
	var rej *summarize.RejectedError
	require.ErrorAs(t, err, &rej)
	require.Empty(t, fake.requests())
}

// TestFollowUpFailureKeepsNotes: the notes come back with a *FollowUpError
// when only the draft fails.
func TestFollowUpFailureKeepsNotes(t *testing.T) {
	t.Parallel()
	good := answer(t, goodNotes())
	refused := errors.New("openai: chat: status 503: overloaded")
	fake := &scripted{reply: func(n int, req llm.CompletionRequest) (llm.Completion, error) {
		if req.Purpose == prompts.PurposeFollowUp {
			return llm.Completion{}, refused
		}
		return good(n, req)
	}}
	n, _, err := summarize.New(fake, summarize.Config{}).NotesWithStats(context.Background(), meeting())
	var fe *summarize.FollowUpError
	require.ErrorAs(t, err, &fe)
	require.ErrorIs(t, err, refused)
	require.NotEmpty(t, n.Summary)
	require.Len(t, n.ActionItems, 1)
	require.Nil(t, n.FollowUp)
}
