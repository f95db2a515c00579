-- +goose Up
-- The signed transcript hook's replay guard (issue #11): every signature the
-- hook has accepted, until the end of the window in which it would be
-- accepted again (its timestamp + crm.SignatureTolerance). A delivery
-- repeated within the window finds its row and is refused; an expired row
-- is taken over by the next delivery with the same hash (which cannot come:
-- its timestamp would be stale) or pruned. PostgreSQL, not Redis: the hook
-- already depends on PostgreSQL (the secret, the write), the row is written
-- in the transaction that stores the transcript, and every server shares it.
CREATE TABLE ingest_signatures (
    org_id     uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
    sig_hash   bytea NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, sig_hash)
);
CREATE INDEX ingest_signatures_expiry ON ingest_signatures (org_id, expires_at);

-- +goose Down
DROP TABLE ingest_signatures;
