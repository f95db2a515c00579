package speech

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSentences(t *testing.T) {
	t.Parallel()
	text := "Mr. Smith met Dr. Jones on Mar. 3. It cost $2.50! Really?  Yes… ok\nNext line \"quoted.\" End"
	var got []string
	for _, s := range Sentences(text) {
		got = append(got, text[s.Start:s.End])
	}
	require.Equal(t, []string{"Mr. Smith met Dr. Jones on Mar. 3.", "It cost $2.50!", "Really?", "Yes… ok", "Next line \"quoted.\"", "End"}, got)
}

// TestSentencesWrappedLines: a caption line wrapped mid-sentence continues
// the sentence.
func TestSentencesWrappedLines(t *testing.T) {
	t.Parallel()
	text := "Understood. I'll do the\nproduction change on the 11th.\nThanks."
	var got []string
	for _, s := range Sentences(text) {
		got = append(got, text[s.Start:s.End])
	}
	require.Equal(t, []string{"Understood.", "I'll do the\nproduction change on the 11th.", "Thanks."}, got)
}

func TestFluent(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"you could you could have a look":           "you could have a look",
		"I'll uh I'll um send it":                   "i'll send it",
		"y you'll be looking at it":                 "you'll be looking at it",
		"you need to you n you need to put it":      "you need to put it",
		"so {vocalsound} we will uh meet again":     "so we will meet again",
		"a plan and I think that that is fine":      "a plan and i think that is fine",
		"it is what it is":                          "it is what it is",
		"the the the van":                           "the van",
		"we can s sacrifice more function for that": "we can sacrifice more function for that",
	}
	for in, want := range cases {
		ws := Fluent(in, WordsOf(in, Span{0, len(in)}))
		var got []string
		for _, w := range ws {
			got = append(got, w.W)
		}
		require.Equal(t, want, strings.Join(got, " "), in)
	}
	require.Equal(t, "I'll send it, okay", FluentText("I'll uh send it , okay", Fluent("I'll uh send it , okay", WordsOf("I'll uh send it , okay", Span{0, 22}))))
}
