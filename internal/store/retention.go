package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// RetentionPurged says what one purge pass did.
type RetentionPurged struct {
	// Transcripts is how many transcripts lost their raw content.
	Transcripts int
	// NotesDeleted is how many of them also lost their meeting notes (orgs
	// with keep_notes_after_purge false).
	NotesDeleted int
}

// retentionOrg is an org whose settings limit how long transcripts are kept.
type retentionOrg struct {
	orgID     string
	days      int
	keepNotes bool
}

// TranscriptsPurge runs one pass of the retention settings: for every org
// with transcript_retention_days set, up to limit of its transcripts
// received more than that many days ago and not purged yet lose their raw
// content and segments (purged_at is set; the row stays, so the meeting
// still says it had a transcript) and their transcript chunks (the raw
// text, in the search index). With keep_notes_after_purge (the default) the
// meeting notes, action items and follow-up draft stay, their evidence
// (segment numbers, times, speakers and quotes) included; without it they
// are deleted too, with the notes' chunks and the meeting.processed webhook
// deliveries that carry them (sent or not: a pending one would send notes
// the org asked to delete). A transcript still
// queued, processing or held for consent that old is failed with the reason. Each org's batch
// is one transaction that skips rows another pass holds, so passes may run
// from every worker at once. The content hash is cleared, so posting the
// same content again stores and processes it anew.
func (s *Store) TranscriptsPurge(ctx context.Context, limit int) (RetentionPurged, error) {
	const op = "purge transcripts"
	var res RetentionPurged
	rows, err := s.db.Query(ctx, `SELECT org_id, transcript_retention_days, keep_notes_after_purge FROM settings
		WHERE transcript_retention_days IS NOT NULL ORDER BY org_id`)
	if err != nil {
		return res, interpretError(op, err)
	}
	orgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (retentionOrg, error) {
		var o retentionOrg
		return o, r.Scan(&o.orgID, &o.days, &o.keepNotes)
	})
	if err != nil {
		return res, interpretError(op, err)
	}
	var errs []error
	for _, o := range orgs {
		if ctx.Err() != nil {
			break
		}
		n, err := s.transcriptsPurgeOrg(ctx, o, limit)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		res.Transcripts += n
		if !o.keepNotes {
			res.NotesDeleted += n
		}
	}
	return res, errors.Join(errs...)
}

func (s *Store) transcriptsPurgeOrg(ctx context.Context, o retentionOrg, limit int) (int, error) {
	op := "purge transcripts of org " + o.orgID
	var n int
	err := s.WithTx(ctx, func(tx *Store) error {
		cutoff := tx.clock().Add(-time.Duration(o.days) * 24 * time.Hour)
		// The batch is picked once (a materialized CTE: an IN subquery with
		// LIMIT may be evaluated more than once and purge more than limit).
		rows, err := tx.db.Query(ctx, `
			WITH due AS MATERIALIZED (
				SELECT id FROM transcripts WHERE org_id = $1 AND purged_at IS NULL AND received_at < $2
				ORDER BY received_at LIMIT $3 FOR UPDATE SKIP LOCKED)
			UPDATE transcripts t SET content = '', segments = '[]', content_hash = '\x'::bytea, purged_at = $4,
				updated_at = $4,
				status = CASE WHEN t.status IN ('queued', 'processing', 'held') THEN 'failed' ELSE t.status END,
				held_reason = NULL,
				error = CASE WHEN t.status IN ('queued', 'processing', 'held')
					THEN 'purged by the org''s transcript retention setting before it was processed' ELSE t.error END
			FROM due WHERE t.org_id = $1 AND t.id = due.id
			RETURNING t.activity_id`, o.orgID, cutoff, limit, tx.clock())
		if err != nil {
			return interpretError(op, err)
		}
		acts, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return interpretError(op, err)
		}
		n = len(acts)
		if n == 0 {
			return nil
		}
		b := &pgx.Batch{}
		kinds := []string{"transcript"}
		if !o.keepNotes {
			kinds = append(kinds, "notes")
			b.Queue(`DELETE FROM meeting_notes WHERE org_id = $1 AND activity_id = ANY($2)`, o.orgID, acts)
			b.Queue(`DELETE FROM action_items WHERE org_id = $1 AND activity_id = ANY($2)`, o.orgID, acts)
			b.Queue(`DELETE FROM follow_ups WHERE org_id = $1 AND activity_id = ANY($2)`, o.orgID, acts)
			b.Queue(`DELETE FROM webhook_deliveries WHERE org_id = $1 AND event = $3
				AND payload->'data'->>'activity_id' = ANY($2::text[])`, o.orgID, acts, EventMeetingProcessed)
		}
		b.Queue(`DELETE FROM chunks WHERE org_id = $1 AND activity_id = ANY($2) AND kind = ANY($3)`, o.orgID, acts, kinds)
		return interpretError(op, tx.db.SendBatch(ctx, b).Close())
	})
	return n, err
}

// OrgDeleted names the unfinished work of a deleted org, whose tasks may
// still wait in Redis (their handlers find nothing and stop; a caller may
// delete them from the queues).
type OrgDeleted struct {
	// Transcripts were queued or processing (task ID: the transcript ID).
	Transcripts []string
	// Deliveries were pending (task ID: the delivery ID).
	Deliveries []string
	// Activities were not indexed yet (task ID: "index:" + the activity ID).
	Activities []string
}

// OrgDelete removes an org completely, in one transaction: its API keys are
// revoked everywhere first (NOTIFY, so every running key cache drops them at
// commit), then the org row (the foreign keys cascade through every table
// that references it, and on to what references those), then whatever row
// of any table with an org_id column still names the org (tables that hold
// no foreign key to it: the BM25 statistics and anything added later).
// An unknown org is crm.ErrNotFound.
func (s *Store) OrgDelete(ctx context.Context, orgID string) (OrgDeleted, error) {
	const op = "delete org"
	var d OrgDeleted
	var keys [][]byte
	err := s.WithTx(ctx, func(tx *Store) error {
		if err := tx.db.QueryRow(ctx, `SELECT 1 FROM orgs WHERE id = $1 FOR UPDATE`, orgID).Scan(new(int)); err != nil {
			return interpretError(op, err)
		}
		var err error
		if d.Transcripts, err = tx.ids(ctx, `SELECT id::text FROM transcripts WHERE org_id = $1 AND status IN ('queued', 'processing')`, orgID); err != nil {
			return err
		}
		if d.Deliveries, err = tx.ids(ctx, `SELECT id::text FROM webhook_deliveries WHERE org_id = $1 AND status = 'pending'`, orgID); err != nil {
			return err
		}
		if d.Activities, err = tx.ids(ctx, `SELECT id::text FROM activities WHERE org_id = $1 AND indexed_at IS DISTINCT FROM updated_at`, orgID); err != nil {
			return err
		}
		hashes, err := tx.db.Query(ctx, `SELECT key_hash FROM api_keys k, pg_notify($2, encode(k.key_hash, 'hex'))
			WHERE k.org_id = $1`, orgID, APIKeysChannel)
		if err != nil {
			return interpretError(op, err)
		}
		keys, err = pgx.CollectRows(hashes, pgx.RowTo[[]byte])
		if err != nil {
			return interpretError(op, err)
		}
		if _, err := tx.db.Exec(ctx, `DELETE FROM orgs WHERE id = $1`, orgID); err != nil {
			return interpretError(op, err)
		}
		return tx.orgRowsDelete(ctx, orgID)
	})
	if err != nil {
		return OrgDeleted{}, err
	}
	for _, h := range keys {
		s.caches.forget(h)
	}
	return d, nil
}

func (s *Store) ids(ctx context.Context, sql, orgID string) ([]string, error) {
	rows, err := s.db.Query(ctx, sql, orgID)
	if err != nil {
		return nil, interpretError("delete org", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return ids, interpretError("delete org", err)
}

// orgRowsDelete deletes the org's rows from every table of the schema that
// has an org_id column. A table whose rows are still referenced by another
// table's (a foreign key without cascade) is tried again after the others,
// each attempt in a savepoint; a pass that deletes nothing more while some
// table still fails is an error.
func (s *Store) orgRowsDelete(ctx context.Context, orgID string) error {
	const op = "delete org rows"
	tables, err := s.OrgTables(ctx)
	if err != nil {
		return err
	}
	for len(tables) > 0 {
		var again []string
		var lastErr error
		for _, t := range tables {
			err := s.WithTx(ctx, func(tx *Store) error {
				_, err := tx.db.Exec(ctx, `DELETE FROM `+pgx.Identifier{t}.Sanitize()+` WHERE org_id = $1`, orgID)
				return err
			})
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23503" {
				again = append(again, t)
				lastErr = err
				continue
			}
			if err != nil {
				return interpretError(op+" "+t, err)
			}
		}
		if len(again) == len(tables) {
			return fmt.Errorf("store: %s: %v still referenced: %w", op, again, lastErr)
		}
		tables = again
	}
	return nil
}

// OrgTables lists the tables of the current schema that have an org_id
// column (orgs itself is keyed by id), in name order.
func (s *Store) OrgTables(ctx context.Context) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT c.table_name::text FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND c.column_name = 'org_id' AND t.table_type = 'BASE TABLE'
		ORDER BY 1`)
	if err != nil {
		return nil, interpretError("list org tables", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return names, interpretError("list org tables", err)
}
