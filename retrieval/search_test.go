package retrieval

import (
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

func chunkHits(scores ...float64) []crm.ChunkHit {
	out := make([]crm.ChunkHit, len(scores))
	for i, s := range scores {
		out[i] = crm.ChunkHit{Chunk: crm.Chunk{ID: string(rune('a' + i))}, Score: s}
	}
	return out
}

func hitIDs(hs []Hit) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.ID
	}
	return out
}

func TestTiedRanks(t *testing.T) {
	t.Parallel()

	require.Empty(t, tiedRanks(nil))
	require.Equal(t, []float64{1, 2, 3}, tiedRanks(chunkHits(0.9, 0.5, 0.1)))
	require.Equal(t, []float64{1, 3, 3, 3, 5}, tiedRanks(chunkHits(0.3, 0.1, 0.1, 0.1, 0.05)))
	require.Equal(t, []float64{1.5, 1.5, 3}, tiedRanks(chunkHits(0.2, 0.2, 0.1)))
}

func TestFuse(t *testing.T) {
	t.Parallel()

	t.Run("BothListsBeatOne", func(t *testing.T) {
		t.Parallel()
		vec := chunkHits(0.9, 0.5) // a, b
		txt := []crm.ChunkHit{{Chunk: crm.Chunk{ID: "b"}, Score: 0.4}, {Chunk: crm.Chunk{ID: "c"}, Score: 0.3}}
		hs := fuse(vec, txt)
		require.Equal(t, []string{"b", "a", "c"}, hitIDs(hs))
		require.Equal(t, 2, hs[0].VectorRank)
		require.Equal(t, 1, hs[0].TextRank)
		require.InDelta(t, 0.5, hs[0].Similarity, 1e-9)
		require.Zero(t, hs[2].VectorRank)
		require.Zero(t, hs[2].Similarity)
	})

	t.Run("TextTiesDoNotFollowStorageOrder", func(t *testing.T) {
		t.Parallel()
		// Full-text scores a, b and c the same (each says one of the
		// question's words once); the vector list prefers c. The order the
		// database returned the tie in must not decide.
		txt := chunkHits(0.1, 0.1, 0.1)
		vec := []crm.ChunkHit{{Chunk: crm.Chunk{ID: "c"}, Score: 0.3}, {Chunk: crm.Chunk{ID: "b"}, Score: 0.2},
			{Chunk: crm.Chunk{ID: "a"}, Score: 0.1}}
		hs := fuse(vec, txt)
		require.Equal(t, []string{"c", "b", "a"}, hitIDs(hs))
		require.Equal(t, 3, hs[0].TextRank, "the rank reported is still the list's position")
		require.InDelta(t, 1.0/(RRFK+1)+1.0/(RRFK+2), hs[0].Score, 1e-12, "tied at ranks 1-3: each counts as rank 2")
	})

	t.Run("ExactTieGoesToVectorRank", func(t *testing.T) {
		t.Parallel()
		vec := chunkHits(0.9, 0.5) // a, b
		txt := []crm.ChunkHit{{Chunk: crm.Chunk{ID: "b"}, Score: 0.4}, {Chunk: crm.Chunk{ID: "a"}, Score: 0.3}}
		require.Equal(t, []string{"a", "b"}, hitIDs(fuse(vec, txt)))
	})

	t.Run("OneList", func(t *testing.T) {
		t.Parallel()
		// One method alone keeps the list's order, ties included.
		require.Equal(t, []string{"a", "b", "c", "d"}, hitIDs(fuse(nil, chunkHits(0.3, 0.1, 0.1, 0.1))))
		require.Equal(t, []string{"a", "b", "c"}, hitIDs(fuse(chunkHits(0.9, 0.9, 0.1), nil)))
	})
}

// TestCoverageWeighsTheSubject: the words after "about" name what the
// answer must be about, and count twice toward a chunk's coverage.
func TestCoverageWeighsTheSubject(t *testing.T) {
	q := "What did we promise Acme about SSO?"
	terms, topic := contentTerms(q), topicTerms(q)
	require.Equal(t, []string{"sso"}, topic)
	onTopic := coverage(terms, topic, "If SSO isn't ready, we can't roll out to the warehouse leads.")
	offTopic := coverage(terms, topic, "I'll keep the usage part short, I promise.")
	require.Greater(t, onTopic, offTopic)
	require.GreaterOrEqual(t, onTopic, MinCoverage, "the subject alone makes a chunk relevant enough to answer from")
	require.Empty(t, topicTerms("When will we get the SOC 2 report?"))
	require.Equal(t, coverage(terms, nil, "promise"), 1/float64(len(terms)), "without a subject every term counts once")
}
