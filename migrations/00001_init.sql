-- +goose Up
-- Logbook's base schema: the CRM record and the activity log.
--
-- Every table carries org_id as the leading column of its primary key and of
-- every index, and every foreign key between org-owned tables is composite
-- (org_id, id): a row can only ever point at a row of its own org, which the
-- database itself enforces. This also keeps the schema ready to distribute by
-- org_id (Citus) when one primary is not enough.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE orgs (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    org_id     uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    id         uuid NOT NULL,
    name       text NOT NULL,
    key_hash   bytea NOT NULL,
    scopes     text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    PRIMARY KEY (org_id, id)
);
-- The one index that cannot lead with org_id: authentication is how a request
-- finds its org. The hash is of a 256-bit random secret, so it is unique.
CREATE UNIQUE INDEX api_keys_key_hash_idx ON api_keys (key_hash);

CREATE TABLE settings (
    org_id              uuid PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
    dispositions        text[] NOT NULL,
    require_disposition boolean NOT NULL DEFAULT false,
    stalled_after_days  integer NOT NULL DEFAULT 14,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    org_id     uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    id         uuid NOT NULL,
    email      text NOT NULL,
    name       text NOT NULL,
    role       text NOT NULL CHECK (role IN ('rep', 'manager', 'csm', 'admin')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    CONSTRAINT users_email_key UNIQUE (org_id, email)
);

CREATE TABLE accounts (
    org_id     uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
    id         uuid NOT NULL,
    name       text NOT NULL,
    segment    text,
    owner_id   uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    CONSTRAINT accounts_owner_id_fk FOREIGN KEY (org_id, owner_id)
        REFERENCES users (org_id, id) ON DELETE SET NULL (owner_id)
);
CREATE INDEX accounts_name_idx ON accounts (org_id, lower(name));

-- A domain resolves email participants to one account, so it is unique per org.
CREATE TABLE account_domains (
    org_id     uuid NOT NULL,
    domain     text NOT NULL,
    account_id uuid NOT NULL,
    PRIMARY KEY (org_id, domain),
    CONSTRAINT account_domains_account_id_fk FOREIGN KEY (org_id, account_id)
        REFERENCES accounts (org_id, id) ON DELETE CASCADE
);
CREATE INDEX account_domains_account_idx ON account_domains (org_id, account_id);

CREATE TABLE contacts (
    org_id     uuid NOT NULL,
    id         uuid NOT NULL,
    account_id uuid NOT NULL,
    name       text NOT NULL,
    email      text,
    phone      text,
    title      text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    CONSTRAINT contacts_account_id_fk FOREIGN KEY (org_id, account_id)
        REFERENCES accounts (org_id, id) ON DELETE CASCADE,
    CONSTRAINT contacts_email_key UNIQUE (org_id, email)
);
CREATE INDEX contacts_account_idx ON contacts (org_id, account_id);

CREATE TABLE deals (
    org_id     uuid NOT NULL,
    id         uuid NOT NULL,
    account_id uuid NOT NULL,
    name       text NOT NULL,
    stage      text,
    amount     numeric(20, 4),
    currency   text,
    close_date date,
    owner_id   uuid,
    status     text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    CONSTRAINT deals_account_id_fk FOREIGN KEY (org_id, account_id)
        REFERENCES accounts (org_id, id) ON DELETE CASCADE,
    CONSTRAINT deals_owner_id_fk FOREIGN KEY (org_id, owner_id)
        REFERENCES users (org_id, id) ON DELETE SET NULL (owner_id)
);
CREATE INDEX deals_account_idx ON deals (org_id, account_id);
CREATE INDEX deals_status_idx ON deals (org_id, status);

CREATE TABLE activities (
    org_id           uuid NOT NULL,
    id               uuid NOT NULL,
    type             text NOT NULL CHECK (type IN ('call', 'email', 'meeting', 'note', 'voicemail',
                                                   'linkedin', 'sms', 'handoff', 'task')),
    direction        text CHECK (direction IN ('inbound', 'outbound', 'internal')),
    account_id       uuid NOT NULL,
    deal_id          uuid,
    owner_id         uuid,
    occurred_at      timestamptz NOT NULL,
    duration_seconds integer CHECK (duration_seconds >= 0),
    subject          text,
    body             text,
    disposition      text,
    next_step_text   text,
    next_step_due    date,
    participants     jsonb NOT NULL DEFAULT '[]',
    source           text NOT NULL,
    external_id      text,
    metadata         jsonb NOT NULL DEFAULT '{}',
    -- SHA-256 of the posted content: a re-post of the same source+external_id
    -- with the same hash changes nothing, with another hash updates the row.
    content_hash     bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    CONSTRAINT activities_source_external_id_key UNIQUE (org_id, source, external_id),
    CONSTRAINT activities_account_id_fk FOREIGN KEY (org_id, account_id)
        REFERENCES accounts (org_id, id) ON DELETE CASCADE,
    CONSTRAINT activities_deal_id_fk FOREIGN KEY (org_id, deal_id)
        REFERENCES deals (org_id, id) ON DELETE SET NULL (deal_id),
    CONSTRAINT activities_owner_id_fk FOREIGN KEY (org_id, owner_id)
        REFERENCES users (org_id, id) ON DELETE SET NULL (owner_id)
);
-- The timeline: directions match the ORDER BY so a keyset page is one index range scan.
CREATE INDEX activities_timeline_idx ON activities (org_id, account_id, occurred_at DESC, id DESC);
CREATE INDEX activities_deal_idx ON activities (org_id, deal_id, occurred_at DESC) WHERE deal_id IS NOT NULL;
CREATE INDEX activities_owner_idx ON activities (org_id, owner_id, occurred_at DESC) WHERE owner_id IS NOT NULL;

CREATE TABLE activity_contacts (
    org_id      uuid NOT NULL,
    activity_id uuid NOT NULL,
    contact_id  uuid NOT NULL,
    PRIMARY KEY (org_id, activity_id, contact_id),
    CONSTRAINT activity_contacts_activity_id_fk FOREIGN KEY (org_id, activity_id)
        REFERENCES activities (org_id, id) ON DELETE CASCADE,
    CONSTRAINT activity_contacts_contact_id_fk FOREIGN KEY (org_id, contact_id)
        REFERENCES contacts (org_id, id) ON DELETE CASCADE
);
CREATE INDEX activity_contacts_contact_idx ON activity_contacts (org_id, contact_id, activity_id);

-- +goose Down
DROP TABLE activity_contacts;
DROP TABLE activities;
DROP TABLE deals;
DROP TABLE contacts;
DROP TABLE account_domains;
DROP TABLE accounts;
DROP TABLE users;
DROP TABLE settings;
DROP TABLE api_keys;
DROP TABLE orgs;
