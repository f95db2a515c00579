package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// Invites and sign-in (migration 00021): an invite is a one-time link that
// lets whoever holds it set a user's password; only the SHA-256 of its
// 256-bit token is stored (hashKey). Sign-in finds a person by email across
// orgs: the one lookup, with the cookie's and the invite's, that cannot lead
// with org_id, since the email is how the request finds its org.

// InviteTTL is how long an invite link stays valid.
const InviteTTL = 7 * 24 * time.Hour

// Invite is a user's invite link (without its token) and whom it is for.
type Invite struct {
	ID        string
	OrgID     string
	OrgName   string
	UserID    string
	Email     string
	Name      string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt is when the link set a password; nil while it is unused.
	UsedAt *time.Time
	// Expired is true when ExpiresAt has passed (by the store's clock).
	Expired bool
}

// Usable reports whether the invite can still set a password.
func (i Invite) Usable() bool { return i.UsedAt == nil && !i.Expired }

// InviteCreate makes a one-time invite link for a user of the org, valid
// for ttl (InviteTTL when zero), and returns it with its token: the only
// time the token is available. The user's older unused invites are deleted,
// so only the newest link works. A user that is not the org's is
// crm.ErrNotFound.
func (s *Store) InviteCreate(ctx context.Context, orgID, userID string, ttl time.Duration) (Invite, string, error) {
	const op = "create invite"
	if ttl <= 0 {
		ttl = InviteTTL
	}
	token, err := newSecret()
	if err != nil {
		return Invite{}, "", fmt.Errorf("store: %s: %w", op, err)
	}
	now := s.clock()
	inv := Invite{ID: NewID(), OrgID: orgID, UserID: userID, CreatedAt: now.UTC(), ExpiresAt: now.Add(ttl).UTC()}
	err = s.WithTx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `DELETE FROM user_invites WHERE org_id = $1 AND user_id = $2 AND used_at IS NULL`,
			orgID, userID); err != nil {
			return interpretError(op, err)
		}
		err := tx.db.QueryRow(ctx, `
			WITH u AS (
				SELECT u.org_id, u.id, u.email, u.name, o.name AS org_name
				FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.org_id = $1 AND u.id = $2),
			ins AS (
				INSERT INTO user_invites (org_id, id, user_id, token_hash, created_at, expires_at)
				SELECT u.org_id, $3, u.id, $4, $5, $6 FROM u RETURNING 1)
			SELECT u.email, u.name, u.org_name FROM u, ins`,
			orgID, userID, inv.ID, hashKey(token), now, inv.ExpiresAt).Scan(&inv.Email, &inv.Name, &inv.OrgName)
		return interpretError(op, err)
	})
	if err != nil {
		return Invite{}, "", err
	}
	return inv, token, nil
}

const inviteSelect = `
	SELECT i.id, i.org_id, o.name, i.user_id, u.email, u.name, i.created_at, i.expires_at, i.used_at,
		i.expires_at <= $1 AS expired
	FROM user_invites i
	JOIN users u ON u.org_id = i.org_id AND u.id = i.user_id
	JOIN orgs o ON o.id = i.org_id`

func scanInvite(row pgx.Row) (Invite, error) {
	var i Invite
	err := row.Scan(&i.ID, &i.OrgID, &i.OrgName, &i.UserID, &i.Email, &i.Name, &i.CreatedAt, &i.ExpiresAt, &i.UsedAt, &i.Expired)
	i.CreatedAt, i.ExpiresAt = i.CreatedAt.UTC(), i.ExpiresAt.UTC()
	if i.UsedAt != nil {
		u := i.UsedAt.UTC()
		i.UsedAt = &u
	}
	return i, err
}

// InviteLookup finds the invite of a link's token, used or expired ones
// included (the caller tells those apart: UsedAt, Expired). An unknown token is
// crm.ErrNotFound.
func (s *Store) InviteLookup(ctx context.Context, token string) (Invite, error) {
	inv, err := scanInvite(s.db.QueryRow(ctx, inviteSelect+` WHERE i.token_hash = $2`, s.clock(), hashKey(token)))
	if err != nil {
		return Invite{}, interpretError("look up invite", err)
	}
	return inv, nil
}

// InviteAccept uses an invite: in one transaction it marks the invite used,
// sets the user's password hash and ends the user's sessions (a new
// password signs every browser out). An unknown, used or expired invite is
// crm.ErrNotFound and changes nothing, so a link works once even when two
// browsers post it at the same moment.
func (s *Store) InviteAccept(ctx context.Context, token, passwordHash string) (Invite, error) {
	const op = "accept invite"
	var inv Invite
	err := s.WithTx(ctx, func(tx *Store) error {
		now := s.clock()
		var orgID, id string
		err := tx.db.QueryRow(ctx, `
			UPDATE user_invites SET used_at = $2
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
			RETURNING org_id, id`, hashKey(token), now).Scan(&orgID, &id)
		if err != nil {
			return interpretError(op, err)
		}
		if inv, err = scanInvite(tx.db.QueryRow(ctx, inviteSelect+` WHERE i.org_id = $2 AND i.id = $3`, now, orgID, id)); err != nil {
			return interpretError(op, err)
		}
		if err := tx.UserPasswordSet(ctx, orgID, inv.UserID, passwordHash); err != nil {
			return err
		}
		_, err = tx.SessionEndAll(ctx, orgID, inv.UserID)
		return err
	})
	if err != nil {
		return Invite{}, err
	}
	return inv, nil
}

// UserPasswordSet stores a user's password hash (a PHC string; the store
// never sees a password). A user that is not the org's is crm.ErrNotFound.
func (s *Store) UserPasswordSet(ctx context.Context, orgID, userID, hash string) error {
	return s.execOne(ctx, "set password",
		`UPDATE users SET password_hash = $3, updated_at = $4 WHERE org_id = $1 AND id = $2`, orgID, userID, hash, s.clock())
}

// UserGetByEmail returns the org's user with this email (compared
// lowercased), or crm.ErrNotFound.
func (s *Store) UserGetByEmail(ctx context.Context, orgID, email string) (crm.User, error) {
	return s.userOne(ctx, "get user by email", orgID,
		`SELECT `+userColumns+` FROM users WHERE org_id = $1 AND email = $2`, orgID, crm.NormalizeEmail(email))
}

// SignInCandidate is a user some org has with the email someone signs in
// with.
type SignInCandidate struct {
	OrgID   string
	OrgName string
	UserID  string
	// PasswordHash is the user's PHC string; "" when no password was set
	// (the user cannot sign in until an invite sets one).
	PasswordHash string
}

// MaxSignInCandidates bounds how many orgs' users one sign-in checks.
const MaxSignInCandidates = 20

// SignInCandidates lists the users with this email (compared lowercased)
// in every org, the oldest org first (sign-in picks the first whose
// password matches), at most MaxSignInCandidates.
func (s *Store) SignInCandidates(ctx context.Context, email string) ([]SignInCandidate, error) {
	rows, err := s.db.Query(ctx, `
		SELECT u.org_id, o.name, u.id, coalesce(u.password_hash, '')
		FROM users u JOIN orgs o ON o.id = u.org_id
		WHERE u.email = $1
		ORDER BY o.created_at, o.id
		LIMIT $2`, crm.NormalizeEmail(email), MaxSignInCandidates)
	if err != nil {
		return nil, interpretError("sign-in candidates", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SignInCandidate, error) {
		var c SignInCandidate
		err := r.Scan(&c.OrgID, &c.OrgName, &c.UserID, &c.PasswordHash)
		return c, err
	})
	return out, interpretError("sign-in candidates", err)
}
