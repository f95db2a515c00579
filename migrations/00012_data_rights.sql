-- +goose Up
-- Data rights: an org may keep raw transcripts only N days
-- (settings.transcript_retention_days, NULL = forever). The worker's
-- reconciler purges older ones in bounded batches: the content and segments
-- are emptied and purged_at set, the row and (with keep_notes_after_purge,
-- the default) the meeting's notes, action items and follow-up draft stay,
-- their evidence quotes included; without it the notes go too. The
-- transcript's retrieval chunks go either way (they are the raw text).
ALTER TABLE settings ADD COLUMN transcript_retention_days integer
    CHECK (transcript_retention_days BETWEEN 1 AND 36500);
ALTER TABLE settings ADD COLUMN keep_notes_after_purge boolean NOT NULL DEFAULT true;

ALTER TABLE transcripts ADD COLUMN purged_at timestamptz;
-- The purge's scan: per org, the oldest transcripts not purged yet.
CREATE INDEX transcripts_unpurged_idx ON transcripts (org_id, received_at) WHERE purged_at IS NULL;

-- +goose Down
DROP INDEX transcripts_unpurged_idx;
ALTER TABLE transcripts DROP COLUMN purged_at;
ALTER TABLE settings DROP COLUMN keep_notes_after_purge;
ALTER TABLE settings DROP COLUMN transcript_retention_days;
