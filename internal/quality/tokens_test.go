package quality

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRound(t *testing.T) {
	t.Parallel()

	// What Python's round gives: ties to even on the exact binary value.
	for _, c := range []struct {
		x      float64
		places int
		want   float64
	}{
		{0.0625, 3, 0.062},
		{0.5625, 3, 0.562},
		{2.675, 2, 2.67}, // 2.67499999...
		{0.3245, 3, 0.325},
		{0.56, 4, 0.56},
	} {
		require.Equal(t, c.want, Round(c.x, c.places), "Round(%v, %d)", c.x, c.places)
	}
}

func TestMeanIsExact(t *testing.T) {
	t.Parallel()

	xs := make([]float64, 10)
	for i := range xs {
		xs[i] = 0.1
	}
	// statistics.mean gives 0.1; a running float sum gives 0.09999999999999999.
	require.Equal(t, 0.1, mean(xs))
	require.Equal(t, 0.0, mean(nil))
}

func TestTokenisers(t *testing.T) {
	t.Parallel()

	// score_notes.py lowercases before dropping markers, score_retrieval.py
	// after, so a capitalised marker is a word only for retrieval.
	require.Equal(t, []string{"we", "go", "2", "x"}, notesTokens("We {Disfmarker} go{gap} 2-X"))
	require.Equal(t, []string{"we", "disfmarker", "go", "2", "x"}, retrievalTokens("We {Disfmarker} go{gap} 2-X"))
	require.True(t, seqIn([]string{"b", "c"}, []string{"a", "b", "c"}))
	require.False(t, seqIn([]string{"c", "b"}, []string{"a", "b", "c"}))
	require.False(t, seqIn(nil, []string{"a"}))
}
