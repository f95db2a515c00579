package main

import (
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/quality"
	"logbook/internal/testdb"
	"logbook/internal/testredis"
)

// qualityDataDir is the shared dev set: QUALITY_DATA, or ../shared/quality
// beside the repository (where CI puts it). It fails, never skips, when the
// set is not there: the gate is part of the suite.
func qualityDataDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("QUALITY_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "quality")
	}
	_, err := os.Stat(filepath.Join(dir, "qmsum-val", "accounts.json"))
	require.NoError(t, err, "the quality dev set is missing: put the shared folder beside the repository or set QUALITY_DATA")
	return dir
}

// runQualityLoop runs the quality loop on the dev set's accounts with
// Logbook configured by env (a private schema and the test Redis, unless
// env says otherwise), runs search again under the embedder seeds (none:
// not at all), and returns the set, what was collected and the report,
// which it logs.
func runQualityLoop(t *testing.T, env map[string]string, accounts []string, seeds []uint64) (*quality.DevSet, *qualityCollected, *qualityReport) {
	t.Helper()
	ctx := context.Background()
	ds, err := quality.LoadDevSet(qualityDataDir(t))
	require.NoError(t, err)
	full := map[string]string{"DATABASE_URL": testdb.SchemaURL(t, true), "REDIS_URL": testredis.URL(), "LOG_LEVEL": "error"}
	maps.Copy(full, env)
	a, err := openApp(ctx, io.Discard, envOf(full))
	require.NoError(t, err)
	defer a.Close()
	c, err := collectQuality(ctx, a, ds, accounts, nil)
	require.NoError(t, err)
	seeded, err := seededSearch(ctx, a, c, seeds, nil)
	require.NoError(t, err)
	r, err := scoreQuality(ds, accounts, c, seeds, seeded)
	require.NoError(t, err)
	var out strings.Builder
	printQuality(&out, r, c.Model)
	t.Log("\n" + out.String())
	return ds, c, r
}

// gateAccounts are the fast part of the dev set the gate runs: the two
// accounts whose meetings carry commitment, decision and risk labels.
var gateAccounts = []string{"ES2006", "IS1006"}

// gateSeeds are the embedder seeds the method comparison averages over.
var gateSeeds = []uint64{1, 2, 3}

// gateMargin is how far hybrid search may fall below BM25 computed in the
// same run before the gate fails.
const gateMargin = 0.05

// TestQualityGate runs the quality loop on two accounts of the real dev
// set through the API and worker, then holds the figures to floors and to
// properties that hold on any data.
func TestQualityGate(t *testing.T) {
	_, _, r := runQualityLoop(t, nil, gateAccounts, gateSeeds)

	t.Run("properties", func(t *testing.T) {
		require.Zero(t, r.UnquotedEvidence, "every note's evidence is a verbatim quote of its segment")
		require.Zero(t, r.UnquotedCitations, "every citation quotes its transcript segment verbatim")
		require.Zero(t, r.DanglingMarkers, "every [n] in an answer names a citation")
		require.Zero(t, r.ShortQuotes, "no citation is a backchannel or fragment of three words or fewer")
		require.Positive(t, r.Unanswerable, "some off-topic questions were asked")
		require.Equal(t, r.Unanswerable, r.Declined, "every question nothing on record answers is declined")
		require.LessOrEqual(t, r.MaxItems, 6, "at most six action items a meeting")
		require.LessOrEqual(t, r.MaxSummaryWords, 120, "summaries are at most 120 words")
		// Hybrid search is at least as good as the better of its two parts
		// alone, averaged over embedder seeds.
		h := r.SeededSearch["hybrid"]
		for _, alone := range []string{"vector", "full-text"} {
			f := r.SeededSearch[alone]
			require.GreaterOrEqual(t, h.Hit5, f.Hit5-0.02, "hybrid hit@5 against %s alone", alone)
			require.GreaterOrEqual(t, h.MRR, f.MRR-0.02, "hybrid MRR against %s alone", alone)
		}
		// And against BM25 computed in the same run.
		bm25, hybrid := r.Search["bm25"], r.Search["hybrid"]
		b5, _ := bm25.At(5)
		h5, _ := hybrid.At(5)
		require.GreaterOrEqual(t, h5.Hit, b5.Hit-gateMargin, "hybrid hit@5 against BM25")
		require.GreaterOrEqual(t, hybrid.MRR, bm25.MRR-gateMargin, "hybrid MRR against BM25")
		// Summaries beat copying the longest turns at the same length.
		require.Greater(t, r.Summary.MeanPoints.Rouge1.F, r.Longest.MeanPoints.Rouge1.F, "ROUGE-1 against the longest turns")
	})

	// Floors: what QUALITY.md records for these two accounts (in brackets),
	// less a margin, so a regression fails and a one-item change does not.
	t.Run("floors", func(t *testing.T) {
		floor := func(name string, r quality.Ratio, min float64) {
			t.Helper()
			v, ok := r.Value()
			require.True(t, ok, "%s is defined", name)
			require.GreaterOrEqual(t, v, min, "%s", name)
		}
		n := r.Notes
		floor("action item precision", n.ActionItems.Precision, 0.85)                                                                          // [1.000]
		floor("action item core recall", n.ActionItems.CoreRecall, 0.45)                                                                       // [0.536]
		floor("action item owner accuracy", n.ActionItems.OwnerAccuracy, 0.65)                                                                 // [0.769]
		floor("decision precision", n.Decisions.Precision, 0.50)                                                                               // [0.625]
		floor("new-decision recall", n.Decisions.NewRecall, 0.10)                                                                              // [0.163]
		floor("risk precision", n.Risks.Precision, 0.45)                                                                                       // [0.600]
		require.GreaterOrEqual(t, r.Summary.MeanPoints.Rouge1.F, r.Longest.MeanPoints.Rouge1.F+4, "summary ROUGE-1 against the longest turns") // [+8.4]
		h5, _ := r.Search["hybrid"].At(5)
		require.GreaterOrEqual(t, h5.Hit, 0.55, "search hit@5")               // [0.625]
		require.GreaterOrEqual(t, r.Search["hybrid"].MRR, 0.40, "search MRR") // [0.467]
		a5, _ := r.Answers.At(5)
		require.GreaterOrEqual(t, a5.Hit, 0.36, "answers cite an answering turn") // [0.446]
	})
}
