-- +goose Up
-- Notes items that carry payment instructions, credentials or outside links
-- are flagged for review and held out of follow-up drafts and webhook
-- payloads until a person confirms them. Key points, decisions and risks
-- live in meeting_notes' jsonb lists, whose items now carry needs_review,
-- review_reason, confirmed_by and confirmed_at as JSON fields (older items
-- lack them: not flagged). The summary's sentences are kept one by one, with
-- the same fields, so a held sentence can stay out of the summary text.
-- Action items are rows and get the four columns.
ALTER TABLE meeting_notes ADD COLUMN summary_sentences jsonb NOT NULL DEFAULT '[]';

ALTER TABLE action_items
    ADD COLUMN needs_review  boolean NOT NULL DEFAULT false,
    ADD COLUMN review_reason text,
    ADD COLUMN confirmed_by  text,
    ADD COLUMN confirmed_at  timestamptz;

-- +goose Down
ALTER TABLE action_items
    DROP COLUMN confirmed_at,
    DROP COLUMN confirmed_by,
    DROP COLUMN review_reason,
    DROP COLUMN needs_review;
ALTER TABLE meeting_notes DROP COLUMN summary_sentences;
