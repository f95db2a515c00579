package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// Next steps (GET /v1/next-steps): what reps said they would do next on
// an activity (activities.next_step_text and next_step_due), listed when
// they are due and not yet marked done (next_step_done_at, set by
// NextStepSetDone). A next step without a due date is never due, so it is
// never listed.

// NextStepFilter narrows NextStepList. Zero values take the defaults in
// the field docs.
type NextStepFilter struct {
	// OwnerID keeps the next steps of activities this user owns.
	OwnerID string
	// AccountID keeps the next steps of this account's activities.
	AccountID string
	// DueBefore keeps next steps due before this date (exclusive); the
	// zero value is the day after Today (due today or earlier).
	DueBefore time.Time
	// Today decides what is overdue (due before it); the zero value is the
	// store clock's date in UTC.
	Today time.Time
	// Limit is the page size: 0 is DefaultLimit, more than MaxLimit is
	// MaxLimit.
	Limit int
	// Cursor is the NextCursor of the previous page; a cursor that does not
	// decode is a validation error on "cursor".
	Cursor string
}

// NextStepItem is one due next step with what a reader needs to act on it.
type NextStepItem struct {
	ActivityID  string           `json:"activity_id"`
	AccountID   string           `json:"account_id"`
	AccountName string           `json:"account_name"`
	DealID      *string          `json:"deal_id"`
	OwnerID     *string          `json:"owner_id"`
	OwnerName   *string          `json:"owner_name"`
	Type        crm.ActivityType `json:"type"`
	OccurredAt  time.Time        `json:"occurred_at"`
	Subject     *string          `json:"subject"`
	// Text and DueDate are the next step's.
	Text    string   `json:"text"`
	DueDate crm.Date `json:"due_date"`
	// Overdue is true when the next step was due before today (UTC);
	// DaysOverdue says by how many days (0 when not overdue).
	Overdue     bool `json:"overdue"`
	DaysOverdue int  `json:"days_overdue"`
}

// utcDate is t's date in UTC, at midnight.
func utcDate(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// NextStepList lists the org's open next steps due before f.DueBefore,
// oldest due first, then by the activity's occurred_at and id, one keyset
// page at a time (activities_next_step_due_idx serves it in that order).
// An owner or account that is not the org's lists nothing.
func (s *Store) NextStepList(ctx context.Context, orgID string, f NextStepFilter) (crm.Page[NextStepItem], error) {
	const op = "list next steps"
	today := utcDate(f.Today)
	if f.Today.IsZero() {
		today = utcDate(s.clock())
	}
	dueBefore := utcDate(f.DueBefore)
	if f.DueBefore.IsZero() {
		dueBefore = today.AddDate(0, 0, 1)
	}
	var a args
	where := []string{"a.org_id = " + a.add(orgID), "a.next_step_due IS NOT NULL", "a.next_step_done_at IS NULL",
		"a.next_step_due < " + a.add(dueBefore.Format(time.DateOnly)) + "::date"}
	if f.OwnerID != "" {
		where = append(where, "a.owner_id = "+a.add(strings.ToLower(f.OwnerID))+"::uuid")
	}
	if f.AccountID != "" {
		where = append(where, "a.account_id = "+a.add(strings.ToLower(f.AccountID))+"::uuid")
	}
	if f.Cursor != "" {
		parts, err := decodeCursor(f.Cursor, 3)
		if err != nil {
			return crm.Page[NextStepItem]{}, err
		}
		due, derr := time.Parse(time.DateOnly, parts[0])
		at, terr := time.Parse(time.RFC3339Nano, parts[1])
		if derr != nil || terr != nil || !crm.ValidID(parts[2]) {
			return crm.Page[NextStepItem]{}, crm.Invalid("cursor", "is not a cursor returned by this list")
		}
		where = append(where, "(a.next_step_due, a.occurred_at, a.id) > ("+a.add(due.Format(time.DateOnly))+"::date, "+
			a.add(at)+"::timestamptz, "+a.add(parts[2])+"::uuid)")
	}
	limit := clampLimit(f.Limit)
	q := `SELECT a.id, a.account_id, ac.name, a.deal_id, a.owner_id, u.name, a.type, a.occurred_at, a.subject,
			a.next_step_text, a.next_step_due
		FROM activities a
		JOIN accounts ac ON ac.org_id = a.org_id AND ac.id = a.account_id
		LEFT JOIN users u ON u.org_id = a.org_id AND u.id = a.owner_id
		WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY a.next_step_due, a.occurred_at, a.id
		LIMIT ` + a.add(limit+1)
	rows, err := s.db.Query(ctx, q, a...)
	if err != nil {
		return crm.Page[NextStepItem]{}, interpretError(op, err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NextStepItem, error) {
		var (
			it  NextStepItem
			due time.Time
		)
		err := r.Scan(&it.ActivityID, &it.AccountID, &it.AccountName, &it.DealID, &it.OwnerID, &it.OwnerName,
			&it.Type, &it.OccurredAt, &it.Subject, &it.Text, &due)
		it.OccurredAt = it.OccurredAt.UTC()
		it.DueDate = crm.Date{Time: utcDate(due)}
		if it.DueDate.Before(today) {
			it.Overdue = true
			it.DaysOverdue = int(today.Sub(it.DueDate.Time) / (24 * time.Hour))
		}
		return it, err
	})
	if err != nil {
		return crm.Page[NextStepItem]{}, interpretError(op, err)
	}
	p := crm.Page[NextStepItem]{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		last := p.Items[limit-1]
		p.NextCursor = encodeCursor(last.DueDate.String(), last.OccurredAt.Format(time.RFC3339Nano), last.ActivityID)
	}
	if p.Items == nil {
		p.Items = []NextStepItem{}
	}
	return p, nil
}

// NextStepSetDone marks an activity's next step done at at (done true; a
// next step already marked keeps its first mark) or open again (done
// false), and returns the activity. Only a change moves updated_at, so
// marking twice is a no-op and an incremental sync sees the change once.
// An activity that is not the org's is crm.ErrNotFound; one without a next
// step is a validation error on "next_step".
func (s *Store) NextStepSetDone(ctx context.Context, orgID, id string, done bool, at time.Time) (crm.Activity, error) {
	const op = "set next step done"
	var doneAt *time.Time
	if done {
		t := at.UTC().Truncate(time.Microsecond)
		doneAt = &t
	}
	var found bool
	err := s.db.QueryRow(ctx, `
		WITH u AS (
			UPDATE activities SET
				next_step_done_at = CASE WHEN $3::timestamptz IS NULL THEN NULL
				                         ELSE COALESCE(next_step_done_at, $3::timestamptz) END,
				updated_at = $4
			WHERE org_id = $1 AND id = $2 AND next_step_text IS NOT NULL
			  AND (next_step_done_at IS NULL) <> ($3::timestamptz IS NULL)
			RETURNING id)
		SELECT EXISTS (SELECT 1 FROM u) OR EXISTS (SELECT 1 FROM activities
			WHERE org_id = $1 AND id = $2 AND next_step_text IS NOT NULL)`,
		orgID, id, doneAt, s.clock()).Scan(&found)
	if err != nil {
		return crm.Activity{}, interpretError(op, err)
	}
	if !found {
		var exists bool
		if err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM activities WHERE org_id = $1 AND id = $2)`,
			orgID, id).Scan(&exists); err != nil {
			return crm.Activity{}, interpretError(op, err)
		}
		if !exists {
			return crm.Activity{}, fmt.Errorf("store: %s: %w", op, crm.ErrNotFound)
		}
		return crm.Activity{}, fmt.Errorf("store: %s: %w", op,
			crm.Invalid("next_step", "the activity has no next step; set one with PATCH /v1/activities/{id} first"))
	}
	a, err := s.ActivityGet(ctx, orgID, id)
	if errors.Is(err, crm.ErrNotFound) {
		return a, fmt.Errorf("store: %s: %w", op, crm.ErrNotFound)
	}
	return a, err
}
