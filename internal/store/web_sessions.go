package store

import (
	"context"
	"fmt"
	"time"

	"logbook/internal/crm"
)

// Web UI sessions (migration 00020): a signed-in browser's cookie carries a
// random token; only its SHA-256 is stored (hashKey, as for API keys), with
// the session's own CSRF token and its expiry.

// WebSession is a live session and who it signs in.
type WebSession struct {
	ID     string
	OrgID  string
	UserID string
	Name   string
	Email  string
	Role   crm.Role
	// OrgName is the org's name, which the page header shows (one email
	// may be a user of several orgs).
	OrgName string
	// CSRF is the token every form of this session must post back.
	CSRF      string
	ExpiresAt time.Time
}

// SessionCreate starts a session for a user of the org, valid for ttl, and
// returns it with its cookie token: the only time the token is available.
// A user that is not the org's is crm.ErrNotFound.
func (s *Store) SessionCreate(ctx context.Context, orgID, userID string, ttl time.Duration) (WebSession, string, error) {
	const op = "create web session"
	token, err := newSecret()
	if err != nil {
		return WebSession{}, "", fmt.Errorf("store: %s: %w", op, err)
	}
	csrf, err := newSecret()
	if err != nil {
		return WebSession{}, "", fmt.Errorf("store: %s: %w", op, err)
	}
	now := s.clock()
	ws := WebSession{ID: NewID(), OrgID: orgID, UserID: userID, CSRF: csrf, ExpiresAt: now.Add(ttl).UTC()}
	var role string
	err = s.db.QueryRow(ctx, `
		WITH u AS (SELECT u.org_id, u.id, u.name, u.email, u.role, o.name AS org_name
			FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.org_id = $1 AND u.id = $2),
		ins AS (
			INSERT INTO web_sessions (org_id, id, user_id, token_hash, csrf_token, created_at, last_seen_at, expires_at)
			SELECT u.org_id, $3, u.id, $4, $5, $6, $6, $7 FROM u RETURNING 1)
		SELECT u.name, u.email, u.role, u.org_name FROM u, ins`,
		orgID, userID, ws.ID, hashKey(token), csrf, now, ws.ExpiresAt).Scan(&ws.Name, &ws.Email, &role, &ws.OrgName)
	if err != nil {
		return WebSession{}, "", interpretError(op, err)
	}
	ws.Role = crm.Role(role)
	return ws, token, nil
}

// SessionLookup finds the live session of a cookie token with its user as
// they are now (a changed role applies at once). An unknown, expired or
// ended session, or one whose user is gone, is crm.ErrNotFound.
func (s *Store) SessionLookup(ctx context.Context, token string) (WebSession, error) {
	var ws WebSession
	var role string
	err := s.db.QueryRow(ctx, `
		SELECT ws.id, ws.org_id, ws.user_id, u.name, u.email, u.role, ws.csrf_token, ws.expires_at, o.name
		FROM web_sessions ws JOIN users u ON u.org_id = ws.org_id AND u.id = ws.user_id
		JOIN orgs o ON o.id = ws.org_id
		WHERE ws.token_hash = $1 AND ws.expires_at > $2`, hashKey(token), s.clock()).
		Scan(&ws.ID, &ws.OrgID, &ws.UserID, &ws.Name, &ws.Email, &role, &ws.CSRF, &ws.ExpiresAt, &ws.OrgName)
	if err != nil {
		return WebSession{}, interpretError("look up web session", err)
	}
	ws.Role = crm.Role(role)
	ws.ExpiresAt = ws.ExpiresAt.UTC()
	return ws, nil
}

// SessionEnd ends the session of a cookie token (sign out). Ending one that
// is not there is not an error.
func (s *Store) SessionEnd(ctx context.Context, token string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM web_sessions WHERE token_hash = $1`, hashKey(token))
	return interpretError("end web session", err)
}

// SessionEndAll ends every session of a user of the org (sign out
// everywhere; also when a password changes) and says how many there were.
func (s *Store) SessionEndAll(ctx context.Context, orgID, userID string) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM web_sessions WHERE org_id = $1 AND user_id = $2`, orgID, userID)
	if err != nil {
		return 0, interpretError("end web sessions", err)
	}
	return tag.RowsAffected(), nil
}
