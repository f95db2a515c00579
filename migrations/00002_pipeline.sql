-- +goose Up
-- The transcript pipeline: raw transcripts (durable before the API answers
-- 202), the notes, action items and follow-up drafts the workers write, and
-- outbound webhooks with a delivery log (an outbox: a delivery row is
-- written in the same transaction as the event it reports).

CREATE TABLE transcripts (
    org_id        uuid NOT NULL,
    id            uuid NOT NULL,
    activity_id   uuid NOT NULL,
    account_id    uuid NOT NULL,
    source        text NOT NULL,
    external_id   text,
    title         text NOT NULL DEFAULT '',
    format        text NOT NULL,
    content       text NOT NULL,
    content_hash  bytea NOT NULL,
    segments      jsonb NOT NULL,
    participants  jsonb NOT NULL DEFAULT '[]',
    started_at    timestamptz NOT NULL,
    status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'done', 'failed')),
    -- Bumped when new content arrives: a worker writes its result only if the
    -- revision it read is still current.
    revision      integer NOT NULL DEFAULT 1,
    attempts      integer NOT NULL DEFAULT 0,
    error         text,
    received_at   timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    CONSTRAINT transcripts_activity_key UNIQUE (org_id, activity_id),
    CONSTRAINT transcripts_activity_id_fk FOREIGN KEY (org_id, activity_id)
        REFERENCES activities (org_id, id) ON DELETE CASCADE
);
-- The reconciler's scan across orgs: only unfinished rows are indexed.
CREATE INDEX transcripts_unfinished_idx ON transcripts (updated_at) WHERE status IN ('queued', 'processing');

CREATE TABLE meeting_notes (
    org_id           uuid NOT NULL,
    activity_id      uuid NOT NULL,
    transcript_id    uuid NOT NULL,
    summary          text NOT NULL,
    summary_evidence jsonb NOT NULL DEFAULT '[]',
    key_points       jsonb NOT NULL DEFAULT '[]',
    decisions        jsonb NOT NULL DEFAULT '[]',
    risks            jsonb NOT NULL DEFAULT '[]',
    coverage         double precision NOT NULL,
    model            text NOT NULL,
    prompt_version   text NOT NULL,
    input_tokens     integer NOT NULL DEFAULT 0,
    output_tokens    integer NOT NULL DEFAULT 0,
    cost_usd         numeric(12, 6) NOT NULL DEFAULT 0,
    generated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, activity_id),
    CONSTRAINT meeting_notes_activity_id_fk FOREIGN KEY (org_id, activity_id)
        REFERENCES activities (org_id, id) ON DELETE CASCADE
);

CREATE TABLE action_items (
    org_id        uuid NOT NULL,
    id            uuid NOT NULL,
    activity_id   uuid NOT NULL,
    account_id    uuid NOT NULL,
    position      integer NOT NULL,
    text          text NOT NULL,
    owner         text,
    due_date      date,
    status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    tentative     boolean NOT NULL DEFAULT false,
    evidence      jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    CONSTRAINT action_items_activity_id_fk FOREIGN KEY (org_id, activity_id)
        REFERENCES activities (org_id, id) ON DELETE CASCADE
);
CREATE INDEX action_items_activity_idx ON action_items (org_id, activity_id, position);
CREATE INDEX action_items_account_idx ON action_items (org_id, account_id, status);

CREATE TABLE follow_ups (
    org_id         uuid NOT NULL,
    activity_id    uuid NOT NULL,
    subject        text NOT NULL,
    body           text NOT NULL,
    recipients     jsonb NOT NULL DEFAULT '[]',
    model          text NOT NULL,
    prompt_version text NOT NULL,
    generated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, activity_id),
    CONSTRAINT follow_ups_activity_id_fk FOREIGN KEY (org_id, activity_id)
        REFERENCES activities (org_id, id) ON DELETE CASCADE
);

CREATE TABLE webhooks (
    org_id     uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    id         uuid NOT NULL,
    url        text NOT NULL,
    events     text[] NOT NULL,
    secret     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);

CREATE TABLE webhook_deliveries (
    org_id           uuid NOT NULL,
    id               uuid NOT NULL,
    webhook_id       uuid NOT NULL,
    event            text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    PRIMARY KEY (org_id, id),
    CONSTRAINT webhook_deliveries_webhook_id_fk FOREIGN KEY (org_id, webhook_id)
        REFERENCES webhooks (org_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (org_id, webhook_id, id DESC);
CREATE INDEX webhook_deliveries_pending_idx ON webhook_deliveries (updated_at) WHERE status = 'pending';

-- The secret that signs POST /v1/hooks/transcripts for this org.
ALTER TABLE settings ADD COLUMN ingest_secret text;

-- +goose Down
ALTER TABLE settings DROP COLUMN ingest_secret;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE follow_ups;
DROP TABLE action_items;
DROP TABLE meeting_notes;
DROP TABLE transcripts;
