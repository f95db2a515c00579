-- +goose Up
-- Retrieval: every text on record, cut into chunks that are searched by
-- meaning (pgvector) and by words (full-text), per account or org-wide.
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE TABLE chunks (
    org_id        uuid NOT NULL,
    id            uuid NOT NULL,
    -- account_id, activity_type and occurred_at copy the activity's (the
    -- trigger below keeps them in step) so a search filters on the chunk
    -- alone.
    account_id    uuid NOT NULL,
    activity_id   uuid NOT NULL,
    activity_type text NOT NULL,
    occurred_at   timestamptz NOT NULL,
    -- transcript: speaker turns; notes: the meeting's validated notes;
    -- activity: an email's, note's or call's own text.
    kind          text NOT NULL CHECK (kind IN ('transcript', 'notes', 'activity')),
    position      integer NOT NULL,
    text          text NOT NULL,
    -- The speaker of the chunk's first line, its time span and the
    -- transcript segments it covers (NULL outside transcripts).
    speaker       text,
    start_ms      bigint,
    end_ms        bigint,
    seg_first     integer,
    seg_last      integer,
    -- Where each line starts in text and whom and what it cites:
    -- [{"off","segment","speaker","start_ms"}].
    lines         jsonb NOT NULL DEFAULT '[]',
    -- SHA-256 of text: an embedding is reused while text and model are
    -- unchanged.
    content_hash  bytea NOT NULL,
    model         text,
    embedding     halfvec(384),
    tsv           tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    CONSTRAINT chunks_position_key UNIQUE (org_id, activity_id, kind, position),
    CONSTRAINT chunks_activity_id_fk FOREIGN KEY (org_id, activity_id)
        REFERENCES activities (org_id, id) ON DELETE CASCADE
);
-- Inline, not TOASTed: an exact scan reads every candidate's vector, and a
-- TOAST fetch per row doubles its cost (ARCHITECTURE.md, retrieval design).
ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE PLAIN;
-- Per-account exact search and filters.
CREATE INDEX chunks_account ON chunks (org_id, account_id, occurred_at);
-- Full-text, org_id and account_id first (btree_gin).
CREATE INDEX chunks_tsv ON chunks USING gin (org_id, account_id, tsv);
-- Org-wide approximate search.
CREATE INDEX chunks_embedding_hnsw ON chunks USING hnsw (embedding halfvec_cosine_ops);

-- +goose StatementBegin
CREATE FUNCTION chunks_follow_activity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE chunks SET account_id = NEW.account_id, activity_type = NEW.type, occurred_at = NEW.occurred_at
    WHERE org_id = NEW.org_id AND activity_id = NEW.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER chunks_follow_activity AFTER UPDATE OF account_id, type, occurred_at ON activities
    FOR EACH ROW
    WHEN (OLD.account_id IS DISTINCT FROM NEW.account_id OR OLD.type IS DISTINCT FROM NEW.type
          OR OLD.occurred_at IS DISTINCT FROM NEW.occurred_at)
    EXECUTE FUNCTION chunks_follow_activity();

-- An activity's own text is indexed by the activity:index task. indexed_at
-- is the updated_at it was indexed at; the worker's sweep finds the rest
-- through the partial index (created, changed, or missed while Redis was
-- down).
ALTER TABLE activities ADD COLUMN indexed_at timestamptz;
CREATE INDEX activities_unindexed ON activities (org_id, updated_at)
    WHERE indexed_at IS DISTINCT FROM updated_at;

-- +goose Down
DROP INDEX activities_unindexed;
ALTER TABLE activities DROP COLUMN indexed_at;
DROP TRIGGER chunks_follow_activity ON activities;
DROP FUNCTION chunks_follow_activity();
DROP TABLE chunks;
