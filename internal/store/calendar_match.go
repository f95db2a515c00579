package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// CalendarMeeting is a meeting a calendar connector captured (source
// calendar_sync), as the connector's sync sees it.
type CalendarMeeting struct {
	ID         string
	ExternalID string
	// ConnectorID is the connector that captured it (metadata.connector_id);
	// ConnectorLive is false when that connector no longer exists.
	ConnectorID   string
	ConnectorLive bool
	// Attached is true when something other than the calendar hangs on
	// the meeting: a transcript or recorded consents.
	Attached  bool
	Cancelled bool
	Metadata  json.RawMessage
	// UID is metadata.ical_uid.
	UID string
}

const calendarMeetingCols = `a.id, a.external_id, coalesce(a.metadata->>'connector_id', ''),
	EXISTS (SELECT 1 FROM connectors c WHERE c.org_id = a.org_id AND c.id::text = a.metadata->>'connector_id'),
	EXISTS (SELECT 1 FROM transcripts t WHERE t.org_id = a.org_id AND t.activity_id = a.id)
		OR EXISTS (SELECT 1 FROM meeting_consents mc WHERE mc.org_id = a.org_id AND mc.activity_id = a.id),
	coalesce((a.metadata->>'cancelled')::boolean, false), a.metadata, coalesce(a.metadata->>'ical_uid', '')`

func scanCalendarMeetings(rows pgx.Rows) ([]CalendarMeeting, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (CalendarMeeting, error) {
		var m CalendarMeeting
		err := r.Scan(&m.ID, &m.ExternalID, &m.ConnectorID, &m.ConnectorLive, &m.Attached, &m.Cancelled, &m.Metadata, &m.UID)
		return m, err
	})
}

// CalendarMeetingsByExternalID returns the org's calendar meetings with
// these external IDs, by external ID.
func (s *Store) CalendarMeetingsByExternalID(ctx context.Context, orgID string, externalIDs []string) (map[string]CalendarMeeting, error) {
	const op = "calendar meetings by external id"
	rows, err := s.db.Query(ctx, `SELECT `+calendarMeetingCols+` FROM activities a
		WHERE a.org_id = $1 AND a.source = 'calendar_sync' AND a.external_id = ANY ($2)`, orgID, externalIDs)
	if err != nil {
		return nil, interpretError(op, err)
	}
	list, err := scanCalendarMeetings(rows)
	if err != nil {
		return nil, interpretError(op, err)
	}
	out := make(map[string]CalendarMeeting, len(list))
	for _, m := range list {
		out[m.ExternalID] = m
	}
	return out, nil
}

// CalendarMeetingsInWindow returns the calendar meetings connector
// captured that start in [from, to); with uids, only those of these
// iCalendar UIDs.
func (s *Store) CalendarMeetingsInWindow(ctx context.Context, orgID, connectorID string, from, to time.Time, uids []string) ([]CalendarMeeting, error) {
	const op = "calendar meetings in window"
	rows, err := s.db.Query(ctx, `SELECT `+calendarMeetingCols+` FROM activities a
		WHERE a.org_id = $1 AND a.source = 'calendar_sync' AND a.metadata->>'connector_id' = $2
		  AND a.occurred_at >= $3 AND a.occurred_at < $4
		  AND ($5::text[] IS NULL OR a.metadata->>'ical_uid' = ANY ($5))
		ORDER BY a.occurred_at, a.id`, orgID, connectorID, from, to, uids)
	if err != nil {
		return nil, interpretError(op, err)
	}
	list, err := scanCalendarMeetings(rows)
	return list, interpretError(op, err)
}

// CalendarMeetingCancel ends a calendar meeting whose event was cancelled
// or deleted: it deletes the activity (as ActivityDelete) when nothing
// else hangs on it (no transcript, no recorded consent; checked in the
// same statement, so a transcript attached meanwhile is never lost), and
// otherwise marks it metadata.cancelled = true, status CANCELLED. deleted
// says which.
func (s *Store) CalendarMeetingCancel(ctx context.Context, orgID, id string) (deleted bool, err error) {
	const op = "cancel calendar meeting"
	err = s.WithTx(ctx, func(tx *Store) error {
		var one int
		err := tx.db.QueryRow(ctx, `SELECT 1 FROM activities a WHERE a.org_id = $1 AND a.id = $2
			AND NOT EXISTS (SELECT 1 FROM transcripts t WHERE t.org_id = a.org_id AND t.activity_id = a.id)
			AND NOT EXISTS (SELECT 1 FROM meeting_consents mc WHERE mc.org_id = a.org_id AND mc.activity_id = a.id)
			FOR UPDATE`, orgID, id).Scan(&one)
		switch {
		case err == nil:
			deleted = true
			return tx.ActivityDelete(ctx, orgID, id)
		case err != pgx.ErrNoRows:
			return interpretError(op, err)
		}
		// content_hash NULL: the next upsert of the instance (if the event
		// comes back) rewrites the row rather than keeping the mark.
		_, err = tx.db.Exec(ctx, `UPDATE activities SET
				metadata = metadata || '{"cancelled": true, "status": "CANCELLED"}'::jsonb,
				content_hash = NULL, updated_at = $3
			WHERE org_id = $1 AND id = $2 AND source = 'calendar_sync'`, orgID, id, tx.clock())
		return interpretError(op, err)
	})
	return deleted, err
}

// CalendarMatchWindow is how far apart a transcript's start and a calendar
// meeting's may be for them to match by time and attendees.
const CalendarMatchWindow = 15 * time.Minute

// calendarConferenceWindow bounds a match by conference link: a personal
// meeting room's link is the same for every meeting held in it, so the
// calendar meeting nearest in time within this window is the one.
const calendarConferenceWindow = 12 * time.Hour

// CalendarMatchQuery describes a transcript's meeting, to find the
// calendar meeting it records.
type CalendarMatchQuery struct {
	// NotetakerKey is the note-taker meeting's external_id
	// ("<source>:<id>"): a calendar meeting that recorded it before is
	// the match whatever else says.
	NotetakerKey string
	// ConferenceKey is crm.ConferenceKey of the meeting's link.
	ConferenceKey string
	StartedAt     time.Time
	// Emails are the participants' emails (lower case).
	Emails []string
}

// CalendarMatch finds the calendar meeting (source calendar_sync) a
// note-taker's transcript records: the one that recorded the same
// NotetakerKey (even if cancelled since); else, not cancelled and among those with no transcript yet, the one
// with the same conference key starting nearest StartedAt (within 12
// hours); else one starting within CalendarMatchWindow of StartedAt that
// shares at least one participant email, the nearest. crm.ErrNotFound
// when none. It locks the row it returns (run it in a transaction).
func (s *Store) CalendarMatch(ctx context.Context, orgID string, q CalendarMatchQuery) (crm.Activity, error) {
	const op = "calendar match"
	var id string
	found := func(sql string, args ...any) (bool, error) {
		err := s.db.QueryRow(ctx, sql, args...).Scan(&id)
		if err == pgx.ErrNoRows {
			return false, nil
		}
		return err == nil, interpretError(op, err)
	}
	const live = `a.org_id = $1 AND a.source = 'calendar_sync' AND a.type = 'meeting'
		AND NOT coalesce((a.metadata->>'cancelled')::boolean, false)`
	const free = ` AND NOT EXISTS (SELECT 1 FROM transcripts t WHERE t.org_id = a.org_id AND t.activity_id = a.id)`
	if q.NotetakerKey != "" {
		ok, err := found(`SELECT a.id FROM activities a WHERE a.org_id = $1 AND a.source = 'calendar_sync'
			AND a.metadata ? 'notetaker_external_id'
			AND a.metadata->>'notetaker_external_id' = $2 LIMIT 1`, orgID, q.NotetakerKey)
		if err != nil || ok {
			return s.calendarMatched(ctx, orgID, id, ok, err)
		}
	}
	if q.ConferenceKey != "" {
		ok, err := found(`SELECT a.id FROM activities a WHERE `+live+free+` AND a.metadata ? 'conference_key'
			AND a.metadata->>'conference_key' = $2
			AND a.occurred_at BETWEEN $3::timestamptz - $4::interval AND $3::timestamptz + $4::interval
			ORDER BY abs(extract(epoch FROM a.occurred_at - $3::timestamptz)), a.id LIMIT 1`,
			orgID, q.ConferenceKey, q.StartedAt, calendarConferenceWindow)
		if err != nil || ok {
			return s.calendarMatched(ctx, orgID, id, ok, err)
		}
	}
	if len(q.Emails) > 0 {
		ok, err := found(`SELECT a.id FROM activities a WHERE `+live+free+`
			AND a.occurred_at BETWEEN $2::timestamptz - $3::interval AND $2::timestamptz + $3::interval
			AND EXISTS (SELECT 1 FROM jsonb_array_elements(a.participants) p WHERE lower(p->>'email') = ANY ($4))
			ORDER BY abs(extract(epoch FROM a.occurred_at - $2::timestamptz)), a.id LIMIT 1`,
			orgID, q.StartedAt, CalendarMatchWindow, q.Emails)
		if err != nil || ok {
			return s.calendarMatched(ctx, orgID, id, ok, err)
		}
	}
	return crm.Activity{}, crm.ErrNotFound
}

func (s *Store) calendarMatched(ctx context.Context, orgID, id string, ok bool, err error) (crm.Activity, error) {
	if err != nil {
		return crm.Activity{}, err
	}
	return s.ActivityGetForUpdate(ctx, orgID, id)
}

// CalendarMeetingAttach records on a calendar meeting the note-taker
// meeting whose transcript it now carries (metadata keys merged: patch
// wins), so the same note-taker post lands on it again. The calendar's
// title, time and participants stay.
func (s *Store) CalendarMeetingAttach(ctx context.Context, orgID, id string, patch map[string]string) error {
	b, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	// content_hash NULL: the calendar's next upsert rewrites the row
	// (keeping these keys) instead of comparing against a stale hash.
	_, err = s.db.Exec(ctx, `UPDATE activities SET metadata = metadata || $3::jsonb, content_hash = NULL, updated_at = $4
		WHERE org_id = $1 AND id = $2`, orgID, id, string(b), s.clock())
	return interpretError("attach transcript to calendar meeting", err)
}

// NotetakerMeetingAdopt is CalendarMatch the other way round, for a
// calendar instance that is new to the calendar (no meeting with its
// external_id yet): a meeting a note-taker's transcript made before the
// calendar was synced (source notetaker) becomes the calendar's meeting,
// as if the calendar had come first and the transcript had landed on it:
// its source and external_id turn to calendar_sync and calendarKey, and
// its metadata records notetaker_source and notetaker_external_id, so a
// re-post of the transcript lands on it (CalendarMatch's NotetakerKey) and
// the calendar's sync updates it instead of adding a second meeting. The
// one matched is the meeting with the same conference key starting
// nearest (within 12 hours), else one starting within CalendarMatchWindow
// sharing a participant email, the nearest. It returns the adopted
// meeting's metadata, or crm.ErrNotFound when none matches.
func (s *Store) NotetakerMeetingAdopt(ctx context.Context, orgID, calendarKey string, q CalendarMatchQuery) (json.RawMessage, error) {
	const op = "adopt note-taker meeting"
	const pick = `SELECT a.id FROM activities a WHERE a.org_id = $1 AND a.source = 'notetaker' AND a.type = 'meeting'
		AND a.occurred_at BETWEEN $2::timestamptz - $3::interval AND $2::timestamptz + $3::interval`
	adopt := func(where string, window time.Duration, arg any) (json.RawMessage, error) {
		var md json.RawMessage
		err := s.db.QueryRow(ctx, `
			WITH m AS (`+pick+where+`
				ORDER BY abs(extract(epoch FROM a.occurred_at - $2::timestamptz)), a.id LIMIT 1 FOR UPDATE SKIP LOCKED)
			UPDATE activities a SET source = 'calendar_sync', external_id = $5,
				metadata = a.metadata || jsonb_build_object('notetaker_source', coalesce(a.metadata->>'transcript_source', ''))
					|| CASE WHEN a.external_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('notetaker_external_id', a.external_id) END,
				content_hash = NULL, updated_at = $6
			FROM m WHERE a.org_id = $1 AND a.id = m.id
			RETURNING a.metadata`, orgID, q.StartedAt, window, arg, calendarKey, s.clock()).Scan(&md)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		}
		return md, interpretError(op, err)
	}
	if q.ConferenceKey != "" {
		md, err := adopt(` AND a.metadata->>'conference_key' = $4`, calendarConferenceWindow, q.ConferenceKey)
		if err != nil || md != nil {
			return md, err
		}
	}
	if len(q.Emails) > 0 {
		md, err := adopt(` AND EXISTS (SELECT 1 FROM jsonb_array_elements(a.participants) p WHERE lower(p->>'email') = ANY ($4))`,
			CalendarMatchWindow, q.Emails)
		if err != nil || md != nil {
			return md, err
		}
	}
	return nil, fmt.Errorf("store: %s: %w", op, crm.ErrNotFound)
}

// ActivityIDBySource returns the ID of the org's activity with this source
// and external_id, or crm.ErrNotFound.
func (s *Store) ActivityIDBySource(ctx context.Context, orgID string, source crm.Source, externalID string) (string, error) {
	var id string
	err := s.db.QueryRow(ctx, `SELECT id FROM activities WHERE org_id = $1 AND source = $2 AND external_id = $3`,
		orgID, string(source), externalID).Scan(&id)
	return id, interpretError("activity by source", err)
}
