package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/retrieval"
)

// TestAskEventStreamMatchesDocument asks for server-sent events on both ask
// routes: serve checks each event against the document's x-events (token,
// citations, done), and a failure after the stream began against the error
// event's schema.
func TestAskEventStreamMatchesDocument(t *testing.T) {
	b, _, account, _ := setupAsk(t, nil)
	for _, path := range []string{"/v1/accounts/" + account + "/ask", "/v1/ask"} {
		req := httptest.NewRequest("POST", path, strings.NewReader(`{"question":"What cap did we promise on the renewal uplift?"}`))
		req.Header.Set("Authorization", "Bearer "+b.key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		res := b.serve(req)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
		require.Contains(t, string(res.Body), "event: citations\n")
		require.Contains(t, string(res.Body), "event: done\n")
	}

	h, err := NewHandler(Deps{Store: b.store, Asker: failingAsker{}})
	require.NoError(t, err)
	b.handler = h
	req := httptest.NewRequest("POST", "/v1/ask", strings.NewReader(`{"question":"Anything?"}`))
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	res := b.serve(req)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Contains(t, string(res.Body), "event: error\n")
}

// failingAsker sends one token and then fails, as a model that drops the
// connection mid-answer does.
type failingAsker struct{}

func (failingAsker) Ask(_ context.Context, _ retrieval.Question, onToken func(string) error) (retrieval.Answer, error) {
	if onToken != nil {
		if err := onToken("We"); err != nil {
			return retrieval.Answer{}, err
		}
	}
	return retrieval.Answer{}, errors.Join(retrieval.ErrUnavailable, errors.New("connection reset"))
}

// TestWebhookPayloadsMatchDocument records every kind of webhook event
// through the paths that write them (an activity posted alone and in a
// batch, a transcript, a deal's handoff, a meeting's notes) and checks each
// stored payload against the request body the document's webhooks section
// gives for its event, and the delivery headers it lists against the
// worker's.
func TestWebhookPayloadsMatchDocument(t *testing.T) {
	t.Parallel()
	b := trSetup(t, nil)
	ctx := context.Background()
	b.create("/v1/webhooks", map[string]any{"url": "https://hooks.example.test/", "events": []string{"meeting.processed", "activity.created"}})
	acct := b.account("Acme", "acme.test")
	b.create("/v1/activities", map[string]any{"type": "call", "direction": "outbound", "account_id": acct,
		"occurred_at": "2026-03-02T15:00:00Z", "external_id": "c-1", "source": "dialer"})
	res := b.do("POST", "/v1/activities", map[string]any{"activities": []map[string]any{
		{"type": "note", "account_id": acct, "occurred_at": "2026-03-03T15:00:00Z"}}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	user := b.create("/v1/users", map[string]any{"email": "rep@example.test", "name": "Rep"})
	deal := b.create("/v1/deals", map[string]any{"account_id": acct, "name": "Renewal"})
	res = b.do("POST", "/v1/deals/"+deal+"/reassign", map[string]any{"owner_id": user, "note": "over to you"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	tr := b.accepted(b.do("POST", "/v1/transcripts", map[string]any{"source": "zoom", "external_id": "m-1", "title": "QBR",
		"started_at": "2026-03-04T15:00:00Z", "account_id": acct, "format": "text",
		"content": "Dana Lee: I will send the user list by Friday.\nWei Zhang: Thanks.\n"}), http.StatusAccepted)
	trSaveNotes(t, b, tr.ID, "Dana Lee")

	spec := servedSpec(t)
	ls := loadSpec(spec)
	require.NoError(t, ls.err)
	rows, err := b.tx.Query(ctx, `SELECT event, payload::text FROM webhook_deliveries WHERE org_id = $1 ORDER BY id`, b.orgID)
	require.NoError(t, err)
	seen := map[string]int{}
	for rows.Next() {
		var event, payload string
		require.NoError(t, rows.Scan(&event, &payload))
		seen[event]++
		item := ls.doc.Webhooks[event]
		require.NotNil(t, item, "event %s is not in the document's webhooks", event)
		schema := item.Post.RequestBody.Value.Content.Get("application/json").Schema.Value
		var v any
		require.NoError(t, json.Unmarshal([]byte(payload), &v))
		opts := append([]openapi3.SchemaValidationOption{openapi3.VisitAsRequest(), openapi3.MultiErrors(),
			openapi3.EnableJSONSchema2020()}, schemaOptions...)
		require.NoError(t, schema.VisitJSON(v, opts...), "%s payload: %s", event, payload)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, 1, seen["meeting.processed"], "%v", seen)
	require.GreaterOrEqual(t, seen["activity.created"], 3, "%v", seen)

	for _, op := range []*openapi3.Operation{ls.doc.Webhooks["meeting.processed"].Post, ls.doc.Webhooks["activity.created"].Post} {
		for _, h := range []string{"Logbook-Event", "Logbook-Delivery", crm.SignatureHeader} {
			p := op.Parameters.GetByInAndName("header", h)
			require.NotNil(t, p, h)
			require.True(t, p.Required, h)
		}
	}
}
