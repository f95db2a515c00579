package retrievalbench

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/testdb"
)

// TestBenchRetrieval runs the retrieval benchmark at a tiny scale so that
// it cannot rot: every section runs and the per-account path is exact.
func TestBenchRetrieval(t *testing.T) {
	t.Parallel()
	o := &Options{chunks: 5000, big: 1000, small: 100, dim: 384, queries: 20, orgQueries: 10,
		efs: "40,100", transcripts: 20, order: "interleaved", seed: 1, tail: 500}
	var out bytes.Buffer
	res, err := benchRetrieval(context.Background(), &out, testdb.DatabaseURL(t), testdb.DatabaseURL(t), o)
	require.NoError(t, err, out.String())
	t.Log(out.String())
	require.Equal(t, map[int]float64{1000: 1, 100: 1}, res.AccountRecall)
	require.Len(t, res.OrgRecall, 2)
	for ef, r := range res.OrgRecall {
		require.Greater(t, r, 0.5, "ef_search %d", ef)
	}
	require.Len(t, res.RSS, 11) // after the first transcript and every tenth
	require.Contains(t, out.String(), "EXPLAIN (ANALYZE, BUFFERS)")
	require.Contains(t, out.String(), "Index Only Scan using chunks_account_vec", "the per-account scan reads vectors from the covering index")

	// Full-text search: nearly every question finds chunks by BM25 (a
	// question of stop words alone finds none), the old query finds them
	// for those too (it also looks for the words BM25 leaves out), hybrid
	// search always does, and the pruned BM25 top 10 is the unpruned one on
	// every question.
	require.Len(t, res.Text, 2)
	for size, r := range res.Text {
		require.Equal(t, o.queries, r.Queries, "%d-chunk account", size)
		require.GreaterOrEqual(t, r.BM25Hits, r.Queries*9/10, "%d-chunk account: BM25 hits", size)
		require.GreaterOrEqual(t, r.TextHits, r.BM25Hits, "%d-chunk account: ts_rank_cd hits", size)
		require.Equal(t, r.Queries, r.Hybrid, "%d-chunk account: hybrid hits", size)
		require.Equal(t, r.Queries, r.SameAsUnpruned, "%d-chunk account: pruned BM25 = unpruned", size)
		require.Positive(t, r.BM25P[0], "%d-chunk account", size)
	}
	require.Contains(t, out.String(), "| 10–50% (pruned) |")
}
