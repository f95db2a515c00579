package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/openapi"
	"logbook/internal/queue"
	"logbook/internal/store"
	"logbook/internal/vendorhook"
)

// The note-takers' hooks (issue #14): Recall.ai and Zoom ping
// /v1/hooks/{recall,zoom}/{org_id}/{connector_id} when a transcript is
// ready; the ping is verified with the connector's secret and the pull is
// queued (notetaker:fetch, capture/notetaker), "ping, then pull".
//
// A connector that is unknown, another org's, of the other kind or
// disabled is 404, all alike and before any signature is looked at: the
// path names the connector, and only its secret can verify the ping.
// Connector IDs are random UUIDs, so the 404 reveals nothing a caller
// could not guess, and it tells an admin who pasted the wrong URL at the
// vendor what is wrong. A signature that is missing, stale (over 5
// minutes) or wrong is 401; a verified body not of the vendor's shape is
// 400. The same ping delivered again (the vendor's retry, or a replay
// within the signature's 5 minutes) finds its task and is 200 "duplicate":
// nothing is queued twice, for NotetakerReplayWindow after it ran.

// maxHookBody bounds a vendor's ping: the pings carry IDs, not content.
const maxHookBody = 1 << 20

// notetakerEnqueuer queues the pulls (*queue.Enqueuer); a Deps.Enqueuer
// without it answers the hooks 503.
type notetakerEnqueuer interface {
	EnqueueNotetakerFetch(ctx context.Context, p queue.NotetakerFetchPayload) (bool, error)
}

// hookAck answers a vendor's ping.
type hookAck struct {
	// Status is queued (the pull is queued), duplicate (this ping was
	// queued before) or ignored (an event Logbook does not use).
	Status string `json:"status"`
	// Event is the vendor's event name.
	Event string `json:"event"`
}

var errNoConnector = &httpError{status: http.StatusNotFound, detail: "no enabled connector of this kind with this ID in this org; " +
	"copy the webhook URL again from the connector"}

// notetakerConnector loads the path's connector of kind and opens its
// secrets.
func (h *handler) notetakerConnector(r *http.Request, kind crm.ConnectorKind) (store.ConnectorRecord, map[string]string, error) {
	orgID, id := strings.ToLower(r.PathValue("org_id")), strings.ToLower(r.PathValue("connector_id"))
	if !crm.ValidID(orgID) || !crm.ValidID(id) {
		return store.ConnectorRecord{}, nil, errNoConnector
	}
	rec, err := h.store.ConnectorGet(r.Context(), orgID, id)
	switch {
	case errors.Is(err, crm.ErrNotFound):
		return rec, nil, errNoConnector
	case err != nil:
		return rec, nil, err
	case rec.Kind != kind || !rec.Enabled || h.capture == nil: // a server that runs no connectors has none
		return rec, nil, errNoConnector
	}
	secrets, err := h.capture.Open(rec)
	if err != nil {
		// The server's LOGBOOK_SECRET_KEY: shown on the connector, and the
		// vendor retries the 503 once the operator sets it.
		ctx := context.WithoutCancel(r.Context())
		if rerr := h.store.ConnectorRecordEvent(ctx, orgID, id, 0, nil, err); rerr != nil {
			h.log.WarnContext(ctx, "record connector error", slog.Any("error", rerr))
		}
		return rec, nil, &httpError{status: http.StatusServiceUnavailable,
			detail: "this connector's secrets cannot be opened on this server now (see the connector's last_error)"}
	}
	return rec, secrets, nil
}

// readHookBody reads a ping's raw body, up to maxHookBody.
func readHookBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if err := checkContentLength(r, maxHookBody); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxHookBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(maxHookBody)
		}
		return nil, errStatus(http.StatusBadRequest, "cannot read request body: %v", err)
	}
	return b, nil
}

func hookUnauthorized(err error) error {
	return &httpError{status: http.StatusUnauthorized, detail: strings.TrimPrefix(err.Error(), "vendorhook: ")}
}

func hookMalformed(err error) error {
	return &httpError{status: http.StatusBadRequest, detail: strings.TrimPrefix(err.Error(), "vendorhook: ")}
}

// recallHook takes Recall.ai's webhooks, signed by Standard Webhooks with
// the connector's webhook_secret. transcript.done queues the pull of
// data.transcript.id; other events are 200 ignored.
func (h *handler) recallHook(w http.ResponseWriter, r *http.Request, _ crm.Principal) error {
	rec, secrets, err := h.notetakerConnector(r, crm.ConnectorRecall)
	if err != nil {
		return err
	}
	body, err := readHookBody(w, r)
	if err != nil {
		return err
	}
	d, err := vendorhook.VerifyStandard(secrets["webhook_secret"], r.Header.Get(vendorhook.HeaderWebhookID),
		r.Header.Get(vendorhook.HeaderWebhookTimestamp), r.Header.Get(vendorhook.HeaderWebhookSignature), body, h.now())
	if err != nil {
		return hookUnauthorized(err)
	}
	ev, err := vendorhook.ParseRecallEvent(body)
	if err != nil {
		return hookMalformed(err)
	}
	if ev.Event != vendorhook.RecallTranscriptDone {
		writeJSON(w, http.StatusOK, hookAck{Status: "ignored", Event: ev.Event})
		return nil
	}
	return h.queuePulls(w, r, ev.Event, queue.NotetakerFetchPayload{OrgID: rec.OrgID, ConnectorID: rec.ID, Vendor: queue.VendorRecall,
		EventID: d.ID, TranscriptID: ev.TranscriptID, RecordingID: ev.RecordingID, BotID: ev.BotID})
}

// zoomHook takes Zoom's webhooks, signed with the connector's
// webhook_secret_token: endpoint.url_validation is answered (after its
// signature is checked), recording.transcript_completed queues the
// download of each VTT transcript file with the event's download_token;
// other events are 200 ignored.
func (h *handler) zoomHook(w http.ResponseWriter, r *http.Request, _ crm.Principal) error {
	rec, secrets, err := h.notetakerConnector(r, crm.ConnectorZoom)
	if err != nil {
		return err
	}
	body, err := readHookBody(w, r)
	if err != nil {
		return err
	}
	token := secrets["webhook_secret_token"]
	if err := vendorhook.VerifyZoom(token, r.Header.Get(vendorhook.HeaderZoomTimestamp), r.Header.Get(vendorhook.HeaderZoomSignature),
		body, h.now()); err != nil {
		return hookUnauthorized(err)
	}
	ev, err := vendorhook.ParseZoomEvent(body)
	if err != nil {
		return hookMalformed(err)
	}
	switch ev.Event {
	case vendorhook.ZoomURLValidation:
		writeJSON(w, http.StatusOK, vendorhook.AnswerZoomChallenge(token, ev.PlainToken))
		return nil
	case vendorhook.ZoomTranscriptCompleted:
	default:
		writeJSON(w, http.StatusOK, hookAck{Status: "ignored", Event: ev.Event})
		return nil
	}
	m := ev.Meeting
	var pulls []queue.NotetakerFetchPayload
	for _, f := range m.Transcripts() {
		p := queue.NotetakerFetchPayload{OrgID: rec.OrgID, ConnectorID: rec.ID, Vendor: queue.VendorZoom,
			EventID: m.UUID + ":" + f.ID, MeetingUUID: m.UUID, MeetingID: m.ID, Topic: m.Topic, DurationMinutes: m.DurationMinutes,
			HostEmail: m.HostEmail, FileID: f.ID, DownloadURL: f.DownloadURL, DownloadToken: ev.DownloadToken}
		start := m.StartTime
		if start.IsZero() {
			start = f.RecordingStart
		}
		if !start.IsZero() {
			p.StartTime = &start
		}
		pulls = append(pulls, p)
	}
	if len(pulls) == 0 {
		writeJSON(w, http.StatusOK, hookAck{Status: "ignored", Event: ev.Event})
		return nil
	}
	return h.queuePulls(w, r, ev.Event, pulls...)
}

// queuePulls queues the pulls: 202 queued when any is new, 200 duplicate
// when every one was queued before. Redis down is 503 (the vendor sends
// the ping again later).
func (h *handler) queuePulls(w http.ResponseWriter, r *http.Request, event string, pulls ...queue.NotetakerFetchPayload) error {
	nt, ok := h.enqueue.(notetakerEnqueuer)
	if !ok {
		return &httpError{status: http.StatusServiceUnavailable, detail: "this server queues no note-taker work"}
	}
	queued := false
	for _, p := range pulls {
		fresh, err := nt.EnqueueNotetakerFetch(r.Context(), p)
		if err != nil {
			h.log.WarnContext(r.Context(), "enqueue note-taker fetch", slog.String("connector_id", p.ConnectorID), slog.Any("error", err))
			return &httpError{status: http.StatusServiceUnavailable, detail: "the task queue cannot take the pull right now; send the event again later"}
		}
		queued = queued || fresh
	}
	if !queued {
		writeJSON(w, http.StatusOK, hookAck{Status: "duplicate", Event: event})
		return nil
	}
	writeJSON(w, http.StatusAccepted, hookAck{Status: "queued", Event: event})
	return nil
}

// zoomHookAnswer documents the Zoom hook's 200: the url_validation answer
// (Zoom's camelCase keys), or a hookAck.
type zoomHookAnswer struct{}

func (zoomHookAnswer) ContentTypes(g *openapi.Generator) map[string]any {
	challenge := map[string]any{"type": "object", "minProperties": 2, "maxProperties": 2,
		"description":          "the endpoint.url_validation answer: plainToken (the challenge's) and encryptedToken (hex HMAC-SHA256 of it under the connector's webhook_secret_token)",
		"additionalProperties": map[string]any{"type": "string"}}
	return map[string]any{"application/json": map[string]any{"schema": map[string]any{
		"anyOf": []any{g.Schema(reflect.TypeOf(hookAck{})), challenge}}}}
}

// recallEventDoc documents a Recall.ai webhook body: {event, data:
// {data: {code, sub_code, updated_at}, transcript: {id, metadata},
// recording: {id, metadata}, bot: {id, metadata} | null}}.
type recallEventDoc struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// zoomEventDoc documents a Zoom webhook body: {event, event_ts, payload:
// {plainToken} | {account_id, object: {uuid, id, topic, start_time,
// duration, host_email, recording_files: [...]}}, download_token}.
type zoomEventDoc struct {
	Event         string          `json:"event"`
	EventTS       int64           `json:"event_ts"`
	Payload       json.RawMessage `json:"payload"`
	DownloadToken string          `json:"download_token"`
}
