package store

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// TranscriptIngest is a transcript as posted, already parsed: the meeting it
// belongs to and its segments.
type TranscriptIngest struct {
	// Source names the note-taker (zoom, teams, gong…); ExternalID is its
	// meeting ID. Together they make ingest idempotent.
	Source     string
	ExternalID *string
	Title      string
	StartedAt  time.Time
	Duration   *int
	// Meeting is the meeting activity to upsert (type meeting, its account
	// or participants, deal, owner, source and external_id): package
	// activity writes it, then TranscriptSave the transcript.
	Meeting crm.ActivityInput
	// Format is the posted format (vtt, srt, text, json, segments).
	Format       string
	Content      string
	Segments     []crm.Segment
	Participants []crm.Participant

	// Consents are the participants' recording consents the transcript
	// carried (their participants[].consent), recorded on the meeting
	// with the transcript; Participants carry none.
	Consents []crm.ConsentInput
	// ConferenceURL is the meeting's video link as the note-taker knows
	// it: with it the transcript finds the calendar's meeting
	// (CalendarMatch).
	ConferenceURL string
}

// Ingested is what ingesting a transcript stored (activity.Service.IngestTranscript).
type Ingested struct {
	Transcript crm.Transcript
	Result     IngestResult
	// Deliveries are the activity.created webhook deliveries written with a
	// new meeting activity, to enqueue after commit.
	Deliveries []string
}

// IngestResult says what posting a transcript did.
type IngestResult string

// Ingest results: Queued means new work was stored and must be enqueued;
// Unchanged means the same content was already stored (nothing changed,
// nothing to enqueue).
const (
	IngestQueued    IngestResult = "queued"
	IngestUnchanged IngestResult = "unchanged"
)

// TranscriptSave stores the transcript of the meeting activity act (already
// upserted by the caller, in the same transaction): it inserts the
// transcript with status queued, or, when one exists for the meeting, leaves
// it alone if the content is the same (IngestUnchanged) and otherwise
// replaces the content, bumps the revision and queues it again. The same
// content after a permanent failure is queued again (the re-post is the
// retry). in.Meeting is not read. Run it in a transaction: it locks the
// meeting's transcript row.
func (s *Store) TranscriptSave(ctx context.Context, orgID string, act crm.Activity, in TranscriptIngest) (crm.Transcript, IngestResult, error) {
	const op = "ingest transcript"
	segs, err := json.Marshal(in.Segments)
	if err != nil {
		return crm.Transcript{}, "", fmt.Errorf("store: %s: %w", op, err)
	}
	parts, err := json.Marshal(orEmpty(in.Participants))
	if err != nil {
		return crm.Transcript{}, "", fmt.Errorf("store: %s: %w", op, err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00", in.Format, in.Title, in.StartedAt.UTC().Format(time.RFC3339Nano))
	h.Write(segs)
	h.Write(parts) // participants decide owners and follow-up recipients
	hash := h.Sum(nil)

	var res IngestResult
	var prevHash []byte
	var id, prevAccount, prevStatus string
	err = s.db.QueryRow(ctx,
		`SELECT id, content_hash, account_id, status FROM transcripts WHERE org_id = $1 AND activity_id = $2 FOR UPDATE`,
		orgID, act.ID).Scan(&id, &prevHash, &prevAccount, &prevStatus)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		id = NewID()
		_, err = s.db.Exec(ctx, `
			INSERT INTO transcripts (org_id, id, activity_id, account_id, source, external_id, title, format,
				content, content_hash, segments, participants, started_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			orgID, id, act.ID, act.AccountID, in.Source, in.ExternalID, in.Title, in.Format,
			in.Content, hash, segs, parts, in.StartedAt)
		if err != nil {
			return crm.Transcript{}, "", interpretError(op, err)
		}
		res = IngestQueued
	case err != nil:
		return crm.Transcript{}, "", interpretError(op, err)
	case string(prevHash) == string(hash) && prevStatus == string(crm.TranscriptFailed):
		// The same content after a permanent failure (a wrong key since
		// fixed, a model that refused): the re-post is the retry.
		if _, err := s.db.Exec(ctx, `UPDATE transcripts SET account_id = $3, status = 'queued', revision = revision + 1,
			attempts = 0, error = NULL, follow_up_error = NULL, updated_at = now() WHERE org_id = $1 AND id = $2`, orgID, id, act.AccountID); err != nil {
			return crm.Transcript{}, "", interpretError(op, err)
		}
		res = IngestQueued
	case string(prevHash) == string(hash):
		res = IngestUnchanged
	default:
		_, err = s.db.Exec(ctx, `
			UPDATE transcripts SET account_id = $3, title = $4, format = $5, content = $6, content_hash = $7,
				segments = $8, participants = $9, started_at = $10, status = 'queued', revision = revision + 1,
				attempts = 0, error = NULL, follow_up_error = NULL, purged_at = NULL, updated_at = now(),
				held_reason = NULL, consent_decision = NULL, consent_decided_by = NULL, consent_decided_at = NULL
			WHERE org_id = $1 AND id = $2`,
			orgID, id, act.AccountID, in.Title, in.Format, in.Content, hash, segs, parts, in.StartedAt)
		if err != nil {
			return crm.Transcript{}, "", interpretError(op, err)
		}
		res = IngestQueued
	}
	if prevAccount != "" && prevAccount != act.AccountID {
		// The re-post moved the meeting to another account (a corrected
		// account_id): its transcript and action items follow it.
		if err := s.meetingMoved(ctx, orgID, act.ID, act.AccountID); err != nil {
			return crm.Transcript{}, "", err
		}
	}
	t, err := s.TranscriptGet(ctx, orgID, id, false)
	return t, res, err
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

const transcriptColumns = `t.id, t.activity_id, t.account_id, t.status, t.attempts, t.error, t.received_at,
	t.processed_at, t.source, t.external_id, t.title, t.started_at, t.participants, t.revision, t.follow_up_error,
	t.purged_at, t.held_reason, t.consent_decision, t.consent_decided_by, t.consent_decided_at`

func scanTranscript(orgID string, withSegments bool) pgx.RowToFunc[crm.Transcript] {
	return func(r pgx.CollectableRow) (crm.Transcript, error) {
		t := crm.Transcript{OrgID: orgID}
		var decision, decidedBy *string
		var decidedAt *time.Time
		dst := []any{&t.ID, &t.ActivityID, &t.AccountID, &t.Status, &t.Attempts, &t.Error, &t.ReceivedAt,
			&t.ProcessedAt, &t.Source, &t.ExternalID, &t.Title, &t.StartedAt, &t.Participants, &t.Revision, &t.FollowUpError,
			&t.PurgedAt, &t.HeldReason, &decision, &decidedBy, &decidedAt}
		if withSegments {
			dst = append(dst, &t.Segments)
		}
		if err := r.Scan(dst...); err != nil {
			return t, err
		}
		t.ReceivedAt, t.StartedAt = t.ReceivedAt.UTC(), t.StartedAt.UTC()
		if t.ProcessedAt != nil {
			p := t.ProcessedAt.UTC()
			t.ProcessedAt = &p
		}
		if t.PurgedAt != nil {
			p := t.PurgedAt.UTC()
			t.PurgedAt = &p
		}
		if decision != nil && decidedBy != nil && decidedAt != nil {
			t.ConsentDecision = &crm.ConsentDecision{Decision: crm.ConsentDecisionKind(*decision), By: *decidedBy, At: decidedAt.UTC()}
		}
		return t, nil
	}
}

// TranscriptGet returns one transcript; withSegments adds the parsed segments.
func (s *Store) TranscriptGet(ctx context.Context, orgID, id string, withSegments bool) (crm.Transcript, error) {
	cols := transcriptColumns
	if withSegments {
		cols += ", t.segments"
	}
	rows, err := s.db.Query(ctx, `SELECT `+cols+` FROM transcripts t WHERE t.org_id = $1 AND t.id = $2`, orgID, id)
	if err != nil {
		return crm.Transcript{}, interpretError("get transcript", err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanTranscript(orgID, withSegments))
	return t, interpretError("get transcript", err)
}

// TranscriptClaim marks a transcript processing, counts the attempt and
// returns it with its segments. Only a queued transcript (or one processing,
// whose attempt is retried) is claimed: one done, failed (a purged or
// discarded one among them) or held for consent is returned with claimed
// false, since a task delivered for it (a duplicate, or one queued before
// the hold) has nothing to do.
func (s *Store) TranscriptClaim(ctx context.Context, orgID, id string) (t crm.Transcript, claimed bool, err error) {
	rows, err := s.db.Query(ctx, `
		UPDATE transcripts t SET status = 'processing', attempts = attempts + 1, updated_at = now()
		WHERE t.org_id = $1 AND t.id = $2 AND t.status IN ('queued', 'processing')
		RETURNING `+transcriptColumns+`, t.segments`, orgID, id)
	if err != nil {
		return t, false, interpretError("claim transcript", err)
	}
	t, err = pgx.CollectExactlyOneRow(rows, scanTranscript(orgID, true))
	if errors.Is(err, pgx.ErrNoRows) {
		t, err = s.TranscriptGet(ctx, orgID, id, false)
		return t, false, err
	}
	return t, err == nil, interpretError("claim transcript", err)
}

// ErrStaleRevision means the transcript got new content while a worker was
// processing the old one; the worker's result is discarded and the task runs
// again on the new content.
var ErrStaleRevision = errors.New("store: transcript changed while it was processed")

// TranscriptFail records a failed attempt. permanent marks the transcript
// failed (nothing will retry it); otherwise it stays processing with the
// error visible until the retry. A stale revision records nothing.
func (s *Store) TranscriptFail(ctx context.Context, orgID, id string, revision int, msg string, permanent bool) error {
	status := "processing"
	if permanent {
		status = "failed"
	}
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	_, err := s.db.Exec(ctx, `
		UPDATE transcripts SET status = $4, error = $5, updated_at = now()
		WHERE org_id = $1 AND id = $2 AND revision = $3 AND status <> 'done'`,
		orgID, id, revision, status, msg)
	return interpretError("fail transcript", err)
}

// TranscriptRef names a transcript across orgs, for the reconciler.
type TranscriptRef struct {
	OrgID, ID string
}

// TranscriptsUnfinished lists transcripts still queued or processing that
// have not changed for olderThan: the reconciler enqueues them again (a task
// already in Redis makes that a no-op). A transcript held for consent is not
// one of them: it waits for its consents or an admin. This is a maintenance
// scan across orgs, on a partial index that holds only unfinished rows.
func (s *Store) TranscriptsUnfinished(ctx context.Context, olderThan time.Duration, limit int) ([]TranscriptRef, error) {
	rows, err := s.db.Query(ctx, `
		SELECT org_id, id FROM transcripts
		WHERE status IN ('queued', 'processing') AND updated_at < now() - $1::interval
		ORDER BY updated_at LIMIT $2`, olderThan, limit)
	if err != nil {
		return nil, interpretError("list unfinished transcripts", err)
	}
	refs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (TranscriptRef, error) {
		var t TranscriptRef
		return t, r.Scan(&t.OrgID, &t.ID)
	})
	return refs, interpretError("list unfinished transcripts", err)
}

// meetingMoved moves a meeting's transcript and action items to the
// meeting's new account: both are listed and resolved by account.
func (s *Store) meetingMoved(ctx context.Context, orgID, activityID, accountID string) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE transcripts SET account_id = $3 WHERE org_id = $1 AND activity_id = $2`, orgID, activityID, accountID)
	b.Queue(`UPDATE action_items SET account_id = $3, updated_at = now() WHERE org_id = $1 AND activity_id = $2`,
		orgID, activityID, accountID)
	return interpretError("move meeting notes", s.db.SendBatch(ctx, b).Close())
}
