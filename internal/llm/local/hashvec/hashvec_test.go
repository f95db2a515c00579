package hashvec

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEmbedFeatures(t *testing.T) {
	t.Parallel()
	bigrams := func(fs []Feature) int {
		n := 0
		for _, f := range fs {
			n += int(f.hash & 1)
		}
		return n
	}
	words := Words("we promised the rate limit", nil)
	fs, _ := embedFeatures(words, nil)
	require.Equal(t, 1, bigrams(fs), "only \"rate limit\": \"we promised\", \"promised the\" and \"the rate\" have a stop word")
	all, _ := Features(words, nil)
	require.Equal(t, 4, bigrams(all), "the completions keep bigrams with one stop word")
	require.Equal(t, len(fs), len(all)-3, "the unigrams are the same")
}
