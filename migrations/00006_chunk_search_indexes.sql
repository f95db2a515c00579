-- +goose Up
-- Search indexes measured at 1,000,000 chunks (BENCHMARKS.md, retrieval).
--
-- Per-account search is an exact scan of the account's vectors. Read from
-- the heap, each candidate costs a ~2 KB row (text, lines, tsv) to find a
-- 0.8 KB vector: 44 ms at p99 for a 20,000-chunk account. This btree
-- carries the vector (INCLUDE), so the scan is index-only over the
-- account's vectors packed together, and only the ten winners are fetched
-- from the heap (store.ChunkVectorSQL). It replaces chunks_account, whose
-- key it shares. A btree tuple holds at most ~2.7 KB: above
-- store.maxCoveredDim dimensions the vector is left out and the same query
-- reads it from the heap (store.SetEmbeddingDim keeps this in step).
-- +goose StatementBegin
DO $$
BEGIN
    IF (SELECT atttypmod FROM pg_attribute WHERE attrelid = 'chunks'::regclass AND attname = 'embedding') <= 1024 THEN
        CREATE INDEX chunks_account_vec ON chunks (org_id, account_id, occurred_at)
            INCLUDE (activity_type, model, id, embedding);
    ELSE
        CREATE INDEX chunks_account_vec ON chunks (org_id, account_id, occurred_at)
            INCLUDE (activity_type, model, id);
    END IF;
END
$$;
-- +goose StatementEnd
DROP INDEX chunks_account;

-- Org-wide search: pgvector's default graph (m 16, ef_construction 64)
-- reached recall@10 0.93 at most, at ef_search 800; built with
-- ef_construction 200 it reaches 0.986 there, for a build ~1.8× as long
-- and the same size. Rebuilt only where it is not built so already.
-- +goose StatementBegin
DO $$
BEGIN
    IF (SELECT reloptions FROM pg_class WHERE oid = 'chunks_embedding_hnsw'::regclass)
            IS DISTINCT FROM ARRAY['m=16', 'ef_construction=200'] THEN
        DROP INDEX chunks_embedding_hnsw;
        CREATE INDEX chunks_embedding_hnsw ON chunks USING hnsw (embedding halfvec_cosine_ops)
            WITH (m = 16, ef_construction = 200);
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
CREATE INDEX chunks_account ON chunks (org_id, account_id, occurred_at);
DROP INDEX chunks_account_vec;
DROP INDEX chunks_embedding_hnsw;
CREATE INDEX chunks_embedding_hnsw ON chunks USING hnsw (embedding halfvec_cosine_ops);
