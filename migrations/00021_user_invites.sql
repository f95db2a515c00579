-- +goose Up
-- Invites (issue #13): an admin invites a user (POST /v1/users/{id}/invite,
-- `logbook users invite`, /admin/users) and gets a one-time link
-- /invite/{token}; whoever opens it sets the user's password and is signed
-- in. As for sessions, only the SHA-256 of the 256-bit token is stored. A
-- new invite deletes the user's older unused ones.
CREATE TABLE user_invites (
    org_id     uuid NOT NULL,
    id         uuid NOT NULL,
    user_id    uuid NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (org_id, id),
    CONSTRAINT user_invites_user_fk FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
-- The link is how a request finds its org: the one lookup not led by org_id.
CREATE UNIQUE INDEX user_invites_token_idx ON user_invites (token_hash);
CREATE INDEX user_invites_user_idx ON user_invites (org_id, user_id);
-- Sign-in finds a person by email across orgs (users_email_key leads with
-- org_id).
CREATE INDEX users_email_idx ON users (email);

-- +goose Down
DROP INDEX users_email_idx;
DROP TABLE user_invites;
