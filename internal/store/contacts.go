package store

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

const contactColumns = `id, account_id, name, email, phone, title, created_at, updated_at`

func scanContact(orgID string) pgx.RowToFunc[crm.Contact] {
	return func(r pgx.CollectableRow) (crm.Contact, error) {
		c := crm.Contact{OrgID: orgID}
		err := r.Scan(&c.ID, &c.AccountID, &c.Name, &c.Email, &c.Phone, &c.Title, &c.CreatedAt, &c.UpdatedAt)
		c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
		return c, err
	}
}

// contactOne runs a statement that returns one contact row and translates
// its errors: no row is crm.ErrNotFound, a taken email crm.ErrConflict, an
// account_id that is not an account of the org a validation error on
// "account_id".
func (s *Store) contactOne(ctx context.Context, op, orgID, sql string, args ...any) (crm.Contact, error) {
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return crm.Contact{}, interpretError(op, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanContact(orgID))
	return c, interpretError(op, err)
}

// contactEmail lowercases an optional email, so uniqueness and lookups are
// case-insensitive even for a caller that skipped ContactInput.Validate.
func contactEmail(e *string) *string {
	if e == nil {
		return nil
	}
	n := crm.NormalizeEmail(*e)
	return &n
}

// ContactCreate inserts a contact. An account_id that is not an account of
// the org is a validation error on "account_id"; an email another contact of
// the org already has is crm.ErrConflict. Contacts without an email never
// conflict.
func (s *Store) ContactCreate(ctx context.Context, orgID string, in crm.ContactInput) (crm.Contact, error) {
	return inSavepoint(ctx, s, func(tx *Store) (crm.Contact, error) {
		return tx.contactOne(ctx, "create contact", orgID, `
			INSERT INTO contacts (org_id, id, account_id, name, email, phone, title)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			RETURNING `+contactColumns,
			orgID, NewID(), in.AccountID.V, in.Name.V, contactEmail(in.Email.Ptr()), in.Phone.Ptr(), in.Title.Ptr())
	})
}

// ContactGet returns one contact of the org; a contact of another org is
// crm.ErrNotFound.
func (s *Store) ContactGet(ctx context.Context, orgID, id string) (crm.Contact, error) {
	return s.contactOne(ctx, "get contact", orgID,
		`SELECT `+contactColumns+` FROM contacts WHERE org_id = $1 AND id = $2`, orgID, id)
}

// ContactUpdate applies the set fields of in: absent fields keep their
// value, null clears email, phone and title. account_id and name are
// required, so a null there is ignored (ContactInput.Validate rejects it).
// Errors are those of ContactCreate, plus crm.ErrNotFound.
func (s *Store) ContactUpdate(ctx context.Context, orgID, id string, in crm.ContactInput) (crm.Contact, error) {
	return inSavepoint(ctx, s, func(tx *Store) (crm.Contact, error) {
		return tx.contactOne(ctx, "update contact", orgID, `
			UPDATE contacts SET
				account_id = CASE WHEN $3 THEN $4::uuid ELSE account_id END,
				name       = CASE WHEN $5 THEN $6 ELSE name END,
				email      = CASE WHEN $7 THEN $8 ELSE email END,
				phone      = CASE WHEN $9 THEN $10 ELSE phone END,
				title      = CASE WHEN $11 THEN $12 ELSE title END,
				updated_at = $13
			WHERE org_id = $1 AND id = $2
			RETURNING `+contactColumns,
			orgID, id,
			in.AccountID.Ptr() != nil, in.AccountID.Ptr(),
			in.Name.Ptr() != nil, in.Name.Ptr(),
			in.Email.Set, contactEmail(in.Email.Ptr()),
			in.Phone.Set, in.Phone.Ptr(),
			in.Title.Set, in.Title.Ptr(),
			s.clock())
	})
}

// ContactDelete deletes a contact and what is only about them, in one
// transaction. The rule (README, "Deleting data"):
//
//   - an activity whose only linked contact is this one (an email to them, a
//     call or meeting with them alone) is deleted with everything derived
//     from it: transcript, meeting notes, action items, follow-up draft,
//     retrieval chunks (the BM25 statistics follow) and the webhook
//     deliveries that carry it;
//   - an activity shared with other contacts is kept, loses its link to the
//     contact, and the contact's entry (by email) leaves its participants
//     and its transcript's participants; what the others said, and notes
//     that name the contact, stay;
//   - the account's cached brief is dropped (it may quote them) and is
//     rebuilt on the next read.
//
// An unknown contact is crm.ErrNotFound.
func (s *Store) ContactDelete(ctx context.Context, orgID, id string) error {
	const op = "delete contact"
	return s.WithTx(ctx, func(tx *Store) error {
		var accountID string
		var email *string
		err := tx.db.QueryRow(ctx, `SELECT account_id, email FROM contacts WHERE org_id = $1 AND id = $2 FOR UPDATE`, orgID, id).
			Scan(&accountID, &email)
		if err != nil {
			return interpretError(op, err)
		}
		b := &pgx.Batch{}
		// The activities only about them: linked to them and to no one else.
		const only = `SELECT ac.activity_id FROM activity_contacts ac WHERE ac.org_id = $1 AND ac.contact_id = $2
			AND NOT EXISTS (SELECT 1 FROM activity_contacts o WHERE o.org_id = ac.org_id AND o.activity_id = ac.activity_id
				AND o.contact_id <> ac.contact_id)`
		b.Queue(`DELETE FROM webhook_deliveries d WHERE d.org_id = $1
			AND d.payload->'data'->>'activity_id' IN (SELECT activity_id::text FROM (`+only+`) x)`, orgID, id)
		b.Queue(`DELETE FROM idempotency_keys k WHERE k.org_id = $1 AND k.body IS NOT NULL
			AND (position(convert_to($2::uuid::text, 'UTF8') IN k.body) > 0
				OR EXISTS (SELECT 1 FROM (`+only+`) x WHERE position(convert_to(x.activity_id::text, 'UTF8') IN k.body) > 0))`, orgID, id)
		b.Queue(`DELETE FROM activities WHERE org_id = $1 AND id IN (`+only+`)`, orgID, id)
		if email != nil {
			const drop = `(SELECT coalesce(jsonb_agg(p), '[]'::jsonb) FROM jsonb_array_elements(participants) p
				WHERE lower(p->>'email') IS DISTINCT FROM lower($3))`
			const shared = `(SELECT activity_id FROM activity_contacts WHERE org_id = $1 AND contact_id = $2)`
			b.Queue(`UPDATE activities SET participants = `+drop+`, updated_at = now()
				WHERE org_id = $1 AND id IN `+shared+` AND jsonb_typeof(participants) = 'array'`, orgID, id, *email)
			b.Queue(`UPDATE transcripts SET participants = `+drop+`
				WHERE org_id = $1 AND activity_id IN `+shared+` AND jsonb_typeof(participants) = 'array'`, orgID, id, *email)
		}
		b.Queue(`DELETE FROM account_briefs WHERE org_id = $1 AND account_id = $2`, orgID, accountID)
		b.Queue(`DELETE FROM contacts WHERE org_id = $1 AND id = $2`, orgID, id)
		return interpretError(op, tx.db.SendBatch(ctx, b).Close())
	})
}

// ContactFilter narrows ContactList. Zero values do not filter.
type ContactFilter struct {
	// AccountID keeps the contacts of one account.
	AccountID string
	// Email keeps the contact with this address (case-insensitive).
	Email string
	// Limit is the page size: 0 is DefaultLimit, more than MaxLimit is
	// MaxLimit.
	Limit int
	// Cursor is the NextCursor of the previous page; a cursor that does not
	// decode is a validation error on "cursor".
	Cursor string
}

// ContactList lists the org's contacts, newest first.
func (s *Store) ContactList(ctx context.Context, orgID string, f ContactFilter) (crm.Page[crm.Contact], error) {
	var a args
	where := []string{"org_id = " + a.add(orgID)}
	if f.AccountID != "" {
		where = append(where, "account_id = "+a.add(f.AccountID))
	}
	if f.Email != "" {
		where = append(where, "email = "+a.add(crm.NormalizeEmail(f.Email)))
	}
	if f.Cursor != "" {
		id, err := decodeIDCursor(f.Cursor)
		if err != nil {
			return crm.Page[crm.Contact]{}, err
		}
		where = append(where, "id < "+a.add(id))
	}
	limit := clampLimit(f.Limit)
	q := `SELECT ` + contactColumns + ` FROM contacts WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY id DESC LIMIT ` + a.add(limit+1)
	rows, err := s.db.Query(ctx, q, a...)
	if err != nil {
		return crm.Page[crm.Contact]{}, interpretError("list contacts", err)
	}
	items, err := pgx.CollectRows(rows, scanContact(orgID))
	if err != nil {
		return crm.Page[crm.Contact]{}, interpretError("list contacts", err)
	}
	return pageByID(items, limit, func(c crm.Contact) string { return c.ID }), nil
}

// ContactsByEmails returns the org's contacts whose email is one of emails,
// compared case-insensitively, ordered by email. Addresses that match no
// contact are left out, so the result may be shorter than emails; blank
// addresses are ignored. Activity participant resolution uses it.
func (s *Store) ContactsByEmails(ctx context.Context, orgID string, emails []string) ([]crm.Contact, error) {
	norm := make([]string, 0, len(emails))
	seen := make(map[string]bool, len(emails))
	for _, e := range emails {
		n := crm.NormalizeEmail(e)
		if n != "" && !seen[n] {
			seen[n] = true
			norm = append(norm, n)
		}
	}
	if len(norm) == 0 {
		return []crm.Contact{}, nil
	}
	rows, err := s.db.Query(ctx,
		`SELECT `+contactColumns+` FROM contacts WHERE org_id = $1 AND email = ANY($2::text[]) ORDER BY email`,
		orgID, norm)
	if err != nil {
		return nil, interpretError("contacts by emails", err)
	}
	cs, err := pgx.CollectRows(rows, scanContact(orgID))
	if err != nil {
		return nil, interpretError("contacts by emails", err)
	}
	if cs == nil {
		cs = []crm.Contact{}
	}
	return cs, nil
}
