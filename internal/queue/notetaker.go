package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"logbook/internal/crm"
)

// TypeNotetakerFetch pulls what a note-taker's ping announced (a Recall.ai
// transcript, a Zoom recording's VTT) and ingests it as a meeting
// transcript: "ping, then pull".
const TypeNotetakerFetch = "notetaker:fetch"

// Note-taker fetch limits. A vendor that is down or slow is retried with
// the worker's backoff (1 s doubling, capped at 10 min): ten retries cover
// about a quarter of an hour of outage before the task is archived and the
// connector's health shows the failure.
const (
	NotetakerFetchTimeout  = 2 * time.Minute
	NotetakerFetchMaxRetry = 10
	// NotetakerReplayWindow is how long a ping's task is kept after it
	// ran, so the same ping delivered again (a vendor's retry, a replay)
	// finds it and creates no second task. Svix, which delivers Recall's
	// webhooks, retries one message for about 27 hours.
	NotetakerReplayWindow = 72 * time.Hour
)

// NotetakerFetchPayload is what the vendor's ping said, enough to pull.
type NotetakerFetchPayload struct {
	OrgID       string `json:"org_id"`
	ConnectorID string `json:"connector_id"`
	// Vendor is the connector's kind: "recall" or "zoom".
	Vendor string `json:"vendor"`
	// EventID names the ping (Recall: the webhook-id; Zoom: the meeting
	// uuid and transcript file id).
	EventID string `json:"event_id"`

	// Recall: the transcript to fetch and what it belongs to.
	TranscriptID string `json:"transcript_id,omitempty"`
	RecordingID  string `json:"recording_id,omitempty"`
	BotID        string `json:"bot_id,omitempty"`

	// Zoom: the meeting, the transcript file and the event's download
	// token (a secret for 24 hours: never logged).
	MeetingUUID     string     `json:"meeting_uuid,omitempty"`
	MeetingID       string     `json:"meeting_id,omitempty"`
	Topic           string     `json:"topic,omitempty"`
	StartTime       *time.Time `json:"start_time,omitempty"`
	DurationMinutes int        `json:"duration_minutes,omitempty"`
	HostEmail       string     `json:"host_email,omitempty"`
	FileID          string     `json:"file_id,omitempty"`
	DownloadURL     string     `json:"download_url,omitempty"`
	DownloadToken   string     `json:"download_token,omitempty"`
}

// Note-taker vendors (the connector kinds that are pinged).
const (
	VendorRecall = string(crm.ConnectorRecall)
	VendorZoom   = string(crm.ConnectorZoom)
)

// ParseNotetakerFetchPayload decodes and checks a payload.
func ParseNotetakerFetchPayload(b []byte) (NotetakerFetchPayload, error) {
	var p NotetakerFetchPayload
	if err := strictJSON(b, &p); err != nil {
		return p, fmt.Errorf("queue: %s payload: %w", TypeNotetakerFetch, err)
	}
	if !crm.ValidID(p.OrgID) || !crm.ValidID(p.ConnectorID) {
		return p, fmt.Errorf("queue: %s payload: org_id and connector_id must be IDs", TypeNotetakerFetch)
	}
	switch {
	case p.EventID == "":
		return p, fmt.Errorf("queue: %s payload: event_id is required", TypeNotetakerFetch)
	case p.Vendor == VendorRecall && p.TranscriptID == "":
		return p, fmt.Errorf("queue: %s payload: a recall fetch needs transcript_id", TypeNotetakerFetch)
	case p.Vendor == VendorZoom && (p.MeetingUUID == "" || p.DownloadURL == "" || p.DownloadToken == ""):
		return p, fmt.Errorf("queue: %s payload: a zoom fetch needs meeting_uuid, download_url and download_token", TypeNotetakerFetch)
	case p.Vendor != VendorRecall && p.Vendor != VendorZoom:
		return p, fmt.Errorf("queue: %s payload: vendor must be recall or zoom", TypeNotetakerFetch)
	}
	return p, nil
}

// NotetakerTaskID is the task ID of a ping: the connector and a hash of
// the vendor's event ID, so the same ping is the same task.
func NotetakerTaskID(p NotetakerFetchPayload) string {
	sum := sha256.Sum256([]byte(p.Vendor + "\x00" + p.EventID))
	return "notetaker:" + p.ConnectorID + ":" + hex.EncodeToString(sum[:16])
}

// EnqueueNotetakerFetch queues the pull a ping announced, once: the task
// is kept for NotetakerReplayWindow after it ran (asynq's retention), and
// a ping with the same event ID while it is queued, running, retrying,
// kept or archived is the same task, so it reports false and enqueues
// nothing. That holds after the first task finished, which asynq's TaskID
// alone does not (a finished task is deleted at once).
func (e *Enqueuer) EnqueueNotetakerFetch(ctx context.Context, p NotetakerFetchPayload) (bool, error) {
	t, err := newTask(TypeNotetakerFetch, p)
	if err != nil {
		return false, err
	}
	id := NotetakerTaskID(p)
	_, err = e.client.EnqueueContext(ctx, t, asynq.TaskID(id), asynq.Queue(e.q.Default),
		asynq.MaxRetry(NotetakerFetchMaxRetry), asynq.Timeout(NotetakerFetchTimeout), asynq.Retention(NotetakerReplayWindow))
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("queue: enqueue %s %s: %w", TypeNotetakerFetch, id, err)
	}
	return true, nil
}
