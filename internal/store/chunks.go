package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pgvector/pgvector-go"

	"logbook/internal/crm"
)

// ChunkEmbeddings returns the embeddings model already made for an
// activity's chunks, by content hash, so re-indexing embeds only text that
// changed.
func (s *Store) ChunkEmbeddings(ctx context.Context, orgID, activityID, model string) (map[string][]float32, error) {
	rows, err := s.db.Query(ctx, `SELECT content_hash, embedding FROM chunks
		WHERE org_id = $1 AND activity_id = $2 AND model = $3 AND embedding IS NOT NULL`, orgID, activityID, model)
	if err != nil {
		return nil, interpretError("chunk embeddings", err)
	}
	out := map[string][]float32{}
	var hash []byte
	var v pgvector.HalfVector
	_, err = pgx.ForEachRow(rows, []any{&hash, &v}, func() error {
		out[string(hash)] = v.Slice()
		return nil
	})
	if err != nil {
		return nil, interpretError("chunk embeddings", err)
	}
	return out, nil
}

// chunksReplace deletes an activity's chunks of the given kinds and
// inserts cs in their place, taking account, type and time from the
// activity row itself. The insert is one statement, so the term statistics
// (migration 00007) take one update per lexeme for all of cs.
func (s *Store) chunksReplace(ctx context.Context, orgID, activityID string, kinds []crm.ChunkKind, cs []crm.Chunk) error {
	const op = "replace chunks"
	ks := make([]string, len(kinds))
	for i, k := range kinds {
		ks[i] = string(k)
	}
	n := len(cs)
	var (
		ids, kindsOf, texts, lines, models = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]*string, n)
		positions                          = make([]int, n)
		speakers                           = make([]*string, n)
		starts, ends                       = make([]*int64, n), make([]*int64, n)
		segFirst, segLast                  = make([]*int, n), make([]*int, n)
		hashes                             = make([][]byte, n)
		embs                               = make([]*pgvector.HalfVector, n)
	)
	for i, c := range cs {
		l, err := json.Marshal(orEmpty(c.Lines))
		if err != nil {
			return fmt.Errorf("store: %s: %w", op, err)
		}
		ids[i], kindsOf[i], texts[i], lines[i], positions[i] = NewID(), string(c.Kind), c.Text, string(l), c.Position
		speakers[i], starts[i], ends[i], segFirst[i], segLast[i] = c.Speaker, c.StartMS, c.EndMS, c.SegFirst, c.SegLast
		if len(c.Embedding) > 0 {
			v := pgvector.NewHalfVector(c.Embedding)
			embs[i], models[i] = &v, &c.Model
		}
		hashes[i] = c.ContentHash
		if hashes[i] == nil {
			hashes[i] = crm.ChunkHash(c.Text)
		}
	}
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM chunks WHERE org_id = $1 AND activity_id = $2 AND kind = ANY($3)`, orgID, activityID, ks)
	if n > 0 {
		b.Queue(`INSERT INTO chunks (org_id, id, account_id, activity_id, activity_type, occurred_at, kind, position,
				text, speaker, start_ms, end_ms, seg_first, seg_last, lines, content_hash, model, embedding)
			SELECT a.org_id, u.id, a.account_id, a.id, a.type, a.occurred_at, u.kind, u.position, u.text, u.speaker,
				u.start_ms, u.end_ms, u.seg_first, u.seg_last, u.lines::jsonb, u.content_hash, u.model, u.embedding
			FROM activities a, unnest($3::uuid[], $4::text[], $5::integer[], $6::text[], $7::text[], $8::bigint[], $9::bigint[],
				$10::integer[], $11::integer[], $12::text[], $13::bytea[], $14::text[], $15::halfvec[])
				AS u(id, kind, position, text, speaker, start_ms, end_ms, seg_first, seg_last, lines, content_hash, model, embedding)
			WHERE a.org_id = $1 AND a.id = $2`,
			orgID, activityID, ids, kindsOf, positions, texts, speakers, starts, ends, segFirst, segLast, lines, hashes, models, embs)
	}
	if err := s.db.SendBatch(ctx, b).Close(); err != nil {
		return interpretError(op, err)
	}
	return nil
}

// ActivityToIndex is an activity whose own text needs (re)indexing.
type ActivityToIndex struct {
	OrgID, ID string
}

// ActivitiesUnindexed returns up to limit activities whose text changed
// since it was last indexed (or was never indexed), oldest change first.
func (s *Store) ActivitiesUnindexed(ctx context.Context, limit int) ([]ActivityToIndex, error) {
	rows, err := s.db.Query(ctx, `SELECT org_id, id FROM activities
		WHERE indexed_at IS DISTINCT FROM updated_at ORDER BY updated_at LIMIT $1`, limit)
	if err != nil {
		return nil, interpretError("unindexed activities", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ActivityToIndex])
	return out, interpretError("unindexed activities", err)
}

// ActivityIndexSave replaces an activity's own-text chunks with cs and
// records that the activity is indexed as of updatedAt, in one
// transaction. When the activity changed after updatedAt (it was read
// before), nothing is written and the error is ErrStaleRevision (and
// crm.ErrConflict): the
// caller indexes the new text instead. A deleted activity is
// crm.ErrNotFound.
func (s *Store) ActivityIndexSave(ctx context.Context, orgID, activityID string, updatedAt time.Time, cs []crm.Chunk) error {
	return s.WithTx(ctx, func(tx *Store) error {
		var cur time.Time
		err := tx.db.QueryRow(ctx, `SELECT updated_at FROM activities WHERE org_id = $1 AND id = $2 FOR NO KEY UPDATE`,
			orgID, activityID).Scan(&cur)
		if err != nil {
			return interpretError("index activity", err)
		}
		if !cur.Equal(updatedAt) {
			return fmt.Errorf("store: index activity: %w (%w)", ErrStaleRevision, crm.ErrConflict)
		}
		if err := tx.chunksReplace(ctx, orgID, activityID, []crm.ChunkKind{crm.ChunkActivity}, cs); err != nil {
			return err
		}
		_, err = tx.db.Exec(ctx, `UPDATE activities SET indexed_at = updated_at WHERE org_id = $1 AND id = $2`, orgID, activityID)
		return interpretError("index activity", err)
	})
}

// chunkColumns are what a search returns of a chunk, aliased c.
const chunkColumns = `c.id, c.org_id, c.account_id, c.activity_id, c.activity_type, c.occurred_at, c.kind, c.position,
	c.text, c.speaker, c.start_ms, c.end_ms, c.seg_first, c.seg_last, c.lines`

// scanChunkHit scans chunkColumns and the score.
func scanChunkHit(row pgx.CollectableRow) (crm.ChunkHit, error) { return scanChunkHitExtra(row) }

// scanChunkHitExtra scans chunkColumns and the score, then the columns
// after them into extra.
func scanChunkHitExtra(row pgx.CollectableRow, extra ...any) (crm.ChunkHit, error) {
	var h crm.ChunkHit
	var kind string
	var lines []byte
	err := row.Scan(append([]any{&h.ID, &h.OrgID, &h.AccountID, &h.ActivityID, &h.ActivityType, &h.OccurredAt, &kind, &h.Position,
		&h.Text, &h.Speaker, &h.StartMS, &h.EndMS, &h.SegFirst, &h.SegLast, &lines, &h.Score}, extra...)...)
	if err != nil {
		return h, err
	}
	h.Kind = crm.ChunkKind(kind)
	if err := json.Unmarshal(lines, &h.Lines); err != nil {
		return h, fmt.Errorf("chunk %s lines: %w", h.ID, err)
	}
	return h, nil
}

// chunkFilter renders q's conditions on chunks aliased c, numbering
// parameters after the ones already in args.
func chunkFilter(q crm.ChunkQuery, args []any) (string, []any) {
	var w strings.Builder
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	w.WriteString("c.org_id = " + arg(q.OrgID))
	if q.AccountID != "" {
		w.WriteString(" AND c.account_id = " + arg(q.AccountID))
	}
	if !q.Since.IsZero() {
		w.WriteString(" AND c.occurred_at >= " + arg(q.Since))
	}
	if !q.Until.IsZero() {
		w.WriteString(" AND c.occurred_at < " + arg(q.Until))
	}
	if len(q.Types) > 0 {
		w.WriteString(" AND c.activity_type = ANY(" + arg(q.Types) + ")")
	}
	return w.String(), args
}

// chunkVectorSQL is the per-account nearest-neighbour query: an exact scan
// of the account's chunks, in two steps. The first scores every candidate
// from chunks_account_vec, the btree that carries the vector, without
// touching the heap (an index-only scan over the account's vectors packed
// together; a chunk's heap row is ~2 KB for a 0.8 KB vector); the second
// fetches the ten winners by primary key.
//
// The distance is written as the function cosine_distance, not the <=>
// operator, on purpose: pgvector's indexes serve only ORDER BY on the
// operator, so the planner can never switch this query to the HNSW index
// with a post-filter, which returns short (ARCHITECTURE.md). It is the
// fence the query needs (the id tiebreak keeps the index out too, today,
// but only because PostgreSQL 15 will not sort the rest of a key after an
// index's distance order), and unlike an OFFSET 0 subquery it costs no
// extra plan node per candidate (~1 ms of 12 on a 20,000-chunk account).
// An EXPLAIN test pins the plan; it fails for `ORDER BY embedding <=> $1`
// alone (the test reaches it through export_test.go; the benchmark explains
// the statement ChunkSearchVector sends).
func chunkVectorSQL(q crm.ChunkQuery, vec []float32) (string, []any) {
	args := []any{pgvector.NewHalfVector(vec), q.Model, q.Limit}
	org := "$" + strconv.Itoa(len(args)+1) // chunkFilter's first parameter
	where, args := chunkFilter(q, args)
	return `WITH top AS MATERIALIZED (
			SELECT c.id, cosine_distance(c.embedding, $1) AS dist FROM chunks c
			WHERE ` + where + ` AND c.model = $2 AND c.embedding IS NOT NULL
			ORDER BY dist, c.id LIMIT $3
		) SELECT ` + chunkColumns + `, 1 - top.dist FROM top JOIN chunks c ON c.org_id = ` + org + ` AND c.id = top.id
		ORDER BY top.dist, c.id`, args
}

// maxCoveredDim is the largest embedding dimension chunks_account_vec
// carries: a btree tuple holds at most ~2.7 KB, and a halfvec takes two
// bytes a dimension. Above it the index leaves the vector out and the
// per-account scan reads vectors from the heap (slower, still exact).
const maxCoveredDim = 1024

// HNSWOptions are the build options of chunks_embedding_hnsw (migration
// 00006): with pgvector's ef_construction 64, org-wide recall@10 at
// 1,000,000 chunks stayed at 0.93 or below at any ef_search; with 200 it
// reaches 0.97–0.99 at ef_search 800 (BENCHMARKS.md).
const HNSWOptions = "m=16,ef_construction=200"

// chunkIndexesSQL creates the vector-bearing indexes of chunks for an
// embedding of dim dimensions.
func chunkIndexesSQL(dim int) []string {
	include := "activity_type, model, id, embedding"
	if dim > maxCoveredDim {
		include = "activity_type, model, id"
	}
	return []string{
		`CREATE INDEX chunks_account_vec ON chunks (org_id, account_id, occurred_at) INCLUDE (` + include + `)`,
		`CREATE INDEX chunks_embedding_hnsw ON chunks USING hnsw (embedding halfvec_cosine_ops) WITH (` + HNSWOptions + `)`,
	}
}

// chunkVectorOrgSQL is the org-wide nearest-neighbour query: the HNSW
// index with pgvector's iterative scan (relaxed order), so filters never
// return short, re-sorted by exact distance.
func chunkVectorOrgSQL(q crm.ChunkQuery, vec []float32) (string, []any) {
	args := []any{pgvector.NewHalfVector(vec), q.Model, q.Limit}
	where, args := chunkFilter(q, args)
	return `WITH r AS MATERIALIZED (
			SELECT ` + chunkColumns + `, c.embedding <=> $1 AS dist FROM chunks c
			WHERE ` + where + ` AND c.model = $2 ORDER BY c.embedding <=> $1 LIMIT $3
		) SELECT id, org_id, account_id, activity_id, activity_type, occurred_at, kind, position, text, speaker,
			start_ms, end_ms, seg_first, seg_last, lines, 1 - dist FROM r ORDER BY dist, id`, args
}

// maxScanTuples caps how many index tuples an org-wide iterative HNSW scan
// visits (hnsw.max_scan_tuples) before it gives up on filling the page.
const maxScanTuples = 40000

// ChunkSearchVector returns the chunks nearest to vec, most similar first.
// With q.AccountID it scans the account's chunks exactly (recall 1.0);
// without, it searches the org through the HNSW index with efSearch
// candidates (hnsw.ef_search; zero is 100).
func (s *Store) ChunkSearchVector(ctx context.Context, q crm.ChunkQuery, vec []float32, efSearch int) ([]crm.ChunkHit, error) {
	const op = "vector search"
	if q.AccountID != "" {
		sql, args := chunkVectorSQL(q, vec)
		rows, err := s.db.Query(ctx, sql, args...)
		if err != nil {
			return nil, interpretError(op, err)
		}
		hits, err := pgx.CollectRows(rows, scanChunkHit)
		return hits, interpretError(op, err)
	}
	if efSearch <= 0 {
		efSearch = 100
	}
	var hits []crm.ChunkHit
	err := s.WithTx(ctx, func(tx *Store) error {
		_, err := tx.db.Exec(ctx, `SELECT set_config('hnsw.ef_search', $1, true),
			set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.max_scan_tuples', $2, true)`,
			strconv.Itoa(efSearch), strconv.Itoa(maxScanTuples))
		if err != nil {
			return err
		}
		sql, args := chunkVectorOrgSQL(q, vec)
		rows, err := tx.db.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		hits, err = pgx.CollectRows(rows, scanChunkHit)
		return err
	})
	return hits, interpretError(op, err)
}

// chunkTextSQL is ChunkSearchText's query (websearch_to_tsquery over the
// english configuration, ranked by ts_rank_cd), for measurements that
// explain it beside chunkBM25SQL.
func chunkTextSQL(q crm.ChunkQuery, text string) (string, []any) {
	args := []any{text, q.Limit}
	where, args := chunkFilter(q, args)
	return `SELECT ` + chunkColumns + `, ts_rank_cd(c.tsv, query) AS rank
		FROM chunks c, websearch_to_tsquery('english', $1) query
		WHERE ` + where + ` AND c.tsv @@ query ORDER BY rank DESC, c.id LIMIT $2`, args
}

// ChunkSearchText returns the chunks that match the websearch query text,
// ranked by ts_rank_cd, best first. Search no longer calls it: full-text
// search ranks by BM25 (ChunkSearchBM25). It stays as the reference BM25
// is held against: in its tests' ranking (ts_rank_cd has no inverse
// document frequency, so a word every chunk repeats outranks a rare one)
// and in the latency measurements (with retrieval.TextQuery's query).
func (s *Store) ChunkSearchText(ctx context.Context, q crm.ChunkQuery, text string) ([]crm.ChunkHit, error) {
	const op = "full-text search"
	sql, args := chunkTextSQL(q, text)
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, interpretError(op, err)
	}
	hits, err := pgx.CollectRows(rows, scanChunkHit)
	return hits, interpretError(op, err)
}

// BM25 parameters (Robertson and Zaragoza's usual values, which the shared
// baseline uses too): bm25K1 is how fast a word's repetitions saturate (its
// second mention in a chunk adds about half of what the first did, its
// tenth little more); bm25B is how much a chunk's length (in words, against
// the org's average) discounts its matches, 0 not at all, 1 fully.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// chunkBM25SQL is the full-text query ranked by Okapi BM25. Candidates
// are the chunks holding any lexeme of words (tsv @@ an OR of them, through
// the GIN index chunks_tsv, within the filters). A candidate's score sums,
// over the lexemes it holds,
//
//	qtf · idf · tf·(k1+1) / (tf + k1·(1 − b + b·len/avglen))
//
// where tf is the lexeme's occurrences in the chunk (its tsv positions),
// qtf in words, len the chunk's words (chunks.words), avglen the org's
// average, and idf = ln(1 + (N − df + 0.5)/(df + 0.5)) with N the org's
// chunks and df those holding the lexeme (chunk_stats, chunk_terms:
// migration 00007). The statistics are the org's whatever the filters:
// one account's chunks are scored against the org's vocabulary, so a
// word every account says weighs little in each. The winners' rows are
// fetched after ranking, by key.
//
// Its cost grows with the candidates, every one of which is scored: a word
// said in most of a 20,000-chunk account makes it read most of them. With
// prune, lexemes held by more than pruneShare of the org's chunks do not
// make a chunk a candidate (they still count in a candidate's score), and
// the query's last column is bound, the most a chunk holding only such
// lexemes could score (their weights times k1+1; 0 when nothing was left
// out). When the last hit scores at least bound and the page is full, the
// pruned ranking is exactly the full one (MaxScore); otherwise run it
// again without prune (ChunkSearchBM25 does).
func chunkBM25SQL(q crm.ChunkQuery, words string, prune bool) (string, []any) {
	share := 1.0
	if prune {
		share = pruneShare
	}
	args := []any{words, q.Limit, share}
	org := "$" + strconv.Itoa(len(args)+1) // chunkFilter's first parameter
	where, args := chunkFilter(q, args)
	k1, b := strconv.FormatFloat(bm25K1, 'f', -1, 64), strconv.FormatFloat(bm25B, 'f', -1, 64)
	// The tsquery quotes each lexeme, doubling quotes and backslashes.
	return `WITH terms AS MATERIALIZED (
			SELECT u.lexeme, coalesce(array_length(u.positions, 1), 1) * ln(1 + (s.chunks - coalesce(t.chunks, 0) + 0.5) / (coalesce(t.chunks, 0) + 0.5))::float8 AS weight,
				s.words::float8 / s.chunks AS avglen, coalesce(t.chunks, 0) <= $3::float8 * s.chunks AS rare
			FROM chunk_stats s, unnest(to_tsvector('english', $1)) u
			LEFT JOIN LATERAL (SELECT t.chunks FROM chunk_terms t WHERE t.org_id = ` + org + ` AND t.lexeme = u.lexeme) t ON true
			WHERE s.org_id = ` + org + `
		), query AS MATERIALIZED (
			SELECT array_agg(lexeme ORDER BY lexeme) AS lexemes, array_agg(weight ORDER BY lexeme) AS weights, min(avglen) AS avglen,
				coalesce(string_agg(quoted, ' | ') FILTER (WHERE rare), string_agg(quoted, ' | '))::tsquery AS tsq,
				CASE WHEN bool_or(rare) THEN coalesce(sum(weight) FILTER (WHERE NOT rare), 0) * (` + k1 + ` + 1) ELSE 0 END AS bound
			FROM (SELECT *, '''' || replace(replace(lexeme, '\', '\\'), '''', '''''') || '''' AS quoted FROM terms) t
		), scored AS MATERIALIZED (
			SELECT c.id, c.activity_id, c.kind, c.position, (
				SELECT sum(qq.weights[array_position(qq.lexemes, u.lexeme)] * array_length(u.positions, 1) * (` + k1 + ` + 1) /
					(array_length(u.positions, 1) + ` + k1 + ` * (1 - ` + b + ` + ` + b + ` * c.words / qq.avglen)))
				FROM unnest(ts_filter(setweight(c.tsv, 'A', qq.lexemes), '{a}')) u) AS score
			FROM query qq, chunks c
			WHERE ` + where + ` AND c.tsv @@ (SELECT tsq FROM query)
		), top AS MATERIALIZED (
			SELECT id, score FROM scored ORDER BY score DESC, id LIMIT $2
		) SELECT ` + chunkColumns + `, top.score, (SELECT bound FROM query) FROM top JOIN chunks c ON c.org_id = ` + org + ` AND c.id = top.id
		ORDER BY top.score DESC, c.id`, args
}

// pruneShare is the share of an org's chunks above which a lexeme does not
// make a chunk a BM25 candidate (chunkBM25SQL with prune). On the dev-set
// meetings copied into a 20,631-chunk account (150-word transcript chunks,
// as they were then), 0.1 brought the query's p50 from 137 ms to 17 ms,
// with 7 of 125 questions run again in full.
const pruneShare = 0.1

// ChunkSearchBM25 returns the chunks holding any lexeme of words, best
// BM25 score first: the pruned query, and the full one when the pruned
// ranking may differ from it (chunkBM25SQL). The ranking is exact either
// way.
func (s *Store) ChunkSearchBM25(ctx context.Context, q crm.ChunkQuery, words string) ([]crm.ChunkHit, error) {
	hits, bound, err := s.chunkBM25(ctx, q, words, true)
	// No hit says no bound either: run in full then too.
	if err != nil || len(hits) > 0 && (bound == 0 || len(hits) == q.Limit && hits[len(hits)-1].Score >= bound) {
		return hits, err
	}
	hits, _, err = s.chunkBM25(ctx, q, words, false)
	return hits, err
}

func (s *Store) chunkBM25(ctx context.Context, q crm.ChunkQuery, words string, prune bool) ([]crm.ChunkHit, float64, error) {
	const op = "bm25 search"
	sql, args := chunkBM25SQL(q, words, prune)
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, interpretError(op, err)
	}
	var bound float64
	hits, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (crm.ChunkHit, error) {
		return scanChunkHitExtra(row, &bound)
	})
	return hits, bound, interpretError(op, err)
}

// EmbeddingDim returns the dimension of chunks.embedding.
func (s *Store) EmbeddingDim(ctx context.Context) (int, error) {
	var typmod int
	err := s.db.QueryRow(ctx, `SELECT a.atttypmod FROM pg_attribute a
		WHERE a.attrelid = 'chunks'::regclass AND a.attname = 'embedding'`).Scan(&typmod)
	return typmod, interpretError("embedding dimension", err)
}

// SetEmbeddingDim changes chunks.embedding to dim dimensions. Every stored
// embedding is dropped (vectors of another dimension cannot be kept), so
// a reindex must follow; the HNSW index is rebuilt empty, and
// chunks_account_vec with or without the vector (maxCoveredDim).
func (s *Store) SetEmbeddingDim(ctx context.Context, dim int) error {
	if dim < 1 || dim > 4000 {
		return fmt.Errorf("store: embedding dimension %d: must be 1 to 4000 (halfvec with HNSW)", dim)
	}
	return s.WithTx(ctx, func(tx *Store) error {
		for _, q := range append([]string{
			`DROP INDEX IF EXISTS chunks_embedding_hnsw, chunks_account_vec`,
			`ALTER TABLE chunks ALTER COLUMN embedding TYPE halfvec(` + strconv.Itoa(dim) + `) USING NULL`,
			`UPDATE chunks SET model = NULL`,
		}, chunkIndexesSQL(dim)...) {
			if _, err := tx.db.Exec(ctx, q); err != nil {
				return interpretError("set embedding dimension", err)
			}
		}
		return nil
	})
}

// ChunksToEmbed returns up to limit chunks, in (org, id) order after the
// chunk after (zero: from the start), that model has not embedded; only
// orgID's when it is set.
func (s *Store) ChunksToEmbed(ctx context.Context, orgID, model string, afterOrg, afterID string, limit int) ([]crm.Chunk, error) {
	if afterOrg == "" {
		afterOrg, afterID = "00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000"
	}
	rows, err := s.db.Query(ctx, `SELECT org_id, id, text FROM chunks
		WHERE (org_id, id) > ($1, $2) AND ($3 = '' OR org_id = $3::uuid)
		  AND (model IS DISTINCT FROM $4 OR embedding IS NULL)
		ORDER BY org_id, id LIMIT $5`, afterOrg, afterID, orgID, model, limit)
	if err != nil {
		return nil, interpretError("chunks to embed", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (crm.Chunk, error) {
		var c crm.Chunk
		return c, row.Scan(&c.OrgID, &c.ID, &c.Text)
	})
	return out, interpretError("chunks to embed", err)
}

// ChunksCountToEmbed counts the chunks ChunksToEmbed would return in all.
func (s *Store) ChunksCountToEmbed(ctx context.Context, orgID, model string) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM chunks WHERE ($1 = '' OR org_id = $1::uuid)
		AND (model IS DISTINCT FROM $2 OR embedding IS NULL)`, orgID, model).Scan(&n)
	return n, interpretError("count chunks to embed", err)
}

// ChunkEmbeddingsSet stores embeddings made by model for the chunks cs
// (matched by org and ID; Embedding must be set). Chunks whose text changed
// since they were read (their hash differs) are left for the next pass.
func (s *Store) ChunkEmbeddingsSet(ctx context.Context, model string, cs []crm.Chunk) error {
	b := &pgx.Batch{}
	for _, c := range cs {
		b.Queue(`UPDATE chunks SET model = $3, embedding = $4 WHERE org_id = $1 AND id = $2 AND content_hash = $5`,
			c.OrgID, c.ID, model, pgvector.NewHalfVector(c.Embedding), crm.ChunkHash(c.Text))
	}
	return interpretError("set chunk embeddings", s.db.SendBatch(ctx, b).Close())
}
