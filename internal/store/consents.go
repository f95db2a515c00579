package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// Consent as data (issue #14): each meeting participant's recording consent
// (meeting_consents, one row per participant keyed by lower(email), else
// lower(name)), and the transcript held for lack of it. Whether a
// transcript is held is package activity's rule (crm.ConsentGate); these
// are its statements.

// IngestHeld means the posted transcript was stored and held for consent:
// nothing to enqueue until its consents allow it or an admin releases it.
const IngestHeld IngestResult = "held"

// ConsentsReplace replaces the consents recorded for the meeting activityID
// with cs (validated by crm.ConsentsInput.Validate), recorded from source.
// An empty cs clears them.
func (s *Store) ConsentsReplace(ctx context.Context, orgID, activityID, source string, cs []crm.ConsentInput) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM meeting_consents WHERE org_id = $1 AND activity_id = $2`, orgID, activityID); err != nil {
		return interpretError("replace consents", err)
	}
	return s.ConsentsUpsert(ctx, orgID, activityID, source, cs)
}

// ConsentsUpsert records cs for the meeting activityID, each replacing what
// was recorded for the same participant and leaving the others alone (a
// transcript that carries its participants' consents).
func (s *Store) ConsentsUpsert(ctx context.Context, orgID, activityID, source string, cs []crm.ConsentInput) error {
	if len(cs) == 0 {
		return nil
	}
	keys := make([]string, 0, len(cs))
	names := make([]string, 0, len(cs))
	emails := make([]*string, 0, len(cs))
	values := make([]string, 0, len(cs))
	seen := map[string]bool{}
	for _, c := range cs {
		k := crm.ConsentKey(c.Name, c.Email)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		var email *string
		if c.Email != "" {
			e := crm.NormalizeEmail(c.Email)
			email = &e
		}
		keys, names, emails, values = append(keys, k), append(names, c.Name), append(emails, email), append(values, string(c.Consent))
	}
	_, err := s.db.Exec(ctx, `
		INSERT INTO meeting_consents (org_id, activity_id, participant, name, email, consent, source, recorded_at)
		SELECT $1, $2, k, n, e, c, $3, $8 FROM unnest($4::text[], $5::text[], $6::text[], $7::text[]) AS u(k, n, e, c)
		ON CONFLICT (org_id, activity_id, participant) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email,
			consent = EXCLUDED.consent, source = EXCLUDED.source, recorded_at = EXCLUDED.recorded_at`,
		orgID, activityID, source, keys, names, emails, values, s.clock())
	return interpretError("record consents", err)
}

// MeetingConsents lists the consents recorded for the meeting activityID,
// by participant (an empty list when none is).
func (s *Store) MeetingConsents(ctx context.Context, orgID, activityID string) ([]crm.MeetingConsent, error) {
	rows, err := s.db.Query(ctx, `SELECT name, email, consent, source, recorded_at FROM meeting_consents
		WHERE org_id = $1 AND activity_id = $2 ORDER BY participant`, orgID, activityID)
	if err != nil {
		return nil, interpretError("list consents", err)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (crm.MeetingConsent, error) {
		var c crm.MeetingConsent
		err := r.Scan(&c.Name, &c.Email, &c.Consent, &c.Source, &c.RecordedAt)
		c.RecordedAt = c.RecordedAt.UTC()
		return c, err
	})
	if cs == nil {
		cs = []crm.MeetingConsent{}
	}
	return cs, interpretError("list consents", err)
}

// ConsentGateFacts returns what the consent gate decides on for the meeting
// activityID: the org's require_consent setting and the recorded consents.
func (s *Store) ConsentGateFacts(ctx context.Context, orgID, activityID string) (require bool, cs []crm.MeetingConsent, err error) {
	if err := s.db.QueryRow(ctx, `SELECT COALESCE((SELECT require_consent FROM settings WHERE org_id = $1), false)`,
		orgID).Scan(&require); err != nil {
		return false, nil, interpretError("read consent settings", err)
	}
	cs, err = s.MeetingConsents(ctx, orgID, activityID)
	return require, cs, err
}

// TranscriptByActivityForUpdate returns the meeting's transcript (without
// segments), locking its row until the transaction ends; crm.ErrNotFound
// when the meeting has none.
func (s *Store) TranscriptByActivityForUpdate(ctx context.Context, orgID, activityID string) (crm.Transcript, error) {
	rows, err := s.db.Query(ctx, `SELECT `+transcriptColumns+` FROM transcripts t
		WHERE t.org_id = $1 AND t.activity_id = $2 FOR UPDATE`, orgID, activityID)
	if err != nil {
		return crm.Transcript{}, interpretError("get transcript by activity", err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanTranscript(orgID, false))
	return t, interpretError("get transcript by activity", err)
}

// TranscriptHold holds a queued or processing transcript for consent with
// the reason, or changes the reason of one already held. Moving it into
// held bumps its revision, so a worker already processing it discards its
// result (ErrStaleRevision) and its task, delivered again, claims nothing.
// A transcript in any other state is left alone and returned as it is.
func (s *Store) TranscriptHold(ctx context.Context, orgID, id, reason string) (crm.Transcript, error) {
	_, err := s.db.Exec(ctx, `
		UPDATE transcripts SET held_reason = $3, updated_at = now(),
			revision = CASE WHEN status = 'held' THEN revision ELSE revision + 1 END, status = 'held'
		WHERE org_id = $1 AND id = $2 AND status IN ('queued', 'processing', 'held')`, orgID, id, reason)
	if err != nil {
		return crm.Transcript{}, interpretError("hold transcript", err)
	}
	return s.TranscriptGet(ctx, orgID, id, false)
}

// TranscriptUnhold queues a held transcript again because its consents now
// allow it (no admin decision is recorded). One not held is left alone.
func (s *Store) TranscriptUnhold(ctx context.Context, orgID, id string) (crm.Transcript, error) {
	_, err := s.db.Exec(ctx, `
		UPDATE transcripts SET status = 'queued', held_reason = NULL, attempts = 0, error = NULL, updated_at = now()
		WHERE org_id = $1 AND id = $2 AND status = 'held'`, orgID, id)
	if err != nil {
		return crm.Transcript{}, interpretError("release transcript", err)
	}
	return s.TranscriptGet(ctx, orgID, id, false)
}

// notHeld is the 409 of a decision on a transcript that is not held.
func notHeld(t crm.Transcript) error {
	return &crm.ConflictError{Field: "status",
		Detail: fmt.Sprintf("this transcript is not held for consent (its status is %s); only a held transcript can be released or discarded", t.Status)}
}

// TranscriptRelease records an admin's decision to process a held
// transcript anyway: it is queued (the caller enqueues it after commit),
// with the decision, by (the API key's or the user's ID) and when kept.
// A transcript that is not held is a *crm.ConflictError (409).
func (s *Store) TranscriptRelease(ctx context.Context, orgID, id, by string) (crm.Transcript, error) {
	var t crm.Transcript
	err := s.WithTx(ctx, func(tx *Store) error {
		var err error
		if t, err = tx.transcriptLockHeld(ctx, orgID, id); err != nil {
			return err
		}
		if _, err := tx.db.Exec(ctx, `
			UPDATE transcripts SET status = 'queued', held_reason = NULL, attempts = 0, error = NULL,
				consent_decision = 'released', consent_decided_by = $3, consent_decided_at = $4, updated_at = now()
			WHERE org_id = $1 AND id = $2`, orgID, id, by, tx.clock()); err != nil {
			return interpretError("release transcript", err)
		}
		t, err = tx.TranscriptGet(ctx, orgID, id, false)
		return err
	})
	return t, err
}

// DiscardedError is the error a discarded transcript carries.
const DiscardedError = "the recording was discarded by an admin for lack of recording consent"

// TranscriptDiscard records an admin's decision to discard a held
// transcript: as a retention purge does, its raw content, segments and
// transcript chunks are deleted (purged_at set, the content hash cleared so
// the same recording posted again is stored anew and held again if its
// consents still say so), and with them any notes, action items, follow-up
// draft and notes chunks an earlier revision left, with their pending
// meeting.processed deliveries. The meeting activity stays. The transcript
// is failed with DiscardedError and the decision recorded. A transcript
// that is not held is a *crm.ConflictError (409).
func (s *Store) TranscriptDiscard(ctx context.Context, orgID, id, by string) (crm.Transcript, error) {
	const op = "discard transcript"
	var t crm.Transcript
	err := s.WithTx(ctx, func(tx *Store) error {
		var err error
		if t, err = tx.transcriptLockHeld(ctx, orgID, id); err != nil {
			return err
		}
		now := tx.clock()
		b := &pgx.Batch{}
		b.Queue(`UPDATE transcripts SET content = '', segments = '[]', content_hash = '\x'::bytea, purged_at = $3,
				status = 'failed', error = $4, held_reason = NULL, revision = revision + 1,
				consent_decision = 'discarded', consent_decided_by = $5, consent_decided_at = $3, updated_at = now()
			WHERE org_id = $1 AND id = $2`, orgID, id, now, DiscardedError, by)
		b.Queue(`DELETE FROM meeting_notes WHERE org_id = $1 AND activity_id = $2`, orgID, t.ActivityID)
		b.Queue(`DELETE FROM action_items WHERE org_id = $1 AND activity_id = $2`, orgID, t.ActivityID)
		b.Queue(`DELETE FROM follow_ups WHERE org_id = $1 AND activity_id = $2`, orgID, t.ActivityID)
		b.Queue(`DELETE FROM webhook_deliveries WHERE org_id = $1 AND event = $3 AND status = 'pending'
			AND payload->'data'->>'activity_id' = $2`, orgID, t.ActivityID, EventMeetingProcessed)
		b.Queue(`DELETE FROM chunks WHERE org_id = $1 AND activity_id = $2 AND kind = ANY($3)`, orgID, t.ActivityID,
			[]string{string(crm.ChunkTranscript), string(crm.ChunkNotes)})
		if err := tx.db.SendBatch(ctx, b).Close(); err != nil {
			return interpretError(op, err)
		}
		t, err = tx.TranscriptGet(ctx, orgID, id, false)
		return err
	})
	return t, err
}

// transcriptLockHeld locks the transcript and checks that it is held.
func (s *Store) transcriptLockHeld(ctx context.Context, orgID, id string) (crm.Transcript, error) {
	rows, err := s.db.Query(ctx, `SELECT `+transcriptColumns+` FROM transcripts t WHERE t.org_id = $1 AND t.id = $2 FOR UPDATE`, orgID, id)
	if err != nil {
		return crm.Transcript{}, interpretError("get transcript", err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanTranscript(orgID, false))
	if err != nil {
		return t, interpretError("get transcript", err)
	}
	if t.Status != crm.TranscriptHeld {
		return t, notHeld(t)
	}
	return t, nil
}

// HeldTranscript is one transcript of the admin's list of those held for
// consent: the meeting it records, its account and why it is held.
type HeldTranscript struct {
	ID           string    `json:"id"`
	ActivityID   string    `json:"activity_id"`
	Title        string    `json:"title"`
	AccountID    string    `json:"account_id"`
	AccountName  string    `json:"account_name"`
	HeldReason   string    `json:"held_reason"`
	StartedAt    time.Time `json:"started_at"`
	ReceivedAt   time.Time `json:"received_at"`
	Participants int       `json:"participants"`
}

// TranscriptsHeld lists the org's transcripts held for consent, newest
// received first (ties by id), keyset-paginated (limit as clampLimit, the
// cursor of the previous page's NextCursor).
func (s *Store) TranscriptsHeld(ctx context.Context, orgID string, limit int, cursor string) (crm.Page[HeldTranscript], error) {
	const op = "list held transcripts"
	limit = clampLimit(limit)
	a := args{orgID}
	where := ""
	if cursor != "" {
		at, id, err := decodeTimeIDCursor(cursor)
		if err != nil {
			return crm.Page[HeldTranscript]{}, err
		}
		where = ` AND (t.received_at, t.id) < (` + a.add(at) + `, ` + a.add(id) + `::uuid)`
	}
	rows, err := s.db.Query(ctx, `
		SELECT t.id, t.activity_id, COALESCE(NULLIF(t.title, ''), act.subject, ''), t.account_id, acc.name,
			COALESCE(t.held_reason, ''), t.started_at, t.received_at, jsonb_array_length(act.participants)
		FROM transcripts t
		JOIN activities act ON act.org_id = t.org_id AND act.id = t.activity_id
		JOIN accounts acc ON acc.org_id = t.org_id AND acc.id = t.account_id
		WHERE t.org_id = $1 AND t.status = 'held'`+where+`
		ORDER BY t.received_at DESC, t.id DESC LIMIT `+a.add(limit+1), a...)
	if err != nil {
		return crm.Page[HeldTranscript]{}, interpretError(op, err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (HeldTranscript, error) {
		var h HeldTranscript
		err := r.Scan(&h.ID, &h.ActivityID, &h.Title, &h.AccountID, &h.AccountName, &h.HeldReason, &h.StartedAt,
			&h.ReceivedAt, &h.Participants)
		h.StartedAt, h.ReceivedAt = h.StartedAt.UTC(), h.ReceivedAt.UTC()
		return h, err
	})
	if err != nil {
		return crm.Page[HeldTranscript]{}, interpretError(op, err)
	}
	page := crm.Page[HeldTranscript]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		last := page.Items[limit-1]
		page.NextCursor = encodeTimeIDCursor(last.ReceivedAt, last.ID)
	}
	if page.Items == nil {
		page.Items = []HeldTranscript{}
	}
	return page, nil
}
