package transcript

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

func seg(i int, speaker string, start, end int64, text string) crm.Segment {
	return crm.Segment{Index: i, Speaker: speaker, StartMS: start, EndMS: end, Text: text}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

type fixtureCase struct {
	name   string
	file   string
	format string
	want   []crm.Segment
}

// runFixtures parses each fixture with its format and with detection, and
// requires exactly the segments listed.
func runFixtures(t *testing.T, cases []fixtureCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			content := readTestdata(t, tc.file)
			require.Equal(t, tc.format, Detect(content))

			got, err := Parse(tc.format, content)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)

			detected, err := Parse("", content)
			require.NoError(t, err)
			require.Equal(t, tc.want, detected)
			requireInvariants(t, got)
		})
	}
}

// requireInvariants checks what every successful parse promises.
func requireInvariants(t *testing.T, segs []crm.Segment) {
	t.Helper()
	require.NotEmpty(t, segs)
	for i, s := range segs {
		require.Equal(t, i, s.Index)
		require.NotEmpty(t, s.Text, "segment %d", i)
		require.NotEmpty(t, s.Speaker, "segment %d", i)
		require.Equal(t, strings.TrimSpace(s.Text), s.Text, "segment %d", i)
		require.NotContains(t, strings.ToLower(s.Text), "<v", "segment %d", i)
		for _, field := range []string{s.Text, s.Speaker} {
			require.True(t, utf8.ValidString(field), "segment %d: %q", i, field)
			require.NotContains(t, field, "  ", "segment %d", i)
			require.Equal(t, strings.TrimSpace(field), field, "segment %d", i)
			require.False(t, strings.ContainsFunc(field, func(r rune) bool {
				return unicode.IsControl(r) || (unicode.IsSpace(r) && r != ' ') || isInvisible(r)
			}), "segment %d: %q", i, field)
		}
		require.False(t, strings.HasSuffix(s.Speaker, ":"), "segment %d: %q", i, s.Speaker)
		require.False(t, strings.HasPrefix(s.Speaker, "[") && strings.HasSuffix(s.Speaker, "]"), "segment %d: %q", i, s.Speaker)
		require.LessOrEqual(t, s.EndMS, maxMS)
		require.GreaterOrEqual(t, s.StartMS, int64(0), "segment %d", i)
		require.GreaterOrEqual(t, s.EndMS, s.StartMS, "segment %d", i)
	}
}

func TestParseVTT(t *testing.T) {
	t.Parallel()
	runFixtures(t, []fixtureCase{
		{
			name: "TeamsWithClosingTags", file: "teams.vtt", format: "vtt",
			want: []crm.Segment{
				seg(0, "Jon Okafor", 3520, 7240, "Good morning everyone, can you see my screen?"),
				seg(1, "Priya Raman", 7980, 9110, "Yes, we can."),
				seg(2, "Jon Okafor", 9600, 16300, "Great. So today I'd like to understand how your team handles carrier onboarding <today>."),
				seg(3, "Priya Raman", 16900, 29700, "Honestly? Spreadsheets. Lots of spreadsheets. And email threads nobody can find later."),
				seg(4, "Ken Adams", 30200, 31000, "Mm-hmm."),
				seg(5, "Jon Okafor", 31400, 38900, "That's exactly what we hear from most logistics teams."),
			},
		},
		{
			name: "TeamsWithoutClosingTags", file: "teams_noclose.vtt", format: "vtt",
			want: []crm.Segment{
				seg(0, "Jon Okafor", 0, 4200, "Thanks for joining, Ken."),
				seg(1, "Ken Adams", 4800, 12500, "Happy to. I've got a hard stop at half past. So let's make it count."),
				seg(2, "Jon Okafor", 13100, 18750, "Understood. First question: who signs off on new tools?"),
				seg(3, "Ken Adams", 19000, 23000, "That would be our CFO, Grace Liu."),
				seg(4, "Jon Okafor", 19000, 23000, "Got it."),
				seg(5, "Unknown", 23500, 25000, "Sorry, who just joined?"),
			},
		},
		{
			name: "Zoom", file: "zoom.vtt", format: "vtt",
			want: []crm.Segment{
				seg(0, "Maya Patel", 2140, 5880, "Hi Dana, thanks for making the time today."),
				seg(1, "Dana Lee", 6210, 12400, "Of course. Sam should be joining in a minute, he's wrapping up another call."),
				seg(2, "Maya Patel", 13020, 19730, "No problem. I wanted to walk through usage & adoption first, and then talk about the renewal."),
				seg(3, "Sam Ortiz", 20100, 24560, "Hey all, sorry I'm late."),
				seg(4, "Maya Patel", 25000, 31250, "Welcome, Sam. Quick recap: 212 active users out of 250 seats."),
				// 38.75 s of silence: the same speaker starts a new segment.
				seg(5, "Maya Patel", 70000, 74480, "Sorry, my connection dropped. Can you hear me now?"),
				seg(6, "Dana Lee", 75020, 86100, "Yes, loud and clear. Note: we still need the SSO piece before we expand to the warehouse teams."),
			},
		},
		{
			// Roll-up captions: every line once, inline timestamps gone,
			// the 10 ms repeat cues dropped, " " lines inside cues kept
			// as part of the cue.
			name: "YouTubeAutoCaptions", file: "youtube_auto.vtt", format: "vtt",
			want: []crm.Segment{
				seg(0, "Unknown", 160, 10500, "so today we're going to look at how the new scheduler picks a worker and what happens when a job fails twice in a row"),
			},
		},
		{
			// No blank line between cues: each timing line (after an
			// identifier or not, with settings or not) starts a cue.
			name: "CuesWithoutBlankLines", file: "noblank.vtt", format: "vtt",
			want: []crm.Segment{
				seg(0, "Lena Ruiz", 1000, 6000, "Welcome back to the weekly demo. Today we look at the new scheduler."),
				seg(1, "Omar Haddad", 6000, 9000, "It runs every job on its own worker."),
				seg(2, "Lena Ruiz", 9200, 11000, "And when a job fails?"),
			},
		},
	})

	t.Run("YouTubeWithoutBlankLines", func(t *testing.T) {
		t.Parallel()
		var kept []string
		for _, l := range strings.Split(string(readTestdata(t, "youtube_auto.vtt")), "\n") {
			if l != "" {
				kept = append(kept, l)
			}
		}
		got, err := Parse("vtt", []byte(strings.Join(kept, "\n")))
		require.NoError(t, err)
		require.Equal(t, []crm.Segment{
			seg(0, "Unknown", 160, 10500, "so today we're going to look at how the new scheduler picks a worker and what happens when a job fails twice in a row"),
		}, got)
	})

	t.Run("RepeatedLinesWithoutRollUpStay", func(t *testing.T) {
		t.Parallel()
		// Two people saying the same thing in a row is not roll-up.
		got, err := Parse("vtt", []byte("WEBVTT\n\n00:01.000 --> 00:02.000\nThank you.\n\n00:02.000 --> 00:03.000\nThank you.\n\n"+
			"00:03.000 --> 00:04.000\nThank you.\nSee you next week.\n\n00:04.000 --> 00:05.000\nBye.\nBye now.\n"))
		require.NoError(t, err)
		require.Equal(t, []crm.Segment{seg(0, "Unknown", 1000, 5000, "Thank you. Thank you. Thank you. See you next week. Bye. Bye now.")}, got)
	})

	t.Run("WhitespaceLineBeforeTextWithoutTiming", func(t *testing.T) {
		t.Parallel()
		// A line of spaces followed by text is inside the cue; after an
		// empty line, text without a timing continues the last cue.
		got, err := Parse("vtt", []byte("WEBVTT\n\n00:01.000 --> 00:02.000\n \nDana Lee: one\n \ntwo\n\nthree\n"))
		require.NoError(t, err)
		require.Equal(t, []crm.Segment{seg(0, "Dana Lee", 1000, 2000, "one two three")}, got)
	})
}

func TestParseSRT(t *testing.T) {
	t.Parallel()
	runFixtures(t, []fixtureCase{
		{
			name: "Onboarding", file: "sample.srt", format: "srt",
			want: []crm.Segment{
				seg(0, "Maya Patel", 1000, 8250, "Welcome to the onboarding kickoff. I'll share the project plan after this call."),
				seg(1, "Carlos Mendez", 9000, 15000, "Thanks. Can we start with SSO? Our IdP is Okta."),
				seg(2, "Jon Okafor", 15500, 25000, "Sure. SCIM provisioning is included in your plan. It just needs an admin token. [laughter]"),
				seg(3, "Carlos Mendez", 25500, 28000, "Perfect."),
				seg(4, "Jon Okafor", 25500, 30000, "One more thing: we'll need your user list by March 10."),
			},
		},
	})

	t.Run("CuesWithoutBlankLines", func(t *testing.T) {
		t.Parallel()
		got, err := Parse("srt", []byte("1\n00:00:01,000 --> 00:00:02,000\nDana Lee: hi\n2\n00:00:03,000 --> 00:00:04,000 X1:10\nSam Ortiz: yo\n"+
			"00:00:05,000 --> 00:00:06,000\nDana Lee: bye\n"))
		require.NoError(t, err)
		require.Equal(t, []crm.Segment{
			seg(0, "Dana Lee", 1000, 2000, "hi"),
			seg(1, "Sam Ortiz", 3000, 4000, "yo"),
			seg(2, "Dana Lee", 5000, 6000, "bye"),
		}, got)
	})
}

func TestParseText(t *testing.T) {
	t.Parallel()
	runFixtures(t, []fixtureCase{
		{
			name: "Otter", file: "otter.txt", format: "text",
			want: []crm.Segment{
				seg(0, "Alex Kim", 3000, 9000, "Okay, I think we're recording. Thanks for joining on short notice, everyone."),
				seg(1, "Rachel Green", 9000, 24000, "Thanks, Alex. I'll be honest, the last two weeks have been rough for our support team. The sync jobs keep failing overnight."),
				seg(2, "Alex Kim", 24000, 31000, "I'm really sorry about that. Can you walk me through what you're seeing?"),
				seg(3, "Rachel Green", 31000, 105000, "Sure. Every night around 2am the export stalls, and by morning the dashboards are empty."),
				seg(4, "Rachel Green", 105000, 112000, "And that's when our managers start calling me."),
				seg(5, "Speaker 3", 112000, 118000, "This is Ben from IT, just joined."),
				seg(6, "Alex Kim", 118000, 118000, "Hi Ben. We'll send a root cause analysis by Friday."),
			},
		},
		{
			name: "Stamped", file: "stamped.txt", format: "text",
			want: []crm.Segment{
				seg(0, "Unknown", 0, 5000, "Pricing call — Globex / Northwind Recorded March 4, 2026"),
				seg(1, "Maya Patel", 5000, 9000, "Thanks for hopping on, Tom."),
				seg(2, "Tom Becker", 9000, 40000, "Sure thing. I read the proposal last night. It's a solid starting point. But the per-seat price is above what we budgeted. Note: we have a hard cap from finance this year."),
				seg(3, "Maya Patel", 40000, 62000, "Understood. What number would work?"),
				seg(4, "Tom Becker", 62000, 90000, "Something closer to forty dollars a seat."),
				seg(5, "Maya Patel", 90000, 130000, "Let me see what I can do. I might be able to get approval for a multi-year discount. Next steps: we regroup Thursday."),
				seg(6, "Tom Becker", 130000, 135000, "Sounds good."),
				seg(7, "Maya Patel", 135000, 135000, "Great, talk then."),
			},
		},
		{
			// The header is metadata (TestParseFullMeta); the markers give
			// times, spread over the utterances between them by words;
			// the paragraph "One more thing: …" continues Kofi's turn, and
			// "Rate card: …" (used once, not an attendee) Tomás's; the
			// closing line ends the last turn.
			name: "GoogleMeet", file: "google_meet.txt", format: "text",
			want: []crm.Segment{
				seg(0, "Hannah Becker", 0, 42857, "Okay, I think everyone's here. Thanks for joining on a Tuesday afternoon."),
				seg(1, "Priya Nair", 42857, 50000, "Hi all."),
				seg(2, "Hannah Becker", 50000, 92857, "So two things today: where the pilot is, and the invoice import."),
				seg(3, "Kofi Mensah", 92857, 267857, "Yeah. The pilot has been running for three weeks with the two regional carriers, and the booking flow works. "+
					"The tracking page still times out when a shipment has more than twenty stops. One more thing: we need the second warehouse on the portal before we open it up."),
				seg(4, "Hannah Becker", 267857, 300000, "Got it. Tomás, is the timeout on your side?"),
				seg(5, "Tomás Ortega", 300000, 458181, "Partly. The query loads every stop at once. I can page it, that's maybe two days of work. Rate card: we keep the current numbers until the pilot ends."),
				seg(6, "Priya Nair", 458181, 480000, "And the invoice import?"),
				seg(7, "Tomás Ortega", 480000, 545454, "That one is blocked on the carriers' file format. They send PDFs."),
				seg(8, "Priya Nair", 545454, 600000, "Then I'll ask both carriers for CSV exports this week."),
				seg(9, "Hannah Becker", 600000, 676500, "Great. Let's meet again next Tuesday."),
				seg(10, "Kofi Mensah", 676500, 702000, "Thanks, everyone."),
			},
		},
	})
}

func TestParseJSON(t *testing.T) {
	t.Parallel()
	firefliesWant := []crm.Segment{
		seg(0, "Tom Becker", 61200, 63900, "Can we talk about the discount?"),
		seg(1, "Maya Patel", 64300, 68450, "Sure. We can do twelve percent on a two-year term."),
		seg(2, "Speaker 2", 69000, 70100, "Sorry, I was on mute."),
	}
	runFixtures(t, []fixtureCase{
		{name: "Fireflies", file: "fireflies.json", format: "json", want: firefliesWant},
		{
			name: "FirefliesNested", file: "fireflies_nested.json", format: "json",
			want: []crm.Segment{
				seg(0, "Tom Becker", 61200, 63900, "Can we talk about the discount?"),
				seg(1, "Maya Patel", 64300, 64800, "Sure."),
			},
		},
		{
			name: "HubSpotUtterances", file: "hubspot.json", format: "json",
			want: []crm.Segment{
				seg(0, "Lena Fischer", 1500, 4200, "We need SCIM before the rollout."),
				seg(1, "Jon Okafor", 4800, 7300, "SCIM ships in the April release."),
				seg(2, "Lena Fischer", 8000, 9250, "Then April works."),
				seg(3, "Lena Fischer", 45000, 47500, "If it slips, we can't roll out."),
			},
		},
		{
			name: "OurSegments", file: "segments.json", format: "json",
			want: []crm.Segment{
				seg(0, "Dana Lee", 0, 7900, "Let's get started. First item is the renewal."),
				seg(1, "Maya Patel", 8100, 8100, "Sounds good."),
				seg(2, "Unknown", 9000, 9500, "(inaudible)"),
				seg(3, "Sam Ortiz", 12000, 15000, "I'll send the user list by March 10."),
			},
		},
		{
			name: "RecallAI", file: "recall.json", format: "json",
			want: []crm.Segment{
				seg(0, "Priya Raman", 12480, 14000, "Can you share your SOC 2 report?"),
				seg(1, "Maya Patel", 14600, 18200, "Yes, I'll send it by Friday. It covers (most) 100% of controls"),
				seg(2, "Unknown", 19000, 19400, "Thanks"),
			},
		},
	})

	t.Run("BareArray", func(t *testing.T) {
		t.Parallel()
		got, err := Parse("json", []byte(`[{"speaker":"Dana Lee","start_ms":0,"end_ms":4200,"text":"Hello."},
			{"speaker":"Sam Ortiz","start_ms":4300,"end_ms":5000,"text":"Hi."}]`))
		require.NoError(t, err)
		require.Equal(t, []crm.Segment{seg(0, "Dana Lee", 0, 4200, "Hello."), seg(1, "Sam Ortiz", 4300, 5000, "Hi.")}, got)
	})

	t.Run("KeyVariants", func(t *testing.T) {
		t.Parallel()
		got, err := Parse("json", []byte(`{"utterances":[
			{"speakerName":"A","content":"one","startTime":"1.5","endTime":"00:00:02.250"},
			{"speaker":{"display_name":"B"},"text":"two","startMs":3000,"durationMs":500},
			{"speaker_id":7,"text":"three","start":4,"end":4.5},
			{"speaker":"C","text":"four"}]}`))
		require.NoError(t, err)
		require.Equal(t, []crm.Segment{
			seg(0, "A", 1500, 2250, "one"),
			seg(1, "B", 3000, 3500, "two"),
			seg(2, "Speaker 7", 4000, 4500, "three"),
			seg(3, "C", 4000, 4000, "four"), // no times: carries the previous start
		}, got)
	})
}

func TestFromSegments(t *testing.T) {
	t.Parallel()

	t.Run("Normalises", func(t *testing.T) {
		t.Parallel()
		got, err := FromSegments([]crm.Segment{
			{Index: 7, Speaker: " Dana Lee: ", StartMS: 0, EndMS: 4200, Text: "<v Dana Lee>Hello</v> &amp; welcome."},
			{Index: 3, Speaker: "Dana Lee", StartMS: 4200, EndMS: 0, Text: "Next"},
			{Index: 1, Speaker: "", StartMS: -50, EndMS: -10, Text: "  \n "},
			{Index: 1, Speaker: "Sam", StartMS: 9000, EndMS: 0, Text: "Sure."},
			{Index: 0, Speaker: "Dana Lee", StartMS: 10000, EndMS: 11000, Text: "Great."},
		})
		require.NoError(t, err)
		// Index is ignored; an EndMS of 0 after a start means "not given" and
		// is filled from the next segment; the blank one is dropped.
		require.Equal(t, []crm.Segment{
			seg(0, "Dana Lee", 0, 9000, "Hello & welcome. Next"),
			seg(1, "Sam", 9000, 10000, "Sure."),
			seg(2, "Dana Lee", 10000, 11000, "Great."),
		}, got)
	})

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		_, err := FromSegments(nil)
		require.ErrorIs(t, err, ErrEmpty)
		require.ErrorIs(t, err, ErrInvalid)
		require.ErrorIs(t, err, crm.ErrInvalid)
	})
}

func TestParseErrors(t *testing.T) {
	t.Parallel()

	invalid := []struct {
		name, format, content string
		wantErr               string // empty: ErrEmpty
	}{
		{name: "EmptyContent", format: "", content: ""},
		{name: "EmptyVTT", format: "vtt", content: "WEBVTT\n"},
		{name: "EmptyJSONArray", format: "json", content: "[]"},
		{name: "EmptyJSONSegments", format: "json", content: `{"segments":[]}`},
		{name: "OnlyBlankTexts", format: "json", content: `[{"speaker":"A","text":"  "},{"speaker":"B","text":"<i></i>"}]`},
		{name: "OnlyNoteBlocks", format: "vtt", content: "WEBVTT\n\nNOTE first\n\nNOTE\nsecond\nthird\n\nSTYLE\n::cue { color: red }\n"},
		{name: "OnlyWhitespaceText", format: "text", content: " \n\t\n"},
		{name: "VTTWithoutHeader", format: "vtt", content: "00:00:01.000 --> 00:00:02.000\nhi\n", wantErr: "vtt line 1: missing WEBVTT header"},
		{
			name: "VTTBadTiming", format: "vtt",
			content: "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\nDana: hi\n\n2\n00:00:03.000 --> 00:00:04.000\nDana: ok\n\n3\n00:00:05 --> banana\nDana: bye\n",
			wantErr: "vtt line 12: cue timing is not HH:MM:SS.mmm --> HH:MM:SS.mmm",
		},
		{name: "VTTMinutesOverflow", format: "vtt", content: "WEBVTT\n\n00:61:00.000 --> 00:62:00.000\nhi\n", wantErr: "vtt line 3: cue timing is not HH:MM:SS.mmm --> HH:MM:SS.mmm"},
		{name: "VTTGarbage", format: "vtt", content: "WEBVTT\n\nthis is not a cue\nnor is this\n", wantErr: "vtt line 4: expected a cue timing line (HH:MM:SS.mmm --> HH:MM:SS.mmm)"},
		{name: "SRTBadTiming", format: "srt", content: "1\n00:00:01,000 --> 00:00:02,000\nhi\n\n2\n00:00:0x,000 --> 00:00:04,000\nho\n", wantErr: "srt line 6: cue timing is not HH:MM:SS,mmm --> HH:MM:SS,mmm"},
		{name: "SRTGarbage", format: "srt", content: "hello world\n", wantErr: "srt line 1: expected a cue timing line (HH:MM:SS,mmm --> HH:MM:SS,mmm)"},
		{name: "JSONSyntax", format: "json", content: "{\n  \"segments\": [\n    {\"text\": oops}\n  ]\n}", wantErr: "json line 3: invalid character 'o' looking for beginning of value"},
		{name: "JSONTruncated", format: "json", content: `[{"text":"a"`, wantErr: "json line 1: unexpected end of JSON input"},
		{name: "JSONWrongShape", format: "json", content: `{"hello":"world"}`, wantErr: "json: expected an array of segments, or an object with segments, sentences or utterances"},
		{name: "JSONNotObjects", format: "json", content: `[{"text":"a"}, 42]`, wantErr: "json: segment 1 is not an object"},
		{name: "JSONScalar", format: "json", content: `"just a string"`, wantErr: "json: expected an array of segments, or an object with segments, sentences or utterances"},
		{name: "UnknownFormat", format: "docx", content: "x", wantErr: `transcript: unknown format "docx" (want vtt, srt, text or json)`},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			segs, err := Parse(tc.format, []byte(tc.content))
			require.Nil(t, segs)
			require.ErrorIs(t, err, ErrInvalid)
			require.ErrorIs(t, err, crm.ErrInvalid)
			require.NotErrorIs(t, err, ErrTooLong)
			if tc.wantErr == "" {
				require.ErrorIs(t, err, ErrEmpty)
				return
			}
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			require.EqualError(t, err, tc.wantErr)
		})
	}

	t.Run("ParseErrorFields", func(t *testing.T) {
		t.Parallel()
		_, err := Parse("vtt", []byte("WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nhi\n"))
		var pe *ParseError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, &ParseError{Format: "vtt", Line: 3, Reason: "cue timing is not HH:MM:SS.mmm --> HH:MM:SS.mmm"}, pe)
	})

	t.Run("TooManyWords", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		b.WriteString("WEBVTT\n")
		words := 0
		for i := 0; words <= MaxWords; i++ {
			fmt.Fprintf(&b, "\n%s --> %s\nDana Lee: %s\n", vttClock(int64(i)*4000), vttClock(int64(i)*4000+3900), strings.Repeat("word ", 20))
			words += 20
		}
		segs, err := Parse("vtt", []byte(b.String()))
		require.Nil(t, segs)
		require.ErrorIs(t, err, ErrTooLong)
		require.NotErrorIs(t, err, ErrInvalid)
		require.NotErrorIs(t, err, crm.ErrInvalid)
	})

	t.Run("TooManySegments", func(t *testing.T) {
		t.Parallel()
		in := make([]crm.Segment, MaxSegments+1)
		for i := range in {
			in[i] = crm.Segment{Speaker: []string{"A", "B"}[i%2], StartMS: int64(i) * 1000, EndMS: int64(i)*1000 + 900, Text: "ok"}
		}
		_, err := FromSegments(in)
		require.ErrorIs(t, err, ErrTooLong)

		_, err = FromSegments(in[:MaxSegments])
		require.NoError(t, err)
	})

	t.Run("FourHoursIsNotTooLong", func(t *testing.T) {
		t.Parallel()
		segs, err := Parse("vtt", fourHourVTT())
		require.NoError(t, err)
		requireInvariants(t, segs)
	})
}

func TestDetect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ content, want string }{
		{"WEBVTT\n\n00:01.000 --> 00:02.000\nhi", "vtt"},
		{"\xef\xbb\xbfWEBVTT - Zoom\r\n", "vtt"},
		{"WEBVTTX\n", "text"},
		{"1\r\n00:00:01,000 --> 00:00:02,000\r\nhi\r\n", "srt"},
		{"\n\n00:00:01,000 --> 00:00:02,000\nhi\n", "srt"},
		{`{"segments":[]}`, "json"},
		{"  [\n {\"text\":\"hi\"}]", "json"},
		{"[]", "json"},
		{"[00:00:05] Dana Lee: hi", "text"},
		{"[Dana Lee] hi", "text"},
		{"Dana Lee: hi\nSam: yo", "text"},
		{"1\nDana Lee: one line", "text"},
		{"[Ext] Weekly sync (2026-05-12 15:30 GMT+2) - Transcript\nAttendees\nDana Lee\nTranscript\n", "text"},
		{"\xef\xbb\xbfWeekly sync - Transcript\r\nAttendees\r\n", "text"},
		{"", "text"},
	} {
		require.Equal(t, tc.want, Detect([]byte(tc.content)), "%q", tc.content)
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()

	t.Run("MergesUpToMaxRunes", func(t *testing.T) {
		t.Parallel()
		sentence := strings.Repeat("x", 99) + "." // 100 characters
		var in []crm.Segment
		for i := range 30 {
			in = append(in, crm.Segment{Speaker: "Dana", StartMS: int64(i) * 5000, EndMS: int64(i)*5000 + 4000, Text: sentence})
		}
		got, err := FromSegments(in)
		require.NoError(t, err)
		// 11 sentences and 10 spaces are 1,110 characters; a twelfth would
		// make 1,211 > 1,200.
		require.Len(t, got, 3)
		require.Len(t, got[0].Text, 1110)
		require.Equal(t, int64(0), got[0].StartMS)
		require.Equal(t, int64(54000), got[0].EndMS)
		require.Equal(t, int64(55000), got[1].StartMS)
		require.Len(t, got[2].Text, 8*100+7)
	})

	t.Run("LongSingleFragmentIsKept", func(t *testing.T) {
		t.Parallel()
		long := strings.Repeat("word ", 600)
		got, err := FromSegments([]crm.Segment{{Speaker: "A", Text: long}, {Speaker: "A", Text: "tail"}})
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Equal(t, strings.TrimSpace(long), got[0].Text)
	})

	t.Run("SplitsOnSilenceOverThirtySeconds", func(t *testing.T) {
		t.Parallel()
		got, err := FromSegments([]crm.Segment{
			{Speaker: "A", StartMS: 0, EndMS: 1000, Text: "one"},
			{Speaker: "A", StartMS: 31000, EndMS: 32000, Text: "two"}, // exactly 30 s: merged
			{Speaker: "A", StartMS: 62001, EndMS: 63000, Text: "three"},
		})
		require.NoError(t, err)
		require.Equal(t, []crm.Segment{seg(0, "A", 0, 32000, "one two"), seg(1, "A", 62001, 63000, "three")}, got)
	})

	t.Run("KeepsOverlapOrderAndRepairsTimeTravel", func(t *testing.T) {
		t.Parallel()
		got, err := FromSegments([]crm.Segment{
			{Speaker: "A", StartMS: 1000, EndMS: 9000, Text: "long answer"},
			{Speaker: "B", StartMS: 1000, EndMS: 1500, Text: "mm-hmm"},
			{Speaker: "C", StartMS: 500, EndMS: 700, Text: "earlier"},
		})
		require.NoError(t, err)
		require.Equal(t, []crm.Segment{
			seg(0, "C", 500, 700, "earlier"),
			seg(1, "A", 1000, 9000, "long answer"),
			seg(2, "B", 1000, 1500, "mm-hmm"),
		}, got)
	})

	t.Run("CutsLongSpeakers", func(t *testing.T) {
		t.Parallel()
		got, err := FromSegments([]crm.Segment{
			{Speaker: "[" + strings.Repeat("é", 98) + ": tail]", Text: "a"},
			{Speaker: strings.Repeat("[", 300) + "Dana" + strings.Repeat("]", 300), Text: "b"},
		})
		require.NoError(t, err)
		require.Equal(t, "["+strings.Repeat("é", 98), got[0].Speaker)
		require.Equal(t, strings.Repeat("[", 100), got[1].Speaker)
		requireInvariants(t, got)
	})

	t.Run("CleansSpeakersAndText", func(t *testing.T) {
		t.Parallel()
		got, err := FromSegments([]crm.Segment{
			{Speaker: "[Dana Lee]:", Text: "a\u00a0b\u200b c\x00d &lt;v Eve&gt;hi &#39;x&#39;"},
			{Speaker: "  ", StartMS: 1, EndMS: 2, Text: "<<v Eve>b>yo</v> <</v>x <V.a B>c"},
			{Speaker: "(Sam)", StartMS: 3, EndMS: 4, Text: "bad \xff utf8 <customer name> <b>bold</b>"},
		})
		require.NoError(t, err)
		require.Equal(t, []crm.Segment{
			seg(0, "Dana Lee", 0, 0, "a b cd v Eve>hi 'x'"),
			seg(1, "Unknown", 1, 2, "<b>yo <x c"),
			seg(2, "Sam", 3, 4, "bad \ufffd utf8 <customer name> bold"),
		}, got)
		requireInvariants(t, got)
	})
}

func TestSpeakerLabels(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line     string
		speakers []string
	}{
		{"Dana Lee: hello", []string{"Dana Lee"}},
		{"Dr. Ana Silva: hello", []string{"Dr. Ana Silva"}},
		{"Ludwig van Beethoven: hello", []string{"Ludwig van Beethoven"}},
		{"Speaker 2: hello", []string{"Speaker 2"}},
		{"Note: hello", []string{"Unknown"}},
		{"Next steps: hello", []string{"Unknown"}},
		{"Action Items: hello", []string{"Unknown"}},
		{"So the plan is: hello", []string{"Unknown"}},
		{"Thanks. Dana: hello", []string{"Unknown"}},
		{"See https://example.com: hello", []string{"Unknown"}},
		{"Meeting at 10:30: hello", []string{"Unknown"}},
		{"One Two Three Four Five Six: hello", []string{"Unknown"}},
		{"dana: hello", []string{"Unknown"}},
		{"dana: a\ndana: b\ndana: c\nsam: d", []string{"dana", "sam"}},
		{"Dana: a\nnote: b", []string{"Dana"}},
		{"dana: a\ndana: b\ndana: c\nnote: d", []string{"dana"}},
		{"Dana: a\nsam: b\nsam: c\nsam: d", []string{"Dana", "sam"}},
		// Sentence openings before a colon are not speakers, in any case.
		{"Dana Lee: hi\nOne more thing: we need to ship.", []string{"Dana Lee"}},
		{"Dana Lee: hi\nOne More Thing: we need to ship.", []string{"Dana Lee"}},
		{"dana: a\ndana: b\ndana: c\none more thing: we need to ship.", []string{"dana"}},
		{"dana: a\ndana: b\ndana: c\nthe plan: ship it.", []string{"dana"}},
		{"The Plan: ship it.", []string{"Unknown"}},
		{"What We Need: a date.", []string{"Unknown"}},
		{"Quick Question: who owns this?", []string{"Unknown"}},
		{"Good Point: noted.", []string{"Unknown"}},
		{"Honestly: no idea.", []string{"Unknown"}},
		{"Here's The Thing: it is late.", []string{"Unknown"}},
		// Names that share a word with those lists still are names.
		{"An Nguyen: hello", []string{"An Nguyen"}},
		{"Will Carter: hello\nMay Chen: hi\nCan Yilmaz: hey", []string{"Will Carter", "May Chen", "Can Yilmaz"}},
		{"Do Van Minh: hello", []string{"Do Van Minh"}},
		{"Maria do Carmo: hello", []string{"Maria do Carmo"}},
		{"Grace: hello\nMark: hi", []string{"Grace", "Mark"}},
		{"I: how did it go?\nR: fine.", []string{"I", "R"}},
		// A label used on every other line is a speaker even if it reads
		// like a phrase.
		{"The Interviewer: a\nGuest: b\nThe Interviewer: c\nGuest: d\nThe Interviewer: e", []string{"The Interviewer", "Guest", "The Interviewer", "Guest", "The Interviewer"}},
	} {
		segs, err := Parse("text", []byte(tc.line))
		require.NoError(t, err, tc.line)
		var got []string
		for _, s := range segs {
			got = append(got, s.Speaker)
		}
		require.Equal(t, tc.speakers, got, tc.line)
	}
}

func TestParseClock(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"00:00:01.000", 1000, true},
		{"01:02:03.456", 3723456, true},
		{"02:03.4", 123400, true},
		{"02:03,45", 123450, true},
		{"1:05", 65000, true},
		{"75:30", 4530000, true},
		{"100:00:00.000", 360000000, true},
		{"00:00:01.123456", 1123, true},
		{"00:60:00.000", 0, false},
		{"00:00:60.000", 0, false},
		{"1:2:3:4", 0, false},
		{"12", 0, false},
		{"aa:bb", 0, false},
		{"00:01.", 0, false},
		{":01", 0, false},
	} {
		got, ok := parseClock(tc.in)
		require.Equal(t, tc.ok, ok, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	require.ErrorIs(t, ErrEmpty, ErrInvalid)
	require.ErrorIs(t, ErrEmpty, crm.ErrInvalid)
	require.ErrorIs(t, ErrInvalid, crm.ErrInvalid)
	require.False(t, errors.Is(ErrTooLong, ErrInvalid))
	require.False(t, errors.Is(ErrInvalid, ErrEmpty))
	require.Equal(t, "json: bad", (&ParseError{Format: "json", Reason: "bad"}).Error())
	require.Equal(t, "srt line 2: bad", (&ParseError{Format: "srt", Line: 2, Reason: "bad"}).Error())
}

// vttClock formats ms as a WebVTT timestamp.
func vttClock(ms int64) string {
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

// fourHourVTT builds a Zoom-style WebVTT file of a four-hour, 50,000-word
// meeting: 5,000 cues of 10 words among four speakers.
func fourHourVTT() []byte {
	speakers := []string{"Maya Patel", "Dana Lee", "Sam Ortiz", "Jon Okafor"}
	words := strings.Fields("so the renewal &amp; the <i>SSO</i> rollout depend on budget approval in Q3 " +
		"and we need the security review done before legal signs off on the order form")
	var b strings.Builder
	b.Grow(5000 * 110)
	b.WriteString("WEBVTT\n")
	for i := range 5000 {
		start := int64(i) * 2880 // 4 h / 5,000 cues
		fmt.Fprintf(&b, "\n%d\n%s --> %s\n%s: ", i+1, vttClock(start), vttClock(start+2700), speakers[(i/3)%len(speakers)])
		for j := range 10 {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[(i*7+j)%len(words)])
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

func TestCueSpeakers(t *testing.T) {
	t.Parallel()
	vtt := func(texts ...string) []byte {
		var b strings.Builder
		b.WriteString("\n\nWEBVTT Kind: captions\nLanguage: en\n")
		for i, s := range texts {
			fmt.Fprintf(&b, "\n%s --> %s\n%s\n", vttClock(int64(i)*40000), vttClock(int64(i)*40000+3000), s)
		}
		return []byte(b.String())
	}
	for _, tc := range []struct {
		name string
		cues []string
		want []crm.Segment
	}{
		{
			name: "ProseLabelInSpeakerlessCaptions",
			cues: []string{"Welcome back to the show.", "Quick recap: we ship Friday.", "Next steps: testing."},
			want: []crm.Segment{
				seg(0, "Unknown", 0, 3000, "Welcome back to the show."),
				seg(1, "Unknown", 40000, 43000, "Quick recap: we ship Friday."),
				seg(2, "Unknown", 80000, 83000, "Next steps: testing."),
			},
		},
		{
			name: "LowerCaseNamesThatRecur",
			cues: []string{"dana lee: hi", "sam: hello", "dana lee: so", "sam: right"},
			want: []crm.Segment{
				seg(0, "dana lee", 0, 3000, "hi"),
				seg(1, "sam", 40000, 43000, "hello"),
				seg(2, "dana lee", 80000, 83000, "so"),
				seg(3, "sam", 120000, 123000, "right"),
			},
		},
		{
			name: "UnlabelledCueContinuesSpeaker",
			cues: []string{"Dana Lee: one", "two", "Sam Ortiz: three\nDana Lee: four\nfive"},
			want: []crm.Segment{
				seg(0, "Dana Lee", 0, 3000, "one"),
				seg(1, "Dana Lee", 40000, 43000, "two"),
				seg(2, "Sam Ortiz", 80000, 83000, "three"),
				seg(3, "Dana Lee", 80000, 83000, "four five"),
			},
		},
		{
			// Used twice, a phrase is still not a speaker: the cue goes
			// on with the previous speaker.
			name: "PhraseLabelTwice",
			cues: []string{"Dana Lee: hi", "One more thing: we ship Friday.", "Sam Ortiz: ok", "One more thing: the docs."},
			want: []crm.Segment{
				seg(0, "Dana Lee", 0, 3000, "hi"),
				seg(1, "Dana Lee", 40000, 43000, "One more thing: we ship Friday."),
				seg(2, "Sam Ortiz", 80000, 83000, "ok"),
				seg(3, "Sam Ortiz", 120000, 123000, "One more thing: the docs."),
			},
		},
		{
			name: "BracketLabelsAndSounds",
			cues: []string{"[Dana Lee] one", "[Music]", "[Inaudible 00:01:02] two", "[SAM] three"},
			want: []crm.Segment{
				seg(0, "Dana Lee", 0, 3000, "one"),
				seg(1, "Dana Lee", 40000, 43000, "[Music]"),
				seg(2, "Dana Lee", 80000, 83000, "[Inaudible 00:01:02] two"),
				seg(3, "SAM", 120000, 123000, "three"),
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse("", vtt(tc.cues...))
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
