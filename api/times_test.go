package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/store"
	"logbook/internal/testdb"
	"logbook/retrieval"
)

// TestTimeBounds: a time is checked against years 1970 to 9999 after its
// conversion to UTC, on every kind of input that carries one.
func TestTimeBounds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	acct := b.create("/v1/accounts", map[string]any{"name": "Acme"})
	note := func(at string) map[string]any {
		return map[string]any{"type": "note", "account_id": acct, "occurred_at": at, "body": "x"}
	}
	refused := func(res response, field string) {
		t.Helper()
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
		require.Contains(t, res.Fields(t), field, "%s", res.Body)
	}
	for _, at := range []string{
		"9999-12-31T23:59:59-23:59",     // year 10000 in UTC
		"9999-12-31T23:59:59.999-00:01", // a minute past
		"1970-01-01T00:30:00+01:00",     // 1969 in UTC
		"1969-12-31T23:59:59Z",
		"0000-01-01T00:00:00Z",
	} {
		refused(b.do("POST", "/v1/activities", note(at)), "occurred_at")
		refused(b.do("POST", "/v1/activities", map[string]any{"activities": []any{note(at)}}), "activities[0].occurred_at")
		refused(b.do("POST", "/v1/transcripts", map[string]any{"source": "zoom", "started_at": at, "account_id": acct,
			"segments": []map[string]any{{"speaker": "Dana", "start_ms": 0, "end_ms": 1000, "text": "Hello."}}}), "started_at")
		refused(b.do("GET", "/v1/accounts/"+acct+"/timeline?since="+url.QueryEscape(at), nil), "since")
		refused(b.do("POST", "/v1/ask", map[string]any{"question": "what?", "until": at}), "until")
	}
	for _, d := range []string{"1969-12-31", "0000-01-01"} {
		refused(b.do("POST", "/v1/deals", map[string]any{"account_id": acct, "name": "D", "close_date": d}), "close_date")
		refused(b.do("POST", "/v1/activities", map[string]any{"type": "note", "account_id": acct, "occurred_at": "2026-01-01T00:00:00Z",
			"next_step": map[string]any{"text": "call", "due_date": d}}), "next_step.due_date")
	}

	// The edges themselves are accepted and read back in UTC.
	for at, want := range map[string]string{
		"9999-12-31T23:59:59Z":      "9999-12-31T23:59:59Z",
		"9999-12-31T23:59:59+23:59": "9999-12-31T00:00:59Z",
		"1970-01-01T00:00:00Z":      "1970-01-01T00:00:00Z",
		"1970-01-01T01:00:00+01:00": "1970-01-01T00:00:00Z",
	} {
		id := b.create("/v1/activities", note(at))
		res := b.do("GET", "/v1/activities/"+id, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		require.Equal(t, want, res.Map(t)["occurred_at"], "%s", at)
	}
	res := b.do("GET", "/v1/accounts/"+acct+"/timeline", nil)
	require.Equal(t, http.StatusOK, res.Status)
	require.True(t, json.Valid(res.Body), "%s", res.Body)
	require.Len(t, res.Map(t)["items"], 4)
}

// TestStoredTimesOutOfRangeRead: a time stored before the bounds were
// enforced (year 10000, PostgreSQL's infinity) reads as the nearest end of
// the range on every read route instead of breaking them.
func TestStoredTimesOutOfRangeRead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := testdb.Tx(t)
	s := store.New(tx)
	lp := local.New(384)
	rs, err := retrieval.New(retrieval.Config{Store: s, Embedder: lp, Completer: lp, EmbedModel: lp.Model()})
	require.NoError(t, err)
	h, err := NewHandler(Deps{Store: s, Asker: rs, Searcher: rs})
	require.NoError(t, err)
	org, err := s.OrgCreate(ctx, "Org "+t.Name())
	require.NoError(t, err)
	k, err := s.APIKeyCreate(ctx, org.ID, "admin", []crm.Scope{crm.ScopeAdmin})
	require.NoError(t, err)
	b := &testBundle{t: t, store: s, handler: h, orgID: org.ID, key: k.Key}
	require.NoError(t, json.Unmarshal(h.(interface{ spec() []byte }).spec(), &b.spec))

	acct := b.create("/v1/accounts", map[string]any{"name": "Acme"})
	late := b.create("/v1/activities", map[string]any{"type": "email", "account_id": acct, "occurred_at": "2026-03-10T15:00:00Z",
		"subject": "Renewal quote", "body": "The renewal uplift is capped at 7 percent for a two-year term.",
		"next_step": map[string]any{"text": "send the contract", "due_date": "2026-03-20"}})
	early := b.create("/v1/activities", map[string]any{"type": "note", "account_id": acct, "occurred_at": "2026-03-11T15:00:00Z",
		"body": "The renewal contract goes out on Friday."})
	_, err = rs.IndexActivity(ctx, b.orgID, late)
	require.NoError(t, err)
	_, err = rs.IndexActivity(ctx, b.orgID, early)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `UPDATE activities SET occurred_at = '10000-01-01T00:00:00Z', next_step_due = '10000-02-01' WHERE id = $1`, late)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `UPDATE activities SET occurred_at = '-infinity' WHERE id = $1`, early)
	require.NoError(t, err)

	for _, path := range []string{
		"/v1/activities/" + late,
		"/v1/activities/" + early,
		"/v1/accounts/" + acct + "/timeline",
		"/v1/accounts/" + acct,
		"/v1/accounts",
		"/v1/accounts/" + acct + "/brief",
		"/v1/accounts/" + acct + "/search?q=renewal",
		"/v1/search?q=renewal",
	} {
		res := b.do("GET", path, nil)
		require.Equal(t, http.StatusOK, res.Status, "GET %s: %s", path, res.Body)
		require.True(t, json.Valid(res.Body), "GET %s: %s", path, res.Body)
	}
	got := b.do("GET", "/v1/activities/"+late, nil).Map(t)
	require.Equal(t, "9999-12-31T23:59:59.999999Z", got["occurred_at"])
	require.Equal(t, "9999-12-31", got["next_step"].(map[string]any)["due_date"])
	require.Equal(t, "1970-01-01T00:00:00Z", b.do("GET", "/v1/activities/"+early, nil).Map(t)["occurred_at"])
	for _, path := range []string{"/v1/accounts/" + acct + "/ask", "/v1/ask"} {
		res := b.do("POST", path, map[string]any{"question": "What is the renewal uplift?"})
		require.Equal(t, http.StatusOK, res.Status, "POST %s: %s", path, res.Body)
		require.True(t, json.Valid(res.Body), "POST %s: %s", path, res.Body)
	}
}

// TestWriteJSONEncodeError: a value encoding/json cannot write is a logged
// 500 problem, never a 200 with an empty body.
func TestWriteJSONEncodeError(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	rec := &statusRecorder{ResponseWriter: w, r: httptest.NewRequest("GET", "/", nil)}
	rec.r.Pattern = "GET /"
	writeJSON(rec, http.StatusOK, map[string]any{"at": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.Equal(t, http.StatusInternalServerError, w.Code)
	require.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	var p Problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p), "%s", w.Body)
	require.Equal(t, http.StatusInternalServerError, p.Status)
	require.Error(t, rec.err, "the middleware has nothing to log")

	w = httptest.NewRecorder()
	writeJSON(w, http.StatusCreated, map[string]any{"at": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.Equal(t, http.StatusCreated, w.Code)
	require.JSONEq(t, `{"at":"2026-01-01T00:00:00Z"}`, w.Body.String())
	require.Equal(t, strconv.Itoa(w.Body.Len()), w.Header().Get("Content-Length"))
}
