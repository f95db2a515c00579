// Package retrievalbench is issue #4's retrieval benchmark, run by
// `logbook-bench bench -only retrieval` (BENCHMARKS.md): it generates
// accounts of transcripts with a long tail of words, loads them at scale in
// databases of its own, and measures per-account and org-wide vector search
// (against an exact scan in the same run), full-text and hybrid search
// (BM25 against ts_rank_cd), and the worker's memory while indexing. It
// measures only through the store's exported methods; a recording DBTX
// (record.go) shows it the statements they send, which it explains and
// replays.
package retrievalbench
