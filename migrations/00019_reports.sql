-- +goose Up
-- Reports (issue #12): connect rates and activity volume over a time range.
--
-- An activity's list (the dialer list a call was made from) is metadata.list,
-- trimmed, empty read as none. It is a first-class column, generated from the
-- metadata so no write path has to set it, stored so an index can carry it.
-- It keeps the first 200 characters: the covering index below holds it, and
-- a btree entry must stay under ~2.7 kB whatever a client put in metadata
-- (up to 64 KiB), or the write would fail.
ALTER TABLE activities ADD COLUMN list text
    GENERATED ALWAYS AS (left(NULLIF(btrim(metadata ->> 'list'), ''), 200)) STORED;

-- Dials are outbound calls and voicemails. The connect-rate report reads a
-- range of them by time and needs only the columns it groups or counts by:
-- one index-only range scan of this partial index, whatever the group.
CREATE INDEX activities_dials_idx ON activities (org_id, occurred_at)
    INCLUDE (account_id, owner_id, disposition, list)
    WHERE direction = 'outbound' AND type IN ('call', 'voicemail');

-- Activity volume reads every activity of a range by time, grouped by owner,
-- type or week (occurred_at itself): an index-only range scan of this one.
CREATE INDEX activities_volume_idx ON activities (org_id, occurred_at) INCLUDE (type, owner_id);

-- +goose Down
DROP INDEX activities_volume_idx;
DROP INDEX activities_dials_idx;
ALTER TABLE activities DROP COLUMN list;
