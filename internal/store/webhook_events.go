package store

import (
	"context"
	"encoding/json"
	"fmt"

	"logbook/internal/crm"
)

// Webhook events.
const (
	EventMeetingProcessed = "meeting.processed"
	EventActivityCreated  = "activity.created"
)

// WebhookEvents lists every event an endpoint can subscribe to.
var WebhookEvents = []string{EventMeetingProcessed, EventActivityCreated}

// MeetingProcessed is the data of a meeting.processed event: a meeting's
// transcript became notes, or a person confirmed items held for review. The
// API documents the event with it.
type MeetingProcessed struct {
	ActivityID   string `json:"activity_id"`
	AccountID    string `json:"account_id"`
	TranscriptID string `json:"transcript_id"`
	// Notes leave out the items held for review.
	Notes crm.Notes `json:"notes"`
	// HeldForReview counts the items left out until a person confirms them.
	HeldForReview int `json:"held_for_review"`
}

// MeetingProcessedData is the data of a meeting.processed event: the
// meeting's IDs and its notes without the items held for review (flagged
// as payment instructions, credentials or outside links, not confirmed by a
// person), with held_for_review counting what was left out. A receiver
// never gets a held item; once a person confirms items, the event is sent
// again with them (NotesConfirm).
func MeetingProcessedData(activityID, accountID, transcriptID string, n crm.Notes) MeetingProcessed {
	return MeetingProcessed{ActivityID: activityID, AccountID: accountID, TranscriptID: transcriptID,
		Notes: n.Releasable(), HeldForReview: n.Held()}
}

// WebhookEventRecord writes one pending delivery of event for every webhook
// of the org subscribed to it, and returns their IDs for the caller to
// enqueue after commit. Called inside the transaction that makes the event
// true, it is an outbox: the delivery exists exactly when the event does, and
// the reconciler enqueues any whose task was lost.
func (s *Store) WebhookEventRecord(ctx context.Context, orgID, event string, data any) ([]string, error) {
	body, err := json.Marshal(map[string]any{"event": event, "created_at": s.clock(), "data": data})
	if err != nil {
		return nil, fmt.Errorf("store: record webhook event: %w", err)
	}
	rows, err := s.db.Query(ctx, `
		INSERT INTO webhook_deliveries (org_id, id, webhook_id, event, payload)
		SELECT w.org_id, `+deliveryIDSQL+`, w.id, $2, $3::jsonb FROM webhooks w
		WHERE w.org_id = $1 AND $2 = ANY (w.events)
		RETURNING id`, orgID, event, body)
	if err != nil {
		return nil, interpretError("record webhook event", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, interpretError("record webhook event", err)
		}
		ids = append(ids, id)
	}
	return ids, interpretError("record webhook event", rows.Err())
}

// WebhookSend is what a worker needs to send one delivery.
type WebhookSend struct {
	DeliveryID string
	WebhookID  string
	URL        string
	Secret     string
	Event      string
	Payload    []byte
	Status     string
	Attempts   int
}

// WebhookDeliveryForSend loads a delivery with its endpoint's URL and secret.
func (s *Store) WebhookDeliveryForSend(ctx context.Context, orgID, id string) (WebhookSend, error) {
	var w WebhookSend
	err := s.db.QueryRow(ctx, `
		SELECT d.id, d.webhook_id, w.url, w.secret, d.event, d.payload::text, d.status, d.attempts
		FROM webhook_deliveries d JOIN webhooks w ON w.org_id = d.org_id AND w.id = d.webhook_id
		WHERE d.org_id = $1 AND d.id = $2`, orgID, id).
		Scan(&w.DeliveryID, &w.WebhookID, &w.URL, &w.Secret, &w.Event, &w.Payload, &w.Status, &w.Attempts)
	return w, interpretError("get webhook delivery", err)
}

// DeliveryRef names a webhook delivery across orgs, for the reconciler.
type DeliveryRef struct {
	OrgID, ID string
}
