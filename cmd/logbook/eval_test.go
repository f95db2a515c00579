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
// hybrid must rank better than vector and full-text search alone on
// recall@5, recall@10 and MRR, and unanswerable questions must get
// "nothing on record".
func TestEvalQuality(t *testing.T) {
	ds, err := loadEvalDataset("../../retrieval/testdata/quality/dataset.json")
	require.NoError(t, err)
	r, err := runEval(context.Background(), store.New(testdb.Tx(t)), ds, nil)
	require.NoError(t, err)
	var out strings.Builder
	printEval(&out, r)
	t.Log("\n" + out.String())
	hybrid := r.Scores[0].All
	for _, alone := range r.Scores[1:] {
		require.Greater(t, hybrid.Recall5, alone.All.Recall5, "hybrid recall@5 beats %s", alone.Mode)
		require.Greater(t, hybrid.Recall10, alone.All.Recall10, "hybrid recall@10 beats %s", alone.Mode)
		require.Greater(t, hybrid.MRR, alone.All.MRR, "hybrid MRR beats %s", alone.Mode)
	}
	require.Equal(t, r.Unanswerable, r.Declined, "every unanswerable question is declined")
	require.Greater(t, float64(r.GroundedRight), 0.6*float64(r.Answerable), "most answers cite a labelled record")
}
