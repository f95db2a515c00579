-- +goose Up
-- The account brief (GET /v1/accounts/{id}/brief) is composed from SQL facts
-- and the stored meeting notes; no model is called. The last one built is
-- kept here with the fingerprint of what it was built from: a read computes
-- the fingerprint again (one query) and rebuilds only when it differs, so
-- new activity refreshes the brief and an unchanged account is one lookup.
CREATE TABLE account_briefs (
    org_id            uuid NOT NULL,
    account_id        uuid NOT NULL,
    -- The composed brief: {headline, sections:[{title, statements, more}]}.
    brief             jsonb NOT NULL,
    -- The structured facts served next to it, as they were when it was built.
    open_action_items jsonb NOT NULL DEFAULT '[]',
    deals             jsonb NOT NULL DEFAULT '[]',
    last_activity_at  timestamptz,
    -- md5 over the counts and latest change times of everything the brief
    -- reads, and the day it was built for (overdue and the risk window move
    -- with the date).
    fingerprint       text NOT NULL,
    generated_at      timestamptz NOT NULL,
    PRIMARY KEY (org_id, account_id),
    CONSTRAINT account_briefs_account_id_fk FOREIGN KEY (org_id, account_id)
        REFERENCES accounts (org_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE account_briefs;
