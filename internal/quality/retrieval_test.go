package quality

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestScoreRetrieval(t *testing.T) {
	t.Parallel()

	ds := loadFixture(t)
	run := Run{
		// Gold turn 2. Rank 1 is another meeting; rank 2 covers turns 1-2.
		"TS9001a/q0": {
			TurnsItem("TS9001b", []int{0, 1}),
			TurnsItem("TS9001a", []int{1, 2}),
			TurnsItem("TS9001a", []int{2, 3}),
		},
		// Gold turns 1 and 3. 1.5 s to 2.5 s overlaps turns 1 and 2.
		"TS9001b/q0": {TimeItem("TS9001b", 1500, 2500)},
		// IS9002a/q0 is missing from the run.
	}
	rep, err := ScoreRetrieval(ds, run, []int{1, 3})
	require.NoError(t, err)

	q := rep.Queries
	require.Len(t, q, 3)
	require.Equal(t, 0.5, q[0].MRR)
	require.Equal(t, AtK{K: 1}, q[0].AtK[0], "the first item is from another meeting")
	// Words of turns 1, 2 and 3: 1 + 10 + 4.
	require.Equal(t, AtK{K: 3, TurnRecall: 1, Hit: 1, MtgHit: 1, Words: 15}, q[0].AtK[1])
	require.Equal(t, 1.0, q[1].MRR)
	require.Equal(t, AtK{K: 1, TurnRecall: 0.5, Hit: 1, MtgHit: 1, Words: 8 + 1}, q[1].AtK[0])
	require.True(t, q[2].Missing)
	require.Equal(t, 0.0, q[2].MRR)

	all := rep.All
	require.Equal(t, 3, all.N)
	require.Equal(t, 1, all.Missing)
	require.InDelta(t, 0.5, all.MRR, 1e-15)
	at1, ok := all.At(1)
	require.True(t, ok)
	require.InDelta(t, 1.0/3, at1.Hit, 1e-15)
	require.InDelta(t, 1.0/6, at1.TurnRecall, 1e-15)
	require.InDelta(t, 3.0, at1.Words, 1e-15)
	at3, _ := all.At(3)
	require.InDelta(t, 2.0/3, at3.Hit, 1e-15)
	require.InDelta(t, 0.5, at3.TurnRecall, 1e-15)
	require.InDelta(t, 8.0, at3.Words, 1e-15)
	_, ok = all.At(5)
	require.False(t, ok)

	require.Equal(t, []string{"Committee", "Product"}, rep.DomainOrder)
	require.Equal(t, 2, rep.Domains["Product"].N)
	require.InDelta(t, 0.75, rep.Domains["Product"].MRR, 1e-15)
	require.Equal(t, 1, rep.Domains["Committee"].Missing)
}

func TestScoreRetrievalBadItem(t *testing.T) {
	t.Parallel()

	ds := loadFixture(t)
	start := int64(0)
	for name, it := range map[string]Item{
		"Empty":        {MeetingID: "TS9001a"},
		"StartWithout": {MeetingID: "TS9001a", StartMS: &start},
		"NegativeTurn": {MeetingID: "TS9001a", Turns: []int{-1}},
	} {
		_, err := ScoreRetrieval(ds, Run{"TS9001a/q0": {it}}, nil)
		require.Error(t, err, name)
	}
	// An item of another meeting is never mapped, so it cannot fail.
	_, err := ScoreRetrieval(ds, Run{"TS9001a/q0": {{MeetingID: "TS9001b"}}}, nil)
	require.NoError(t, err)
}

func TestCoveredByItemText(t *testing.T) {
	t.Parallel()

	ds := loadFixture(t)
	m, _ := ds.Meeting("TS9001b")
	turns := make([][]string, len(m.Turns))
	for i, tr := range m.Turns {
		turns[i] = retrievalTokens(tr.Content)
	}
	// Turn 0 (11 words): its last 6 words are here. Turn 1 (8 words): all.
	// Turn 2 ("Right."): short, but next to a covered turn. Turn 3 (10
	// words): only 3 of its first 5. Turn 5 ("Agreed."): not in the text.
	got, err := coveredByItem(TextItem("TS9001b",
		"... review the prototype and the cooler tests. The cooler lasted nine hours in the lab. Right! That is longer"),
		turns, nil)
	require.NoError(t, err)
	require.Equal(t, map[int]bool{0: true, 1: true, 2: true}, got)

	// A short turn away from any covered turn does not count.
	got, err = coveredByItem(TextItem("TS9001b", "agreed"), turns, nil)
	require.NoError(t, err)
	require.Empty(t, got)

	// Time ranges cover the turns they overlap, ends excluded.
	tindex := ds.TurnIndex["TS9001b"]
	got, err = coveredByItem(TimeItem("TS9001b", 1000, 2000), nil, tindex)
	require.NoError(t, err)
	require.Equal(t, map[int]bool{1: true}, got)
}

func TestAccountOf(t *testing.T) {
	t.Parallel()

	for id, want := range map[string]string{
		"ES2006a":       "ES2006",
		"TS9001b":       "TS9001",
		"Bmr021":        "Bmr",
		"covid_17":      "covid",
		"education_4":   "education",
		"plainmeeting1": "plainmeeting1",
	} {
		require.Equal(t, want, AccountOf(id), id)
	}
}

// bm25Set is a made-up set for ranking: one account of two meetings and a
// second account, every turn by speaker "A".
func bm25Set() *DevSet {
	turns := func(contents ...string) []Turn {
		out := make([]Turn, len(contents))
		for i, c := range contents {
			out[i] = Turn{I: i, Speaker: "A", Content: c}
		}
		return out
	}
	ds := &DevSet{
		Meetings: []Meeting{
			{ID: "TS1000a", Turns: turns("red apples grow here", "nothing to see", "green pears and red apples grow there")},
			{ID: "TS1000b", Turns: turns("pears pears pears", "red apples grow here")},
			{ID: "IS2000a", Turns: turns("apples apples apples apples")},
		},
		Retrieval: []RetrievalQuery{
			{QID: "q-pears", MeetingID: "TS1000a", Query: "Pears?", RelevantTurns: []int{2}},
			{QID: "q-apples", MeetingID: "TS1000b", Query: "red apples", RelevantTurns: []int{1}},
		},
	}
	ds.index()
	return ds
}

func TestBM25RunChunks(t *testing.T) {
	t.Parallel()

	// With 8 words a chunk (the speaker counts), TS1000a's first two turns
	// (5 + 4 tokens) close a chunk; its third is a chunk of its own.
	run, err := BM25Run(bm25Set(), ScopeMeeting, 8, 20)
	require.NoError(t, err)
	require.Equal(t, []Item{TurnsItem("TS1000a", []int{2}), TurnsItem("TS1000a", []int{0, 1})}, run["q-pears"])
}

func TestBM25RunRanking(t *testing.T) {
	t.Parallel()

	ds := bm25Set()
	// One chunk a turn.
	run, err := BM25Run(ds, ScopeAccount, 1, 20)
	require.NoError(t, err)
	// "pears": the turn saying it three times first, then the longer turn
	// saying it once; turns without it score 0 and keep chunk order.
	require.Equal(t, []Item{
		TurnsItem("TS1000b", []int{0}),
		TurnsItem("TS1000a", []int{2}),
		TurnsItem("TS1000a", []int{0}),
		TurnsItem("TS1000a", []int{1}),
		TurnsItem("TS1000b", []int{1}),
	}, run["q-pears"], "account scope leaves IS2000a out")
	// "red apples": the two identical short turns tie and keep chunk order,
	// ahead of the longer turn with the same words.
	require.Equal(t, []Item{
		TurnsItem("TS1000a", []int{0}),
		TurnsItem("TS1000b", []int{1}),
		TurnsItem("TS1000a", []int{2}),
	}, run["q-apples"][:3])

	top2, err := BM25Run(ds, ScopeAll, 1, 2)
	require.NoError(t, err)
	require.Len(t, top2["q-apples"], 2)

	_, err = BM25Run(ds, Scope("org"), 250, 20)
	require.Error(t, err)
}
