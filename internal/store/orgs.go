package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// KeyPrefix starts every API key, so a leaked key is easy to spot in logs
// and by secret scanners.
const KeyPrefix = "lbk_"

// OrgCreate creates an org with default settings.
func (s *Store) OrgCreate(ctx context.Context, name string) (crm.Org, error) {
	org := crm.Org{ID: NewID(), Name: name}
	err := s.WithTx(ctx, func(tx *Store) error {
		if err := tx.db.QueryRow(ctx,
			`INSERT INTO orgs (id, name) VALUES ($1, $2) RETURNING created_at`,
			org.ID, name).Scan(&org.CreatedAt); err != nil {
			return interpretError("create org", err)
		}
		d := crm.DefaultSettings()
		_, err := tx.db.Exec(ctx,
			`INSERT INTO settings (org_id, require_disposition, stalled_after_days) VALUES ($1, $2, $3)`,
			org.ID, d.RequireDisposition, d.StalledAfterDays)
		if err != nil {
			return interpretError("create settings", err)
		}
		return tx.dispositionsInsertDefaults(ctx, org.ID, s.clock())
	})
	return org, err
}

// OrgGet returns one org.
func (s *Store) OrgGet(ctx context.Context, orgID string) (crm.Org, error) {
	var o crm.Org
	err := s.db.QueryRow(ctx, `SELECT id, name, created_at FROM orgs WHERE id = $1`, orgID).
		Scan(&o.ID, &o.Name, &o.CreatedAt)
	return o, interpretError("get org", err)
}

// hashKey is the stored form of a key: SHA-256. Keys are 256-bit random
// secrets, so a fast hash is enough (no password stretching needed).
func hashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// APIKeyCreate makes a key for the org and returns it with the secret in Key,
// the only time the secret is ever available.
func (s *Store) APIKeyCreate(ctx context.Context, orgID, name string, scopes []crm.Scope) (crm.APIKey, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return crm.APIKey{}, fmt.Errorf("store: create api key: %w", err)
	}
	secret := KeyPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	k := crm.APIKey{ID: NewID(), OrgID: orgID, Name: name, Scopes: scopes, Key: secret}
	err := s.db.QueryRow(ctx,
		`INSERT INTO api_keys (org_id, id, name, key_hash, scopes) VALUES ($1, $2, $3, $4, $5) RETURNING created_at`,
		orgID, k.ID, name, hashKey(secret), scopesText(scopes)).Scan(&k.CreatedAt)
	return k, interpretError("create api key", err)
}

// APIKeyAuthenticate finds the live key with this secret. An unknown or
// revoked key is crm.ErrNotFound. KeyCache puts a cache in front of it.
func (s *Store) APIKeyAuthenticate(ctx context.Context, secret string) (crm.Principal, error) {
	if !strings.HasPrefix(secret, KeyPrefix) {
		return crm.Principal{}, fmt.Errorf("store: authenticate: %w", crm.ErrNotFound)
	}
	var p crm.Principal
	var scopes []string
	err := s.db.QueryRow(ctx,
		`SELECT org_id, id, scopes FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
		hashKey(secret)).Scan(&p.OrgID, &p.KeyID, &scopes)
	if err != nil {
		return crm.Principal{}, interpretError("authenticate", err)
	}
	for _, sc := range scopes {
		p.Scopes = append(p.Scopes, crm.Scope(sc))
	}
	return p, nil
}

// APIKeyRevoke revokes a key at once. Revoking twice is ErrNotFound the
// second time, as the key no longer exists as a live credential.
//
// In the same transaction (one statement, so one transaction on a pool) it
// sends the key's hash, in hex, on APIKeysChannel. PostgreSQL delivers the
// notification when the revocation commits, and every other process's
// KeyCache drops the key then; a rolled-back revocation notifies nobody.
// This process's running KeyCaches drop it before APIKeyRevoke returns.
func (s *Store) APIKeyRevoke(ctx context.Context, orgID, id string) error {
	var hash []byte
	err := s.db.QueryRow(ctx, `
		WITH r AS (
			UPDATE api_keys SET revoked_at = now()
			WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL
			RETURNING key_hash
		)
		SELECT r.key_hash FROM r, pg_notify($3, encode(r.key_hash, 'hex'))`,
		orgID, id, APIKeysChannel).Scan(&hash)
	if err != nil {
		return interpretError("revoke api key", err)
	}
	s.caches.forget(hash)
	return nil
}

// APIKeyList lists the org's live keys, newest first (without secrets).
func (s *Store) APIKeyList(ctx context.Context, orgID string) ([]crm.APIKey, error) {
	rows, err := s.db.Query(ctx,
		`SELECT id, name, scopes, created_at FROM api_keys WHERE org_id = $1 AND revoked_at IS NULL ORDER BY id DESC`, orgID)
	if err != nil {
		return nil, interpretError("list api keys", err)
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (crm.APIKey, error) {
		var k crm.APIKey
		var scopes []string
		err := r.Scan(&k.ID, &k.Name, &scopes, &k.CreatedAt)
		for _, sc := range scopes {
			k.Scopes = append(k.Scopes, crm.Scope(sc))
		}
		k.OrgID = orgID
		return k, err
	})
	return keys, interpretError("list api keys", err)
}

func scopesText(scopes []crm.Scope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = string(s)
	}
	return out
}

// SettingsGet returns the org's settings.
func (s *Store) SettingsGet(ctx context.Context, orgID string) (crm.Settings, error) {
	var st crm.Settings
	err := s.db.QueryRow(ctx,
		`SELECT `+dispositionCodesSQL("s")+`, s.require_disposition, s.stalled_after_days, s.transcript_retention_days,
			s.keep_notes_after_purge, s.own_domains, s.require_consent, s.twilio_auth_token IS NOT NULL, s.aircall_token IS NOT NULL,
			s.updated_at FROM settings s WHERE s.org_id = $1`,
		orgID).Scan(&st.DispositionCodes, &st.RequireDisposition, &st.StalledAfterDays, &st.TranscriptRetentionDays,
		&st.KeepNotesAfterPurge, &st.OwnDomains, &st.RequireConsent, &st.TwilioAuthTokenSet, &st.AircallTokenSet, &st.UpdatedAt)
	st.Dispositions = activeCodes(st.DispositionCodes)
	return st, interpretError("get settings", err)
}

// SettingsUpdate applies the set fields of in and returns the result, in
// one transaction. Dispositions or DispositionCodes replace the org's active
// codes (dispositionsReplace: a code left out is retired).
func (s *Store) SettingsUpdate(ctx context.Context, orgID string, in crm.SettingsInput) (crm.Settings, error) {
	var st crm.Settings
	err := s.WithTx(ctx, func(tx *Store) error {
		now := s.clock()
		list := in.DispositionCodes.V
		if in.Dispositions.Set {
			list = make([]crm.DispositionCodeInput, len(in.Dispositions.V))
			for i, c := range in.Dispositions.V {
				list[i] = crm.DispositionCodeInput{Code: c}
			}
		}
		if in.Dispositions.Set || in.DispositionCodes.Set {
			if err := tx.dispositionsReplace(ctx, orgID, list, now); err != nil {
				return err
			}
		}
		tag, err := tx.db.Exec(ctx, `
			UPDATE settings SET
				require_disposition = CASE WHEN $2 THEN $3 ELSE require_disposition END,
				stalled_after_days  = CASE WHEN $4 THEN $5 ELSE stalled_after_days END,
				updated_at          = $6,
				transcript_retention_days = CASE WHEN $7 THEN $8::integer ELSE transcript_retention_days END,
				keep_notes_after_purge    = CASE WHEN $9 THEN $10 ELSE keep_notes_after_purge END,
				own_domains               = coalesce($11, own_domains),
				require_consent           = CASE WHEN $12 THEN $13 ELSE require_consent END
			WHERE org_id = $1`,
			orgID, in.RequireDisposition.Set, in.RequireDisposition.V,
			in.StalledAfterDays.Set, in.StalledAfterDays.V, now,
			in.TranscriptRetentionDays.Set, optPtr(in.TranscriptRetentionDays), in.KeepNotesAfterPurge.Set, in.KeepNotesAfterPurge.V,
			optPtr(in.OwnDomains), in.RequireConsent.Set, in.RequireConsent.V)
		if err != nil {
			return interpretError("update settings", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("store: update settings: %w", crm.ErrNotFound)
		}
		st, err = tx.SettingsGet(ctx, orgID)
		return err
	})
	return st, err
}

// optPtr is o's value, or nil when o is unset or null.
func optPtr[T any](o crm.Opt[T]) *T {
	if !o.Set || o.Null {
		return nil
	}
	return &o.V
}
