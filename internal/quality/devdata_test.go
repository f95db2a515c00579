package quality

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// devDataDir is the shared dev set: $QUALITY_DATA, or ../shared/quality
// next to the repository root (the folder holding go.mod).
func devDataDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("QUALITY_DATA"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "quality")
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "no go.mod above the test's directory")
		dir = parent
	}
}

// TestBM25OnDevSet checks the port against the dev set's published BM25
// figures (its README; score_retrieval.py prints them to 4 places).
func TestBM25OnDevSet(t *testing.T) {
	t.Parallel()

	dir := devDataDir(t)
	ds, err := LoadDevSet(dir)
	require.NoError(t, err, "the quality dev set must be at %s (set QUALITY_DATA to move it)", dir)
	require.Len(t, ds.Meetings, 20)
	require.Len(t, ds.Retrieval, 125)
	require.Len(t, ds.Summaries, 20)
	require.Len(t, ds.LabelOrder, 8)
	require.Len(t, ds.Accounts, 5)

	run, err := BM25Run(ds, ScopeAccount, 250, 20)
	require.NoError(t, err)
	rep, err := ScoreRetrieval(ds, run, DefaultKs())
	require.NoError(t, err)
	at5, ok := rep.All.At(5)
	require.True(t, ok)
	require.Equal(t, 0.56, Round(at5.Hit, 4))
	require.Equal(t, 0.325, Round(rep.All.MRR, 4))
	at1, _ := rep.All.At(1)
	require.Equal(t, 0.456, Round(at1.MtgHit, 4))
	require.Equal(t, 0, rep.All.Missing)
}
