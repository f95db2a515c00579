-- +goose Up
-- Automatic capture (issue #14): connectors pull email (IMAP) and calendars
-- (ICS feeds, CalDAV) on a schedule, or take note-taker pings (Recall.ai,
-- Zoom) and pull what they announce. Each connector row carries its
-- non-secret configuration (config), its secrets sealed with AES-GCM under
-- the deployment's LOGBOOK_SECRET_KEY (secret: never logged, never
-- returned), its sync watermark (state: IMAP UIDVALIDITY/UID, CalDAV sync
-- token…) and its health (last success, last error, items, lag).
CREATE TABLE connectors (
    org_id           uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    id               uuid NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('imap', 'ics', 'caldav', 'recall', 'zoom')),
    name             text NOT NULL,
    -- Whose mailbox or calendar this is: the owner of what it captures.
    user_id          uuid,
    config           jsonb NOT NULL DEFAULT '{}',
    secret           bytea,
    -- The names of the sealed secrets ("password"), shown; the values never are.
    secret_names     text[] NOT NULL DEFAULT '{}',
    state            jsonb NOT NULL DEFAULT '{}',
    enabled          boolean NOT NULL DEFAULT true,
    interval_seconds integer NOT NULL DEFAULT 300 CHECK (interval_seconds BETWEEN 30 AND 86400),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    -- When the scheduler next enqueues a sync (pull kinds only).
    next_run_at      timestamptz NOT NULL DEFAULT now(),
    -- A running sync holds the lease until it ends or the lease runs out,
    -- so two workers never sync one connector at once.
    lease_token      uuid,
    lease_until      timestamptz,
    last_attempt_at  timestamptz,
    last_success_at  timestamptz,
    last_error       text,
    last_error_at    timestamptz,
    -- Set by the first failure after a success, cleared by a success: a
    -- connector failing for over an hour is unhealthy.
    failing_since    timestamptz,
    items_captured   bigint NOT NULL DEFAULT 0,
    -- The newest item's own time (an email's Date, an event's change), for lag.
    newest_item_at   timestamptz,
    PRIMARY KEY (org_id, id),
    CONSTRAINT connectors_user_id_fk FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX connectors_due_idx ON connectors (next_run_at) WHERE enabled;
CREATE INDEX connectors_failing_idx ON connectors (failing_since) WHERE failing_since IS NOT NULL;

-- The org's own mail domains (an email from one is outbound), its dialers'
-- webhook secrets (sealed like a connector's secrets) and whether a meeting's
-- transcript needs every participant's recorded consent before processing.
ALTER TABLE settings
    ADD COLUMN own_domains text[] NOT NULL DEFAULT '{}',
    ADD COLUMN twilio_auth_token bytea,
    -- The Aircall webhook's token (sealed), which each event carries.
    ADD COLUMN aircall_token bytea,
    ADD COLUMN require_consent boolean NOT NULL DEFAULT false;

-- Consent as data: each meeting participant's recording consent.
CREATE TABLE meeting_consents (
    org_id      uuid NOT NULL,
    activity_id uuid NOT NULL,
    -- lower(email), else lower(name): one row per participant.
    participant text NOT NULL,
    name        text NOT NULL DEFAULT '',
    email       text,
    consent     text NOT NULL CHECK (consent IN ('given', 'declined', 'unknown')),
    source      text NOT NULL DEFAULT 'api',
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, activity_id, participant),
    CONSTRAINT meeting_consents_activity_fk FOREIGN KEY (org_id, activity_id) REFERENCES activities (org_id, id) ON DELETE CASCADE
);

-- A transcript whose meeting lacks consent is held, unprocessed, until an
-- admin releases or discards it.
ALTER TABLE transcripts DROP CONSTRAINT transcripts_status_check;
ALTER TABLE transcripts ADD CONSTRAINT transcripts_status_check
    CHECK (status IN ('queued', 'processing', 'done', 'failed', 'held'));
ALTER TABLE transcripts ADD COLUMN held_reason text;

-- +goose Down
ALTER TABLE transcripts DROP COLUMN held_reason;
UPDATE transcripts SET status = 'failed', error = 'held for consent when migrated down' WHERE status = 'held';
ALTER TABLE transcripts DROP CONSTRAINT transcripts_status_check;
ALTER TABLE transcripts ADD CONSTRAINT transcripts_status_check
    CHECK (status IN ('queued', 'processing', 'done', 'failed'));
DROP TABLE meeting_consents;
ALTER TABLE settings DROP COLUMN own_domains, DROP COLUMN twilio_auth_token, DROP COLUMN aircall_token, DROP COLUMN require_consent;
DROP TABLE connectors;
