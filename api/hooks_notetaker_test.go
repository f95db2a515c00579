package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"logbook/capture"
	"logbook/internal/crm"
	"logbook/internal/queue"
	"logbook/internal/secretbox"
	"logbook/internal/testredis"
	"logbook/internal/vendorhook"
)

// TestNotetakerHooksDocumented drives both note-taker hooks through every
// kind of answer (each checked against /openapi.json): queued, duplicate,
// ignored, the Zoom challenge, 400, 401, 404 and 413. The pulls and the
// vendors' fakes are capture/notetaker's tests.
func TestNotetakerHooksDocumented(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rdb := testredis.Client(t)
	q := queue.Queues{LLM: testredis.Name(t), Default: testredis.Name(t)}
	enq := queue.NewEnqueuer(rdb, q)
	t.Cleanup(func() { _ = asynq.NewInspectorFromRedisClient(rdb).DeleteQueue(q.Default, true) })
	box, err := secretbox.New(secretbox.NewKey())
	require.NoError(t, err)
	svc := capture.New(capture.Config{Store: b.store, Box: box})
	// The kinds' own checks are capture/notetaker's; any config passes here.
	pass := capture.Kind{Check: func(cfg, old, secrets json.RawMessage) (json.RawMessage, map[string]string, error) {
		var sec map[string]string
		if secrets != nil {
			require.NoError(t, json.Unmarshal(secrets, &sec))
		}
		return cfg, sec, nil
	}}
	svc.Register(crm.ConnectorRecall, pass)
	svc.Register(crm.ConnectorZoom, pass)
	h, err := NewHandler(Deps{Store: b.store, Capture: svc, Enqueuer: enq})
	require.NoError(t, err)
	b.handler = h
	create := func(body string) string {
		var in crm.ConnectorInput
		require.NoError(t, json.Unmarshal([]byte(body), &in))
		c, err := svc.Create(context.Background(), b.orgID, in)
		require.NoError(t, err)
		return c.ID
	}
	const whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	recallID := create(`{"kind":"recall","name":"r","config":{"base_url":"https://us-east-1.recall.ai"},"secrets":{"api_key":"k","webhook_secret":"` + whsec + `"}}`)
	zoomID := create(`{"kind":"zoom","name":"z","config":{"base_url":"https://zoom.us"},"secrets":{"webhook_secret_token":"tok"}}`)
	key, err := vendorhook.StandardSecret(whsec)
	require.NoError(t, err)

	send := func(path string, body []byte, header map[string]string) response {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		return b.serve(req)
	}
	recall := func(id string, body []byte) response {
		now := time.Now()
		return send("/v1/hooks/recall/"+b.orgID+"/"+recallID, body, map[string]string{"webhook-id": id,
			"webhook-timestamp": strconv.FormatInt(now.Unix(), 10), "webhook-signature": vendorhook.SignStandard(key, id, now, body)})
	}
	zoom := func(body []byte) response {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		return send("/v1/hooks/zoom/"+b.orgID+"/"+zoomID, body, map[string]string{"x-zm-request-timestamp": ts,
			"x-zm-signature": vendorhook.SignZoom("tok", ts, body)})
	}

	done := []byte(`{"event":"transcript.done","data":{"data":{"code":"done"},"transcript":{"id":"tr_1","metadata":{}},"recording":{"id":"rec_1","metadata":{}},"bot":null}}`)
	require.Equal(t, http.StatusAccepted, recall("msg_1", done).Status)
	require.Equal(t, http.StatusOK, recall("msg_1", done).Status)
	require.Equal(t, http.StatusOK, recall("msg_2", []byte(`{"event":"bot.status_change","data":{"bot":{"id":"b"}}}`)).Status)
	require.Equal(t, http.StatusBadRequest, recall("msg_3", []byte(`{"event":"transcript.done","data":{}}`)).Status)
	require.Equal(t, http.StatusUnauthorized, send("/v1/hooks/recall/"+b.orgID+"/"+recallID, done, nil).Status)
	require.Equal(t, http.StatusNotFound, send("/v1/hooks/zoom/"+b.orgID+"/"+recallID, done, nil).Status)
	require.Equal(t, http.StatusRequestEntityTooLarge, recall("msg_4", bytes.Repeat([]byte(" "), maxHookBody+1)).Status)

	res := zoom([]byte(`{"payload":{"plainToken":"abc"},"event_ts":1,"event":"endpoint.url_validation"}`))
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, vendorhook.AnswerZoomChallenge("tok", "abc").EncryptedToken, res.Map(t)["encryptedToken"])
	completed := []byte(`{"event":"recording.transcript_completed","event_ts":1,"payload":{"object":{"uuid":"u1","id":1,"topic":"QBR",
		"start_time":"2026-03-02T15:00:00Z","duration":30,"host_email":"dana@acme.test","recording_files":[{"id":"f1","file_type":"TRANSCRIPT",
		"file_extension":"VTT","download_url":"https://us02web.zoom.us/rec/download/f1"}]}},"download_token":"dl"}`)
	require.Equal(t, http.StatusAccepted, zoom(completed).Status)
	require.Equal(t, http.StatusOK, zoom(completed).Status)
	require.Equal(t, http.StatusOK, zoom([]byte(`{"event":"meeting.started","payload":{"object":{"uuid":"u2","id":2}}}`)).Status)
	require.Equal(t, http.StatusBadRequest, zoom([]byte(`{"event":"recording.transcript_completed","payload":{}}`)).Status)
}
