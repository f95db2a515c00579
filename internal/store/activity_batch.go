package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// activityBatchInsert is the multi-row INSERT … SELECT FROM unnest(…) of a
// batch, from parallel arrays (one per column). activityBatchUpsertSQL adds
// the upsert on (source, external_id) for rows that carry one; the others
// cannot conflict and take the plain INSERT, which spares PostgreSQL the
// speculative insertion (an arbiter index probe and a WAL record per row).
const activityBatchInsert = `
	INSERT INTO activities (` + activityInsertColumns + `)
	SELECT $1, u.id, u.type, u.direction, u.account_id, u.deal_id, u.owner_id, u.occurred_at,
		u.duration_seconds, u.subject, u.body, u.disposition, u.next_step_text, u.next_step_due,
		u.participants, u.source, u.external_id, u.metadata, u.content_hash, $20, $20
	FROM unnest($2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::uuid[], $7::uuid[], $8::timestamptz[],
		$9::int4[], $10::text[], $11::text[], $12::text[], $13::text[], $14::date[], $15::jsonb[],
		$16::text[], $17::text[], $18::jsonb[], $19::bytea[])
		AS u(id, type, direction, account_id, deal_id, owner_id, occurred_at, duration_seconds, subject,
		     body, disposition, next_step_text, next_step_due, participants, source, external_id,
		     metadata, content_hash)`

// activityBatchInsertSQL and activityBatchUpsertSQL write a batch and, in
// the same statement, its activity.created outbox (see
// activityCreatedDeliveriesSQL: one INSERT … SELECT over the inserted rows).
// Each returned row is one activity: id, source, external_id, whether it was
// inserted, and the IDs of its deliveries (NULL when none).
const (
	activityBatchInsertSQL = `
	WITH a AS (` + activityBatchInsert + `
		RETURNING id, source, external_id, true AS inserted, account_id, type, occurred_at, created_at
	)` + activityBatchOutbox
	activityBatchUpsertSQL = `
	WITH a AS (` + activityBatchInsert + activityOnConflict + `
		RETURNING id, source, external_id, (xmax = 0) AS inserted, account_id, type, occurred_at, created_at
	)` + activityBatchOutbox
	activityBatchOutbox = `, wh AS (` + activityCreatedDeliveriesSQL + `
	)
	SELECT a.id, a.source, a.external_id, a.inserted, x.ids
	FROM a LEFT JOIN (SELECT wh.activity_id, array_agg(wh.id) AS ids FROM wh GROUP BY wh.activity_id) x
		ON x.activity_id = a.id`
)

// activityBatchArgs are the arguments of activityBatchInsert for rows.
func activityBatchArgs(orgID string, rows []ActivityRow, now time.Time) []any {
	n := len(rows)
	var (
		ids, accounts, types, sources = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		dirs, deals, owners           = make([]*string, n), make([]*string, n), make([]*string, n)
		subjects, bodies, disps       = make([]*string, n), make([]*string, n), make([]*string, n)
		nsTexts, externalIDs          = make([]*string, n), make([]*string, n)
		occurred                      = make([]time.Time, n)
		durations                     = make([]*int32, n)
		nsDues                        = make([]*time.Time, n)
		participants, metadata        = make([]string, n), make([]string, n)
		hashes                        = make([][]byte, n)
	)
	for i := range rows {
		r := &rows[i]
		ids[i], types[i], dirs[i], accounts[i] = r.ID, string(r.Type), directionArg(r.Direction), r.AccountID
		deals[i], owners[i], occurred[i], durations[i] = r.DealID, r.OwnerID, r.OccurredAt, r.durationArg()
		subjects[i], bodies[i], disps[i] = r.Subject, r.Body, r.Disposition
		nsTexts[i], nsDues[i] = r.nextStepText(), r.nextStepDue()
		participants[i], sources[i], externalIDs[i] = r.participantsJSON(), string(r.Source), r.ExternalID
		metadata[i], hashes[i] = string(r.Metadata), r.hash
	}
	return []any{orgID, ids, types, dirs, accounts, deals, owners, occurred, durations, subjects, bodies,
		disps, nsTexts, nsDues, participants, sources, externalIDs, metadata, hashes, now}
}

// ActivityWriteBatch stores finished rows, all or nothing, in one
// transaction, with ActivityWrite's rules for each (the activity.created
// outbox included: each created row's DeliveryIDs). The result has n entries
// (the request's length), filled at each row's Item; the caller fills those of
// items it did not send (repeats of another item). A missing account, deal or
// owner is a *MissingRefsError naming every one.
func (s *Store) ActivityWriteBatch(ctx context.Context, orgID string, rows []ActivityRow, n int) ([]ActivityUpserted, error) {
	const op = "upsert activities"
	// Rows that can conflict go in (source, external_id) order, so two
	// batches touching the same rows lock them in the same order.
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b ActivityRow) int {
		switch {
		case a.ExternalID == nil || b.ExternalID == nil:
			return cmp.Compare(boolInt(a.ExternalID == nil), boolInt(b.ExternalID == nil))
		case a.Source != b.Source:
			return cmp.Compare(a.Source, b.Source)
		}
		return cmp.Compare(*a.ExternalID, *b.ExternalID)
	})
	now := s.clock()
	out := make([]ActivityUpserted, n)
	for attempt := 0; ; attempt++ {
		err := s.WithTx(ctx, func(tx *Store) error { return tx.activityWriteMany(ctx, orgID, rows, now, out) })
		if err == nil {
			return out, nil
		}
		var pe *pgconn.PgError
		isPg := errors.As(err, &pe)
		if isPg && pe.Code == "23503" {
			return nil, s.missingRefsError(ctx, op, orgID, rows, err)
		}
		retry := errors.Is(err, errActivityVanished) || (isPg && (pe.Code == "40P01" || pe.Code == "40001"))
		if retry && attempt < 3 {
			continue
		}
		return nil, interpretError(op, err)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// activityWriteMany runs inside a transaction: the batch insert, the read of
// unchanged rows, and the contact links of created and updated rows. It
// fills out[row.Item].
func (s *Store) activityWriteMany(ctx context.Context, orgID string, rows []ActivityRow, now time.Time, out []ActivityUpserted) error {
	n := len(rows)
	byKey, byID := map[[2]string]int{}, map[string]int{}
	split := n // rows come keyed first (see ActivityWriteBatch)
	for i := range rows {
		if rows[i].ExternalID != nil {
			byKey[[2]string{string(rows[i].Source), *rows[i].ExternalID}] = i
		} else {
			byID[rows[i].ID] = i
			split = min(split, i)
		}
	}
	done := make([]bool, n)
	var relink []int // rows whose links are written
	var updated []string
	for _, part := range []struct {
		sql  string
		rows []ActivityRow
	}{{activityBatchUpsertSQL, rows[:split]}, {activityBatchInsertSQL, rows[split:]}} {
		if len(part.rows) == 0 {
			continue
		}
		res, err := s.db.Query(ctx, part.sql, activityBatchArgs(orgID, part.rows, now)...)
		if err != nil {
			return err
		}
		for res.Next() {
			var id, source string
			var ext *string
			var inserted bool
			var deliveries []string
			if err := res.Scan(&id, &source, &ext, &inserted, &deliveries); err != nil {
				res.Close()
				return err
			}
			i, ok := byID[id]
			if ext != nil {
				i, ok = byKey[[2]string{source, *ext}]
			}
			if !ok {
				res.Close()
				return fmt.Errorf("insert returned a row the batch did not send (%s)", id)
			}
			done[i] = true
			result := UpsertCreated
			if !inserted {
				result = UpsertUpdated
				updated = append(updated, id)
			}
			rows[i].ID = id
			out[rows[i].Item] = ActivityUpserted{ID: id, ExternalID: rows[i].ExternalID, Result: result, DeliveryIDs: deliveries}
			if len(rows[i].ContactIDs) > 0 || !inserted {
				relink = append(relink, i)
			}
		}
		if err := res.Err(); err != nil {
			return err
		}
	}

	// Rows the upsert left alone are unchanged re-posts: read their IDs.
	var srcs, exts []string
	for i := range rows {
		if !done[i] {
			if rows[i].ExternalID == nil {
				return fmt.Errorf("insert returned no row for a new activity (%s)", rows[i].ID)
			}
			srcs, exts = append(srcs, string(rows[i].Source)), append(exts, *rows[i].ExternalID)
		}
	}
	if len(srcs) > 0 {
		res, err := s.db.Query(ctx, `SELECT a.id, a.source, a.external_id FROM activities a
			JOIN unnest($2::text[], $3::text[]) AS k(source, external_id)
			  ON a.source = k.source AND a.external_id = k.external_id
			WHERE a.org_id = $1`, orgID, srcs, exts)
		if err != nil {
			return err
		}
		for res.Next() {
			var id, source, ext string
			if err := res.Scan(&id, &source, &ext); err != nil {
				res.Close()
				return err
			}
			if i, ok := byKey[[2]string{source, ext}]; ok && !done[i] {
				done[i] = true
				out[rows[i].Item] = ActivityUpserted{ID: id, ExternalID: rows[i].ExternalID, Result: UpsertUnchanged}
			}
		}
		if err := res.Err(); err != nil {
			return err
		}
		for i := range rows {
			if !done[i] {
				return errActivityVanished
			}
		}
	}

	if len(relink) == 0 {
		return nil
	}
	var linkActs, linkContacts []string
	for _, i := range relink {
		for _, c := range rows[i].ContactIDs {
			linkActs, linkContacts = append(linkActs, rows[i].ID), append(linkContacts, c)
		}
	}
	return s.activityContactsReplace(ctx, orgID, updated, linkActs, linkContacts)
}

// activityContactsReplace deletes every contact link of clear and then
// inserts the pairs (acts[i], contacts[i]), in one pipelined round trip.
func (s *Store) activityContactsReplace(ctx context.Context, orgID string, clear, acts, contacts []string) error {
	b := &pgx.Batch{}
	if len(clear) > 0 {
		b.Queue(`DELETE FROM activity_contacts WHERE org_id = $1 AND activity_id = ANY($2::uuid[])`, orgID, clear)
	}
	if len(acts) > 0 {
		b.Queue(`INSERT INTO activity_contacts (org_id, activity_id, contact_id)
			SELECT $1, u.a, u.c FROM unnest($2::uuid[], $3::uuid[]) AS u(a, c)
			ON CONFLICT DO NOTHING`, orgID, acts, contacts)
	}
	if b.Len() == 0 {
		return nil
	}
	return s.db.SendBatch(ctx, b).Close()
}
