package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/store"
	"logbook/internal/testdb"
)

// TestEvalQuality runs the retrieval harness on the hand-written labelled
// set (retrieval/testdata/quality): every method ranks, and unanswerable
// questions get "nothing on record". How the methods compare is gated on
// real meetings (TestQualityGate), not on this set, which was written
// alongside the code.
func TestEvalQuality(t *testing.T) {
	ds, err := loadEvalDataset("../../retrieval/testdata/quality/dataset.json")
	require.NoError(t, err)
	r, err := runEval(context.Background(), store.New(testdb.Tx(t)), ds, nil)
	require.NoError(t, err)
	var out strings.Builder
	printEval(&out, r)
	t.Log("\n" + out.String())
	require.Len(t, r.Scores, 3)
	for _, s := range r.Scores {
		require.Equal(t, r.Answerable, s.All.N, "%s scored every answerable question", s.Mode)
		require.Positive(t, s.All.Recall10, "%s finds answers", s.Mode)
	}
	require.Positive(t, r.Unanswerable)
	require.Equal(t, r.Unanswerable, r.Declined, "every unanswerable question is declined")
}
