-- +goose Up
-- BM25 for full-text search (store.ChunkBM25SQL). ts_rank and ts_rank_cd
-- have no inverse document frequency: a rare word ("stylus") weighs no
-- more than one said in every meeting ("sprinkler"). BM25 needs, per org, how
-- many chunks hold each lexeme (document frequency), how many chunks there
-- are and their total length, and each chunk's length; the triggers below
-- keep those exact as chunks are inserted, changed and deleted (an
-- activity's delete cascades to its chunks and fires them too).

-- A tsvector's length in words: its lexemes' positions (stop words are
-- not counted; a lexeme without positions counts once).
-- +goose StatementBegin
CREATE FUNCTION tsvector_words(tsvector) RETURNS integer LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0)::integer FROM unnest($1) u
$$;
-- +goose StatementEnd

-- Computed from the text again: a generated column cannot read another
-- (tsv). Adding it rewrites the table once.
ALTER TABLE chunks ADD COLUMN words integer NOT NULL
    GENERATED ALWAYS AS (tsvector_words(to_tsvector('english', text))) STORED;

-- An org's chunks: how many, and their words in all (for the average).
CREATE TABLE chunk_stats (
    org_id uuid PRIMARY KEY,
    chunks bigint NOT NULL,
    words  bigint NOT NULL
);

-- An org's document frequencies: how many of its chunks hold each
-- lexeme. A lexeme no chunk holds any more has no row.
CREATE TABLE chunk_terms (
    org_id uuid NOT NULL,
    lexeme text NOT NULL,
    chunks integer NOT NULL,
    PRIMARY KEY (org_id, lexeme)
);

INSERT INTO chunk_stats (org_id, chunks, words)
    SELECT org_id, count(*), sum(words) FROM chunks GROUP BY org_id;
INSERT INTO chunk_terms (org_id, lexeme, chunks)
    SELECT c.org_id, u.lexeme, count(*) FROM chunks c, unnest(c.tsv) u GROUP BY 1, 2;

-- chunk_stats_add counts chunks in (sign 1) or out (sign -1) of their
-- orgs' statistics, given as parallel arrays.
--
-- Concurrency: every writer of an org's chunks first updates the org's
-- chunk_stats row and holds that row lock to the end of its transaction,
-- so writers of one org take their turn there, before any lexeme row: two
-- transactions can never each hold lexeme rows the other needs (a
-- re-index is a delete and then an insert, two statements, so upserting
-- each statement's lexemes in key order would not rule that out alone).
-- Rows are still upserted in key order, so statements that span orgs (an
-- org's delete, a bulk load) queue in one order too; writers of different
-- orgs share no rows. The cost: one org's chunk writes commit one at a
-- time. They end short transactions (store.NotesSave,
-- store.ActivityIndexSave: the embeddings are made before), so the wait is
-- a few milliseconds; an update that leaves every tsv as it was (embeddings,
-- an activity moved) takes no lock.
-- +goose StatementBegin
CREATE FUNCTION chunk_stats_add(orgs uuid[], tsvs tsvector[], words integer[], signs integer[])
        RETURNS void LANGUAGE sql AS $$
    INSERT INTO chunk_stats AS s (org_id, chunks, words)
        SELECT d.org_id, sum(d.sign), sum(d.sign * d.words) FROM unnest(orgs, words, signs) AS d(org_id, words, sign)
        GROUP BY 1 ORDER BY 1
        ON CONFLICT (org_id) DO UPDATE SET chunks = s.chunks + EXCLUDED.chunks, words = s.words + EXCLUDED.words;
    DELETE FROM chunk_stats WHERE org_id = ANY(orgs) AND chunks <= 0;
    INSERT INTO chunk_terms AS t (org_id, lexeme, chunks)
        SELECT d.org_id, u.lexeme, sum(d.sign) FROM unnest(orgs, tsvs, signs) AS d(org_id, tsv, sign), unnest(d.tsv) u
        GROUP BY 1, 2 HAVING sum(d.sign) <> 0 ORDER BY 1, 2
        ON CONFLICT (org_id, lexeme) DO UPDATE SET chunks = t.chunks + EXCLUDED.chunks;
    DELETE FROM chunk_terms t USING unnest(orgs, tsvs, signs) AS d(org_id, tsv, sign), unnest(d.tsv) u
        WHERE d.sign < 0 AND t.org_id = d.org_id AND t.lexeme = u.lexeme AND t.chunks <= 0;
$$;
-- +goose StatementEnd

-- chunks_stats follows one statement's inserted rows (new_chunks), deleted
-- rows (old_chunks) or both (an update: rows whose tsv is unchanged, such
-- as an embedding set or an activity moved to another account, count for
-- nothing). A whole NotesSave or ActivityIndexSave is one delete and one
-- insert statement (store.chunksReplace), so one upsert per lexeme each.
-- +goose StatementBegin
CREATE FUNCTION chunks_stats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orgs uuid[]; tsvs tsvector[]; words integer[]; signs integer[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(c.org_id), array_agg(c.tsv), array_agg(c.words), array_agg(1)
            INTO orgs, tsvs, words, signs FROM new_chunks c;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(c.org_id), array_agg(c.tsv), array_agg(c.words), array_agg(-1)
            INTO orgs, tsvs, words, signs FROM old_chunks c;
    ELSE
        SELECT array_agg(c.org_id), array_agg(c.tsv), array_agg(c.words), array_agg(c.sign)
            INTO orgs, tsvs, words, signs FROM (
                SELECT n.org_id, n.tsv, n.words, 1 AS sign FROM new_chunks n WHERE NOT EXISTS (
                    SELECT 1 FROM old_chunks o WHERE o.org_id = n.org_id AND o.id = n.id AND o.tsv = n.tsv)
                UNION ALL
                SELECT o.org_id, o.tsv, o.words, -1 FROM old_chunks o WHERE NOT EXISTS (
                    SELECT 1 FROM new_chunks n WHERE n.org_id = o.org_id AND n.id = o.id AND n.tsv = o.tsv)) c;
    END IF;
    IF orgs IS NOT NULL THEN
        PERFORM chunk_stats_add(orgs, tsvs, words, signs);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER chunks_stats_insert AFTER INSERT ON chunks
    REFERENCING NEW TABLE AS new_chunks FOR EACH STATEMENT EXECUTE FUNCTION chunks_stats();
CREATE TRIGGER chunks_stats_delete AFTER DELETE ON chunks
    REFERENCING OLD TABLE AS old_chunks FOR EACH STATEMENT EXECUTE FUNCTION chunks_stats();
CREATE TRIGGER chunks_stats_update AFTER UPDATE ON chunks
    REFERENCING OLD TABLE AS old_chunks NEW TABLE AS new_chunks FOR EACH STATEMENT EXECUTE FUNCTION chunks_stats();

-- +goose StatementBegin
CREATE FUNCTION chunks_stats_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE chunk_stats, chunk_terms;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER chunks_stats_truncate AFTER TRUNCATE ON chunks
    FOR EACH STATEMENT EXECUTE FUNCTION chunks_stats_truncate();

-- +goose Down
DROP TRIGGER chunks_stats_truncate ON chunks;
DROP TRIGGER chunks_stats_update ON chunks;
DROP TRIGGER chunks_stats_delete ON chunks;
DROP TRIGGER chunks_stats_insert ON chunks;
DROP FUNCTION chunks_stats_truncate();
DROP FUNCTION chunks_stats();
DROP FUNCTION chunk_stats_add(uuid[], tsvector[], integer[], integer[]);
DROP TABLE chunk_terms;
DROP TABLE chunk_stats;
ALTER TABLE chunks DROP COLUMN words;
DROP FUNCTION tsvector_words(tsvector);
