-- +goose Up
-- Consent as data (issue #14): a transcript held for lack of recording
-- consent waits for an admin, who releases it (process anyway) or discards
-- it (its content and segments deleted as a retention purge does, the
-- meeting kept). The decision, who took it (the API key's or the user's ID)
-- and when are kept on the transcript; new content for the meeting clears
-- them, since the decision was about the recording it replaced.
ALTER TABLE transcripts
    ADD COLUMN consent_decision   text CHECK (consent_decision IN ('released', 'discarded')),
    ADD COLUMN consent_decided_by text,
    ADD COLUMN consent_decided_at timestamptz;
-- The admin's list of held transcripts, newest first.
CREATE INDEX transcripts_held_idx ON transcripts (org_id, received_at DESC, id DESC) WHERE status = 'held';

-- +goose Down
DROP INDEX transcripts_held_idx;
ALTER TABLE transcripts
    DROP COLUMN consent_decision,
    DROP COLUMN consent_decided_by,
    DROP COLUMN consent_decided_at;
