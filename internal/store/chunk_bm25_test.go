package store_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// TestChunkSearchBM25 ranks by BM25 with the org's statistics: a chunk
// holding the question's rare word comes first, where ts_rank_cd puts the
// chunks that repeat its common word first; scores are BM25's to the
// digit; another org's chunks are never counted nor returned, and an
// account's question never sees another account's chunks.
func TestChunkSearchBM25(t *testing.T) {
	ctx := context.Background()
	tx := testdb.Tx(t)
	s := store.New(tx)
	org, err := s.OrgCreate(ctx, "bm25")
	require.NoError(t, err)
	acct, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("A")})
	require.NoError(t, err)
	acct2, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("B")})
	require.NoError(t, err)
	a := newActivity(t, s, org.ID, acct.ID)
	texts := []string{"We talked about the stylus and the sprinkler."}
	for range 9 {
		texts = append(texts, "The sprinkler, the sprinkler again, and the sprinkler's valves on the sprinkler.")
	}
	indexTexts(t, s, org.ID, a, texts...)
	// Account B says "stylus" often: it counts in the org's df but is
	// never returned for account A.
	b := newActivity(t, s, org.ID, acct2.ID)
	indexTexts(t, s, org.ID, b, "Stylus, stylus, stylus.")

	// Another org whose every chunk says "stylus": its figures must not
	// make the word common in this org.
	other, err := s.OrgCreate(ctx, "bm25 other")
	require.NoError(t, err)
	oacct, err := s.AccountCreate(ctx, other.ID, crm.AccountInput{Name: crm.Some("O")})
	require.NoError(t, err)
	o := newActivity(t, s, other.ID, oacct.ID)
	var otexts []string
	for range 30 {
		otexts = append(otexts, "The stylus and the sprinkler.")
	}
	indexTexts(t, s, other.ID, o, otexts...)

	q := crm.ChunkQuery{OrgID: org.ID, AccountID: acct.ID, Limit: 5}
	hits, err := s.ChunkSearchBM25(ctx, q, "sprinkler stylus")
	require.NoError(t, err)
	require.Len(t, hits, 5)
	require.Equal(t, texts[0], hits[0].Text, "the rare word decides")
	for _, h := range hits {
		require.Equal(t, acct.ID, h.AccountID)
	}
	// ts_rank_cd has no idf: four "sprinkler"s outrank one "stylus".
	old, err := s.ChunkSearchText(ctx, q, "sprinkler or stylus")
	require.NoError(t, err)
	require.NotEqual(t, texts[0], old[0].Text, "ts_rank_cd ranks the common word's repetitions first")

	// The score by hand: N = 11 chunks in the org, df(stylus) = 2,
	// df(sprinkler) = 10, tf 1 each; the chunk's length and the org's total
	// are the tsvectors' positions (stop words left out).
	var words, total int
	require.NoError(t, tx.QueryRow(ctx, `SELECT words FROM chunks WHERE org_id = $1 AND activity_id = $2 AND position = 0`,
		org.ID, a).Scan(&words))
	require.NoError(t, tx.QueryRow(ctx, `SELECT words FROM chunk_stats WHERE org_id = $1`, org.ID).Scan(&total))
	idf := func(df float64) float64 { return math.Log(1 + (11-df+0.5)/(df+0.5)) }
	avg := float64(total) / 11
	norm := store.BM25K1 * (1 - store.BM25B + store.BM25B*float64(words)/avg)
	want := (idf(2) + idf(10)) * (store.BM25K1 + 1) / (1 + norm)
	require.InDelta(t, want, hits[0].Score, 1e-9)

	// Org-wide, account B's chunk is found too, and the other org's never.
	hits, err = s.ChunkSearchBM25(ctx, crm.ChunkQuery{OrgID: org.ID, Limit: 20}, "stylus")
	require.NoError(t, err)
	require.Len(t, hits, 2)
	for _, h := range hits {
		require.Equal(t, org.ID, h.OrgID)
	}
	require.Contains(t, hits[0].Text, "Stylus, stylus", "three mentions beat one")

	// Words with no lexeme, and words no chunk holds, find nothing.
	for _, w := range []string{"", "the and of", "zeppelin"} {
		hits, err = s.ChunkSearchBM25(ctx, q, w)
		require.NoError(t, err)
		require.Empty(t, hits, w)
	}
	// Quotes and backslashes reach the tsquery quoted.
	_, err = s.ChunkSearchBM25(ctx, q, `o'brien's \x "sprinkler"`)
	require.NoError(t, err)
}

// TestChunkSearchBM25Pruned: the pruned query, which takes candidates only
// from lexemes at most store.PruneShare of the org's chunks hold, ranks
// exactly as the full one, whether its bound lets it stand or the full
// query has to run.
func TestChunkSearchBM25Pruned(t *testing.T) {
	ctx := context.Background()
	tx := testdb.Tx(t)
	s := store.New(tx)
	org, err := s.OrgCreate(ctx, "prune")
	require.NoError(t, err)
	acct, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("A")})
	require.NoError(t, err)
	a := newActivity(t, s, org.ID, acct.ID)
	// "sprinkler" is in every chunk, "filter" in every third (both common),
	// "stylus" in 3 of 60 (rare).
	var texts []string
	for i := range 60 {
		x := "The garden sprinkler"
		if i%3 == 0 {
			x += " and its filter"
		}
		if i%20 == 7 {
			x += " with a stylus"
		}
		if i%4 == 0 {
			x += ", the sprinkler again"
		}
		texts = append(texts, x+".")
	}
	indexTexts(t, s, org.ID, a, texts...)
	full := func(q crm.ChunkQuery, words string) []crm.ChunkHit {
		sql, args := store.ChunkBM25SQL(q, words, false)
		rows, err := tx.Query(ctx, sql, args...)
		require.NoError(t, err)
		var out []crm.ChunkHit
		for rows.Next() {
			var id string
			var score, bound float64
			dest := []any{&id}
			for range 14 {
				dest = append(dest, new(any))
			}
			require.NoError(t, rows.Scan(append(dest, &score, &bound)...))
			require.Zero(t, bound, "nothing is left out of the full query")
			out = append(out, crm.ChunkHit{Chunk: crm.Chunk{ID: id}, Score: score})
		}
		require.NoError(t, rows.Err())
		return out
	}
	for _, c := range []struct {
		words string
		limit int
	}{
		{"sprinkler filter stylus", 3},  // the stylus chunks outscore any chunk without it: the pruned query stands
		{"sprinkler filter stylus", 10}, // only 3 candidates for 10 places: run in full
		{"sprinkler filter", 5},         // no rare lexeme: nothing pruned
		{"stylus", 5},
		{"sprinkler zeppelin", 5}, // the rare lexeme no chunk holds: no pruned hit, run in full
	} {
		q := crm.ChunkQuery{OrgID: org.ID, AccountID: acct.ID, Limit: c.limit}
		got, err := s.ChunkSearchBM25(ctx, q, c.words)
		require.NoError(t, err)
		want := full(q, c.words)
		require.Len(t, got, len(want), c.words)
		for i := range want {
			require.Equal(t, want[i].ID, got[i].ID, "%s #%d", c.words, i)
			require.InDelta(t, want[i].Score, got[i].Score, 1e-12)
		}
	}
	// The pruned query alone: candidates are the stylus chunks, and its
	// bound is what "sprinkler" and "filter" could add at most.
	sql, args := store.ChunkBM25SQL(crm.ChunkQuery{OrgID: org.ID, AccountID: acct.ID, Limit: 10}, "sprinkler filter stylus", true)
	rows, err := tx.Query(ctx, sql, args...)
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		vals, err := rows.Values()
		require.NoError(t, err)
		require.Contains(t, vals[8], "stylus")
		require.Positive(t, vals[16].(float64))
		n++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 3, n)
}
