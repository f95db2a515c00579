package store

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

const accountColumns = `a.id, a.name, a.segment, a.owner_id, a.created_at, a.updated_at,
	COALESCE((SELECT array_agg(d.domain ORDER BY d.domain) FROM account_domains d
	          WHERE d.org_id = a.org_id AND d.account_id = a.id), '{}')`

func scanAccount(orgID string) pgx.RowToFunc[crm.Account] {
	return func(r pgx.CollectableRow) (crm.Account, error) {
		a := crm.Account{OrgID: orgID}
		err := r.Scan(&a.ID, &a.Name, &a.Segment, &a.OwnerID, &a.CreatedAt, &a.UpdatedAt, &a.Domains)
		return a, err
	}
}

// AccountCreate inserts an account and claims its domains. A domain already
// claimed by another account of the org is crm.ErrConflict.
func (s *Store) AccountCreate(ctx context.Context, orgID string, in crm.AccountInput) (crm.Account, error) {
	id := NewID()
	err := s.WithTx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx,
			`INSERT INTO accounts (org_id, id, name, segment, owner_id) VALUES ($1, $2, $3, $4, $5)`,
			orgID, id, in.Name.V, in.Segment.Ptr(), in.OwnerID.Ptr()); err != nil {
			return interpretError("create account", err)
		}
		return tx.accountSetDomains(ctx, orgID, id, in.Domains.V)
	})
	if err != nil {
		return crm.Account{}, err
	}
	return s.AccountGet(ctx, orgID, id)
}

func (s *Store) accountSetDomains(ctx context.Context, orgID, id string, domains []string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM account_domains WHERE org_id = $1 AND account_id = $2`, orgID, id); err != nil {
		return interpretError("set account domains", err)
	}
	if len(domains) == 0 {
		return nil
	}
	_, err := s.db.Exec(ctx,
		`INSERT INTO account_domains (org_id, domain, account_id) SELECT $1, d, $2 FROM unnest($3::text[]) AS d`,
		orgID, id, domains)
	return interpretError("set account domains", err)
}

// AccountGet returns one account of the org.
func (s *Store) AccountGet(ctx context.Context, orgID, id string) (crm.Account, error) {
	rows, err := s.db.Query(ctx, `SELECT `+accountColumns+` FROM accounts a WHERE a.org_id = $1 AND a.id = $2`, orgID, id)
	if err != nil {
		return crm.Account{}, interpretError("get account", err)
	}
	a, err := pgx.CollectExactlyOneRow(rows, scanAccount(orgID))
	return a, interpretError("get account", err)
}

// AccountUpdate applies the set fields of in.
func (s *Store) AccountUpdate(ctx context.Context, orgID, id string, in crm.AccountInput) (crm.Account, error) {
	err := s.WithTx(ctx, func(tx *Store) error {
		if err := tx.execOne(ctx, "update account", `
			UPDATE accounts SET
				name       = CASE WHEN $3 THEN $4 ELSE name END,
				segment    = CASE WHEN $5 THEN $6 ELSE segment END,
				owner_id   = CASE WHEN $7 THEN $8::uuid ELSE owner_id END,
				updated_at = $9
			WHERE org_id = $1 AND id = $2`,
			orgID, id, in.Name.Set, in.Name.V, in.Segment.Set, in.Segment.Ptr(),
			in.OwnerID.Set, in.OwnerID.Ptr(), s.clock()); err != nil {
			return err
		}
		if in.Domains.Set {
			return tx.accountSetDomains(ctx, orgID, id, in.Domains.V)
		}
		return nil
	})
	if err != nil {
		return crm.Account{}, err
	}
	return s.AccountGet(ctx, orgID, id)
}

// AccountDelete deletes an account and everything derived from it, in one
// transaction: its domains, contacts, deals and activities, and with the
// activities their transcripts, meeting notes, action items, follow-up
// drafts and retrieval chunks (the foreign keys cascade, and the chunks'
// statement triggers take them out of the org's BM25 statistics), its
// cached brief, the webhook deliveries whose payload names the account
// or one of its activities (delivered or not: they carry its data), and the
// kept answers of Idempotency-Key requests asked about it or naming it. The
// rows keyed by the account but reached through an activity (chunks,
// action items, transcripts) are also deleted by account_id, so nothing
// that names the account survives even if it pointed at an activity of
// another account.
func (s *Store) AccountDelete(ctx context.Context, orgID, id string) error {
	const op = "delete account"
	return s.WithTx(ctx, func(tx *Store) error {
		if err := tx.db.QueryRow(ctx, `SELECT 1 FROM accounts WHERE org_id = $1 AND id = $2 FOR UPDATE`, orgID, id).Scan(new(int)); err != nil {
			return interpretError(op, err)
		}
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM webhook_deliveries d WHERE d.org_id = $1 AND (d.payload->'data'->>'account_id' = $2::uuid::text
			OR d.payload->'data'->>'activity_id' IN (SELECT a.id::text FROM activities a WHERE a.org_id = $1 AND a.account_id = $2::uuid))`,
			orgID, id)
		// Kept answers of Idempotency-Key requests: those asked about the
		// account (its path) or naming it (an org-wide answer cites the
		// account; a created contact, deal or activity names it).
		b.Queue(`DELETE FROM idempotency_keys k WHERE k.org_id = $1 AND (k.path LIKE '/v1/accounts/' || $2::uuid::text || '%'
			OR position(convert_to($2::uuid::text, 'UTF8') IN coalesce(k.body, ''::bytea)) > 0)`, orgID, id)
		b.Queue(`DELETE FROM chunks WHERE org_id = $1 AND account_id = $2`, orgID, id)
		b.Queue(`DELETE FROM action_items WHERE org_id = $1 AND account_id = $2`, orgID, id)
		b.Queue(`DELETE FROM transcripts WHERE org_id = $1 AND account_id = $2`, orgID, id)
		b.Queue(`DELETE FROM account_briefs WHERE org_id = $1 AND account_id = $2`, orgID, id)
		b.Queue(`DELETE FROM accounts WHERE org_id = $1 AND id = $2`, orgID, id)
		return interpretError(op, tx.db.SendBatch(ctx, b).Close())
	})
}

// AccountFilter narrows AccountList.
type AccountFilter struct {
	// Q matches a substring of the name or of any domain, case-insensitively.
	Q       string
	OwnerID string
	Segment string
	Limit   int
	Cursor  string
}

// AccountList lists the org's accounts, newest first.
func (s *Store) AccountList(ctx context.Context, orgID string, f AccountFilter) (crm.Page[crm.Account], error) {
	var a args
	where := []string{"a.org_id = " + a.add(orgID)}
	if f.Q != "" {
		pat := "%" + likeEscape(strings.ToLower(f.Q)) + "%"
		ph := a.add(pat)
		where = append(where, "(lower(a.name) LIKE "+ph+" OR EXISTS (SELECT 1 FROM account_domains d WHERE d.org_id = a.org_id AND d.account_id = a.id AND d.domain LIKE "+ph+"))")
	}
	if f.OwnerID != "" {
		where = append(where, "a.owner_id = "+a.add(f.OwnerID))
	}
	if f.Segment != "" {
		where = append(where, "a.segment = "+a.add(f.Segment))
	}
	if f.Cursor != "" {
		id, err := decodeIDCursor(f.Cursor)
		if err != nil {
			return crm.Page[crm.Account]{}, err
		}
		where = append(where, "a.id < "+a.add(id))
	}
	limit := clampLimit(f.Limit)
	q := `SELECT ` + accountColumns + ` FROM accounts a WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY a.id DESC LIMIT ` + a.add(limit+1)
	rows, err := s.db.Query(ctx, q, a...)
	if err != nil {
		return crm.Page[crm.Account]{}, interpretError("list accounts", err)
	}
	items, err := pgx.CollectRows(rows, scanAccount(orgID))
	if err != nil {
		return crm.Page[crm.Account]{}, interpretError("list accounts", err)
	}
	return pageByID(items, limit, func(x crm.Account) string { return x.ID }), nil
}

// pageByID trims a limit+1 result to a page and sets the next cursor.
func pageByID[T any](items []T, limit int, id func(T) string) crm.Page[T] {
	p := crm.Page[T]{Items: items}
	if len(items) > limit {
		p.Items = items[:limit]
		p.NextCursor = encodeCursor(id(items[limit-1]))
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
