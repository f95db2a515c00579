-- +goose Up
-- The activity feed (GET /v1/activities, logbook export): every activity of
-- an org in change order, so a warehouse syncs incrementally without gaps
-- or repeats.
--
-- change_xid is the ID of the transaction that last changed what the feed
-- exports of the activity: its columns (not the bookkeeping ones:
-- content_hash, indexed_at, which the indexer sets), its contact links, and
-- a meeting's notes, action items and follow-up draft. changed_at is when.
-- The feed serves rows below its snapshot's xmin only: every transaction
-- below it has ended and any later change gets a larger xid, so a row can
-- never commit behind a client's cursor (a keyset on a timestamp misses
-- rows whose transaction began before the client read past its time and
-- committed after).
--
-- Rows already stored get change_xid 1 (below any transaction: served
-- first, in id order) and no changed_at (the feed reads updated_at then),
-- both without rewriting the table: a constant default and a NULL column
-- are catalog changes only. Rows written from now on get their
-- transaction's.
ALTER TABLE activities ADD COLUMN change_xid xid8 NOT NULL DEFAULT '1', ADD COLUMN changed_at timestamptz;
ALTER TABLE activities ALTER COLUMN change_xid SET DEFAULT pg_current_xact_id(),
    ALTER COLUMN changed_at SET DEFAULT now();
CREATE INDEX activities_feed_idx ON activities (org_id, change_xid, id);

-- An update moves the row in the feed when anything but bookkeeping
-- changed: whatever column is added later counts, unless listed here. An
-- update that sets change_xid itself (the triggers below) keeps its value.
-- The comparison is in the function, not the trigger's WHEN: a WHEN may not
-- read a row with generated columns (activities.list, added by 00019), and a BEFORE
-- trigger sees them not yet computed, so generated columns are left out
-- (they follow the columns they are computed from). A generated column
-- added later must be listed here too.
-- +goose StatementBegin
CREATE FUNCTION activities_feed_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (to_jsonb(NEW) - '{content_hash,indexed_at,change_xid,changed_at,list}'::text[])
       IS DISTINCT FROM (to_jsonb(OLD) - '{content_hash,indexed_at,change_xid,changed_at,list}'::text[]) THEN
        NEW.change_xid := pg_current_xact_id();
        NEW.changed_at := now();
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER activities_feed_change BEFORE UPDATE ON activities
    FOR EACH ROW EXECUTE FUNCTION activities_feed_change();

-- What an activity's feed item carries from other tables moves it too: its
-- contact links, and a meeting's notes, action items and follow-up. One
-- statement per statement (transition tables); an activity already moved by
-- this transaction is left alone, so a write that inserts an activity with
-- its links costs a lookup per link and no second row version.
-- +goose StatementBegin
CREATE FUNCTION activities_feed_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE activities a SET change_xid = pg_current_xact_id(), changed_at = now()
    FROM (SELECT DISTINCT org_id, activity_id FROM feed_touched) t
    WHERE a.org_id = t.org_id AND a.id = t.activity_id AND a.change_xid <> pg_current_xact_id();
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER activity_contacts_feed_ins AFTER INSERT ON activity_contacts
    REFERENCING NEW TABLE AS feed_touched FOR EACH STATEMENT EXECUTE FUNCTION activities_feed_touch();
CREATE TRIGGER activity_contacts_feed_del AFTER DELETE ON activity_contacts
    REFERENCING OLD TABLE AS feed_touched FOR EACH STATEMENT EXECUTE FUNCTION activities_feed_touch();
CREATE TRIGGER meeting_notes_feed_ins AFTER INSERT ON meeting_notes
    REFERENCING NEW TABLE AS feed_touched FOR EACH STATEMENT EXECUTE FUNCTION activities_feed_touch();
CREATE TRIGGER meeting_notes_feed_upd AFTER UPDATE ON meeting_notes
    REFERENCING NEW TABLE AS feed_touched FOR EACH STATEMENT EXECUTE FUNCTION activities_feed_touch();
CREATE TRIGGER meeting_notes_feed_del AFTER DELETE ON meeting_notes
    REFERENCING OLD TABLE AS feed_touched FOR EACH STATEMENT EXECUTE FUNCTION activities_feed_touch();
CREATE TRIGGER action_items_feed_ins AFTER INSERT ON action_items
    REFERENCING NEW TABLE AS feed_touched FOR EACH STATEMENT EXECUTE FUNCTION activities_feed_touch();
CREATE TRIGGER action_items_feed_upd AFTER UPDATE ON action_items
    REFERENCING NEW TABLE AS feed_touched FOR EACH STATEMENT EXECUTE FUNCTION activities_feed_touch();
CREATE TRIGGER action_items_feed_del AFTER DELETE ON action_items
    REFERENCING OLD TABLE AS feed_touched FOR EACH STATEMENT EXECUTE FUNCTION activities_feed_touch();
CREATE TRIGGER follow_ups_feed_ins AFTER INSERT ON follow_ups
    REFERENCING NEW TABLE AS feed_touched FOR EACH STATEMENT EXECUTE FUNCTION activities_feed_touch();
CREATE TRIGGER follow_ups_feed_upd AFTER UPDATE ON follow_ups
    REFERENCING NEW TABLE AS feed_touched FOR EACH STATEMENT EXECUTE FUNCTION activities_feed_touch();
CREATE TRIGGER follow_ups_feed_del AFTER DELETE ON follow_ups
    REFERENCING OLD TABLE AS feed_touched FOR EACH STATEMENT EXECUTE FUNCTION activities_feed_touch();
-- The notes carry the transcript's follow_up_error (and nothing else of
-- the transcript, whose status and attempts change often).
-- +goose StatementBegin
CREATE FUNCTION activities_feed_touch_transcript() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE activities a SET change_xid = pg_current_xact_id(), changed_at = now()
    FROM (SELECT DISTINCT n.org_id, n.activity_id FROM feed_new n JOIN feed_old o ON o.org_id = n.org_id AND o.id = n.id
          WHERE n.follow_up_error IS DISTINCT FROM o.follow_up_error) t
    WHERE a.org_id = t.org_id AND a.id = t.activity_id AND a.change_xid <> pg_current_xact_id();
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER transcripts_feed_upd AFTER UPDATE ON transcripts
    REFERENCING OLD TABLE AS feed_old NEW TABLE AS feed_new
    FOR EACH STATEMENT EXECUTE FUNCTION activities_feed_touch_transcript();

-- A deleted activity leaves a tombstone in the feed, in change order with
-- the rest, however it was deleted (DELETE /v1/activities/{id}, a
-- contact's or an account's deletion cascading, a retention job). Kept for
-- good: a client may resume from a cursor months old. Deleting the org
-- itself leaves none (the org row is gone by the time its activities
-- cascade), and logbook orgs delete removes any left.
CREATE TABLE activity_tombstones (
    org_id     uuid NOT NULL,
    id         uuid NOT NULL,
    account_id uuid NOT NULL,
    type       text NOT NULL,
    deleted_at timestamptz NOT NULL DEFAULT now(),
    change_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (org_id, id)
);
CREATE INDEX activity_tombstones_feed_idx ON activity_tombstones (org_id, change_xid, id);

-- +goose StatementBegin
CREATE FUNCTION activities_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO activity_tombstones (org_id, id, account_id, type, deleted_at, change_xid)
    SELECT o.org_id, o.id, o.account_id, o.type, now(), pg_current_xact_id()
    FROM feed_deleted o
    WHERE EXISTS (SELECT 1 FROM orgs g WHERE g.id = o.org_id)
    ON CONFLICT (org_id, id) DO UPDATE SET account_id = EXCLUDED.account_id, type = EXCLUDED.type,
        deleted_at = EXCLUDED.deleted_at, change_xid = EXCLUDED.change_xid;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER activities_tombstone AFTER DELETE ON activities
    REFERENCING OLD TABLE AS feed_deleted FOR EACH STATEMENT EXECUTE FUNCTION activities_tombstone();

-- +goose Down
DROP TRIGGER activities_tombstone ON activities;
DROP FUNCTION activities_tombstone();
DROP TABLE activity_tombstones;
DROP TRIGGER transcripts_feed_upd ON transcripts;
DROP FUNCTION activities_feed_touch_transcript();
DROP TRIGGER follow_ups_feed_del ON follow_ups;
DROP TRIGGER follow_ups_feed_upd ON follow_ups;
DROP TRIGGER follow_ups_feed_ins ON follow_ups;
DROP TRIGGER action_items_feed_del ON action_items;
DROP TRIGGER action_items_feed_upd ON action_items;
DROP TRIGGER action_items_feed_ins ON action_items;
DROP TRIGGER meeting_notes_feed_del ON meeting_notes;
DROP TRIGGER meeting_notes_feed_upd ON meeting_notes;
DROP TRIGGER meeting_notes_feed_ins ON meeting_notes;
DROP TRIGGER activity_contacts_feed_del ON activity_contacts;
DROP TRIGGER activity_contacts_feed_ins ON activity_contacts;
DROP FUNCTION activities_feed_touch();
DROP TRIGGER activities_feed_change ON activities;
DROP FUNCTION activities_feed_change();
DROP INDEX activities_feed_idx;
ALTER TABLE activities DROP COLUMN changed_at, DROP COLUMN change_xid;
