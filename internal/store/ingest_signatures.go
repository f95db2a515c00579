package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// The signed transcript hook's replay guard. A delivery is identified by the
// hash of the signature (the HMAC that matched), which covers its timestamp
// and body; a row lives until the signature's window ends, after which the
// timestamp check refuses the signature anyway. Rows are written by
// IngestSignatureRecord in the transaction that stores the transcript, so a
// delivery that fails (a bad body, a database error) leaves no row and may
// be retried as it was sent.

// IngestSignatureSeen reports whether the org has a live record of sigHash
// (one expiring after now). It is the cheap check before the work of
// parsing; IngestSignatureRecord is the one that decides.
func (s *Store) IngestSignatureSeen(ctx context.Context, orgID string, sigHash []byte, now time.Time) (bool, error) {
	var one int
	err := s.db.QueryRow(ctx, `SELECT 1 FROM ingest_signatures WHERE org_id = $1 AND sig_hash = $2 AND expires_at > $3`,
		orgID, sigHash, now).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, interpretError("check ingest signature", err)
	}
	return true, nil
}

// IngestSignatureRecord records sigHash for the org until expires, or
// returns an error wrapping crm.ErrReplayedSignature when a record of it
// expiring after now exists (committed, or written by a transaction this
// one waits for: two deliveries of one signature at once store one
// transcript). An expired record is taken over. It also deletes up to 100
// of the org's expired records that no other transaction holds.
func (s *Store) IngestSignatureRecord(ctx context.Context, orgID string, sigHash []byte, expires, now time.Time) error {
	const op = "record ingest signature"
	tag, err := s.db.Exec(ctx, `
		INSERT INTO ingest_signatures AS s (org_id, sig_hash, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (org_id, sig_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE s.expires_at <= $4`,
		orgID, sigHash, expires, now)
	if err != nil {
		return interpretError(op, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: %s: %w", op, crm.ErrReplayedSignature)
	}
	if _, err := s.db.Exec(ctx, `
		DELETE FROM ingest_signatures WHERE (org_id, sig_hash) IN (
			SELECT org_id, sig_hash FROM ingest_signatures WHERE org_id = $1 AND expires_at <= $2
			LIMIT 100 FOR UPDATE SKIP LOCKED)`, orgID, now); err != nil {
		return interpretError("prune ingest signatures", err)
	}
	return nil
}
