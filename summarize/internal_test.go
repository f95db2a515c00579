package summarize

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	n := normalize("  I’ll SEND\n\tthe “deck”… ")
	require.Equal(t, `i'll send the "deck"...`, n.s)
	require.Len(t, n.start, len(n.s))
	require.Len(t, n.end, len(n.s))
	require.Equal(t, "I’ll", "  I’ll SEND\n\tthe “deck”… "[n.start[0]:n.end[3]])
}

func TestHedged(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]bool{
		"i might be able to":           true,
		"maybe next week":              true,
		"we may be able to help":       true,
		"i'll try to send it":          true,
		"hopefully by friday":          true,
		"i'm not sure we can":          true,
		"with all our might":           true,
		"a mighty effort":              false,
		"i'll send it":                 false,
		"we may be there":              false,
		"the country's possibilities.": false,
	} {
		require.Equal(t, want, hedged(q), q)
	}
}

func TestSimilar(t *testing.T) {
	t.Parallel()
	require.True(t, similar("Send the deck to Dana.", "send the deck to dana"))
	require.True(t, similar("Send the revised pricing deck to Dana", "Send revised pricing deck to Dana"))
	require.False(t, similar("Send the deck to Dana", "Send the deck to Bob"))
	require.False(t, similar("Send checklist for milestone 3", "Send checklist for milestone 33"))
	require.False(t, similar("", "x"))
}

// FuzzCite checks that whatever a model quotes, accepted evidence is always
// words of the segment it names.
func FuzzCite(f *testing.F) {
	f.Add("I’ll send the  “deck” by Friday.", "send the \"deck\"")
	f.Add("abc\xffdef ghi", "\xffdef g")
	f.Add("Ünïcode ÇASE İs fun", "i̇s fun")
	f.Add("a … b", "a ... b")
	f.Fuzz(func(t *testing.T, text, quote string) {
		w := newWindow(1, []crm.Segment{{Index: 7, Speaker: "A", Text: text}, {Index: 8, Speaker: "B", Text: "second one"}})
		c, reason := w.cite([]int{7, 8}, quote)
		if reason != "" {
			return
		}
		if len(c.evidence) == 0 {
			t.Fatalf("accepted %q in %q without evidence", quote, text)
		}
		for _, e := range c.evidence {
			seg := w.byIndex[e.Segment]
			if e.Quote == "" || !strings.Contains(seg.Text, e.Quote) {
				t.Fatalf("evidence %q not in segment %q", e.Quote, seg.Text)
			}
		}
	})
}
