package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// NotesSave writes a transcript's processed notes in one transaction,
// replacing whatever an earlier attempt wrote for the meeting (notes, action
// items, follow-up draft), marks the transcript done, and records a
// meeting.processed webhook delivery for every subscribed endpoint (the
// outbox: the event exists exactly when the notes do). It returns the
// delivery IDs to enqueue after commit. When the transcript's revision is no
// longer the one processed, nothing is written and the error is
// ErrStaleRevision. chunks (the transcript's and the notes' retrieval
// chunks) replace the meeting's earlier ones in the same transaction.
func (s *Store) NotesSave(ctx context.Context, orgID, transcriptID string, revision int, n crm.Notes, chunks []crm.Chunk) ([]string, error) {
	const op = "save notes"
	var deliveries []string
	err := s.WithTx(ctx, func(tx *Store) error {
		var activityID, accountID string
		var current int
		err := tx.db.QueryRow(ctx, `SELECT activity_id, account_id, revision FROM transcripts
			WHERE org_id = $1 AND id = $2 FOR UPDATE`, orgID, transcriptID).Scan(&activityID, &accountID, &current)
		if err != nil {
			return interpretError(op, err)
		}
		if current != revision {
			return ErrStaleRevision
		}
		if err := tx.notesReplace(ctx, orgID, activityID, accountID, transcriptID, n); err != nil {
			return err
		}
		if err := tx.chunksReplace(ctx, orgID, activityID, []crm.ChunkKind{crm.ChunkTranscript, crm.ChunkNotes}, chunks); err != nil {
			return err
		}
		if _, err := tx.db.Exec(ctx, `UPDATE transcripts SET status = 'done', error = NULL, follow_up_error = $3,
			processed_at = now(), updated_at = now() WHERE org_id = $1 AND id = $2`, orgID, transcriptID, n.FollowUpError); err != nil {
			return interpretError(op, err)
		}
		stored, err := tx.notesFor(ctx, orgID, []string{activityID})
		if err != nil {
			return err
		}
		deliveries, err = tx.WebhookEventRecord(ctx, orgID, EventMeetingProcessed,
			MeetingProcessedData(activityID, accountID, transcriptID, stored[activityID]))
		return err
	})
	return deliveries, err
}

func (s *Store) notesReplace(ctx context.Context, orgID, activityID, accountID, transcriptID string, n crm.Notes) error {
	const op = "save notes"
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM action_items WHERE org_id = $1 AND activity_id = $2`, orgID, activityID)
	b.Queue(`DELETE FROM follow_ups WHERE org_id = $1 AND activity_id = $2`, orgID, activityID)
	b.Queue(`INSERT INTO meeting_notes (org_id, activity_id, transcript_id, summary, summary_evidence, key_points,
			decisions, risks, coverage, model, prompt_version, input_tokens, output_tokens, cost_usd, generated_at,
			summary_sentences)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		ON CONFLICT (org_id, activity_id) DO UPDATE SET transcript_id = EXCLUDED.transcript_id,
			summary = EXCLUDED.summary, summary_evidence = EXCLUDED.summary_evidence,
			key_points = EXCLUDED.key_points, decisions = EXCLUDED.decisions, risks = EXCLUDED.risks,
			coverage = EXCLUDED.coverage, model = EXCLUDED.model, prompt_version = EXCLUDED.prompt_version,
			input_tokens = EXCLUDED.input_tokens, output_tokens = EXCLUDED.output_tokens,
			cost_usd = EXCLUDED.cost_usd, generated_at = EXCLUDED.generated_at,
			summary_sentences = EXCLUDED.summary_sentences`,
		orgID, activityID, transcriptID, n.Summary, orEmpty(n.SummaryEvidence), orEmpty(n.KeyPoints),
		orEmpty(n.Decisions), orEmpty(n.Risks), n.Coverage, n.Model, n.PromptVersion, n.Tokens.Input,
		n.Tokens.Output, n.CostUSD, s.genTime(n.GeneratedAt), orEmpty(n.SummarySentences))
	for i, ai := range n.ActionItems {
		var due *time.Time
		if ai.DueDate != nil {
			due = &ai.DueDate.Time
		}
		status := ai.Status
		if status == "" {
			status = crm.ActionOpen
		}
		b.Queue(`INSERT INTO action_items (org_id, id, activity_id, account_id, position, text, owner, due_date,
				status, tentative, evidence, needs_review, review_reason, confirmed_by, confirmed_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			orgID, NewID(), activityID, accountID, i, ai.Text, ai.Owner, due, string(status), ai.Tentative,
			orEmpty(ai.Evidence), ai.NeedsReview, ai.ReviewReason, ai.ConfirmedBy, ai.ConfirmedAt)
	}
	if n.FollowUp != nil {
		b.Queue(`INSERT INTO follow_ups (org_id, activity_id, subject, body, recipients, model, prompt_version, generated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, orgID, activityID, n.FollowUp.Subject, n.FollowUp.Body,
			orEmpty(n.FollowUp.To), n.Model, n.PromptVersion, s.genTime(n.FollowUp.GeneratedAt))
	}
	if err := s.db.SendBatch(ctx, b).Close(); err != nil {
		return interpretError(op, err)
	}
	return nil
}

func (s *Store) genTime(t time.Time) time.Time {
	if t.IsZero() {
		return s.clock()
	}
	return t
}

// FollowUpSave replaces a meeting's follow-up draft and clears the
// transcript's follow_up_error: the draft exists now.
func (s *Store) FollowUpSave(ctx context.Context, orgID, activityID string, f crm.FollowUp, model, promptVersion string) error {
	b := &pgx.Batch{}
	b.Queue(`UPDATE transcripts SET follow_up_error = NULL WHERE org_id = $1 AND activity_id = $2 AND follow_up_error IS NOT NULL`,
		orgID, activityID)
	b.Queue(`
		INSERT INTO follow_ups (org_id, activity_id, subject, body, recipients, model, prompt_version, generated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (org_id, activity_id) DO UPDATE SET subject = EXCLUDED.subject, body = EXCLUDED.body,
			recipients = EXCLUDED.recipients, model = EXCLUDED.model, prompt_version = EXCLUDED.prompt_version,
			generated_at = EXCLUDED.generated_at`,
		orgID, activityID, f.Subject, f.Body, orEmpty(f.To), model, promptVersion, s.genTime(f.GeneratedAt))
	return interpretError("save follow-up", s.db.SendBatch(ctx, b).Close())
}

// MeetingNotes returns a processed meeting's transcript (without segments)
// and notes. A meeting without processed notes is crm.ErrNotFound.
func (s *Store) MeetingNotes(ctx context.Context, orgID, activityID string) (crm.Transcript, crm.Notes, error) {
	rows, err := s.db.Query(ctx, `SELECT `+transcriptColumns+` FROM transcripts t WHERE t.org_id = $1 AND t.activity_id = $2`,
		orgID, activityID)
	if err != nil {
		return crm.Transcript{}, crm.Notes{}, interpretError("get meeting notes", err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanTranscript(orgID, false))
	if err != nil {
		return crm.Transcript{}, crm.Notes{}, interpretError("get meeting notes", err)
	}
	notes, err := s.notesFor(ctx, orgID, []string{activityID})
	if err != nil {
		return t, crm.Notes{}, err
	}
	n, ok := notes[activityID]
	if !ok {
		return t, crm.Notes{}, fmt.Errorf("store: get meeting notes: %w", crm.ErrNotFound)
	}
	return t, n, nil
}

// notesFor loads the notes of the given meeting activities (those that have
// any) in three queries.
func (s *Store) notesFor(ctx context.Context, orgID string, activityIDs []string) (map[string]crm.Notes, error) {
	const op = "load notes"
	out := map[string]crm.Notes{}
	if len(activityIDs) == 0 {
		return out, nil
	}
	rows, err := s.db.Query(ctx, `SELECT n.activity_id, n.summary, n.summary_evidence, n.key_points, n.decisions, n.risks,
			n.coverage, n.model, n.prompt_version, n.input_tokens, n.output_tokens, n.cost_usd::float8, n.generated_at,
			t.follow_up_error, n.summary_sentences
		FROM meeting_notes n LEFT JOIN transcripts t ON t.org_id = n.org_id AND t.activity_id = n.activity_id
		WHERE n.org_id = $1 AND n.activity_id = ANY($2)`, orgID, activityIDs)
	if err != nil {
		return nil, interpretError(op, err)
	}
	for rows.Next() {
		var id string
		var n crm.Notes
		if err := rows.Scan(&id, &n.Summary, &n.SummaryEvidence, &n.KeyPoints, &n.Decisions, &n.Risks, &n.Coverage,
			&n.Model, &n.PromptVersion, &n.Tokens.Input, &n.Tokens.Output, &n.CostUSD, &n.GeneratedAt, &n.FollowUpError,
			&n.SummarySentences); err != nil {
			rows.Close()
			return nil, interpretError(op, err)
		}
		n.GeneratedAt = n.GeneratedAt.UTC()
		n.ActionItems = []crm.ActionItem{}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, interpretError(op, err)
	}
	if len(out) == 0 {
		return out, nil
	}
	items, err := s.actionItemsQuery(ctx, orgID, `a.activity_id = ANY($2)`, []any{activityIDs}, `a.activity_id, a.position`)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		n := out[it.ActivityID]
		n.ActionItems = append(n.ActionItems, it)
		out[it.ActivityID] = n
	}
	rows, err = s.db.Query(ctx, `SELECT activity_id, subject, body, recipients, generated_at FROM follow_ups
		WHERE org_id = $1 AND activity_id = ANY($2)`, orgID, activityIDs)
	if err != nil {
		return nil, interpretError(op, err)
	}
	for rows.Next() {
		var id string
		var f crm.FollowUp
		if err := rows.Scan(&id, &f.Subject, &f.Body, &f.To, &f.GeneratedAt); err != nil {
			rows.Close()
			return nil, interpretError(op, err)
		}
		f.GeneratedAt = f.GeneratedAt.UTC()
		if n, ok := out[id]; ok {
			n.FollowUp = &f
			out[id] = n
		}
	}
	return out, interpretError(op, rows.Err())
}

// NotesAttach sets Notes on the meeting activities among acts that have
// processed notes.
func (s *Store) NotesAttach(ctx context.Context, orgID string, acts []crm.Activity) error {
	var ids []string
	for _, a := range acts {
		if a.Type == crm.ActivityMeeting {
			ids = append(ids, a.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	notes, err := s.notesFor(ctx, orgID, ids)
	if err != nil {
		return err
	}
	for i := range acts {
		if n, ok := notes[acts[i].ID]; ok {
			b, err := json.Marshal(n)
			if err != nil {
				return fmt.Errorf("store: attach notes: %w", err)
			}
			acts[i].Notes = b
		}
	}
	return nil
}

const actionItemColumns = `a.id, a.activity_id, a.account_id, a.text, a.owner, a.due_date, a.status, a.tentative,
	a.evidence, a.needs_review, a.review_reason, a.confirmed_by, a.confirmed_at, a.created_at, a.updated_at`

// actionItemsQuery runs SELECT … WHERE org_id = $1 AND <where> ORDER BY
// <tail>; args are $2 onwards.
func (s *Store) actionItemsQuery(ctx context.Context, orgID, where string, args []any, tail string) ([]crm.ActionItem, error) {
	rows, err := s.db.Query(ctx, `SELECT `+actionItemColumns+` FROM action_items a WHERE a.org_id = $1 AND `+where+
		` ORDER BY `+tail, append([]any{orgID}, args...)...)
	if err != nil {
		return nil, interpretError("list action items", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (crm.ActionItem, error) {
		it := crm.ActionItem{OrgID: orgID}
		var due *time.Time
		err := r.Scan(&it.ID, &it.ActivityID, &it.AccountID, &it.Text, &it.Owner, &due, &it.Status, &it.Tentative,
			&it.Evidence, &it.NeedsReview, &it.ReviewReason, &it.ConfirmedBy, &it.ConfirmedAt, &it.CreatedAt, &it.UpdatedAt)
		actionItemTidy(&it, due)
		return it, err
	})
	return items, interpretError("list action items", err)
}

// ActionItemSetStatus marks an action item open or done.
func (s *Store) ActionItemSetStatus(ctx context.Context, orgID, id string, status crm.ActionItemStatus) (crm.ActionItem, error) {
	if err := s.execOne(ctx, "update action item",
		`UPDATE action_items SET status = $3, updated_at = now() WHERE org_id = $1 AND id = $2`,
		orgID, id, string(status)); err != nil {
		return crm.ActionItem{}, err
	}
	items, err := s.actionItemsQuery(ctx, orgID, `a.id = $2`, []any{id}, `a.id`)
	if err != nil {
		return crm.ActionItem{}, err
	}
	if len(items) == 0 {
		return crm.ActionItem{}, fmt.Errorf("store: update action item: %w", crm.ErrNotFound)
	}
	return items[0], nil
}

// ActivityOwnerName returns the name of the user who owns an activity, or ""
// when it has no owner: the rep a meeting's follow-up is written from.
func (s *Store) ActivityOwnerName(ctx context.Context, orgID, activityID string) (string, error) {
	var name *string
	err := s.db.QueryRow(ctx, `SELECT u.name FROM activities a
		LEFT JOIN users u ON u.org_id = a.org_id AND u.id = a.owner_id
		WHERE a.org_id = $1 AND a.id = $2`, orgID, activityID).Scan(&name)
	if err != nil {
		return "", interpretError("get activity owner", err)
	}
	if name == nil {
		return "", nil
	}
	return *name, nil
}
