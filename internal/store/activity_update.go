package store

import (
	"context"
	"slices"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// ActivityGet returns one activity of the org.
// A processed meeting carries its notes.
func (s *Store) ActivityGet(ctx context.Context, orgID, id string) (crm.Activity, error) {
	a, err := s.activityGet(ctx, orgID, id, false)
	if err != nil {
		return a, err
	}
	acts := []crm.Activity{a}
	if err := s.NotesAttach(ctx, orgID, acts); err != nil {
		return a, err
	}
	return acts[0], nil
}

// ActivityGetForUpdate returns one activity of the org (without its notes),
// locking its row until the transaction the Store runs on ends: the read of
// a read-modify-write (an update).
func (s *Store) ActivityGetForUpdate(ctx context.Context, orgID, id string) (crm.Activity, error) {
	return s.activityGet(ctx, orgID, id, true)
}

func (s *Store) activityGet(ctx context.Context, orgID, id string, forUpdate bool) (crm.Activity, error) {
	q := `SELECT ` + activityColumns + ` FROM activities a WHERE a.org_id = $1 AND a.id = $2`
	if forUpdate {
		q += ` FOR UPDATE OF a`
	}
	rows, err := s.db.Query(ctx, q, orgID, id)
	if err != nil {
		return crm.Activity{}, interpretError("get activity", err)
	}
	a, err := pgx.CollectExactlyOneRow(rows, scanActivity(orgID))
	return a, interpretError("get activity", err)
}

// ActivityReplace rewrites the stored activity prev with the finished row
// (same ID): its columns, content hash and updated_at (a different next
// step, by text or due date, is open again); its contact links
// when relink is set and they changed; and, when the account changed, the
// meeting's transcript and action items, which follow it. Run it in the
// transaction that read prev with ActivityGetForUpdate.
func (s *Store) ActivityReplace(ctx context.Context, orgID string, row *ActivityRow, prev crm.Activity, relink bool) error {
	const op = "update activity"
	if _, err := s.db.Exec(ctx, `
		UPDATE activities SET type = $3, direction = $4, account_id = $5, deal_id = $6, owner_id = $7,
			occurred_at = $8, duration_seconds = $9, subject = $10, body = $11, disposition = $12,
			next_step_text = $13, next_step_due = $14, participants = $15::jsonb, source = $16,
			next_step_done_at = CASE WHEN next_step_text IS NOT DISTINCT FROM $13::text
				AND next_step_due IS NOT DISTINCT FROM $14::date THEN next_step_done_at END,
			external_id = $17, metadata = $18::jsonb, content_hash = $19, updated_at = $20
		WHERE org_id = $1 AND id = $2`,
		orgID, row.ID, string(row.Type), directionArg(row.Direction), row.AccountID, row.DealID, row.OwnerID,
		row.OccurredAt, row.durationArg(), row.Subject, row.Body, row.Disposition, row.nextStepText(),
		row.nextStepDue(), row.participantsJSON(), string(row.Source), row.ExternalID, string(row.Metadata),
		row.hash, s.clock()); err != nil {
		return interpretError(op, err)
	}
	if relink && !slices.Equal(row.ContactIDs, prev.ContactIDs) {
		acts := make([]string, len(row.ContactIDs))
		for i := range acts {
			acts[i] = row.ID
		}
		if err := s.activityContactsReplace(ctx, orgID, []string{row.ID}, acts, row.ContactIDs); err != nil {
			return interpretError(op, err)
		}
	}
	if row.AccountID != prev.AccountID {
		return s.meetingMoved(ctx, orgID, row.ID, row.AccountID)
	}
	return nil
}

// ActivityDelete deletes an activity and everything derived from it: its
// contact links, transcript, notes, action items, follow-up and chunks (the
// foreign keys cascade), the webhook deliveries and kept Idempotency-Key
// answers that name it, and its account's cached brief.
func (s *Store) ActivityDelete(ctx context.Context, orgID, id string) error {
	const op = "delete activity"
	return s.WithTx(ctx, func(tx *Store) error {
		var accountID *string
		err := tx.db.QueryRow(ctx, `DELETE FROM activities WHERE org_id = $1 AND id = $2 RETURNING account_id`, orgID, id).Scan(&accountID)
		if err != nil {
			return interpretError(op, err)
		}
		b := &pgx.Batch{}
		// What carries its data outside the rows that cascade: its webhook
		// deliveries and the kept answers of Idempotency-Key requests that
		// name it, and its account's cached brief.
		b.Queue(`DELETE FROM webhook_deliveries d WHERE d.org_id = $1 AND d.payload->'data'->>'activity_id' = $2::uuid::text`, orgID, id)
		b.Queue(`DELETE FROM idempotency_keys k WHERE k.org_id = $1 AND position(convert_to($2::uuid::text, 'UTF8') IN k.body) > 0`, orgID, id)
		if accountID != nil {
			b.Queue(`DELETE FROM account_briefs WHERE org_id = $1 AND account_id = $2`, orgID, *accountID)
		}
		return interpretError(op, tx.db.SendBatch(ctx, b).Close())
	})
}
