package retrieval

import (
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/require"
)

// marked returns the substrings of text the highlights cover, slicing the
// text as a JavaScript client would: by UTF-16 code units.
func marked(t *testing.T, text string, hs []Highlight) []string {
	t.Helper()
	u := utf16.Encode([]rune(text))
	out := []string{}
	for _, h := range hs {
		require.True(t, 0 <= h.Start && h.Start < h.End && h.End <= len(u), "highlight %+v out of range of %q", h, text)
		out = append(out, string(utf16.Decode(u[h.Start:h.End])))
	}
	return out
}

func TestHighlights(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name, query, text string
		want              []string
	}{
		{"StemmedForms", "promise pricing", "Wei: We promised the price cap. Prices rise; the promise holds.",
			[]string{"promised", "price", "Prices", "promise"}},
		{"QueryStemmedToo", "what was promised", "I promise.", []string{"promise"}},
		{"CaseInsensitive", "sso", "SSO first, then Sso and sso.", []string{"SSO", "Sso", "sso"}},
		{"Punctuation", "renewal uplift", "(renewal), \"uplift\"; renewal-uplift… renewal's", []string{"renewal", "uplift", "renewal", "uplift", "renewal"}},
		{"NoPartialWords", "price cap", "priceless capacity: recap, capped, escape", []string{"capped"}},
		{"Numbers", "2026 budget", "The 2026 budget, not 20260.", []string{"2026", "budget"}},
		{"StopWordsNeverMark", "what did we say about the", "What did we say about the thing?", []string{}},
		{"SpeakerLabel", "Dana renewal", "Dana Lee: the renewal is signed", []string{"Dana", "renewal"}},
		{"MultiByte", "café naïve", "Zoë: the café was naïve — café!", []string{"café", "naïve", "café"}},
		{"OutsideBMP", "launch", "🚀 launch 🚀 launched", []string{"launch", "launched"}},
		{"CJK", "東京", "会議は東京で。東京!", []string{"東京"}},
		{"EmptyText", "renewal", "", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hs := Highlights(tc.text, QueryTerms(tc.query))
			require.NotNil(t, hs)
			require.Equal(t, tc.want, marked(t, tc.text, hs))
		})
	}

	t.Run("OffsetsAreUTF16CodeUnits", func(t *testing.T) {
		t.Parallel()
		// "é" is one code unit and two bytes; "🚀" two code units and four
		// bytes.
		hs := Highlights("é 🚀 sso", QueryTerms("SSO"))
		require.Equal(t, []Highlight{{Start: 5, End: 8}}, hs)
	})

	t.Run("NoTerms", func(t *testing.T) {
		t.Parallel()
		require.Empty(t, QueryTerms("?! the, and... of"))
		require.Equal(t, []Highlight{}, Highlights("the renewal", nil))
	})

	t.Run("InOrderAndDisjoint", func(t *testing.T) {
		t.Parallel()
		hs := Highlights("budget budgets budgeted; BUDGET", QueryTerms("budget"))
		require.Len(t, hs, 4)
		for i := 1; i < len(hs); i++ {
			require.Less(t, hs[i-1].End, hs[i].Start)
		}
	})
}
