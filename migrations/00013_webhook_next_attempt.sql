-- +goose Up
-- When a pending webhook delivery is due. A failed attempt waits for its
-- retry (queue.WebhookRetrySchedule, up to 12 h, over a day in all); the
-- reconciler looks only at pending deliveries whose next attempt is overdue,
-- so deliveries waiting out a long backoff neither fill its batch nor cost a
-- Redis round trip each pass. New rows (every outbox insert) are due at once.
ALTER TABLE webhook_deliveries ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now();
DROP INDEX webhook_deliveries_pending_idx;
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

-- +goose Down
DROP INDEX webhook_deliveries_due_idx;
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (updated_at) WHERE status = 'pending';
ALTER TABLE webhook_deliveries DROP COLUMN next_attempt_at;
