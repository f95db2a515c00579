package transcript

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzParse is the body of every fuzz target: Parse never panics, every
// error is classified, and every success keeps the invariants and is
// deterministic.
func fuzzParse(t *testing.T, format string, data []byte) {
	segs, err := Parse(format, data)
	// ParseString (the API's path, from a decoded request) reads the same,
	// with the format given or detected.
	for _, f := range []string{format, ""} {
		want, wantErr := ParseFull(f, data)
		got, gotErr := ParseString(f, string(data))
		require.Equal(t, wantErr, gotErr)
		require.Equal(t, want, got)
	}
	if err != nil {
		if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLong) {
			t.Fatalf("unclassified error: %v", err)
		}
		require.Nil(t, segs)
		return
	}
	requireInvariants(t, segs)
	for _, s := range segs {
		require.NotContains(t, strings.ToLower(s.Speaker), "<v")
	}
	again, err := Parse(format, data)
	require.NoError(t, err)
	require.Equal(t, segs, again)
}

// addSeeds seeds f with the testdata files whose names end in one of exts
// and with a few hand-made edge cases.
func addSeeds(f *testing.F, extra []string, exts ...string) {
	files, err := os.ReadDir("testdata")
	require.NoError(f, err)
	for _, e := range files {
		for _, ext := range exts {
			if strings.HasSuffix(e.Name(), ext) {
				b, err := os.ReadFile(filepath.Join("testdata", e.Name()))
				require.NoError(f, err)
				f.Add(b)
			}
		}
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

func FuzzParseVTT(f *testing.F) {
	addSeeds(f, []string{
		"WEBVTT\n\n00:01.000 --> 00:02.000\n<v Dana>hi</v>\n",
		"WEBVTT\n\nNOTE x\n\n00:00:01.000 --> 00:00:00.500\n<<v A>>&lt;v B&gt;\n",
		"WEBVTT\n\n1\n99:59:59.999 --> 00:00:00.000 align:start\nX: <c.a><00:00:01.000>y</c>\n",
		"WEBVTT\n00:00.000 --> 00:01.000 align:start position:0%\n \na<00:00:00.500><c> b</c>\n00:01.000 --> 00:01.010\na b\n \n00:01.010 --> 00:02.000\na b\nc\n",
		"WEBVTT\n\nid-1\n00:01.000 --> 00:02.000\nOne more thing: x\ncue-2\n00:02.000 --> 00:03.000\nOne more thing: y\n\nz\n \nNOTE n\n00:03.000 -> 4\n",
	}, ".vtt")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, "vtt", data) })
}

func FuzzParseSRT(f *testing.F) {
	addSeeds(f, []string{
		"1\n00:00:01,000 --> 00:00:02,000\n[Dana] hi\n\n\n2\n00:00:03.000 --> 00:00:02,000\nmore\n",
		"00:00:01,000 --> 00:00:02,000\n<v A>x\nA: y\n\nz\n",
		"1\n00:00:01,000 --> 00:00:02,000\nA: x\n2\n00:00:03,000 --> 00:00:04,000\n00:00:05,000 --> 00:00:06,000 X1:1\nB: y\n",
	}, ".srt")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, "srt", data) })
}

func FuzzParseText(f *testing.F) {
	addSeeds(f, []string{
		"[00:01:05] Dana Lee: hi\nNote: prose\nSam (01:10): yes\n10:30 works\n",
		"Dana Lee  0:05\nHello.\n\nSpeaker 2  1:00:00\nHi.\n",
		"dana: a\ndana: b\ndana: c\nsam: d\n(02:15) x\n[1:2:3]\n",
		"T (2026-01-02 10:00 GMT+5:30) - Transcript\nAttendees\nA B, C's Presentation\nTranscript\nThis editable transcript was computer generated and might contain errors.\nA B: x\nOne more thing: y\n00:05:00\nC: z\nMeeting ended after 00:04:00 👋\n",
		"## Attendees: \n\n* A, B\n\n00:00:00\n00:00:00\nA: one\nThe Plan: two\nMeeting ended after 999999:59:59\n",
		"x - transcript\nAttendees\n\n\nTranscript\n",
	}, ".txt")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, "text", data) })
}

func FuzzParseJSON(f *testing.F) {
	addSeeds(f, []string{
		`[{"speaker":"A","start_ms":-5,"end_ms":1e300,"text":"x"}]`,
		`{"utterances":[{"speaker":{"name":"<v B>"},"text":"y","startTimeMs":"NaN","endTime":"00:00:01.5"}]}`,
		`[{"participant":{"name":"C"},"words":[{"text":"(","start_timestamp":{"relative":"1"}},{"text":"'s"},{"text":","}]}]`,
		`{"data":{"transcript":{"sentences":null}}}`,
		`[{"speaker":"[` + strings.Repeat("é", 98) + `: x]","text":"long speaker"}]`,
	}, ".json")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, "json", data) })
}
