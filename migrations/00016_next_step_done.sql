-- +goose Up
-- Next steps can be marked done (issue #12): GET /v1/next-steps lists the
-- open ones that are due, and the weekly digest says what is due per account.
-- Writing a different next step (text or due date) clears the mark.
ALTER TABLE activities ADD COLUMN next_step_done_at timestamptz;
-- The org-wide list, oldest due first: one range scan in list order, early
-- stop at the page size. Only open next steps with a due date are in it.
CREATE INDEX activities_next_step_due_idx ON activities (org_id, next_step_due, occurred_at, id)
    WHERE next_step_due IS NOT NULL AND next_step_done_at IS NULL;

-- +goose Down
DROP INDEX activities_next_step_due_idx;
ALTER TABLE activities DROP COLUMN next_step_done_at;
