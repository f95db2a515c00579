package transcript

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

func TestParseFullMeta(t *testing.T) {
	t.Parallel()

	meetMeta := Meta{
		Title:      "Carrier portal rollout",
		StartedAt:  time.Date(2026, 5, 12, 15, 30, 0, 0, time.FixedZone("GMT+2", 2*3600)),
		Attendees:  []string{"Hannah Becker", "Kofi Mensah", "Priya Nair", "Tomás Ortega"},
		DurationMS: 702000,
	}

	t.Run("GoogleMeet", func(t *testing.T) {
		t.Parallel()
		content := readTestdata(t, "google_meet.txt")
		got, err := ParseFull("", content)
		require.NoError(t, err)
		require.Equal(t, FormatText, got.Format)
		require.Equal(t, meetMeta.Title, got.Meta.Title)
		require.True(t, meetMeta.StartedAt.Equal(got.Meta.StartedAt), got.Meta.StartedAt)
		require.Equal(t, meetMeta.Attendees, got.Meta.Attendees)
		require.Equal(t, meetMeta.DurationMS, got.Meta.DurationMS)
		require.Len(t, got.Segments, 11)
		for _, s := range got.Segments {
			require.Contains(t, meetMeta.Attendees, s.Speaker, "only attendees speak")
			require.NotContains(t, s.Text, "computer generated")
			require.NotContains(t, s.Text, "Meeting ended")
		}
	})

	t.Run("GoogleDocsTextExportWithBOMAndCRLF", func(t *testing.T) {
		t.Parallel()
		content := readTestdata(t, "google_meet.txt")
		crlf := append([]byte("\xef\xbb\xbf"), strings.ReplaceAll(string(content), "\n", "\r\n")...)
		require.Equal(t, FormatText, Detect(crlf))
		want, err := ParseFull("text", content)
		require.NoError(t, err)
		got, err := ParseFull("", crlf)
		require.NoError(t, err)
		require.Equal(t, want, got)
	})

	t.Run("MarkdownCopy", func(t *testing.T) {
		t.Parallel()
		got, err := ParseFull("", []byte(`### Roadmap review (2026-01-20 09:00 GMT-05:00) - Transcript

#### Attendees

Ana Souza, Ben Carter, Ben Carter's Presentation

This editable transcript was computer generated and might contain errors. People can also change the text after it was created.

Ana Souza: Let's start.

Ben Carter: Sure.

00:05:00

Ana Souza: That's all.

### Meeting ended after 00:06:00 👋

  
**

*This editable transcript was computer generated and might contain errors. People can also change the text after it was created.*
`))
		require.NoError(t, err)
		require.Equal(t, "Roadmap review", got.Meta.Title)
		require.True(t, time.Date(2026, 1, 20, 14, 0, 0, 0, time.UTC).Equal(got.Meta.StartedAt), got.Meta.StartedAt)
		require.Equal(t, []string{"Ana Souza", "Ben Carter"}, got.Meta.Attendees)
		require.Equal(t, int64(360000), got.Meta.DurationMS)
		require.Equal(t, []crm.Segment{
			seg(0, "Ana Souza", 0, 200000, "Let's start."),
			seg(1, "Ben Carter", 200000, 300000, "Sure."),
			seg(2, "Ana Souza", 300000, 360000, "That's all."),
		}, got.Segments)
	})

	t.Run("NamesWithoutAttendeesLine", func(t *testing.T) {
		t.Parallel()
		// Some copies list the names right after the title; a title may
		// hold a colon.
		got, err := ParseFull("", []byte("Roadmap: Q3 planning (2026-01-20 09:00 GMT) - Transcript\n"+
			"Ana Souza, Ben Carter\n"+
			"This editable transcript was computer generated and might contain errors. People can also change the text after it was created.\n"+
			"Ana Souza: hi\nBen: hello\nBudget Review: we are over.\n"))
		require.NoError(t, err)
		require.Equal(t, Meta{
			Title:     "Roadmap: Q3 planning",
			StartedAt: time.Date(2026, 1, 20, 9, 0, 0, 0, time.FixedZone("GMT", 0)),
			Attendees: []string{"Ana Souza", "Ben Carter"},
		}, got.Meta)
		// "Ben" names an attendee; "Budget Review", used once and naming
		// none, is text.
		require.Equal(t, []crm.Segment{
			seg(0, "Ana Souza", 0, 0, "hi"),
			seg(1, "Ben", 0, 0, "hello Budget Review: we are over."),
		}, got.Segments)
	})

	t.Run("AttendeeLabelInAnyCase", func(t *testing.T) {
		t.Parallel()
		got, err := ParseFull("text", []byte("Sync - Transcript\nAttendees\nDana Lee, An Tran\nTranscript\n"+
			"dana lee: hi\nan tran: hello\n"))
		require.NoError(t, err)
		require.Equal(t, []crm.Segment{seg(0, "dana lee", 0, 0, "hi"), seg(1, "an tran", 0, 0, "hello")}, got.Segments)
	})

	t.Run("PlainAttendeesHeader", func(t *testing.T) {
		t.Parallel()
		got, err := ParseFull("", []byte("Pricing call\nAttendees: Maya Patel; Tom Becker\n\n[00:00:05] Maya Patel: hi\n[00:00:09] Tom Becker: hello\n"))
		require.NoError(t, err)
		require.Equal(t, Meta{Title: "Pricing call", Attendees: []string{"Maya Patel", "Tom Becker"}}, got.Meta)
		require.Equal(t, []crm.Segment{seg(0, "Maya Patel", 5000, 9000, "hi"), seg(1, "Tom Becker", 9000, 9000, "hello")}, got.Segments)
	})

	t.Run("SymbolBeforeKeyword", func(t *testing.T) {
		t.Parallel()
		got, err := ParseFull("", []byte("Weekly sync - Transcript\n📖 Transcript\nDana Lee: hi\n"))
		require.NoError(t, err)
		require.Equal(t, Meta{Title: "Weekly sync"}, got.Meta)
		require.Equal(t, []crm.Segment{seg(0, "Dana Lee", 0, 0, "hi")}, got.Segments)
	})

	t.Run("AttendeesAfterTheFirstUtteranceAreSpeech", func(t *testing.T) {
		t.Parallel()
		got, err := ParseFull("", []byte("Dana Lee: hi\nAttendees: Sam Ortiz\nSam Ortiz: hello\n"))
		require.NoError(t, err)
		require.Equal(t, Meta{}, got.Meta)
		require.Equal(t, []crm.Segment{seg(0, "Dana Lee", 0, 0, "hi Attendees: Sam Ortiz"), seg(1, "Sam Ortiz", 0, 0, "hello")}, got.Segments)
	})

	t.Run("NoHeader", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"stamped.txt", "otter.txt"} {
			got, err := ParseFull("", readTestdata(t, name))
			require.NoError(t, err)
			require.Equal(t, Meta{}, got.Meta, name)
		}
		got, err := ParseFull("webvtt", readTestdata(t, "zoom.vtt"))
		require.NoError(t, err)
		require.Equal(t, FormatVTT, got.Format)
		require.Equal(t, Meta{}, got.Meta)
	})

	t.Run("BadDateStaysInTitle", func(t *testing.T) {
		t.Parallel()
		for _, title := range []string{"Sync (2026-13-40 10:00 GMT)", "Sync (2026-01-02 10:00 GMT+15)", "Sync (next week)", "Sync (2026-01-02 10:00 CET)"} {
			got, err := ParseFull("", []byte(title+" - Transcript\nAttendees\nDana Lee\nTranscript\nDana Lee: hi\n"))
			require.NoError(t, err)
			require.Equal(t, title, got.Meta.Title)
			require.True(t, got.Meta.StartedAt.IsZero())
		}
	})

	t.Run("MeetingEndedWithoutHeader", func(t *testing.T) {
		t.Parallel()
		got, err := ParseFull("", []byte("Dana Lee: hi\nSam Ortiz: yo\nMeeting ended after 00:01:00 👋\n"))
		require.NoError(t, err)
		require.Equal(t, int64(60000), got.Meta.DurationMS)
		require.Equal(t, []crm.Segment{seg(0, "Dana Lee", 0, 30000, "hi"), seg(1, "Sam Ortiz", 30000, 60000, "yo")}, got.Segments)
	})

	t.Run("MeetingEndedInProseIsText", func(t *testing.T) {
		t.Parallel()
		got, err := ParseFull("", []byte("Dana Lee: hi\nMeeting ended after 00:01:00 and then we left\n"))
		require.NoError(t, err)
		require.Zero(t, got.Meta.DurationMS)
		require.Equal(t, []crm.Segment{seg(0, "Dana Lee", 0, 0, "hi Meeting ended after 00:01:00 and then we left")}, got.Segments)
	})
}

func TestMarkersSpreadByWords(t *testing.T) {
	t.Parallel()
	got, err := Parse("text", []byte("00:00:00\nDana Lee: one two\nSam Ortiz: three four five six\n00:01:00\nDana Lee: seven\n"))
	require.NoError(t, err)
	require.Equal(t, []crm.Segment{
		seg(0, "Dana Lee", 0, 20000, "one two"),
		seg(1, "Sam Ortiz", 20000, 60000, "three four five six"),
		seg(2, "Dana Lee", 60000, 60000, "seven"),
	}, got)

	// Time that goes back is not spread; order is repaired as before.
	got, err = Parse("text", []byte("00:02:00\nDana Lee: a\nSam Ortiz: b\n00:01:00\nDana Lee: c\n"))
	require.NoError(t, err)
	require.Equal(t, []crm.Segment{
		seg(0, "Dana Lee", 60000, 120000, "c"),
		seg(1, "Dana Lee", 120000, 120000, "a"),
		seg(2, "Sam Ortiz", 120000, 120000, "b"),
	}, got)
	requireInvariants(t, got)
}
