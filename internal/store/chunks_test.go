package store_test

import (
	"context"
	"fmt"
	"logbook/activity"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// plantChunks copies n chunks with random unit vectors onto one meeting of
// account, straight into the table.
func plantChunks(t *testing.T, tx pgx.Tx, orgID, accountID, activityID string, n int, rng *rand.Rand) {
	t.Helper()
	plantChunksDim(t, tx, orgID, accountID, activityID, n, 384, rng)
}

func plantChunksDim(t *testing.T, tx pgx.Tx, orgID, accountID, activityID string, n, dim int, rng *rand.Rand) {
	t.Helper()
	rows := make([][]any, n)
	for i := range rows {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		rows[i] = []any{orgID, store.NewID(), accountID, activityID, "meeting", time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC), "transcript", i,
			fmt.Sprintf("chunk %d about renewal pricing", i), crm.ChunkHash(fmt.Sprint(i)), "m", pgvector.NewHalfVector(v)}
	}
	_, err := tx.CopyFrom(context.Background(), pgx.Identifier{"chunks"}, []string{"org_id", "id", "account_id", "activity_id",
		"activity_type", "occurred_at", "kind", "position", "text", "content_hash", "model", "embedding"}, pgx.CopyFromRows(rows))
	require.NoError(t, err)
}

func explain(t *testing.T, tx pgx.Tx, sql string, args []any) string {
	t.Helper()
	rows, err := tx.Query(context.Background(), "EXPLAIN "+sql, args...)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return strings.Join(lines, "\n")
}

// TestChunkSearchPlans pins the query plans: a per-account search scans the
// account's chunks exactly and never takes the HNSW index (whose filtered
// scan returns short: ARCHITECTURE.md), however the planner is tempted; an
// org-wide search takes the HNSW index.
func TestChunkSearchPlans(t *testing.T) {
	ctx := context.Background()
	tx := testdb.Tx(t)
	s := store.New(tx)
	org, err := s.OrgCreate(ctx, "plans")
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	var accounts []string
	for i := range 4 {
		a, err := s.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some(fmt.Sprint("A", i))})
		require.NoError(t, err)
		in := crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(a.ID), OccurredAt: crm.Some("2026-03-02T15:00:00Z")}
		require.NoError(t, in.Validate(true))
		act, _, _, err := activity.New(s).Upsert(ctx, org.ID, in)
		require.NoError(t, err)
		plantChunks(t, tx, org.ID, a.ID, act.ID, 500, rng)
		accounts = append(accounts, a.ID)
	}
	_, err = tx.Exec(ctx, "ANALYZE chunks")
	require.NoError(t, err)
	vec := make([]float32, 384)
	vec[0] = 1

	q := crm.ChunkQuery{OrgID: org.ID, AccountID: accounts[0], Model: "m", Limit: 10}
	sql, args := store.ChunkVectorSQL(q, vec)
	for _, setting := range []string{"", "SET LOCAL enable_seqscan = off", "SET LOCAL enable_sort = off",
		// Every way but an index's order taken away: only the fence stops
		// the HNSW index (with an incremental sort for the id tiebreak).
		"SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexonlyscan = off"} {
		if setting != "" {
			_, err := tx.Exec(ctx, setting)
			require.NoError(t, err)
		}
		plan := explain(t, tx, sql, args)
		require.NotContains(t, plan, "chunks_embedding_hnsw", "per-account search must be exact (%s):\n%s", setting, plan)
		require.Contains(t, plan, "Sort", "an exact top-k sorts the account's chunks:\n%s", plan)
	}
	_, err = tx.Exec(ctx, "RESET enable_seqscan; RESET enable_sort; RESET enable_bitmapscan; RESET enable_indexonlyscan")
	require.NoError(t, err)

	// The exact answer: every one of the account's chunks is a candidate.
	hits, err := s.ChunkSearchVector(ctx, q, vec, 40)
	require.NoError(t, err)
	require.Len(t, hits, 10)
	var want []string
	require.NoError(t, pgx.BeginFunc(ctx, tx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id::text FROM chunks WHERE org_id = $1 AND account_id = $2
			ORDER BY embedding <=> $3, id LIMIT 10`, org.ID, accounts[0], pgvector.NewHalfVector(vec))
		if err != nil {
			return err
		}
		want, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}))
	for i, h := range hits {
		require.Equal(t, accounts[0], h.AccountID)
		require.Equal(t, want[i], h.ID)
	}

	oq := crm.ChunkQuery{OrgID: org.ID, Model: "m", Limit: 10}
	sql, args = store.ChunkVectorOrgSQL(oq, vec)
	plan := explain(t, tx, sql, args)
	require.Contains(t, plan, "chunks_embedding_hnsw", "org-wide search uses the HNSW index:\n%s", plan)
	hits, err = s.ChunkSearchVector(ctx, oq, vec, 100)
	require.NoError(t, err)
	require.Len(t, hits, 10, "iterative scan fills the page")

	// Full-text search is restricted the same way and uses the GIN index
	// when the planner cannot scan.
	tq := crm.ChunkQuery{OrgID: org.ID, AccountID: accounts[1], Limit: 5}
	th, err := s.ChunkSearchText(ctx, tq, "renewal or pricing")
	require.NoError(t, err)
	require.Len(t, th, 5)
	for _, h := range th {
		require.Equal(t, accounts[1], h.AccountID)
	}

	// BM25 takes its candidates from the GIN index, scores them and
	// fetches the winners by key; the vector indexes never serve it.
	sql, args = store.ChunkBM25SQL(tq, "renewal pricing", true)
	for _, setting := range []string{"", "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off"} {
		if setting != "" {
			_, err := tx.Exec(ctx, setting)
			require.NoError(t, err)
		}
		plan := explain(t, tx, sql, args)
		require.NotContains(t, plan, "chunks_embedding_hnsw", plan)
		require.Contains(t, plan, "chunk_terms_pkey", "document frequencies by key:\n%s", plan)
		if setting != "" {
			require.Contains(t, plan, "Bitmap Index Scan on chunks_tsv", "candidates from the GIN index:\n%s", plan)
		}
	}
	_, err = tx.Exec(ctx, "RESET enable_seqscan; RESET enable_indexscan")
	require.NoError(t, err)
	bh, err := s.ChunkSearchBM25(ctx, tq, "renewal pricing")
	require.NoError(t, err)
	require.Len(t, bh, 5)
	for _, h := range bh {
		require.Equal(t, accounts[1], h.AccountID)
	}
}

// TestChunkIndexesMigrated checks that the migrations build the search
// indexes as the store describes them: the HNSW graph with HNSWOptions and
// the per-account btree carrying the vector.
func TestChunkIndexesMigrated(t *testing.T) {
	tx := testdb.Tx(t)
	var opts []string
	require.NoError(t, tx.QueryRow(context.Background(), `SELECT reloptions FROM pg_class
		WHERE oid = 'chunks_embedding_hnsw'::regclass`).Scan(&opts))
	require.Equal(t, strings.Split(store.HNSWOptions, ","), opts)
	require.Contains(t, indexDef(t, tx, "chunks_account_vec"), "INCLUDE (activity_type, model, id, embedding)")
}

func indexDef(t *testing.T, tx pgx.Tx, name string) string {
	t.Helper()
	var def string
	require.NoError(t, tx.QueryRow(context.Background(), `SELECT pg_get_indexdef($1::regclass)`, name).Scan(&def))
	return def
}

// TestSetEmbeddingDimCovering changes the dimension past what a btree tuple
// holds: the per-account index then leaves the vector out, and the search
// stays exact, reading vectors from the heap; back under, it carries them
// again.
func TestSetEmbeddingDimCovering(t *testing.T) {
	ctx := context.Background()
	pool := testdb.Schema(t)
	s := store.New(pool)
	require.NoError(t, s.SetEmbeddingDim(ctx, 1536))
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	def := indexDef(t, tx, "chunks_account_vec")
	require.NotContains(t, def, "embedding", "a 1536-dimension halfvec does not fit a btree tuple")
	var opts []string
	require.NoError(t, tx.QueryRow(ctx, `SELECT reloptions FROM pg_class WHERE oid = 'chunks_embedding_hnsw'::regclass`).Scan(&opts))
	require.Equal(t, strings.Split(store.HNSWOptions, ","), opts, "the rebuilt graph keeps its build options")

	ts := store.New(tx)
	org, err := ts.OrgCreate(ctx, "wide")
	require.NoError(t, err)
	a, err := ts.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some("Wide")})
	require.NoError(t, err)
	in := crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(a.ID), OccurredAt: crm.Some("2026-03-02T15:00:00Z")}
	require.NoError(t, in.Validate(true))
	act, _, _, err := activity.New(ts).Upsert(ctx, org.ID, in)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(3, 4))
	plantChunksDim(t, tx, org.ID, a.ID, act.ID, 50, 1536, rng)
	vec := make([]float32, 1536)
	vec[7] = 1
	q := crm.ChunkQuery{OrgID: org.ID, AccountID: a.ID, Model: "m", Limit: 10}
	hits, err := ts.ChunkSearchVector(ctx, q, vec, 0)
	require.NoError(t, err)
	rows, err := tx.Query(ctx, `SELECT id::text FROM chunks WHERE org_id = $1 AND account_id = $2
		ORDER BY embedding <=> $3, id LIMIT 10`, org.ID, a.ID, pgvector.NewHalfVector(vec))
	require.NoError(t, err)
	want, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Len(t, hits, 10)
	for i, h := range hits {
		require.Equal(t, want[i], h.ID)
	}
	require.NoError(t, tx.Rollback(ctx))

	require.NoError(t, s.SetEmbeddingDim(ctx, 384))
	tx2, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx2.Rollback(ctx) }()
	require.Contains(t, indexDef(t, tx2, "chunks_account_vec"), "embedding)")
}
