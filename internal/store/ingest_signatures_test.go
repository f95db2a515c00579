package store_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/internal/testdb"
)

// TestIngestSignatures: a signature is recorded once per org until it
// expires; a second record before then is ErrReplayedSignature; an expired
// record is taken over, and a record prunes the org's expired ones.
func TestIngestSignatures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.Tx(t)
	s := store.New(tx)
	org, err := s.OrgCreate(ctx, "Signatures")
	require.NoError(t, err)
	other, err := s.OrgCreate(ctx, "Other")
	require.NoError(t, err)
	now := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	hash := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	a, b := hash("a"), hash("b")
	expires := now.Add(crm.SignatureTolerance)

	seen, err := s.IngestSignatureSeen(ctx, org.ID, a, now)
	require.NoError(t, err)
	require.False(t, seen)
	require.NoError(t, s.IngestSignatureRecord(ctx, org.ID, a, expires, now))
	seen, err = s.IngestSignatureSeen(ctx, org.ID, a, now)
	require.NoError(t, err)
	require.True(t, seen)
	require.ErrorIs(t, s.IngestSignatureRecord(ctx, org.ID, a, expires, now.Add(time.Minute)), crm.ErrReplayedSignature)
	// Another org's signatures are its own.
	require.NoError(t, s.IngestSignatureRecord(ctx, other.ID, a, expires, now))

	// Once expired, the record no longer counts and is taken over...
	later := expires.Add(time.Second)
	seen, err = s.IngestSignatureSeen(ctx, org.ID, a, later)
	require.NoError(t, err)
	require.False(t, seen)
	require.NoError(t, s.IngestSignatureRecord(ctx, org.ID, a, later.Add(crm.SignatureTolerance), later))
	// ...and the org's other expired records are pruned by the next record.
	require.NoError(t, s.IngestSignatureRecord(ctx, org.ID, b, expires, now))
	muchLater := later.Add(time.Hour)
	require.NoError(t, s.IngestSignatureRecord(ctx, org.ID, hash("c"), muchLater.Add(crm.SignatureTolerance), muchLater))
	var n int
	require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM ingest_signatures WHERE org_id = $1`, org.ID).Scan(&n))
	require.Equal(t, 1, n, "only the live record is left")
	require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM ingest_signatures WHERE org_id = $1`, other.ID).Scan(&n))
	require.Equal(t, 1, n, "another org's records are its own to prune")
}
