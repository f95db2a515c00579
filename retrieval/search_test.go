package retrieval

import (
	"context"
	"slices"
	"strings"
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
		hs := fuse(vec, txt, 1)
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
		hs := fuse(vec, txt, 1)
		require.Equal(t, []string{"c", "b", "a"}, hitIDs(hs))
		require.Equal(t, 3, hs[0].TextRank, "the rank reported is still the list's position")
		require.InDelta(t, 1.0/(RRFK+1)+1.0/(RRFK+2), hs[0].Score, 1e-12, "tied at ranks 1-3: each counts as rank 2")
	})

	t.Run("ExactTieGoesToVectorRank", func(t *testing.T) {
		t.Parallel()
		vec := chunkHits(0.9, 0.5) // a, b
		txt := []crm.ChunkHit{{Chunk: crm.Chunk{ID: "b"}, Score: 0.4}, {Chunk: crm.Chunk{ID: "a"}, Score: 0.3}}
		require.Equal(t, []string{"a", "b"}, hitIDs(fuse(vec, txt, 1)))
	})

	t.Run("VectorWeight", func(t *testing.T) {
		t.Parallel()
		// a tops the vector list, c the text list.
		vec := chunkHits(0.9) // a
		txt := []crm.ChunkHit{{Chunk: crm.Chunk{ID: "c"}, Score: 3}}
		require.Equal(t, []string{"a", "c"}, hitIDs(fuse(vec, txt, 1)), "equal weights: the tie goes to the vector rank")
		hs := fuse(vec, txt, 0.3)
		require.Equal(t, []string{"c", "a"}, hitIDs(hs), "a lighter vector list")
		require.InDelta(t, 0.3/(RRFK+1), hs[1].Score, 1e-12)
	})

	t.Run("OneList", func(t *testing.T) {
		t.Parallel()
		// One method alone keeps the list's order, ties included.
		require.Equal(t, []string{"a", "b", "c", "d"}, hitIDs(fuse(nil, chunkHits(0.3, 0.1, 0.1, 0.1), 1)))
		require.Equal(t, []string{"a", "b", "c"}, hitIDs(fuse(chunkHits(0.9, 0.9, 0.1), nil, 1)))
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

// TestSearchWords: the words a question is asked with leave the lexical
// query; its subject stays.
func TestSearchWords(t *testing.T) {
	t.Parallel()
	ws := SearchWords("What did the team discuss about the warehouse rollout, and why?")
	require.Contains(t, ws, "warehouse rollout")
	for _, w := range []string{"team", "discuss"} {
		require.NotContains(t, strings.Fields(ws), w)
	}
	require.Equal(t, "Maya", SearchWords("Maya's opinion?"))
	require.Equal(t, "What did they about", SearchWords("What did they talk about?"), "stop words are PostgreSQL's to drop")
}

func lines(speakers ...string) []crm.ChunkLine {
	out := make([]crm.ChunkLine, len(speakers))
	for i := range speakers {
		out[i] = crm.ChunkLine{Offset: i * 10, Speaker: &speakers[i]}
	}
	return out
}

// TestNamedSpeakers: a speaker is named by their whole label (a role's
// last word may differ in its ending) or by a name's first word written
// capitalised; a word of a label alone, lower-case, names no one.
func TestNamedSpeakers(t *testing.T) {
	t.Parallel()
	hits := []crm.ChunkHit{{Chunk: crm.Chunk{Lines: lines("Maya Patel", "Sales Engineer")}}}
	for _, c := range []struct {
		q     string
		named []string
		words []int
	}{
		{"What did Maya think about pricing?", []string{"Maya Patel"}, []int{2}},
		{"what did maya patel promise", []string{"Maya Patel"}, []int{2, 3}},
		{"Why did the sales engineering lead object?", []string{"Sales Engineer"}, []int{3, 4}},
		{"What did the engineers say about sales?", nil, nil},
		{"Maya", nil, nil}, // a question's first word is capitalised anyway
	} {
		named, naming := namedSpeakers(questionTokens(c.q), hits)
		var gotNamed []string
		for n := range named {
			gotNamed = append(gotNamed, n)
		}
		var gotWords []int
		for i := range naming {
			gotWords = append(gotWords, i)
		}
		slices.Sort(gotWords)
		require.ElementsMatch(t, c.named, gotNamed, c.q)
		require.Equal(t, c.words, gotWords, c.q)
	}
}

// TestSpeakerShare: the share of a chunk's text in lines said by a named
// speaker.
func TestSpeakerShare(t *testing.T) {
	t.Parallel()
	c := crm.Chunk{Text: strings.Repeat("x", 40), Lines: lines("A", "B", "A", "C")}
	require.InDelta(t, 0.5, speakerShare(c, map[string]bool{"A": true}), 1e-12)
	require.InDelta(t, 0.25, speakerShare(c, map[string]bool{"C": true}), 1e-12)
	require.Zero(t, speakerShare(c, map[string]bool{"D": true}))
}

// TestSearchSpeakerNamed: asked what one person said, full-text search
// puts the chunk that person says first, though another chunk repeats
// the subject more often; asked about the other person, the other chunk.
func TestSearchSpeakerNamed(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acct := f.account("Speakers")
	f.meeting(acct, day("2026-02-02"), crm.Notes{},
		"Maya Patel", "The rollout slips to May because the warehouse scanners arrive late.",
		"Wei Zhang", "Right.")
	f.meeting(acct, day("2026-02-09"), crm.Notes{},
		"Wei Zhang", "The rollout plan: the rollout of the scanners first, then the rollout of the app.",
		"Maya Patel", "Fine.")
	for _, c := range []struct{ q, want string }{
		{"What did Maya say about the rollout?", "warehouse scanners arrive late"},
		{"What did Wei say about the rollout?", "rollout of the app"},
	} {
		hits, err := f.svc.Search(ctx, Question{OrgID: f.orgID, AccountID: acct, Text: c.q}, TextOnly, 5)
		require.NoError(t, err)
		require.Len(t, hits, 2, c.q)
		require.Contains(t, hits[0].Text, c.want, c.q)
	}
	// Without a name, the chunk that says "rollout" three times wins.
	hits, err := f.svc.Search(ctx, Question{OrgID: f.orgID, AccountID: acct, Text: "What about the rollout?"}, TextOnly, 5)
	require.NoError(t, err)
	require.Contains(t, hits[0].Text, "rollout of the app")
}
