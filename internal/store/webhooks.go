package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"logbook/internal/crm"
)

// Outbound webhooks: an org's endpoints (webhooks) and the log of what was
// sent to them (webhook_deliveries). A delivery row is written in the same
// transaction, often the same statement, as the event it reports (an
// outbox), so an event the database has is never lost if the process dies
// before the task reaches the queue: the worker's reconciler enqueues
// pending deliveries whose task went missing.

// deliveryIDSQL makes a UUIDv7 in SQL, as NewID does in Go: the current
// Unix time in milliseconds over the first 48 bits of a random UUID, and
// the version nibble turned from 4 to 7 (PostgreSQL 15 has no uuidv7()).
// Deliveries are inserted by INSERT … SELECT, one per subscribed webhook,
// so their IDs are made where the rows are; being time-ordered, they keep
// the delivery log's id DESC order newest first.
const deliveryIDSQL = `encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING
	substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
	52, 1), 53, 1), 'hex')::uuid`

// timeJSONOpen + a timestamptz expression + timeJSONClose renders it as
// encoding/json renders a time.Time in UTC (RFC 3339, the fraction without
// trailing zeros, "Z"), whatever the session's TimeZone: payloads built in
// SQL read exactly like those WebhookEventRecord builds in Go.
const (
	timeJSONOpen  = `(rtrim(rtrim(to_char((`
	timeJSONClose = `) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'), '0'), '.') || 'Z')`
)

// activityCreatedDeliveriesSQL is the outbox insert of activity.created, run
// as a data-modifying CTE beside the statement that writes activities: one
// pending delivery per webhook of the org ($1) subscribed to the event, for
// every row of the CTE named a (the activities just written) that was
// inserted rather than updated. a must have the columns id, account_id,
// type, occurred_at, source, external_id, created_at and inserted. It
// returns each delivery's id and activity_id. An org without such a webhook
// pays one probe of the webhooks primary key (and the executor's start-up
// of the INSERT node, measured at about 15µs).
//
// The payload is the envelope WebhookEventRecord writes: {"event",
// "created_at", "data": {"activity_id", "account_id", "type",
// "occurred_at", "source", "external_id"}}, created_at being the
// activity's.
const activityCreatedDeliveriesSQL = `
		INSERT INTO webhook_deliveries (org_id, id, webhook_id, event, payload)
		SELECT w.org_id, ` + deliveryIDSQL + `, w.id, '` + EventActivityCreated + `',
			jsonb_build_object('event', '` + EventActivityCreated + `', 'created_at', ` + timeJSONOpen + `a.created_at` + timeJSONClose + `,
				'data', jsonb_build_object('activity_id', a.id, 'account_id', a.account_id, 'type', a.type,
					'occurred_at', ` + timeJSONOpen + `a.occurred_at` + timeJSONClose + `, 'source', a.source, 'external_id', a.external_id))
		FROM webhooks w JOIN a ON a.inserted
		WHERE w.org_id = $1 AND '` + EventActivityCreated + `' = ANY (w.events)
		RETURNING id, (payload #>> '{data,activity_id}')::uuid AS activity_id`

// ActivityCreatedData is the data of an activity.created event: an
// activity was logged, by any route. activityCreatedDeliveriesSQL builds
// the same JSON in SQL; writers that record the event through
// WebhookEventRecord pass this. The API documents the event with it.
type ActivityCreatedData struct {
	ActivityID string           `json:"activity_id"`
	AccountID  string           `json:"account_id"`
	Type       crm.ActivityType `json:"type"`
	OccurredAt time.Time        `json:"occurred_at"`
	Source     crm.Source       `json:"source"`
	ExternalID *string          `json:"external_id"`
}

// newSecret returns 32 random bytes, base64url-encoded without padding (43
// characters): a webhook's or an ingest hook's signing secret.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("store: generate secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// WebhookCreate stores a webhook of the org as given: the caller (the
// API) has validated and normalised the input (an http or https URL it
// checked, known events without duplicates, a secret long enough). With no
// secret in the input one is generated (newSecret) and returned in Secret,
// the only time it is shown; a secret the client chose is never returned.
func (s *Store) WebhookCreate(ctx context.Context, orgID string, in crm.WebhookInput) (crm.Webhook, error) {
	var secret string
	var err error
	if in.Secret != nil {
		secret = *in.Secret
	} else if secret, err = newSecret(); err != nil {
		return crm.Webhook{}, err
	}
	w := crm.Webhook{ID: NewID(), OrgID: orgID, URL: in.URL, Events: in.Events}
	err = s.db.QueryRow(ctx, `INSERT INTO webhooks (org_id, id, url, events, secret) VALUES ($1, $2, $3, $4, $5)
		RETURNING created_at`, orgID, w.ID, w.URL, w.Events, secret).Scan(&w.CreatedAt)
	if err != nil {
		return crm.Webhook{}, interpretError("create webhook", err)
	}
	w.CreatedAt = w.CreatedAt.UTC()
	if in.Secret == nil {
		w.Secret = secret
	}
	return w, nil
}

// WebhookCreateLimited is WebhookCreate for an org that may have at most
// max webhooks: one more is a *crm.ConflictError saying so. The org's row
// is locked (FOR NO KEY UPDATE, which leaves other writes that reference
// the org alone) while the webhooks are counted, so concurrent creates
// cannot both take the last place.
func (s *Store) WebhookCreateLimited(ctx context.Context, orgID string, in crm.WebhookInput, max int) (crm.Webhook, error) {
	var w crm.Webhook
	err := s.WithTx(ctx, func(tx *Store) error {
		if _, err := tx.db.Exec(ctx, `SELECT 1 FROM orgs WHERE id = $1 FOR NO KEY UPDATE`, orgID); err != nil {
			return interpretError("create webhook", err)
		}
		var n int
		if err := tx.db.QueryRow(ctx, `SELECT count(*) FROM webhooks WHERE org_id = $1`, orgID).Scan(&n); err != nil {
			return interpretError("create webhook", err)
		}
		if n >= max {
			return fmt.Errorf("store: create webhook: %w", &crm.ConflictError{Detail: fmt.Sprintf(
				"this org already has %d webhooks, the most it may have (%d); delete one to add another", n, max)})
		}
		var err error
		w, err = tx.WebhookCreate(ctx, orgID, in)
		return err
	})
	return w, err
}

// webhookColumns are what scanWebhook reads; never the secret.
const webhookColumns = `id, url, events, created_at`

func scanWebhook(orgID string) pgx.RowToFunc[crm.Webhook] {
	return func(r pgx.CollectableRow) (crm.Webhook, error) {
		w := crm.Webhook{OrgID: orgID}
		err := r.Scan(&w.ID, &w.URL, &w.Events, &w.CreatedAt)
		w.CreatedAt = w.CreatedAt.UTC()
		return w, err
	}
}

// WebhookList returns every webhook of the org, newest first, without
// their secrets. An org has few, so the list is not paginated.
func (s *Store) WebhookList(ctx context.Context, orgID string) ([]crm.Webhook, error) {
	rows, err := s.db.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE org_id = $1 ORDER BY id DESC`, orgID)
	if err != nil {
		return nil, interpretError("list webhooks", err)
	}
	ws, err := pgx.CollectRows(rows, scanWebhook(orgID))
	if err != nil {
		return nil, interpretError("list webhooks", err)
	}
	if ws == nil {
		ws = []crm.Webhook{}
	}
	return ws, nil
}

// WebhookGet returns one webhook of the org, without its secret. A webhook
// of another org is crm.ErrNotFound.
func (s *Store) WebhookGet(ctx context.Context, orgID, id string) (crm.Webhook, error) {
	rows, err := s.db.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE org_id = $1 AND id = $2`, orgID, id)
	if err != nil {
		return crm.Webhook{}, interpretError("get webhook", err)
	}
	w, err := pgx.CollectExactlyOneRow(rows, scanWebhook(orgID))
	return w, interpretError("get webhook", err)
}

// WebhookDelete deletes a webhook of the org with its deliveries (the
// foreign key cascades); a task still queued for one of them finds nothing
// and ends. A webhook of another org is crm.ErrNotFound.
func (s *Store) WebhookDelete(ctx context.Context, orgID, id string) error {
	return s.execOne(ctx, "delete webhook", `DELETE FROM webhooks WHERE org_id = $1 AND id = $2`, orgID, id)
}

// WebhookDeliveryFilter narrows WebhookDeliveryList. Zero fields do not
// filter.
type WebhookDeliveryFilter struct {
	// Status keeps deliveries with this status.
	Status crm.WebhookDeliveryStatus
	// Limit is the page size: 0 is DefaultLimit, more than MaxLimit is
	// MaxLimit.
	Limit int
	// Cursor is the NextCursor of the previous page; a cursor that does not
	// decode is a validation error on "cursor".
	Cursor string
}

// WebhookDeliveryList is a webhook's delivery log, newest first (by id, a
// UUIDv7), one keyset page at a time: a page is a range scan of
// webhook_deliveries_webhook_idx. A webhook that is not the org's is
// crm.ErrNotFound, even when the filter would match nothing anyway; an
// unknown status is a validation error on "status".
func (s *Store) WebhookDeliveryList(ctx context.Context, orgID, webhookID string, f WebhookDeliveryFilter) (crm.Page[crm.WebhookDelivery], error) {
	const op = "list webhook deliveries"
	var a args
	where := []string{"d.org_id = " + a.add(orgID), "d.webhook_id = " + a.add(webhookID)}
	if f.Status != "" {
		if !f.Status.Valid() {
			return crm.Page[crm.WebhookDelivery]{}, crm.Invalid("status", "must be one of pending, delivered, failed")
		}
		where = append(where, "d.status = "+a.add(string(f.Status)))
	}
	if f.Cursor != "" {
		id, err := decodeIDCursor(f.Cursor)
		if err != nil {
			return crm.Page[crm.WebhookDelivery]{}, err
		}
		where = append(where, "d.id < "+a.add(id))
	}
	limit := clampLimit(f.Limit)
	q := `SELECT ` + deliveryColumns + ` FROM webhook_deliveries d WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY d.id DESC LIMIT ` + a.add(limit+1)
	rows, err := s.db.Query(ctx, q, a...)
	if err != nil {
		return crm.Page[crm.WebhookDelivery]{}, interpretError(op, err)
	}
	items, err := pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return crm.Page[crm.WebhookDelivery]{}, interpretError(op, err)
	}
	if len(items) == 0 {
		// A delivery proves its webhook exists (foreign key); only an empty
		// page needs to ask.
		var ok bool
		if err := s.db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webhooks WHERE org_id = $1 AND id = $2)`,
			orgID, webhookID).Scan(&ok); err != nil {
			return crm.Page[crm.WebhookDelivery]{}, interpretError(op, err)
		}
		if !ok {
			return crm.Page[crm.WebhookDelivery]{}, fmt.Errorf("store: %s: %w", op, crm.ErrNotFound)
		}
	}
	return pageByID(items, limit, func(d crm.WebhookDelivery) string { return d.ID }), nil
}

// deliveryColumns are what scanDelivery reads, of webhook_deliveries d.
const deliveryColumns = `d.id, d.event, d.status, d.attempts, d.last_status_code, d.last_error, d.created_at,
	d.updated_at, d.delivered_at`

func scanDelivery(r pgx.CollectableRow) (crm.WebhookDelivery, error) {
	var d crm.WebhookDelivery
	err := r.Scan(&d.ID, &d.Event, &d.Status, &d.Attempts, &d.LastStatusCode, &d.LastError, &d.CreatedAt, &d.UpdatedAt, &d.DeliveredAt)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	if d.DeliveredAt != nil {
		t := d.DeliveredAt.UTC()
		d.DeliveredAt = &t
	}
	return d, err
}

// WebhookAttempt is the outcome of one attempt to send a delivery.
type WebhookAttempt struct {
	// Code is the HTTP status the endpoint answered; nil when no answer
	// came.
	Code *int
	// Error says what went wrong, in words fit for the org's delivery log
	// (never the network error itself); empty when it was delivered.
	Error string
	// Status is the delivery's new status: pending while retries remain,
	// delivered, or failed.
	Status crm.WebhookDeliveryStatus
	// NextAttemptAt is when a pending delivery's retry is due; the
	// reconciler enqueues it again only once that has passed (plus its
	// grace). Zero is now.
	NextAttemptAt time.Time
}

// WebhookDeliveryAttemptRecord records one attempt of a delivery: its
// outcome, one more attempt, and when the next one is due.
func (s *Store) WebhookDeliveryAttemptRecord(ctx context.Context, orgID, id string, a WebhookAttempt) error {
	errText := a.Error
	if len(errText) > 1000 {
		errText = errText[:1000]
	}
	var e *string
	if errText != "" {
		e = &errText
	}
	var next *time.Time
	if !a.NextAttemptAt.IsZero() {
		next = &a.NextAttemptAt
	}
	return s.execOne(ctx, "record webhook delivery", `
		UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = $3, last_error = $4, status = $5,
			updated_at = now(), delivered_at = CASE WHEN $5 = 'delivered' THEN now() ELSE delivered_at END,
			next_attempt_at = coalesce($6, now())
		WHERE org_id = $1 AND id = $2`, orgID, id, a.Code, e, string(a.Status), next)
}

// WebhookDeliveriesDue lists pending deliveries whose next attempt has been
// due for more than grace, across orgs, oldest due first: the reconciler
// enqueues them again in case their task was lost (a task still in Redis
// makes that a no-op). Deliveries waiting out their backoff are not listed,
// so a long outage of one endpoint does not crowd the batch.
func (s *Store) WebhookDeliveriesDue(ctx context.Context, grace time.Duration, limit int) ([]DeliveryRef, error) {
	rows, err := s.db.Query(ctx, `SELECT org_id, id FROM webhook_deliveries
		WHERE status = 'pending' AND next_attempt_at < now() - $1::interval ORDER BY next_attempt_at LIMIT $2`, grace, limit)
	if err != nil {
		return nil, interpretError("list due deliveries", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DeliveryRef, error) {
		var d DeliveryRef
		return d, r.Scan(&d.OrgID, &d.ID)
	})
	return out, interpretError("list due deliveries", err)
}

// WebhookDeliveryRedeliver makes a delivery of the org's webhook pending
// again and due now, whatever its status, and returns it; the caller then
// enqueues it. Its ID (the Logbook-Delivery header) and payload stay the
// same, so a receiver that already has it can tell. A delivery of another
// webhook or org is crm.ErrNotFound.
func (s *Store) WebhookDeliveryRedeliver(ctx context.Context, orgID, webhookID, id string) (crm.WebhookDelivery, error) {
	rows, err := s.db.Query(ctx, `UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = now(), updated_at = now()
		WHERE d.org_id = $1 AND d.webhook_id = $2 AND d.id = $3 RETURNING `+deliveryColumns, orgID, webhookID, id)
	if err != nil {
		return crm.WebhookDelivery{}, interpretError("redeliver webhook delivery", err)
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDelivery)
	return d, interpretError("redeliver webhook delivery", err)
}
