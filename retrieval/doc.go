// Package retrieval will make an account's conversations searchable and
// answerable. It will chunk transcripts with speaker and time awareness,
// index chunks by embedding them in batches (skipping text whose hash has not
// changed), search with a hybrid of pgvector similarity and PostgreSQL
// full-text search fused by reciprocal rank fusion, and answer questions with
// citations that are validated against the sources the model was given.
//
// It reaches storage through a small interface it declares itself, so it
// depends on no concrete store.
package retrieval
