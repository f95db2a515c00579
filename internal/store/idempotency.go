package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// Idempotency keys (table idempotency_keys) remember what a POST carrying
// an Idempotency-Key header answered, for the API to replay. The rules
// (what is kept, for how long, what a mismatch means) are the API's; the
// store keeps rows and compares times by its clock.

// IdempotencyKey names one key: the header's value, scoped to the API key
// that sent it.
type IdempotencyKey struct {
	OrgID, APIKeyID, Key string
	// Path is the path of the request that claims the key. It is not part
	// of the key's identity: it is kept so that deleting an account also
	// forgets the answers given about it (AccountDelete).
	Path string
}

// IdempotencyRecord is what a claimed key holds.
type IdempotencyRecord struct {
	// RequestHash identifies the request that completed the key; nil while
	// it is in progress.
	RequestHash []byte
	// Status is the response's status; 0 while the request is in progress.
	Status int
	// Header holds the response's headers worth replaying.
	Header map[string]string
	// Body is the response's body (for a NoStore response, only what may
	// be kept of it).
	Body []byte
	// NoStore marks a response that carried a secret, which was not kept.
	NoStore bool
	// CreatedAt is when the key was claimed; ExpiresAt when it is forgotten.
	CreatedAt, ExpiresAt time.Time
}

// InProgress reports whether the request that claimed the key has not
// completed it.
func (r IdempotencyRecord) InProgress() bool { return r.Status == 0 }

// IdempotencyClaim claims k for the request lockID (a new UUID), to expire
// ttl from now: it inserts the key as in progress, or takes over a row that
// expired, or one left in progress for longer than stale (its request
// crashed before completing or releasing it). It returns claimed true when
// lockID now holds the key; otherwise the key's current record.
func (s *Store) IdempotencyClaim(ctx context.Context, k IdempotencyKey, lockID string, ttl, stale time.Duration) (bool, IdempotencyRecord, error) {
	now := s.clock()
	for range 3 {
		var got string
		err := s.db.QueryRow(ctx, `INSERT INTO idempotency_keys (org_id, api_key_id, key, lock_id, locked_at, created_at, expires_at, path)
			VALUES ($1, $2, $3, $4, $5, $5, $6, $8)
			ON CONFLICT (org_id, api_key_id, key) DO UPDATE
			SET request_hash = NULL, lock_id = EXCLUDED.lock_id, locked_at = EXCLUDED.locked_at, status = NULL,
				headers = NULL, body = NULL, no_store = false, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at,
				path = EXCLUDED.path
			WHERE idempotency_keys.expires_at <= EXCLUDED.created_at
				OR (idempotency_keys.status IS NULL AND idempotency_keys.locked_at <= $7)
			RETURNING lock_id`,
			k.OrgID, k.APIKeyID, k.Key, lockID, now, now.Add(ttl), now.Add(-stale), k.Path).Scan(&got)
		if err == nil {
			return true, IdempotencyRecord{CreatedAt: now, ExpiresAt: now.Add(ttl)}, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return false, IdempotencyRecord{}, interpretError("claim idempotency key", err)
		}
		rec, err := s.idempotencyGet(ctx, k)
		if errors.Is(err, crm.ErrNotFound) {
			continue // released or purged since: claim again
		}
		return false, rec, err
	}
	return false, IdempotencyRecord{}, fmt.Errorf("store: claim idempotency key: released and taken again three times in a row")
}

func (s *Store) idempotencyGet(ctx context.Context, k IdempotencyKey) (IdempotencyRecord, error) {
	var rec IdempotencyRecord
	var status *int32
	err := s.db.QueryRow(ctx, `SELECT request_hash, status, headers, body, no_store, created_at, expires_at
		FROM idempotency_keys WHERE org_id = $1 AND api_key_id = $2 AND key = $3`,
		k.OrgID, k.APIKeyID, k.Key).Scan(&rec.RequestHash, &status, &rec.Header, &rec.Body, &rec.NoStore, &rec.CreatedAt, &rec.ExpiresAt)
	if err != nil {
		return IdempotencyRecord{}, interpretError("get idempotency key", err)
	}
	if status != nil {
		rec.Status = int(*status)
	}
	rec.CreatedAt, rec.ExpiresAt = rec.CreatedAt.UTC(), rec.ExpiresAt.UTC()
	return rec, nil
}

// IdempotencyComplete stores the response of the request lockID under k,
// which stops being in progress. rec.Status must not be 0. It is
// crm.ErrNotFound when lockID no longer holds k (it was taken over as
// stale, or expired and was claimed again).
func (s *Store) IdempotencyComplete(ctx context.Context, k IdempotencyKey, lockID string, rec IdempotencyRecord) error {
	if rec.Status == 0 {
		return fmt.Errorf("store: complete idempotency key: a status is required")
	}
	return s.execOne(ctx, "complete idempotency key", `UPDATE idempotency_keys
		SET request_hash = $5, status = $6, headers = $7, body = $8, no_store = $9, lock_id = NULL, locked_at = NULL
		WHERE org_id = $1 AND api_key_id = $2 AND key = $3 AND lock_id = $4`,
		k.OrgID, k.APIKeyID, k.Key, lockID, rec.RequestHash, rec.Status, rec.Header, rec.Body, rec.NoStore)
}

// IdempotencyRelease forgets k if the request lockID still holds it, so the
// next request with the key runs (after a 5xx, or a request that could not
// be kept). Releasing a key lockID no longer holds is not an error.
func (s *Store) IdempotencyRelease(ctx context.Context, k IdempotencyKey, lockID string) error {
	_, err := s.db.Exec(ctx, `DELETE FROM idempotency_keys WHERE org_id = $1 AND api_key_id = $2 AND key = $3 AND lock_id = $4`,
		k.OrgID, k.APIKeyID, k.Key, lockID)
	return interpretError("release idempotency key", err)
}

// IdempotencyPurge deletes at most limit keys of any org that expired by
// the store's clock, oldest first, and returns how many it deleted. A key
// that expired is already ignored by IdempotencyClaim; the purge only keeps
// the table (and the responses it holds) from growing.
func (s *Store) IdempotencyPurge(ctx context.Context, limit int) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM idempotency_keys WHERE ctid = ANY (ARRAY(
		SELECT ctid FROM idempotency_keys WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2))`, s.clock(), limit)
	if err != nil {
		return 0, interpretError("purge idempotency keys", err)
	}
	return tag.RowsAffected(), nil
}
