package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"logbook/internal/crm"
)

// activityInsertColumns is the column list of both insert statements.
const activityInsertColumns = `org_id, id, type, direction, account_id, deal_id, owner_id, occurred_at,
	duration_seconds, subject, body, disposition, next_step_text, next_step_due, participants,
	source, external_id, metadata, content_hash, created_at, updated_at`

// activityOnConflict makes an insert an idempotent upsert: a row with the
// same (org, source, external_id) is rewritten only when its content hash
// differs, so a re-post of the same content writes nothing and keeps
// updated_at. Rows without external_id never conflict. A different next
// step (text or due date) is open again: its done mark is cleared.
const activityOnConflict = `
	ON CONFLICT (org_id, source, external_id) DO UPDATE SET
		type = EXCLUDED.type, direction = EXCLUDED.direction, account_id = EXCLUDED.account_id,
		deal_id = EXCLUDED.deal_id, owner_id = EXCLUDED.owner_id, occurred_at = EXCLUDED.occurred_at,
		duration_seconds = EXCLUDED.duration_seconds, subject = EXCLUDED.subject, body = EXCLUDED.body,
		disposition = EXCLUDED.disposition, next_step_text = EXCLUDED.next_step_text,
		next_step_due = EXCLUDED.next_step_due, participants = EXCLUDED.participants,
		next_step_done_at = CASE WHEN activities.next_step_text IS NOT DISTINCT FROM EXCLUDED.next_step_text
			AND activities.next_step_due IS NOT DISTINCT FROM EXCLUDED.next_step_due THEN activities.next_step_done_at END,
		metadata = EXCLUDED.metadata, content_hash = EXCLUDED.content_hash, updated_at = EXCLUDED.updated_at
	WHERE activities.content_hash IS DISTINCT FROM EXCLUDED.content_hash`

// activityOneSQL is the statement that writes one activity, with $1…$20
// the org, the row's columns (activityInsertColumns order) and the time.
//
// With links (the row has an external_id, so it may conflict, or it links
// contacts) it is an upsert that also replaces the contact links, all in one
// statement: when the row is updated rather than inserted, links not in $21
// are deleted; $21's links are inserted either way. An unchanged re-post
// returns no row. Without links it is a plain INSERT.
//
// Either way the statement also writes the activity.created outbox (see
// activityCreatedDeliveriesSQL) when the row is inserted, and its last
// column lists the IDs of those deliveries: for an org without a subscribed
// webhook that is one index probe, not a round trip.
//
// With guard, the row is written only if the org's settings accept its
// disposition (the last parameter): the disposition check then costs no
// round trip of its own. No row comes back when they do not (nor when the
// row is an unchanged re-post); the caller then checks the settings itself.
func activityOneSQL(links, guard bool) string { return activityOneSQLs[boolInt(links)][boolInt(guard)] }

// activityLeanSQL is activityOneSQL without links and without the outbox:
// a plain INSERT … SELECT … RETURNING that writes the row only when the org
// has no webhook subscribed to activity.created (and, with guard, when its
// settings accept the disposition). It returns no row otherwise, and the
// caller then runs activityOneSQL, which writes the deliveries (see
// activityWriteOne). A subscribed webhook is seen by the same snapshot
// either way, so the two statements write the same deliveries; the lean
// one only spares PostgreSQL the outbox's data-modifying CTE (opening
// webhook_deliveries and its indexes on every insert), which measured
// 15–20 µs of its CPU per activity.
func activityLeanSQL(guard bool) string { return activityLeanSQLs[boolInt(guard)] }

// activityOneSQLs and activityLeanSQLs hold the statements, built once.
var (
	activityOneSQLs = func() (out [2][2]string) {
		for _, links := range []bool{false, true} {
			for _, guard := range []bool{false, true} {
				out[boolInt(links)][boolInt(guard)] = buildActivityOneSQL(links, guard)
			}
		}
		return out
	}()
	activityLeanSQLs = [2]string{buildActivityLeanSQL(false), buildActivityLeanSQL(true)}
)

// activityNoHooksSQL holds when the org ($1) has no webhook subscribed to
// activity.created: the condition of activityLeanSQL.
const activityNoHooksSQL = `NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.org_id = $1 AND '` + EventActivityCreated + `' = ANY (w.events))`

func buildActivityLeanSQL(guard bool) string {
	cond := activityNoHooksSQL
	if guard {
		cond = activityDispositionGuardSQL(21) + ` AND ` + cond
	}
	return `
	INSERT INTO activities (` + activityInsertColumns + `) ` + activityTypedParamsSQL + `
		WHERE ` + cond + `
		RETURNING id, metadata, created_at, updated_at, true AS inserted, NULL::uuid[], NULL::timestamptz`
}

// activityTypedParamsSQL selects $1…$20 as a row of activityInsertColumns
// (created_at and updated_at both $20), for an INSERT … SELECT … WHERE.
const activityTypedParamsSQL = `SELECT $1::uuid, $2::uuid, $3::text, $4::text, $5::uuid, $6::uuid, $7::uuid, $8::timestamptz,
			$9::int4, $10::text, $11::text, $12::text, $13::text, $14::date, $15::jsonb, $16::text, $17::text,
			$18::jsonb, $19::bytea, $20::timestamptz, $20::timestamptz`

// activityDispositionGuardSQL holds when the org's ($1) settings accept
// disposition $n.
func activityDispositionGuardSQL(n int) string {
	return fmt.Sprintf(`(SELECT CASE WHEN $%[1]d::text IS NULL THEN NOT st.require_disposition
		                   ELSE EXISTS (SELECT 1 FROM dispositions d WHERE d.org_id = st.org_id
		                                   AND d.code = $%[1]d::text AND d.retired_at IS NULL) END
		       FROM settings st WHERE st.org_id = $1)`, n)
}

func buildActivityOneSQL(links, guard bool) string {
	src := `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16, $17, $18::jsonb, $19, $20, $20)`
	if guard {
		n := 21
		if links {
			n = 22
		}
		src = activityTypedParamsSQL + `
		WHERE ` + activityDispositionGuardSQL(n)
	}
	const returning = `
		RETURNING id, metadata, created_at, updated_at, %s AS inserted,
			account_id, type, occurred_at, source, external_id, next_step_done_at`
	outbox := `, wh AS (` + activityCreatedDeliveriesSQL + `
	)
	SELECT id, metadata, created_at, updated_at, inserted, ARRAY(SELECT wh.id FROM wh), next_step_done_at FROM a`
	if !links {
		return `
	WITH a AS (
		INSERT INTO activities (` + activityInsertColumns + `) ` + src + fmt.Sprintf(returning, "true") + `
	)` + outbox
	}
	return `
	WITH a AS (
		INSERT INTO activities (` + activityInsertColumns + `) ` + src + `
		` + activityOnConflict + fmt.Sprintf(returning, "(xmax = 0)") + `
	), d AS (
		DELETE FROM activity_contacts ac USING a
		WHERE ac.org_id = $1 AND ac.activity_id = a.id AND NOT a.inserted AND ac.contact_id <> ALL ($21::uuid[])
	), l AS (
		INSERT INTO activity_contacts (org_id, activity_id, contact_id)
		SELECT $1, a.id, c FROM a CROSS JOIN unnest($21::uuid[]) AS c
		ON CONFLICT DO NOTHING
	)` + outbox
}

// ErrGuardRefused is what a guarded ActivityWrite returns when it wrote
// nothing: the org's settings refused the row's disposition, or the row is
// an unchanged re-post. The caller checks the settings itself and writes
// again unguarded (which tells an unchanged re-post from a created row).
var ErrGuardRefused = errors.New("store: activity not written by the guarded statement")

// ActivityWrite stores one finished row: with an external_id it is an
// idempotent upsert per (source, external_id) (the same content again is
// UpsertUnchanged and the stored activity is returned as is; other content is
// UpsertUpdated), without one a plain insert. With guard the statement itself
// checks that the org's settings accept the row's disposition (sparing the
// lookup a round trip) and returns ErrGuardRefused when it wrote nothing.
//
// A created activity also gets, in the same statement, a pending
// activity.created delivery for every webhook of the org subscribed to it
// (an outbox); the third result lists their IDs, for the caller to enqueue
// after commit (EnqueueWebhook). An update or an unchanged re-post writes
// none. A missing account, deal or owner is a *MissingRefsError.
func (s *Store) ActivityWrite(ctx context.Context, orgID string, row *ActivityRow, guard bool) (crm.Activity, UpsertResult, []string, error) {
	const op = "upsert activity"
	now := s.clock()
	for attempt := 0; ; attempt++ {
		a, res, deliveries, err := s.activityWriteOne(ctx, orgID, row, now, guard)
		if err == nil {
			return a, res, deliveries, nil
		}
		if errors.Is(err, ErrGuardRefused) {
			return crm.Activity{}, "", nil, err
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23503" {
			return crm.Activity{}, "", nil, s.missingRefsError(ctx, op, orgID, []ActivityRow{*row}, err)
		}
		// The stored row vanished between the upsert and the read: run again.
		if errors.Is(err, errActivityVanished) && attempt < 3 {
			continue
		}
		return crm.Activity{}, "", nil, interpretError(op, err)
	}
}

// errActivityVanished means an unchanged row was deleted before it could be
// read back; the upsert is simply run again.
var errActivityVanished = errors.New("activity deleted concurrently")

// activityWriteOne runs activityOneSQL (in a savepoint when the store
// already runs in a transaction, so a refused row leaves that transaction
// usable; on a pool one statement is atomic by itself) and reads back an
// unchanged row. It returns the IDs of the webhook deliveries written with a
// created row.
func (s *Store) activityWriteOne(ctx context.Context, orgID string, row *ActivityRow, now time.Time, guard bool) (crm.Activity, UpsertResult, []string, error) {
	args := []any{orgID, row.ID, string(row.Type), directionArg(row.Direction), row.AccountID, row.DealID, row.OwnerID,
		row.OccurredAt, row.durationArg(), row.Subject, row.Body, row.Disposition, row.nextStepText(),
		row.nextStepDue(), row.participantsJSON(), string(row.Source), row.ExternalID, string(row.Metadata),
		row.hash, now}
	links := row.ExternalID != nil || len(row.ContactIDs) > 0
	if links {
		args = append(args, row.ContactIDs)
	}
	if guard {
		args = append(args, row.Disposition)
	}
	var (
		found      bool
		inserted   bool
		a          = row.activity(orgID)
		metadata   []byte
		deliveries []string
		doneAt     *time.Time
	)
	write := func(sql string) error {
		return s.activityStatement(ctx, func(db DBTX) error {
			rows, err := db.Query(ctx, sql, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				found = true
				if err := rows.Scan(&a.ID, &metadata, &a.CreatedAt, &a.UpdatedAt, &inserted, &deliveries, &doneAt); err != nil {
					return err
				}
			}
			return rows.Err()
		})
	}
	// Without links, try the lean statement first unless the org recently
	// had deliveries to write. It writes nothing when the org has a
	// subscribed webhook (or the guard refuses): the full statement then
	// tells which, and writes the outbox.
	lean := !links && !s.hooks.has(orgID, now)
	var err error
	if lean {
		err = write(activityLeanSQL(guard))
	}
	if err == nil && !found {
		err = write(activityOneSQL(links, guard))
		if err == nil && len(deliveries) > 0 {
			s.hooks.add(orgID, now)
		}
	}
	if err != nil {
		return crm.Activity{}, "", nil, err
	}
	if found {
		a.Metadata = metadata
		a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
		if a.NextStep != nil && doneAt != nil {
			// The same next step, still marked done.
			ns, t := *a.NextStep, doneAt.UTC()
			ns.DoneAt = &t
			a.NextStep = &ns
		}
		if inserted {
			return a, UpsertCreated, deliveries, nil
		}
		return a, UpsertUpdated, nil, nil
	}
	if guard {
		return crm.Activity{}, "", nil, ErrGuardRefused
	}
	// Same source, external_id and content: the stored row is the answer.
	rows, err := s.db.Query(ctx, `SELECT `+activityColumns+` FROM activities a
		WHERE a.org_id = $1 AND a.source = $2 AND a.external_id = $3`, orgID, string(row.Source), row.ExternalID)
	if err != nil {
		return crm.Activity{}, "", nil, err
	}
	stored, err := pgx.CollectExactlyOneRow(rows, scanActivity(orgID))
	if errors.Is(err, pgx.ErrNoRows) {
		return crm.Activity{}, "", nil, errActivityVanished
	}
	if err != nil {
		return crm.Activity{}, "", nil, err
	}
	return stored, UpsertUnchanged, nil, nil
}

// hookOrgs remembers the orgs whose single-activity writes recently had
// activity.created deliveries to write, so that their next writes go
// straight to activityOneSQL instead of trying activityLeanSQL first (which
// would write nothing for them and cost a round trip). It is only a hint:
// correctness never depends on it, since activityLeanSQL itself refuses to
// write for an org with a subscribed webhook. An entry lasts
// activityHooksTTL, after which the org tries the lean statement again (it
// may have removed its webhooks). Each Store made by New has one, shared
// with the Stores WithTx derives from it; it is not process-global.
// activityHooksTTL is how long activityHooks remembers an org, and
// activityHooksMax how many orgs it holds (when full it starts over).
const (
	activityHooksTTL = time.Minute
	activityHooksMax = 10_000
)

type hookOrgs struct {
	// until maps org ID → until when.
	mu    sync.Mutex
	until map[string]time.Time
}

func (h *hookOrgs) has(orgID string, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.until[orgID]
	return ok && now.Before(t)
}

func (h *hookOrgs) add(orgID string, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.until == nil || len(h.until) >= activityHooksMax {
		h.until = map[string]time.Time{} // when full, start over
	}
	h.until[orgID] = now.Add(activityHooksTTL)
}

// activityStatement runs fn, a single writing statement, atomically: in a
// savepoint when the store already runs in a transaction (a statement that
// fails aborts its transaction; the savepoint confines that), directly on a
// pool, where BEGIN and COMMIT would only add two round trips.
func (s *Store) activityStatement(ctx context.Context, fn func(db DBTX) error) error {
	if _, inTx := s.db.(pgx.Tx); inTx {
		return s.WithTx(ctx, func(tx *Store) error { return fn(tx.db) })
	}
	return fn(s.db)
}

// activityMissingRefs returns, by row item, the fields among account_id,
// deal_id and owner_id that name no row of the org (an account not resolved
