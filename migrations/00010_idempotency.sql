-- +goose Up
-- Idempotency-Key (api/idempotency.go): what a POST carrying the header left,
-- so the same request sent again gets the same answer instead of running
-- twice. A key belongs to the API key that sent it (org_id, api_key_id).
--
-- A row is claimed before the handler runs (lock_id set, status NULL: "in
-- progress") and completed with the response after it; a 5xx answer deletes
-- it so the client's retry runs. request_hash (SHA-256 of the method, the
-- path and query, and the body) is written at completion, when the body has
-- been read. no_store marks a response that carried a secret
-- (Cache-Control: no-store): only its status is kept, and a replay says so
-- instead of showing the secret again.
CREATE TABLE idempotency_keys (
    org_id       uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    api_key_id   uuid NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- path is the request's path, so deleting an account also forgets the
    -- answers about it (AccountDelete: an ask's answer quotes the account's
    -- records but names the account only in its path).
    path         text NOT NULL DEFAULT '',
    request_hash bytea,
    lock_id      uuid,
    locked_at    timestamptz,
    status       integer,
    headers      jsonb,
    body         bytea,
    no_store     boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (org_id, api_key_id, key),
    CONSTRAINT idempotency_keys_api_key_id_fk FOREIGN KEY (org_id, api_key_id)
        REFERENCES api_keys (org_id, id) ON DELETE CASCADE,
    CHECK ((status IS NULL) = (lock_id IS NOT NULL))
);
-- The purge (IdempotencyPurge) deletes expired rows of every org, oldest
-- first, a bounded batch at a time; it is the one index here that does not
-- lead with org_id, because expiry is not an org's query.
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
