package store_test

import (
	"context"
	"fmt"
	"logbook/activity"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// requireStatsExact checks that chunk_stats and chunk_terms hold exactly
// what counting the chunks table again gives, for every org.
func requireStatsExact(t *testing.T, db store.DBTX) {
	t.Helper()
	ctx := context.Background()
	var bad int
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM chunk_stats s
		FULL JOIN (SELECT org_id, count(*) AS chunks, sum(words) AS words FROM chunks GROUP BY org_id) r USING (org_id)
		WHERE s.chunks IS DISTINCT FROM r.chunks OR s.words IS DISTINCT FROM r.words`).Scan(&bad))
	require.Zero(t, bad, "chunk_stats differs from the chunks table")
	require.NoError(t, db.QueryRow(ctx, `SELECT count(*) FROM chunk_terms t
		FULL JOIN (SELECT c.org_id, u.lexeme, count(*) AS chunks FROM chunks c, unnest(c.tsv) u GROUP BY 1, 2) r
			USING (org_id, lexeme)
		WHERE t.chunks IS DISTINCT FROM r.chunks`).Scan(&bad))
	require.Zero(t, bad, "chunk_terms differs from the chunks table")
}

// df returns an org's document frequency of a lexeme (0: no row).
func df(t *testing.T, db store.DBTX, orgID, lexeme string) int {
	t.Helper()
	var n int
	err := db.QueryRow(context.Background(), `SELECT chunks FROM chunk_terms WHERE org_id = $1 AND lexeme = $2`, orgID, lexeme).Scan(&n)
	if err == pgx.ErrNoRows {
		return 0
	}
	require.NoError(t, err)
	return n
}

// indexTexts replaces an activity's own-text chunks with one chunk per text.
func indexTexts(t *testing.T, s *store.Store, orgID, activityID string, texts ...string) {
	t.Helper()
	ctx := context.Background()
	a, err := s.ActivityGet(ctx, orgID, activityID)
	require.NoError(t, err)
	cs := make([]crm.Chunk, len(texts))
	for i, x := range texts {
		cs[i] = crm.Chunk{Kind: crm.ChunkActivity, Position: i, Text: x}
	}
	require.NoError(t, s.ActivityIndexSave(ctx, orgID, activityID, a.UpdatedAt, cs))
}

func newActivity(t *testing.T, s *store.Store, orgID, accountID string) string {
	t.Helper()
	in := crm.ActivityInput{Type: crm.Some(crm.ActivityNote), AccountID: crm.Some(accountID),
		OccurredAt: crm.Some("2026-03-02T15:00:00Z"), Body: crm.Some("body")}
	require.NoError(t, in.Validate(true))
	act, _, _, err := activity.New(s).Upsert(context.Background(), orgID, in)
	require.NoError(t, err)
	return act.ID
}

// TestChunkTermStats follows the term statistics through everything that
// changes chunks: inserts, re-indexing, a chunk's text changed in place,
// an activity moved to another account, deletes cascading from an
// activity; another org's figures never move.
func TestChunkTermStats(t *testing.T) {
	ctx := context.Background()
	tx := testdb.Tx(t)
	s := store.New(tx)
	org, err := s.OrgCreate(ctx, "stats")
	require.NoError(t, err)
	other, err := s.OrgCreate(ctx, "stats other")
	require.NoError(t, err)
	acct, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("A")})
	require.NoError(t, err)
	acct2, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("B")})
	require.NoError(t, err)
	oacct, err := s.AccountCreate(ctx, other.ID, crm.AccountInput{Name: crm.Some("O")})
	require.NoError(t, err)

	a1, a2 := newActivity(t, s, org.ID, acct.ID), newActivity(t, s, org.ID, acct2.ID)
	o1 := newActivity(t, s, other.ID, oacct.ID)
	indexTexts(t, s, other.ID, o1, "The stylus ships in May.", "Stylus pricing and the stylus case.")
	indexTexts(t, s, org.ID, a1, "The garden sprinkler needs a stylus.", "Garden sprinkler valves, garden sprinkler nozzles.")
	indexTexts(t, s, org.ID, a2, "The garden sprinkler is rusty.")
	requireStatsExact(t, tx)
	require.Equal(t, 3, df(t, tx, org.ID, "sprinkler"))
	require.Equal(t, 1, df(t, tx, org.ID, "stylus"))
	require.Equal(t, 2, df(t, tx, other.ID, "stylus"), "each org counts its own chunks")
	var n, words int
	require.NoError(t, tx.QueryRow(ctx, `SELECT chunks, words FROM chunk_stats WHERE org_id = $1`, org.ID).Scan(&n, &words))
	require.Equal(t, 3, n)
	// "The garden sprinkler needs a stylus." is 4 words and "Garden sprinkler
	// valves, garden sprinkler nozzles." 6 once stop words are dropped.
	require.Equal(t, 4+6+3, words)

	// Re-indexing replaces the activity's chunks: "stylus" goes, "filter"
	// comes, "sprinkler" stays as often as before.
	indexTexts(t, s, org.ID, a1, "The filter lasts a year.", "Garden sprinkler valves.", "Garden sprinkler nozzles.")
	requireStatsExact(t, tx)
	require.Zero(t, df(t, tx, org.ID, "stylus"), "a lexeme no chunk holds has no row")
	require.Equal(t, 1, df(t, tx, org.ID, "filter"))
	require.Equal(t, 3, df(t, tx, org.ID, "sprinkler"))

	// A chunk's text changed in place.
	_, err = tx.Exec(ctx, `UPDATE chunks SET text = 'A rusty stylus.' WHERE org_id = $1 AND activity_id = $2 AND position = 0`, org.ID, a1)
	require.NoError(t, err)
	requireStatsExact(t, tx)
	require.Equal(t, 1, df(t, tx, org.ID, "stylus"))
	require.Zero(t, df(t, tx, org.ID, "filter"))

	// An activity moved to another account takes its chunks along; the
	// org's figures do not change.
	before := df(t, tx, org.ID, "sprinkler")
	_, err = activity.New(s).Update(ctx, org.ID, a1, crm.ActivityInput{AccountID: crm.Some(acct2.ID)})
	require.NoError(t, err)
	var moved int
	require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM chunks WHERE org_id = $1 AND activity_id = $2 AND account_id = $3`,
		org.ID, a1, acct2.ID).Scan(&moved))
	require.Equal(t, 3, moved)
	requireStatsExact(t, tx)
	require.Equal(t, before, df(t, tx, org.ID, "sprinkler"))

	// Deleting an activity deletes its chunks and their counts.
	require.NoError(t, s.ActivityDelete(ctx, org.ID, a1))
	requireStatsExact(t, tx)
	require.Equal(t, 1, df(t, tx, org.ID, "sprinkler"))
	require.NoError(t, s.ActivityDelete(ctx, org.ID, a2))
	requireStatsExact(t, tx)
	require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM chunk_stats WHERE org_id = $1`, org.ID).Scan(&n))
	require.Zero(t, n, "an org without chunks has no statistics")
	require.Equal(t, 2, df(t, tx, other.ID, "stylus"))
}

// TestChunkTermStatsConcurrent re-indexes activities of one org from many
// goroutines at once, each in its own transaction: no deadlock, no lost
// update. Worker w's chunks at round r use word group w+r, so each
// re-index deletes the words its neighbour's inserts need while inserting
// the words the next worker's deletes hold: without one order for all of
// an org's writers this is a lock cycle.
func TestChunkTermStatsConcurrent(t *testing.T) {
	ctx := context.Background()
	pool := testdb.Schema(t)
	s := store.New(pool)
	org, err := s.OrgCreate(ctx, "busy")
	require.NoError(t, err)
	acct, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("A")})
	require.NoError(t, err)
	const workers, rounds = 6, 15
	text := func(group, c int) string {
		var b strings.Builder
		for i := range 10 {
			fmt.Fprintf(&b, "g%dw%dc%d ", group%workers, i, c)
		}
		return b.String()
	}
	acts := make([]string, workers)
	for w := range acts {
		acts[w] = newActivity(t, s, org.ID, acct.ID)
		indexTexts(t, s, org.ID, acts[w], text(w, 0), text(w, 1))
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 1; r <= rounds; r++ {
				a, err := s.ActivityGet(ctx, org.ID, acts[w])
				if err != nil {
					errs <- err
					return
				}
				cs := []crm.Chunk{{Kind: crm.ChunkActivity, Position: 0, Text: text(w+r, 0)},
					{Kind: crm.ChunkActivity, Position: 1, Text: text(w+r, 1)}}
				if err := s.ActivityIndexSave(ctx, org.ID, acts[w], a.UpdatedAt, cs); err != nil {
					errs <- fmt.Errorf("worker %d round %d: %w", w, r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	requireStatsExact(t, pool)
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT chunks FROM chunk_stats WHERE org_id = $1`, org.ID).Scan(&n))
	require.Equal(t, 2*workers, n)
}
