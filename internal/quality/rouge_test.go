package quality

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func requirePRF(t *testing.T, want, got PRF, msg string) {
	t.Helper()
	require.InDelta(t, want.P, got.P, 1e-12, msg+" P")
	require.InDelta(t, want.R, got.R, 1e-12, msg+" R")
	require.InDelta(t, want.F, got.F, 1e-12, msg+" F")
}

func same(x float64) PRF { return PRF{x, x, x} }

func TestRouge(t *testing.T) {
	t.Parallel()

	t.Run("OneWordChanged", func(t *testing.T) {
		t.Parallel()

		for _, stem := range []bool{false, true} {
			s := Rouge("The cat sat on the mat.", "the CAT lay on the mat", stem)
			requirePRF(t, same(5.0/6), s.Rouge1, "rouge1")       // the×2 cat on mat
			requirePRF(t, same(3.0/5), s.Rouge2, "rouge2")       // the cat, on the, the mat
			requirePRF(t, same(5.0/6), s.RougeL, "rougeL")       // the cat on the mat
			requirePRF(t, same(5.0/6), s.RougeLsum, "rougeLsum") // one sentence each
		}
	})

	t.Run("Stemming", func(t *testing.T) {
		t.Parallel()

		// runners → runner, running → run, runs → run; "were" and words of
		// three letters or fewer are left alone.
		s := Rouge("The runners were running.", "A runner runs.", true)
		requirePRF(t, PRF{2.0 / 3, 2.0 / 4, 4.0 / 7}, s.Rouge1, "rouge1")
		requirePRF(t, PRF{}, s.Rouge2, "rouge2")
		requirePRF(t, PRF{2.0 / 3, 2.0 / 4, 4.0 / 7}, s.RougeL, "rougeL")
		requirePRF(t, PRF{}, Rouge("The runners were running.", "A runner runs.", false).Rouge1, "unstemmed")
	})

	t.Run("SentenceOrder", func(t *testing.T) {
		t.Parallel()

		// Swapped sentences: the whole-text LCS keeps one of them, the
		// summary-level LCS both.
		s := Rouge("Tom buys bread. Ann sells fish.", "Ann sells fish. Tom buys bread.", false)
		requirePRF(t, same(1), s.Rouge1, "rouge1")
		requirePRF(t, same(0.5), s.RougeL, "rougeL")
		requirePRF(t, same(1), s.RougeLsum, "rougeLsum")
	})

	t.Run("LsumCountsEachWordOnce", func(t *testing.T) {
		t.Parallel()

		// Both reference sentences match the one predicted sentence, but
		// the prediction holds each word once.
		s := Rouge("Go now. Go now.", "Go now.", false)
		requirePRF(t, PRF{1, 0.5, 2.0 / 3}, s.RougeLsum, "rougeLsum")
	})

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()

		require.Equal(t, RougeScores{}, Rouge("Something was said.", "", true))
		require.Equal(t, RougeScores{}, Rouge("Something was said.", "?!", true))
	})
}

func TestSplitSentences(t *testing.T) {
	t.Parallel()

	// The expected pieces are what rouge.py's SENT.split returns.
	for in, want := range map[string][]string{
		"One. Two!  Three?\nFour\n\nfive e.g.six": {"One.", "Two!", "Three?", "Four", "five e.g.six"},
		"\nStart. \n End.":                        {"", "Start.", "End."},
		"No break here":                           {"No break here"},
		"a.\u00a0b":                               {"a.", "b"},
		"x?\x1cy":                                 {"x?", "y"},
	} {
		require.Equal(t, want, splitSentences(in), "%q", in)
	}
}

func TestScoreSummaries(t *testing.T) {
	t.Parallel()

	ds := loadFixture(t)
	rep := ScoreSummaries(ds, map[string]string{"TS9001a/g0": ds.Summaries[0].Reference}, true)
	require.Equal(t, 1, rep.Pairs)
	require.Equal(t, 2, rep.Refs)
	require.Equal(t, []string{"TS9001b/g0"}, rep.Missing)
	require.True(t, rep.Stemming)
	requirePRF(t, same(100), rep.MeanPoints.Rouge1, "rouge1")
	requirePRF(t, same(100), rep.MeanPoints.RougeLsum, "rougeLsum")
	requirePRF(t, same(1), rep.PerQuery["TS9001a/g0"].Rouge2, "per query")

	none := ScoreSummaries(ds, nil, false)
	require.Equal(t, 0, none.Pairs)
	require.Equal(t, RougeScores{}, none.MeanPoints)
}
