-- +goose Up
-- A meeting whose notes were written but whose follow-up draft failed is
-- done: the notes are kept, and the draft's failure is said here (in words
-- a user understands) until POST /v1/activities/{id}/follow-up drafts it.
ALTER TABLE transcripts ADD COLUMN follow_up_error text;

-- +goose Down
ALTER TABLE transcripts DROP COLUMN follow_up_error;
