package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// The ingest secret authorises POST /v1/hooks/transcripts for one org: the
// sender signs each body with it (crm.Sign), and the hook checks the
// signature (crm.VerifySignature) instead of a bearer key. It lives in
// settings.ingest_secret, in clear because an HMAC needs the key itself,
// and is never part of crm.Settings, so GET /v1/settings never shows it.

// IngestSecretRotate generates a new ingest secret for the org (32 random
// bytes, base64url), stores it in place of any previous one (which stops
// working at once) and returns it: the only time it is shown.
func (s *Store) IngestSecretRotate(ctx context.Context, orgID string) (string, error) {
	secret, err := newSecret()
	if err != nil {
		return "", err
	}
	// Every org has a settings row (OrgCreate); the insert only covers one
	// that somehow lacks it, with the default settings.
	_, err = s.db.Exec(ctx, `INSERT INTO settings (org_id, ingest_secret) VALUES ($1, $2)
		ON CONFLICT (org_id) DO UPDATE SET ingest_secret = EXCLUDED.ingest_secret`,
		orgID, secret)
	if err != nil {
		return "", interpretError("rotate ingest secret", err)
	}
	return secret, nil
}

// IngestSecretDelete removes the org's ingest secret, which disables the
// signed transcript hook until IngestSecretRotate makes a new one. Deleting
// a secret the org does not have is not an error.
func (s *Store) IngestSecretDelete(ctx context.Context, orgID string) error {
	_, err := s.db.Exec(ctx, `UPDATE settings SET ingest_secret = NULL WHERE org_id = $1`, orgID)
	return interpretError("delete ingest secret", err)
}

// IngestSecretGet returns the org's ingest secret, for checking a signed
// hook. An org without one (never set, or deleted) or an org that does not
// exist is crm.ErrNotFound: the caller answers both alike.
func (s *Store) IngestSecretGet(ctx context.Context, orgID string) (string, error) {
	var secret *string
	err := s.db.QueryRow(ctx, `SELECT ingest_secret FROM settings WHERE org_id = $1`, orgID).Scan(&secret)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", interpretError("get ingest secret", err)
	}
	if secret == nil {
		return "", fmt.Errorf("store: get ingest secret: %w", crm.ErrNotFound)
	}
	return *secret, nil
}
