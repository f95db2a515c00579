package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/store"
	"logbook/internal/testdb"
)

// TestEvalQuality runs the retrieval quality harness on the labelled set:
// hybrid must rank better than vector and full-text search alone (recall@5
// and MRR), and unanswerable questions must get "nothing on record".
func TestEvalQuality(t *testing.T) {
	ds, err := loadEvalDataset("../../retrieval/testdata/quality/dataset.json")
	require.NoError(t, err)
	r, err := runEval(context.Background(), store.New(testdb.Tx(t)), ds, nil)
	require.NoError(t, err)
	var out strings.Builder
	printEval(&out, r)
	t.Log("\n" + out.String())
	hybrid, vector, text := r.Scores[0], r.Scores[1], r.Scores[2]
	require.Greater(t, hybrid.MRR, vector.MRR)
	require.Greater(t, hybrid.MRR, text.MRR)
	require.Greater(t, hybrid.Recall5, vector.Recall5)
	require.Greater(t, hybrid.Recall5, text.Recall5)
	require.Equal(t, r.Unanswerable, r.Declined, "every unanswerable question is declined")
	require.Greater(t, float64(r.GroundedRight), 0.6*float64(r.Answerable), "most answers cite a labelled record")
}
