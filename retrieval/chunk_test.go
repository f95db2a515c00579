package retrieval

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

func seg(i int, speaker, text string) crm.Segment {
	return crm.Segment{Index: i, Speaker: speaker, StartMS: int64(i) * 5000, EndMS: int64(i)*5000 + 4000, Text: text}
}

func TestChunkTranscriptKeepsTurnsAndSentences(t *testing.T) {
	var segs []crm.Segment
	for i := range 40 {
		// 2 sentences of 12 words each per turn.
		segs = append(segs, seg(i, []string{"Dana Lee", "Maya Patel"}[i%2],
			fmt.Sprintf("Turn %d starts with eleven more words in this one sentence here. Then a second sentence of turn %d follows right after.", i, i)))
	}
	cs := ChunkTranscript(segs)
	require.Greater(t, len(cs), 2)
	covered := map[int]bool{}
	for i, c := range cs {
		require.Equal(t, i, c.Position)
		require.Equal(t, crm.ChunkTranscript, c.Kind)
		require.LessOrEqual(t, countWords(c.Text), MaxWords)
		lines := strings.Split(c.Text, "\n")
		require.Len(t, c.Lines, len(lines))
		for j, l := range c.Lines {
			// Every line is a whole turn, "Speaker: text", at its offset.
			seg := segs[*l.Segment]
			require.Equal(t, *l.Speaker+": "+seg.Text, lines[j])
			require.True(t, strings.HasPrefix(c.Text[l.Offset:], lines[j]))
			require.Equal(t, seg.StartMS, *l.StartMS)
			covered[*l.Segment] = true
		}
		require.Equal(t, *c.Lines[0].Segment, *c.SegFirst)
		require.Equal(t, *c.Lines[len(c.Lines)-1].Segment, *c.SegLast)
		require.Equal(t, segs[*c.SegFirst].StartMS, *c.StartMS)
		require.Equal(t, segs[*c.SegLast].EndMS, *c.EndMS)
		require.Equal(t, segs[*c.SegFirst].Speaker, *c.Speaker)
		if i > 0 {
			// A small overlap: the previous chunk's last (short) turn again.
			require.Equal(t, *cs[i-1].SegLast, *c.SegFirst)
		}
	}
	require.Len(t, covered, len(segs), "every turn is in some chunk")
}

func TestChunkTranscriptCutsLongTurnsBetweenSentences(t *testing.T) {
	var b strings.Builder
	for i := range 60 {
		fmt.Fprintf(&b, "Sentence number %d has exactly seven words. ", i)
	}
	long := strings.TrimSpace(b.String()) // 420 words
	cs := ChunkTranscript([]crm.Segment{seg(0, "Sam Ortiz", "Short opener here."), seg(1, "Dana Lee", long)})
	var text strings.Builder
	for _, c := range cs {
		require.LessOrEqual(t, countWords(c.Text), MaxWords)
		for _, l := range strings.Split(c.Text, "\n") {
			_, body, _ := strings.Cut(l, ": ")
			require.True(t, strings.HasSuffix(body, "."), "a cut falls between sentences: %q", body)
			if strings.HasPrefix(l, "Dana Lee: ") {
				text.WriteString(body + " ")
			}
		}
	}
	require.Contains(t, text.String(), "Sentence number 0 has")
	require.Contains(t, text.String(), "Sentence number 59 has exactly seven words.")
}

func TestChunkNotesAndActivity(t *testing.T) {
	owner := "Dana Lee"
	due, err := crm.ParseDate("2026-03-07")
	require.NoError(t, err)
	n := crm.Notes{
		Summary:         "Acme wants SSO before renewal.",
		SummaryEvidence: []crm.Evidence{{Segment: 3, StartMS: 15000, Speaker: "Dana Lee"}},
		Risks:           []crm.Point{{Text: "Budget is frozen until Q3.", Evidence: []crm.Evidence{{Segment: 9, StartMS: 45000, Speaker: "Wei Zhang"}}}},
		ActionItems:     []crm.ActionItem{{Text: "Send the SSO guide", Owner: &owner, DueDate: &due, Evidence: []crm.Evidence{{Segment: 12, StartMS: 60000, Speaker: "Maya Patel"}}}},
	}
	cs := ChunkNotes(n)
	require.Len(t, cs, 1)
	c := cs[0]
	require.Equal(t, "Summary: Acme wants SSO before renewal.\nRisk: Budget is frozen until Q3.\nAction item: Send the SSO guide (owner Dana Lee, due 2026-03-07)", c.Text)
	off := strings.Index(c.Text, "Budget")
	l := c.LineAt(off)
	require.Equal(t, "Wei Zhang", *l.Speaker)
	require.Equal(t, int64(45000), *l.StartMS)
	require.Nil(t, c.StartMS, "a notes chunk is not one moment")

	subj, body, disp := "Pricing follow-up", "Thanks for the call. As promised, the 3-year price is $42 per seat.", "connected"
	a := crm.Activity{Type: crm.ActivityCall, Subject: &subj, Body: &body, Disposition: &disp}
	cs = ChunkActivity(a)
	require.Len(t, cs, 1)
	require.Equal(t, "Call (connected): Pricing follow-up\nThanks for the call. As promised, the 3-year price is $42 per seat.", cs[0].Text)
	require.Empty(t, ChunkActivity(crm.Activity{Type: crm.ActivityCall}), "no text, no chunk")
}

func TestSentences(t *testing.T) {
	require.Equal(t, []string{"One.", "Two?", `"Three!"`, "Four 4.5 stays"},
		Sentences(`One. Two? "Three!" Four 4.5 stays`))
}
