package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/store"
	"logbook/retrieval"
)

// TestTenancy walks every route that names an object and calls it with a
// second org's admin key on an object of the first org: the answer must be
// 404 (never 403, never the object). Every list route is also called with the
// second org's key and must not show the first org's objects. A route added
// without a fixture here fails the test.
func TestTenancy(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Search needs retrieval: the local provider, records indexed below.
	p := local.New(384)
	svc, err := retrieval.New(retrieval.Config{Store: b.store, Embedder: p, Completer: p, EmbedModel: "local-hash-v2/384"})
	require.NoError(t, err)
	connectors, _ := testCapture(t, b.store, "", nil)
	b.handler, err = NewHandler(Deps{Store: b.store, Searcher: svc, Capture: connectors})
	require.NoError(t, err)
	_, otherKey := b.newOrg("Other Org")

	// Org A's objects, made through the API with org A's key.
	owner := b.create("/v1/users", map[string]any{"email": "owner@seller.test", "name": "Olive Owner", "role": "rep"})
	account := b.create("/v1/accounts", map[string]any{"name": "Acme", "domains": []string{"acme.test"}, "owner_id": owner})
	contact := b.create("/v1/contacts", map[string]any{"account_id": account, "name": "Dana Lee", "email": "dana@acme.test"})
	deal := b.create("/v1/deals", map[string]any{"account_id": account, "name": "Acme renewal", "owner_id": owner})
	activity := b.create("/v1/activities", map[string]any{"type": "note", "account_id": account,
		"occurred_at": "2026-03-02T15:00:00Z", "body": "secret canary A"})
	_, err = svc.IndexActivity(context.Background(), b.orgID, activity)
	require.NoError(t, err)
	keyRes := b.do("POST", "/v1/api-keys", map[string]any{"name": "reader", "scopes": []string{"read"}})
	require.Equal(t, http.StatusCreated, keyRes.Status)
	apiKey := keyRes.Map(t)["id"].(string)
	webhook := b.create("/v1/webhooks", map[string]any{"url": "https://hooks.seller.test/logbook",
		"events": []string{"activity.created"}})

	// A transcript, processed into notes with one action item.
	trRes := b.do("POST", "/v1/transcripts", map[string]any{"source": "zoom", "external_id": "t-1", "title": "Acme sync",
		"started_at": "2026-03-02T15:00:00Z", "account_id": account,
		"segments": []map[string]any{{"speaker": "Dana Lee", "start_ms": 0, "end_ms": 4000, "text": "I'll send the canary A list by Friday."}}})
	require.Equal(t, http.StatusAccepted, trRes.Status, "%s", trRes.Body)
	var tr struct {
		ID         string `json:"id"`
		ActivityID string `json:"activity_id"`
	}
	trRes.JSON(t, &tr)
	owner2 := "Dana Lee"
	notes := crm.Notes{Summary: "canary A", Coverage: 1, Model: "m", PromptVersion: "v",
		ActionItems: []crm.ActionItem{{Text: "Send the canary A list", Owner: &owner2,
			Evidence: []crm.Evidence{{Segment: 0, Speaker: "Dana Lee", Quote: "I'll send the canary A list"}}}}}
	chunks, err := svc.MeetingChunks(context.Background(), b.orgID, tr.ActivityID,
		[]crm.Segment{{Index: 0, Speaker: "Dana Lee", StartMS: 0, EndMS: 4000, Text: "I'll send the canary A list by Friday."}}, notes)
	require.NoError(t, err)
	_, err = b.store.NotesSave(context.Background(), b.orgID, tr.ID, 1, notes, chunks)
	require.NoError(t, err)
	items, err := b.store.ActionItemList(context.Background(), b.orgID, store.ActionItemFilter{})
	require.NoError(t, err)
	require.Len(t, items.Items, 1)

	objects := map[string]string{
		"user": owner, "account": account, "contact": contact, "deal": deal,
		"activity": activity, "api_key": apiKey, "webhook": webhook,
		"transcript": tr.ID, "action_item": items.Items[0].ID,
		"connector": b.create("/v1/connectors", map[string]any{"kind": "ics", "name": "canary A calendar",
			"secrets": map[string]any{"url": "https://calendar.example/feed.ics"}}),
	}
	// The webhook's delivery of the transcript's meeting (activity.created).
	deliveries := b.deliveryIDs(webhook, "")
	require.NotEmpty(t, deliveries)
	objects["delivery_id"] = deliveries[0]
	// Org B's own user, for bodies that must be valid in org B.
	otherUser := func() string {
		res := b.doKey(otherKey, "POST", "/v1/users", map[string]any{"email": "b@other.test", "name": "B", "role": "rep"})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		return res.Map(t)["id"].(string)
	}()
	// Bodies that are valid, so a 404 can only come from tenancy.
	bodies := map[string]any{
		"POST /v1/deals/{id}/reassign":    map[string]any{"owner_id": otherUser, "note": "x"},
		"PATCH /v1/action-items/{id}":     map[string]any{"status": "done"},
		"POST /v1/connectors/{id}/resync": map[string]any{"from": time.Now().UTC().AddDate(0, 0, -7).Format(time.DateOnly)},
	}
	// Query strings that are valid, for routes that need one, and that
	// would find org A's canary records if tenancy failed.
	queries := map[string]string{
		"GET /v1/accounts/{id}/search": "?q=secret+canary",
		"GET /v1/search":               "?q=secret+canary",
	}

	covered := 0
	for _, rt := range routes() {
		params := pathParams(rt.Path)
		if len(params) == 0 {
			continue
		}
		if rt.Scope == "" {
			continue // a public hook: the vendor's signature names the org, not a key (hooks_dialer_test.go)
		}
		name := rt.Method + " " + rt.Path
		if strings.HasPrefix(rt.Path, "/v1/hooks/recall/") || strings.HasPrefix(rt.Path, "/v1/hooks/zoom/") {
			continue // public, the org and connector in the path, authorised by the connector's signature: capture/notetaker tests another org's connector (404)
		}
		require.NotEmpty(t, rt.Object, "%s names an object but its route entry has no Object: add one, and a fixture here", name)
		id, ok := objects[rt.Object]
		require.True(t, ok, "%s names a %q, which TestTenancy has no fixture for: add one", name, rt.Object)
		path := strings.Replace(rt.Path, "{"+params[0]+"}", id, 1)
		// A second ID (a webhook's delivery) is the fixture named by the
		// parameter, an object of the first one.
		for _, p := range params[1:] {
			sub, ok := objects[p]
			require.True(t, ok, "%s: TestTenancy has no fixture for {%s}: add one to objects", name, p)
			path = strings.Replace(path, "{"+p+"}", sub, 1)
		}
		path += queries[name]
		var body any
		if rt.Method == "POST" || rt.Method == "PATCH" || rt.Method == "PUT" {
			body = "{}"
			if bd, ok := bodies[name]; ok {
				body = bd
			}
		}
		res := b.doKey(otherKey, rt.Method, path, body)
		require.Equal(t, http.StatusNotFound, res.Status, "%s with another org's key: %s", name, res.Body)
		require.NotContains(t, string(res.Body), id, "%s leaked the ID", name)
		covered++

		// And the owning org still sees it (the fixture is real).
		if rt.Method == "GET" {
			own := b.do("GET", path, nil)
			require.Equal(t, http.StatusOK, own.Status, "%s with the owner's key", name)
			if _, ok := queries[name]; ok {
				require.Contains(t, string(own.Body), "canary A", "%s with the owner's key finds the canary", name)
			}
		}
	}
	require.Greater(t, covered, 10)

	// Lists never show another org's objects.
	for _, rt := range routes() {
		if rt.Method != "GET" || len(pathParams(rt.Path)) > 0 || rt.Scope == "" {
			continue
		}
		res := b.doKey(otherKey, "GET", rt.Path+queries["GET "+rt.Path], nil)
		require.Less(t, res.Status, 500, "GET %s", rt.Path)
		if q, ok := queries["GET "+rt.Path]; ok {
			require.Equal(t, http.StatusOK, res.Status, "GET %s%s: %s", rt.Path, q, res.Body)
			// The owner's key finds the canary, so the query is one that would leak.
			require.Contains(t, string(b.do("GET", rt.Path+q, nil).Body), "canary A", "GET %s%s with the owner's key", rt.Path, q)
		}
		for kind, id := range objects {
			require.NotContains(t, string(res.Body), id, "GET %s shows org A's %s to org B", rt.Path, kind)
		}
		require.NotContains(t, string(res.Body), "canary A", fmt.Sprintf("GET %s", rt.Path))
	}
}

// TestAuth checks 401 against 403 and revocation.
func TestAuth(t *testing.T) {
	t.Parallel()

	t.Run("MissingOrBadKeyIs401", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, key := range []string{"", "lbk_nope", "not-even-prefixed"} {
			res := b.doKey(key, "GET", "/v1/accounts", nil)
			require.Equal(t, http.StatusUnauthorized, res.Status)
			require.Contains(t, res.Header.Get("WWW-Authenticate"), "Bearer")
		}
	})

	t.Run("MissingScopeIs403", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		read := b.keyWith("read")
		require.Equal(t, http.StatusOK, b.doKey(read, "GET", "/v1/accounts", nil).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "POST", "/v1/accounts", map[string]any{"name": "A"}).Status)
		require.Equal(t, http.StatusForbidden, b.doKey(read, "POST", "/v1/api-keys", map[string]any{"name": "k", "scopes": []string{"admin"}}).Status)
		ingest := b.keyWith("ingest")
		require.Equal(t, http.StatusForbidden, b.doKey(ingest, "GET", "/v1/accounts", nil).Status)
	})

	t.Run("RevokedKeyStopsAtOnce", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := b.do("POST", "/v1/api-keys", map[string]any{"name": "temp", "scopes": []string{"read", "write"}})
		require.Equal(t, http.StatusCreated, res.Status)
		var k struct{ ID, Key string }
		res.JSON(t, &k)
		require.True(t, strings.HasPrefix(k.Key, "lbk_"))
		require.Equal(t, http.StatusOK, b.doKey(k.Key, "GET", "/v1/accounts", nil).Status)
		require.Equal(t, http.StatusNoContent, b.do("DELETE", "/v1/api-keys/"+k.ID, nil).Status)
		require.Equal(t, http.StatusUnauthorized, b.doKey(k.Key, "GET", "/v1/accounts", nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("DELETE", "/v1/api-keys/"+k.ID, nil).Status)
		// The list shows no secrets.
		list := b.do("GET", "/v1/api-keys", nil)
		require.NotContains(t, string(list.Body), k.Key)
		require.NotContains(t, string(list.Body), "lbk_")
	})

	t.Run("BadKeyInput", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		res := b.do("POST", "/v1/api-keys", map[string]any{"name": "", "scopes": []string{"root"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.ElementsMatch(t, []string{"name", "scopes[0]"}, res.Fields(t))
	})
}

// TestOps covers health, readiness, metrics, the spec, and the mux's own
// 404 and 405 answering in problem+json.
func TestOps(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Equal(t, http.StatusOK, b.doKey("", "GET", "/healthz", nil).Status)
	require.Equal(t, http.StatusOK, b.doKey("", "GET", "/readyz", nil).Status)
	require.Equal(t, http.StatusNotFound, b.doKey("", "GET", "/v1/nothing-here", nil).Status)
	res := b.doKey("", "PUT", "/v1/accounts", nil)
	require.Equal(t, http.StatusMethodNotAllowed, res.Status)
	require.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))

	b.do("GET", "/v1/accounts", nil)
	m := b.doKey("", "GET", "/metrics", nil)
	require.Equal(t, http.StatusOK, m.Status)
	require.Contains(t, string(m.Body), `logbook_http_requests_total{method="GET",route="/v1/accounts",status="200"} 1`)
	require.Contains(t, string(m.Body), `logbook_http_request_duration_seconds_bucket{method="GET",route="/v1/accounts",status="200"`)

	spec := b.doKey("", "GET", "/openapi.json", nil).Map(t)
	require.Equal(t, "3.1.0", spec["openapi"])
	paths := spec["paths"].(map[string]any)
	// Every route in the table is in the document, with every method, and
	// nothing else is.
	want := map[string]bool{}
	for _, rt := range routes() {
		want[rt.Method+" "+rt.Path] = true
		op, ok := paths[rt.Path].(map[string]any)[strings.ToLower(rt.Method)]
		require.True(t, ok, "%s %s missing from /openapi.json", rt.Method, rt.Path)
		require.NotEmpty(t, op.(map[string]any)["responses"])
	}
	for p, ops := range paths {
		for m := range ops.(map[string]any) {
			require.True(t, want[strings.ToUpper(m)+" "+p], "/openapi.json documents %s %s, which is not served", m, p)
		}
	}
}

// TestOpenAPIEnums checks the status enums reach the document.
func TestOpenAPIEnums(t *testing.T) {
	t.Parallel()
	b := setup(t)
	schemas := b.spec["components"].(map[string]any)["schemas"].(map[string]any)
	enumOf := func(schema, field string) []any {
		props := schemas[schema].(map[string]any)["properties"].(map[string]any)
		return props[field].(map[string]any)["enum"].([]any)
	}
	require.ElementsMatch(t, []any{"queued", "processing", "done", "failed", "held"}, enumOf("Transcript", "status"))
	require.ElementsMatch(t, []any{"given", "declined", "unknown"}, enumOf("MeetingConsent", "consent"))
	require.ElementsMatch(t, []any{"open", "done"}, enumOf("ActionItem", "status"))
	require.ElementsMatch(t, []any{"pending", "delivered", "failed"}, enumOf("WebhookDelivery", "status"))
}
