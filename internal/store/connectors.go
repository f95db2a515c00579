package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// Connectors (migration 00022): what the capture package syncs. The store
// keeps the sealed secret as bytes (capture seals and opens it), the
// watermark as JSON the connector's kind defines, and the health columns
// every run updates. A sync holds a lease (lease_token, lease_until) so two
// workers never run one connector at once; a run that dies leaves the lease
// to run out.

// ConnectorRecord is a connector with what only the capture package sees:
// its org, sealed secret and sync state.
type ConnectorRecord struct {
	crm.Connector
	OrgID  string
	Secret []byte
	State  json.RawMessage
}

// ConnectorWrite is a connector's stored fields for create and update; a
// nil pointer (or nil slice for Config, State and Secret) leaves the field
// as it is on update. ClearUser sets user_id to null.
type ConnectorWrite struct {
	Kind            crm.ConnectorKind
	Name            *string
	UserID          *string
	ClearUser       bool
	Config          json.RawMessage
	Secret          []byte
	SecretNames     []string
	Enabled         *bool
	IntervalSeconds *int
	// ResetState clears the sync watermark (a changed mailbox or URL
	// starts over; activities are idempotent, so nothing doubles).
	ResetState bool
}

const connectorColumns = `c.org_id, c.id, c.kind, c.name, c.user_id, c.config, c.secret_names, c.enabled, c.interval_seconds,
	c.created_at, c.updated_at, c.last_attempt_at, c.last_success_at, c.last_error, c.last_error_at, c.failing_since,
	c.items_captured, c.newest_item_at, c.next_run_at, c.secret, c.state`

func scanConnector(row pgx.Row, now time.Time) (ConnectorRecord, error) {
	var r ConnectorRecord
	var next time.Time
	err := row.Scan(&r.OrgID, &r.ID, &r.Kind, &r.Name, &r.UserID, &r.Config, &r.SecretsSet, &r.Enabled, &r.IntervalSeconds,
		&r.CreatedAt, &r.UpdatedAt, &r.Health.LastAttemptAt, &r.Health.LastSuccessAt, &r.Health.LastError, &r.Health.LastErrorAt,
		&r.Health.FailingSince, &r.Health.ItemsCaptured, &r.Health.NewestItemAt, &next, &r.Secret, &r.State)
	if err != nil {
		return r, err
	}
	if r.SecretsSet == nil {
		r.SecretsSet = []string{}
	}
	if r.Kind.Pulled() && r.Enabled {
		r.Health.NextRunAt = &next
	}
	r.Health.ComputeHealth(r.Enabled, now)
	return r, nil
}

// ConnectorCreate stores a new connector. A user that is not the org's is
// a *crm.ValidationError on user_id (through the foreign key).
func (s *Store) ConnectorCreate(ctx context.Context, orgID string, w ConnectorWrite) (ConnectorRecord, error) {
	const op = "create connector"
	now := s.clock()
	cfg := w.Config
	if cfg == nil {
		cfg = json.RawMessage(`{}`)
	}
	names := w.SecretNames
	if names == nil {
		names = []string{}
	}
	enabled := true
	if w.Enabled != nil {
		enabled = *w.Enabled
	}
	interval := crm.DefaultConnectorInterval
	if w.IntervalSeconds != nil {
		interval = *w.IntervalSeconds
	}
	row := s.db.QueryRow(ctx, `
		INSERT INTO connectors AS c (org_id, id, kind, name, user_id, config, secret, secret_names, enabled, interval_seconds,
			created_at, updated_at, next_run_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $11)
		RETURNING `+connectorColumns,
		orgID, NewID(), w.Kind, derefOr(w.Name, ""), w.UserID, cfg, w.Secret, names, enabled, interval, now)
	r, err := scanConnector(row, now)
	return r, interpretError(op, err)
}

func derefOr[T any](p *T, d T) T {
	if p == nil {
		return d
	}
	return *p
}

// ConnectorGet returns one of the org's connectors, or crm.ErrNotFound.
func (s *Store) ConnectorGet(ctx context.Context, orgID, id string) (ConnectorRecord, error) {
	r, err := scanConnector(s.db.QueryRow(ctx, `SELECT `+connectorColumns+` FROM connectors c WHERE c.org_id = $1 AND c.id = $2`,
		orgID, id), s.clock())
	return r, interpretError("get connector", err)
}

// ConnectorList returns the org's connectors, oldest first (without
// secrets or state).
func (s *Store) ConnectorList(ctx context.Context, orgID string) ([]crm.Connector, error) {
	rows, err := s.db.Query(ctx, `SELECT `+connectorColumns+` FROM connectors c WHERE c.org_id = $1 ORDER BY c.created_at, c.id`, orgID)
	if err != nil {
		return nil, interpretError("list connectors", err)
	}
	defer rows.Close()
	now := s.clock()
	out := []crm.Connector{}
	for rows.Next() {
		r, err := scanConnector(rows, now)
		if err != nil {
			return nil, interpretError("list connectors", err)
		}
		out = append(out, r.Connector)
	}
	return out, interpretError("list connectors", rows.Err())
}

// ConnectorUpdate changes the fields w sets and returns the result. A
// change makes a pulled connector due at once.
func (s *Store) ConnectorUpdate(ctx context.Context, orgID, id string, w ConnectorWrite) (ConnectorRecord, error) {
	now := s.clock()
	row := s.db.QueryRow(ctx, `
		UPDATE connectors c SET
			name = coalesce($3, name),
			user_id = CASE WHEN $4 THEN NULL ELSE coalesce($5, user_id) END,
			config = coalesce($6, config),
			secret = CASE WHEN $7::bytea IS NULL THEN secret ELSE $7 END,
			secret_names = coalesce($8, secret_names),
			enabled = coalesce($9, enabled),
			interval_seconds = coalesce($10, interval_seconds),
			state = CASE WHEN $11 THEN '{}'::jsonb ELSE state END,
			failing_since = CASE WHEN $11 THEN NULL ELSE failing_since END,
			updated_at = $12,
			next_run_at = $12
		WHERE c.org_id = $1 AND c.id = $2
		RETURNING `+connectorColumns,
		orgID, id, w.Name, w.ClearUser, w.UserID, nilIfEmptyJSON(w.Config), w.Secret, w.SecretNames, w.Enabled, w.IntervalSeconds,
		w.ResetState, now)
	r, err := scanConnector(row, now)
	return r, interpretError("update connector", err)
}

func nilIfEmptyJSON(b json.RawMessage) any {
	if b == nil {
		return nil
	}
	return b
}

// ConnectorDelete removes a connector. What it captured stays.
func (s *Store) ConnectorDelete(ctx context.Context, orgID, id string) error {
	return s.execOne(ctx, "delete connector", `DELETE FROM connectors WHERE org_id = $1 AND id = $2`, orgID, id)
}

// ErrLeaseHeld is returned by ConnectorClaim when another run holds the
// connector's lease, and by the lease-checked writes when this run's lease
// was lost (it ran out and another run took it).
var ErrLeaseHeld = errors.New("store: connector is being synced by another run")

// ConnectorClaim takes the connector's lease for leaseFor and returns the
// connector with the lease token. A disabled connector is crm.ErrNotFound
// wrapped with the reason, as is a missing one.
func (s *Store) ConnectorClaim(ctx context.Context, orgID, id string, leaseFor time.Duration) (ConnectorRecord, string, error) {
	const op = "claim connector"
	now := s.clock()
	token := NewID()
	r, err := scanConnector(s.db.QueryRow(ctx, `
		UPDATE connectors c SET lease_token = $3, lease_until = $4, last_attempt_at = $5
		WHERE c.org_id = $1 AND c.id = $2 AND c.enabled AND (c.lease_until IS NULL OR c.lease_until < $5)
		RETURNING `+connectorColumns,
		orgID, id, token, now.Add(leaseFor), now), now)
	if errors.Is(err, pgx.ErrNoRows) {
		var enabled bool
		err := s.db.QueryRow(ctx, `SELECT enabled FROM connectors WHERE org_id = $1 AND id = $2`, orgID, id).Scan(&enabled)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return r, "", fmt.Errorf("store: %s: %w", op, crm.ErrNotFound)
		case err != nil:
			return r, "", interpretError(op, err)
		case !enabled:
			return r, "", fmt.Errorf("store: %s: disabled: %w", op, crm.ErrNotFound)
		}
		return r, "", ErrLeaseHeld
	}
	return r, token, interpretError(op, err)
}

// ConnectorProgress is what a run has captured since its last checkpoint.
type ConnectorProgress struct {
	// State is the new watermark; nil keeps the stored one.
	State json.RawMessage
	// Items is how many new items were captured since the last checkpoint.
	Items int
	// NewestItemAt is the newest captured item's own time, if any.
	NewestItemAt *time.Time
}

// ConnectorCheckpoint saves a run's progress while it holds the lease,
// and extends the lease by extend (0 keeps it). A lost lease is
// ErrLeaseHeld: the run must stop, since another has taken over.
func (s *Store) ConnectorCheckpoint(ctx context.Context, orgID, id, token string, p ConnectorProgress, extend time.Duration) error {
	var until *time.Time
	if extend > 0 {
		t := s.clock().Add(extend)
		until = &t
	}
	tag, err := s.db.Exec(ctx, `
		UPDATE connectors SET state = coalesce($4, state), items_captured = items_captured + $5,
			newest_item_at = greatest(newest_item_at, $6),
			lease_until = coalesce($7, lease_until)
		WHERE org_id = $1 AND id = $2 AND lease_token = $3`,
		orgID, id, token, nilIfEmptyJSON(p.State), p.Items, p.NewestItemAt, until)
	if err != nil {
		return interpretError("checkpoint connector", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrLeaseHeld
	}
	return nil
}

// ConnectorFinish ends a run: it saves the last progress, records success
// (runErr nil) or failure (runErr's text), sets when the connector runs
// next and gives up the lease. A lost lease is ErrLeaseHeld (nothing is
// written).
func (s *Store) ConnectorFinish(ctx context.Context, orgID, id, token string, p ConnectorProgress, runErr error, next time.Time) error {
	now := s.clock()
	msg := errorText(runErr)
	tag, err := s.db.Exec(ctx, `
		UPDATE connectors SET state = coalesce($4, state), items_captured = items_captured + $5,
			newest_item_at = greatest(newest_item_at, $6),
			last_success_at = CASE WHEN $7::text IS NULL THEN $8 ELSE last_success_at END,
			last_error = CASE WHEN $7::text IS NULL THEN last_error ELSE $7 END,
			last_error_at = CASE WHEN $7::text IS NULL THEN last_error_at ELSE $8 END,
			failing_since = CASE WHEN $7::text IS NULL THEN NULL ELSE coalesce(failing_since, $8) END,
			next_run_at = greatest($9, next_run_at), lease_token = NULL, lease_until = NULL
		WHERE org_id = $1 AND id = $2 AND lease_token = $3`,
		orgID, id, token, nilIfEmptyJSON(p.State), p.Items, p.NewestItemAt, msg, now, next)
	if err != nil {
		return interpretError("finish connector", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrLeaseHeld
	}
	return nil
}

// ConnectorRecordEvent records the outcome of work for a push connector
// (a vendor ping and its pull), which holds no lease: success or failure,
// items captured and the newest item's time.
func (s *Store) ConnectorRecordEvent(ctx context.Context, orgID, id string, items int, newest *time.Time, runErr error) error {
	now := s.clock()
	msg := errorText(runErr)
	return s.execOne(ctx, "record connector event", `
		UPDATE connectors SET items_captured = items_captured + $3, newest_item_at = greatest(newest_item_at, $4),
			last_attempt_at = $6,
			last_success_at = CASE WHEN $5::text IS NULL THEN $6 ELSE last_success_at END,
			last_error = CASE WHEN $5::text IS NULL THEN last_error ELSE $5 END,
			last_error_at = CASE WHEN $5::text IS NULL THEN last_error_at ELSE $6 END,
			failing_since = CASE WHEN $5::text IS NULL THEN NULL ELSE coalesce(failing_since, $6) END
		WHERE org_id = $1 AND id = $2`,
		orgID, id, items, newest, msg, now)
}

// errorText is what a connector's last_error keeps of err: nil for
// success, else its text cut to 1,000 bytes on a rune boundary.
func errorText(err error) *string {
	if err == nil {
		return nil
	}
	m := err.Error()
	if len(m) > 1000 {
		m = strings.ToValidUTF8(m[:1000], "")
	}
	return &m
}

// ConnectorRef names one connector.
type ConnectorRef struct {
	OrgID string
	ID    string
}

// ConnectorsDue returns up to limit enabled pulled connectors (of any org)
// whose next run is due and that no run holds, oldest due first. The
// scheduler enqueues a sync for each; the task's ID keeps it from doubling.
func (s *Store) ConnectorsDue(ctx context.Context, limit int) ([]ConnectorRef, error) {
	now := s.clock()
	rows, err := s.db.Query(ctx, `
		SELECT org_id, id FROM connectors
		WHERE enabled AND next_run_at <= $1 AND kind IN ('imap', 'ics', 'caldav')
			AND (lease_until IS NULL OR lease_until < $1)
		ORDER BY next_run_at LIMIT $2`, now, limit)
	if err != nil {
		return nil, interpretError("due connectors", err)
	}
	refs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ConnectorRef])
	return refs, interpretError("due connectors", err)
}

// ConnectorStatusCount is how many connectors of a kind are in a status.
type ConnectorStatusCount struct {
	Kind   crm.ConnectorKind
	Status string
	Count  int
}

// ConnectorsHealth counts every org's connectors by kind and health status
// (crm.ConnectorHealth.Status), for /readyz and the metrics.
func (s *Store) ConnectorsHealth(ctx context.Context) ([]ConnectorStatusCount, error) {
	now := s.clock()
	rows, err := s.db.Query(ctx, `
		SELECT kind, CASE
			WHEN NOT enabled THEN 'disabled'
			WHEN failing_since IS NOT NULL AND failing_since < $1 THEN 'unhealthy'
			WHEN failing_since IS NOT NULL THEN 'failing'
			WHEN last_success_at IS NULL THEN 'pending'
			ELSE 'ok' END AS status, count(*)::int
		FROM connectors GROUP BY 1, 2 ORDER BY 1, 2`, now.Add(-crm.ConnectorUnhealthyAfter))
	if err != nil {
		return nil, interpretError("connectors health", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ConnectorStatusCount])
	return out, interpretError("connectors health", err)
}

// ConnectorRunNow makes a pulled connector due at once (a resync).
func (s *Store) ConnectorRunNow(ctx context.Context, orgID, id string) error {
	return s.execOne(ctx, "run connector now", `UPDATE connectors SET next_run_at = $3 WHERE org_id = $1 AND id = $2`,
		orgID, id, s.clock())
}
