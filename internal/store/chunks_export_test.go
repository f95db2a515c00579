package store

import "logbook/internal/crm"

// The chunk queries' SQL, exposed to package store_test, whose EXPLAIN tests
// pin their plans. The product reaches them only through ChunkSearchVector
// and ChunkSearchBM25.

// ChunkVectorSQL is chunkVectorSQL.
func ChunkVectorSQL(q crm.ChunkQuery, vec []float32) (string, []any) { return chunkVectorSQL(q, vec) }

// ChunkBM25SQL is chunkBM25SQL.
func ChunkBM25SQL(q crm.ChunkQuery, words string, prune bool) (string, []any) {
	return chunkBM25SQL(q, words, prune)
}

// PruneShare is pruneShare.
const PruneShare = pruneShare

// ChunkVectorOrgSQL is chunkVectorOrgSQL.
func ChunkVectorOrgSQL(q crm.ChunkQuery, vec []float32) (string, []any) {
	return chunkVectorOrgSQL(q, vec)
}

// BM25K1 and BM25B are BM25's parameters, for the test's own ranking.
const (
	BM25K1 = bm25K1
	BM25B  = bm25B
)
