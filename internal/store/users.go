package store

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

const userColumns = `id, email, name, role, created_at, updated_at`

func scanUser(orgID string) pgx.RowToFunc[crm.User] {
	return func(r pgx.CollectableRow) (crm.User, error) {
		u := crm.User{OrgID: orgID}
		var role string
		err := r.Scan(&u.ID, &u.Email, &u.Name, &role, &u.CreatedAt, &u.UpdatedAt)
		u.Role = crm.Role(role)
		u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
		return u, err
	}
}

// userOne runs a statement that returns one user row (a SELECT or an INSERT
// or UPDATE … RETURNING) and translates its errors: no row is
// crm.ErrNotFound, a taken email is crm.ErrConflict.
func (s *Store) userOne(ctx context.Context, op, orgID, sql string, args ...any) (crm.User, error) {
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return crm.User{}, interpretError(op, err)
	}
	u, err := pgx.CollectExactlyOneRow(rows, scanUser(orgID))
	return u, interpretError(op, err)
}

// inSavepoint runs a write in WithTx: a savepoint when the Store already
// runs on a transaction. A statement that breaks a constraint (a taken email,
// a foreign key to another org's row) aborts the transaction it runs in; the
// savepoint confines that to this write, so a caller inside WithTx (or a test
// on testdb.Tx) can go on after a 409 or 422.
func inSavepoint[T any](ctx context.Context, s *Store, fn func(tx *Store) (T, error)) (T, error) {
	var out T
	err := s.WithTx(ctx, func(tx *Store) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, err
}

// UserCreate inserts a user of the org. Role defaults to rep; the email is
// stored lowercased. An email another user of the org already has is
// crm.ErrConflict.
func (s *Store) UserCreate(ctx context.Context, orgID string, in crm.UserInput) (crm.User, error) {
	role := crm.RoleRep
	if v := in.Role.Ptr(); v != nil {
		role = *v
	}
	return inSavepoint(ctx, s, func(tx *Store) (crm.User, error) {
		return tx.userOne(ctx, "create user", orgID,
			`INSERT INTO users (org_id, id, email, name, role) VALUES ($1, $2, $3, $4, $5) RETURNING `+userColumns,
			orgID, NewID(), crm.NormalizeEmail(in.Email.V), in.Name.V, string(role))
	})
}

// UserGet returns one user of the org; a user of another org is
// crm.ErrNotFound.
func (s *Store) UserGet(ctx context.Context, orgID, id string) (crm.User, error) {
	return s.userOne(ctx, "get user", orgID,
		`SELECT `+userColumns+` FROM users WHERE org_id = $1 AND id = $2`, orgID, id)
}

// UserUpdate applies the fields of in that carry a value; absent fields keep
// their value. Every user field is required, so a null is ignored here (the
// API rejects it in UserInput.Validate). An email another user of the org
// already has is crm.ErrConflict.
func (s *Store) UserUpdate(ctx context.Context, orgID, id string, in crm.UserInput) (crm.User, error) {
	email := in.Email.Ptr()
	if email != nil {
		*email = crm.NormalizeEmail(*email)
	}
	return inSavepoint(ctx, s, func(tx *Store) (crm.User, error) {
		return tx.userOne(ctx, "update user", orgID, `
			UPDATE users SET
				email      = CASE WHEN $3 THEN $4 ELSE email END,
				name       = CASE WHEN $5 THEN $6 ELSE name END,
				role       = CASE WHEN $7 THEN $8 ELSE role END,
				updated_at = $9
			WHERE org_id = $1 AND id = $2
			RETURNING `+userColumns,
			orgID, id, email != nil, email, in.Name.Ptr() != nil, in.Name.Ptr(),
			in.Role.Ptr() != nil, string(in.Role.V), s.clock())
	})
}

// UserDelete deletes a user. The accounts, deals and activities the user
// owned stay, with no owner (the foreign keys are ON DELETE SET NULL).
func (s *Store) UserDelete(ctx context.Context, orgID, id string) error {
	return s.execOne(ctx, "delete user", `DELETE FROM users WHERE org_id = $1 AND id = $2`, orgID, id)
}

// UserFilter narrows UserList. Zero values do not filter.
type UserFilter struct {
	// Role keeps users with this role.
	Role crm.Role
	// Limit is the page size: 0 is DefaultLimit, more than MaxLimit is
	// MaxLimit.
	Limit int
	// Cursor is the NextCursor of the previous page; a cursor that does not
	// decode is a validation error on "cursor".
	Cursor string
}

// UserList lists the org's users, newest first.
func (s *Store) UserList(ctx context.Context, orgID string, f UserFilter) (crm.Page[crm.User], error) {
	var a args
	where := []string{"org_id = " + a.add(orgID)}
	if f.Role != "" {
		where = append(where, "role = "+a.add(string(f.Role)))
	}
	if f.Cursor != "" {
		id, err := decodeIDCursor(f.Cursor)
		if err != nil {
			return crm.Page[crm.User]{}, err
		}
		where = append(where, "id < "+a.add(id))
	}
	limit := clampLimit(f.Limit)
	q := `SELECT ` + userColumns + ` FROM users WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY id DESC LIMIT ` + a.add(limit+1)
	rows, err := s.db.Query(ctx, q, a...)
	if err != nil {
		return crm.Page[crm.User]{}, interpretError("list users", err)
	}
	items, err := pgx.CollectRows(rows, scanUser(orgID))
	if err != nil {
		return crm.Page[crm.User]{}, interpretError("list users", err)
	}
	return pageByID(items, limit, func(u crm.User) string { return u.ID }), nil
}
