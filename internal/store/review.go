package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// NotesConfirm changes a meeting's stored notes with apply (the caller's
// rule: crm.Notes.Confirm) in one transaction: the notes row is locked,
// apply edits the notes as loaded, and the summary, the point lists and the
// action items' confirmations are written back. When apply released items
// (fewer are held than before), a meeting.processed delivery with the
// released items is recorded for every subscribed endpoint; the IDs are
// returned to enqueue after commit. A meeting without notes is
// crm.ErrNotFound; an error from apply is returned as it is and nothing is
// written.
func (s *Store) NotesConfirm(ctx context.Context, orgID, activityID string, apply func(*crm.Notes) error) (crm.Notes, []string, error) {
	const op = "confirm notes"
	var out crm.Notes
	var deliveries []string
	err := s.WithTx(ctx, func(tx *Store) error {
		var transcriptID, accountID string
		err := tx.db.QueryRow(ctx, `SELECT n.transcript_id, t.account_id FROM meeting_notes n
			JOIN transcripts t ON t.org_id = n.org_id AND t.id = n.transcript_id
			WHERE n.org_id = $1 AND n.activity_id = $2 FOR UPDATE OF n`, orgID, activityID).Scan(&transcriptID, &accountID)
		if err != nil {
			return interpretError(op, err)
		}
		notes, err := tx.notesFor(ctx, orgID, []string{activityID})
		if err != nil {
			return err
		}
		n := notes[activityID]
		held := n.Held()
		if err := apply(&n); err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue(`UPDATE meeting_notes SET summary = $3, summary_evidence = $4, summary_sentences = $5,
				key_points = $6, decisions = $7, risks = $8
			WHERE org_id = $1 AND activity_id = $2`, orgID, activityID, n.Summary, orEmpty(n.SummaryEvidence),
			orEmpty(n.SummarySentences), orEmpty(n.KeyPoints), orEmpty(n.Decisions), orEmpty(n.Risks))
		for _, a := range n.ActionItems {
			if a.ConfirmedAt != nil {
				b.Queue(`UPDATE action_items SET confirmed_by = $3, confirmed_at = $4, updated_at = now()
					WHERE org_id = $1 AND id = $2 AND confirmed_at IS NULL`, orgID, a.ID, a.ConfirmedBy, a.ConfirmedAt)
			}
		}
		if err := tx.db.SendBatch(ctx, b).Close(); err != nil {
			return interpretError(op, err)
		}
		notes, err = tx.notesFor(ctx, orgID, []string{activityID})
		if err != nil {
			return err
		}
		out = notes[activityID]
		if out.Held() < held {
			deliveries, err = tx.WebhookEventRecord(ctx, orgID, EventMeetingProcessed,
				MeetingProcessedData(activityID, accountID, transcriptID, out))
		}
		return err
	})
	if err != nil {
		return crm.Notes{}, nil, err
	}
	return out, deliveries, nil
}

// OrgEmailDomains returns the distinct email domains of the org's users,
// lower case: the org's own domains, whose links need no review.
func (s *Store) OrgEmailDomains(ctx context.Context, orgID string) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT lower(split_part(email, '@', 2)) AS d FROM users
		WHERE org_id = $1 AND position('@' IN email) > 0 ORDER BY d`, orgID)
	if err != nil {
		return nil, interpretError("list org email domains", err)
	}
	ds, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return ds, interpretError("list org email domains", err)
}
