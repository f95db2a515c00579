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
