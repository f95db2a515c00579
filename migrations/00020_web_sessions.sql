-- +goose Up
-- People sign in to the web UI (issue #13). A user may have a password
-- (argon2id, in PHC string form; NULL: cannot sign in until invited), and a
-- signed-in browser holds a session: the cookie carries a 256-bit random
-- token, of which only the SHA-256 is stored, as for API keys. Each session
-- has its own CSRF token, which every form posts back.
ALTER TABLE users ADD COLUMN password_hash text;

CREATE TABLE web_sessions (
    org_id       uuid NOT NULL,
    id           uuid NOT NULL,
    user_id      uuid NOT NULL,
    token_hash   bytea NOT NULL,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    CONSTRAINT web_sessions_user_fk FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
-- As for API keys, the one lookup that cannot lead with org_id: the cookie
-- is how a request finds its org.
CREATE UNIQUE INDEX web_sessions_token_idx ON web_sessions (token_hash);
CREATE INDEX web_sessions_user_idx ON web_sessions (org_id, user_id);
CREATE INDEX web_sessions_expiry_idx ON web_sessions (expires_at);

-- +goose Down
DROP TABLE web_sessions;
ALTER TABLE users DROP COLUMN password_hash;
