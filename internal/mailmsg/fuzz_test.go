package mailmsg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// malformed is the seed corpus: testdata/malformed/*.eml, messages broken
// the ways mail in the wild is.
func malformed(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "malformed", "*.eml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		out[filepath.Base(f)] = b
	}
	return out
}

func TestParseMalformedCorpus(t *testing.T) {
	t.Parallel()
	for name, raw := range malformed(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse(raw)
			if err != nil {
				return
			}
			checkMessage(t, m)
		})
	}
	// What some of them must still yield.
	c := malformed(t)
	m, err := Parse(c["message-rfc822.eml"])
	require.NoError(t, err)
	require.Equal(t, []Attachment{{Name: "message.eml", Size: 52, ContentType: "message/rfc822"}}, m.Attachments)
	m, err = Parse(c["bad-message-ids.eml"])
	require.NoError(t, err)
	require.Equal(t, []string{"a@b"}, m.References[:1])
	m, err = Parse(c["control-bytes.eml"])
	require.NoError(t, err)
	require.Equal(t, "\uFFFD( binary", m.Text)
}

func checkMessage(t testing.TB, m Message) {
	t.Helper()
	require.True(t, utf8.ValidString(m.Text))
	require.True(t, utf8.ValidString(m.Subject))
	require.LessOrEqual(t, utf8.RuneCountInString(m.Text), MaxTextRunes)
	require.LessOrEqual(t, len(m.Attachments), MaxAttachments)
	require.LessOrEqual(t, len(m.References), MaxReferences)
	require.NotContains(t, m.MessageID, " ")
	require.NotContains(t, m.Text, "\r")
	trimmed := Trim(m.Text)
	require.True(t, utf8.ValidString(trimmed))
	require.LessOrEqual(t, len(trimmed), len(m.Text))
}

func FuzzParse(f *testing.F) {
	for _, raw := range malformed(f) {
		f.Add(raw)
	}
	f.Add(crlf(`
From: Dana <dana@acme.com>
Content-Type: multipart/alternative; boundary="b"

--b
Content-Type: text/plain

> quoted
--b
Content-Type: text/html

<p>x</p>
--b--
`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw)
		if err != nil {
			return
		}
		checkMessage(t, m)
	})
}

func FuzzTrim(f *testing.F) {
	for _, s := range []string{
		"hi\n\nOn Mon, Dana wrote:\n> q",
		"a\n-- \nsig",
		"From: x\nSent: y\nTo: z\n\nold",
		"-----Original Message-----",
		"> a\nb\n> c\nOn\nx\nwrote:\n>d",
		strings.Repeat("> \n", 100),
		"\xff\xfe\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Trim(s)
		require.True(t, utf8.ValidString(out))
		if utf8.ValidString(s) && !strings.ContainsRune(s, '\u00a0') {
			require.LessOrEqual(t, len(out), len(s))
		}
	})
}
