-- +goose Up
-- Calendar sync (issue #14): the meetings a calendar connector captured
-- (source calendar_sync) are found by the connector that owns them and its
-- window (cancellations, deletions), and a note-taker's transcript finds its
-- calendar meeting by the conference link's key or by the note-taker's own
-- meeting ID recorded on it (internal/store/calendar_match.go). Partial
-- indexes: only calendar meetings carry these keys.
CREATE INDEX activities_calendar_connector_idx ON activities (org_id, (metadata->>'connector_id'), occurred_at)
    WHERE source = 'calendar_sync';
CREATE INDEX activities_calendar_conference_idx ON activities (org_id, (metadata->>'conference_key'))
    WHERE source = 'calendar_sync' AND metadata ? 'conference_key';
CREATE INDEX activities_calendar_notetaker_idx ON activities (org_id, (metadata->>'notetaker_external_id'))
    WHERE source = 'calendar_sync' AND metadata ? 'notetaker_external_id';

-- +goose Down
DROP INDEX activities_calendar_notetaker_idx;
DROP INDEX activities_calendar_conference_idx;
DROP INDEX activities_calendar_connector_idx;
