package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// amount is read as text so no precision is lost on the way out of NUMERIC.
const dealColumns = `id, account_id, name, stage, amount::text, currency, close_date, owner_id, status, created_at, updated_at`

func scanDeal(orgID string) pgx.RowToFunc[crm.Deal] {
	return func(r pgx.CollectableRow) (crm.Deal, error) {
		d := crm.Deal{OrgID: orgID}
		var amount *string
		var closeDate *time.Time
		var status string
		err := r.Scan(&d.ID, &d.AccountID, &d.Name, &d.Stage, &amount, &d.Currency, &closeDate,
			&d.OwnerID, &status, &d.CreatedAt, &d.UpdatedAt)
		if amount != nil {
			a := crm.Decimal(dealTrimAmount(*amount))
			d.Amount = &a
		}
		if closeDate != nil {
			d.CloseDate = &crm.Date{Time: *closeDate}
		}
		d.Status = crm.DealStatus(status)
		d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
		return d, err
	}
}

// dealTrimAmount drops the trailing zeros NUMERIC(20,4) pads the fraction
// with, so 1200.5000 reads back as 1200.5 and 1200.0000 as 1200.
func dealTrimAmount(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// dealAmountArg is the text of an amount for a $n::text::numeric
// placeholder, or nil (SQL NULL).
func dealAmountArg(d *crm.Decimal) *string {
	if d == nil {
		return nil
	}
	s := string(*d)
	return &s
}

// dealDateArg is a close date for a $n::date placeholder, or nil (SQL NULL).
func dealDateArg(d *crm.Date) *string {
	if d == nil {
		return nil
	}
	s := d.String()
	return &s
}

// dealOne runs a statement that returns one deal row and translates its
// errors: no row is crm.ErrNotFound; an account_id or owner_id that is not a
// row of the org is a validation error on that field.
func (s *Store) dealOne(ctx context.Context, op, orgID, sql string, args ...any) (crm.Deal, error) {
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return crm.Deal{}, interpretError(op, err)
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDeal(orgID))
	return d, interpretError(op, err)
}

// DealCreate inserts a deal; status defaults to open. Validate in first:
// the amount and close date are taken from in.AmountValue and
// in.CloseDateValue. An account_id or owner_id that is not a row of the org
// is a validation error on that field.
func (s *Store) DealCreate(ctx context.Context, orgID string, in crm.DealInput) (crm.Deal, error) {
	status := crm.DealOpen
	if v := in.Status.Ptr(); v != nil {
		status = *v
	}
	return inSavepoint(ctx, s, func(tx *Store) (crm.Deal, error) {
		return tx.dealOne(ctx, "create deal", orgID, `
			INSERT INTO deals (org_id, id, account_id, name, stage, amount, currency, close_date, owner_id, status)
			VALUES ($1, $2, $3, $4, $5, $6::text::numeric, $7, $8::date, $9, $10)
			RETURNING `+dealColumns,
			orgID, NewID(), in.AccountID.V, in.Name.V, in.Stage.Ptr(), dealAmountArg(in.AmountValue),
			in.Currency.Ptr(), dealDateArg(in.CloseDateValue), in.OwnerID.Ptr(), string(status))
	})
}

// DealGet returns one deal of the org; a deal of another org is
// crm.ErrNotFound.
func (s *Store) DealGet(ctx context.Context, orgID, id string) (crm.Deal, error) {
	return s.dealOne(ctx, "get deal", orgID,
		`SELECT `+dealColumns+` FROM deals WHERE org_id = $1 AND id = $2`, orgID, id)
}

// DealUpdate applies the set fields of in (validated first): absent fields
// keep their value, null clears stage, amount, currency, close_date and
// owner_id. account_id, name and status are required, so a null there is
// ignored (DealInput.Validate rejects it). Errors are those of DealCreate,
// plus crm.ErrNotFound.
func (s *Store) DealUpdate(ctx context.Context, orgID, id string, in crm.DealInput) (crm.Deal, error) {
	return inSavepoint(ctx, s, func(tx *Store) (crm.Deal, error) {
		return tx.dealOne(ctx, "update deal", orgID, `
			UPDATE deals SET
				account_id = CASE WHEN $3 THEN $4::uuid ELSE account_id END,
				name       = CASE WHEN $5 THEN $6 ELSE name END,
				stage      = CASE WHEN $7 THEN $8 ELSE stage END,
				amount     = CASE WHEN $9 THEN $10::text::numeric ELSE amount END,
				currency   = CASE WHEN $11 THEN $12 ELSE currency END,
				close_date = CASE WHEN $13 THEN $14::date ELSE close_date END,
				owner_id   = CASE WHEN $15 THEN $16::uuid ELSE owner_id END,
				status     = CASE WHEN $17 THEN $18 ELSE status END,
				updated_at = $19
			WHERE org_id = $1 AND id = $2
			RETURNING `+dealColumns,
			orgID, id,
			in.AccountID.Ptr() != nil, in.AccountID.Ptr(),
			in.Name.Ptr() != nil, in.Name.Ptr(),
			in.Stage.Set, in.Stage.Ptr(),
			in.Amount.Set, dealAmountArg(in.AmountValue),
			in.Currency.Set, in.Currency.Ptr(),
			in.CloseDate.Set, dealDateArg(in.CloseDateValue),
			in.OwnerID.Set, in.OwnerID.Ptr(),
			in.Status.Ptr() != nil, string(in.Status.V),
			s.clock())
	})
}

// DealDelete deletes a deal. Its activities stay on the account's timeline,
// no longer linked to a deal.
func (s *Store) DealDelete(ctx context.Context, orgID, id string) error {
	return s.execOne(ctx, "delete deal", `DELETE FROM deals WHERE org_id = $1 AND id = $2`, orgID, id)
}

// DealFilter narrows DealList. Zero values do not filter.
type DealFilter struct {
	// AccountID keeps the deals of one account.
	AccountID string
	// OwnerID keeps the deals one user owns.
	OwnerID string
	// Status keeps the deals with this status.
	Status crm.DealStatus
	// Stage keeps the deals at this stage (exact match).
	Stage string
	// Limit is the page size: 0 is DefaultLimit, more than MaxLimit is
	// MaxLimit.
	Limit int
	// Cursor is the NextCursor of the previous page; a cursor that does not
	// decode is a validation error on "cursor".
	Cursor string
}

// DealList lists the org's deals, newest first.
func (s *Store) DealList(ctx context.Context, orgID string, f DealFilter) (crm.Page[crm.Deal], error) {
	var a args
	where := []string{"org_id = " + a.add(orgID)}
	if f.AccountID != "" {
		where = append(where, "account_id = "+a.add(f.AccountID))
	}
	if f.OwnerID != "" {
		where = append(where, "owner_id = "+a.add(f.OwnerID))
	}
	if f.Status != "" {
		where = append(where, "status = "+a.add(string(f.Status)))
	}
	if f.Stage != "" {
		where = append(where, "stage = "+a.add(f.Stage))
	}
	if f.Cursor != "" {
		id, err := decodeIDCursor(f.Cursor)
		if err != nil {
			return crm.Page[crm.Deal]{}, err
		}
		where = append(where, "id < "+a.add(id))
	}
	limit := clampLimit(f.Limit)
	q := `SELECT ` + dealColumns + ` FROM deals WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY id DESC LIMIT ` + a.add(limit+1)
	rows, err := s.db.Query(ctx, q, a...)
	if err != nil {
		return crm.Page[crm.Deal]{}, interpretError("list deals", err)
	}
	items, err := pgx.CollectRows(rows, scanDeal(orgID))
	if err != nil {
		return crm.Page[crm.Deal]{}, interpretError("list deals", err)
	}
	return pageByID(items, limit, func(d crm.Deal) string { return d.ID }), nil
}

// DealReassign moves a deal to a new owner and logs the handoff on the
// deal's account, in one transaction: either both happen or neither does.
//
// The handoff activity is of type handoff, direction internal, source api,
// owned by the new owner and occurring now; its subject names the deal and
// both owners ("unassigned" when the deal had none) and its metadata records
// from_owner_id and to_owner_id.
//
// With a compose (package brief has one), the transaction also reads the
// handoff note's facts (HandoffFacts: after the deal is locked, before it
// changes) and composes the note: the activity's body is in.Note (when not
// blank) then the note's Text, and its metadata gains "handoff", the note's
// Structured. Without one the body is in.Note (NULL when blank).
//
// The handoff is a created activity, so the same transaction writes its
// activity.created webhook deliveries (an outbox); deliveries lists their
// IDs, for the caller to enqueue after commit.
//
// A deal of another org is crm.ErrNotFound. An owner_id that is not a user
// of the org, or that already owns the deal, is a validation error on
// "owner_id".
func (s *Store) DealReassign(ctx context.Context, orgID, dealID string, in crm.ReassignInput, compose HandoffComposer) (deal crm.Deal, act crm.Activity, deliveries []string, err error) {
	const op = "reassign deal"
	to := strings.ToLower(in.OwnerID)
	err = s.WithTx(ctx, func(tx *Store) error {
		// FOR UPDATE: two concurrent reassignments must not both log a
		// handoff from the same previous owner.
		old, err := tx.dealOne(ctx, op, orgID,
			`SELECT `+dealColumns+` FROM deals WHERE org_id = $1 AND id = $2 FOR UPDATE`, orgID, dealID)
		if err != nil {
			return err
		}
		if old.OwnerID != nil && *old.OwnerID == to {
			return fmt.Errorf("store: %s: %w", op, crm.Invalid("owner_id", "already owns this deal; name a different user"))
		}
		toName, err := tx.userName(ctx, orgID, to)
		if err != nil {
			return interpretError(op, err)
		}
		if toName == nil {
			return fmt.Errorf("store: %s: %w", op, crm.Invalid("owner_id", "does not exist"))
		}
		note, fromName, err := tx.handoffCompose(ctx, old, *toName, compose)
		if err != nil {
			return err
		}
		r, ds, err := tx.dealHandOver(ctx, old, to, fromName, *toName, in.Note, note, tx.clock())
		deal, act, deliveries = r.Deal, r.Activity, ds
		return err
	})
	if err != nil {
		return crm.Deal{}, crm.Activity{}, nil, err
	}
	return deal, act, deliveries, nil
}

// dealLogHandoff inserts the handoff activity of a reassignment (hn is its
// composed note, nil without one).
func (s *Store) dealLogHandoff(ctx context.Context, old crm.Deal, to, fromName, toName, note string, hn *HandoffNote, at time.Time) (crm.Activity, error) {
	const op = "log deal handoff"
	meta, err := handoffMetadata(old.OwnerID, to, hn)
	if err != nil {
		return crm.Activity{}, fmt.Errorf("store: %s: %w", op, err)
	}
	dir := crm.DirectionInternal
	subject := fmt.Sprintf("Deal %s reassigned from %s to %s", old.Name, fromName, toName)
	body := handoffBody(note, hn)
	a := crm.Activity{
		ID:           NewID(),
		OrgID:        old.OrgID,
		Type:         crm.ActivityHandoff,
		Direction:    &dir,
		AccountID:    old.AccountID,
		DealID:       &old.ID,
		OwnerID:      &to,
		ContactIDs:   []string{},
		Participants: []crm.Participant{},
		Subject:      &subject,
		Body:         body,
		Source:       crm.SourceAPI,
		Metadata:     json.RawMessage(meta),
	}
	err = s.db.QueryRow(ctx, `
		INSERT INTO activities (org_id, id, type, direction, account_id, deal_id, owner_id,
		                        occurred_at, subject, body, source, metadata)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)
		RETURNING occurred_at, created_at, updated_at`,
		a.OrgID, a.ID, string(a.Type), string(dir), a.AccountID, old.ID, to,
		at, subject, body, string(a.Source), a.Metadata).
		Scan(&a.OccurredAt, &a.CreatedAt, &a.UpdatedAt)
	if err != nil {
		return crm.Activity{}, interpretError(op, err)
	}
	a.OccurredAt, a.CreatedAt, a.UpdatedAt = a.OccurredAt.UTC(), a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, nil
}

// DealHandoffCount is how many handoff activities are logged on a deal of
// the org: how often it changed hands through DealReassign (or was recorded
// changing hands by an import).
func (s *Store) DealHandoffCount(ctx context.Context, orgID, dealID string) (int, error) {
	var n int
	err := s.db.QueryRow(ctx,
		`SELECT count(*) FROM activities WHERE org_id = $1 AND deal_id = $2 AND type = $3`,
		orgID, dealID, string(crm.ActivityHandoff)).Scan(&n)
	return n, interpretError("count deal handoffs", err)
}
