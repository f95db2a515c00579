package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/internal/llm/local"
	"logbook/retrieval"
)

// searchBundle is a testBundle whose API searches with retrieval on the
// local provider, with two accounts of its org and one of another org,
// each with indexed records.
type searchBundle struct {
	*testBundle
	svc                  *retrieval.Service
	acme, globex         string // accounts of the bundle's org
	otherOrg, otherKey   string // the other org and its admin key
	otherAccount         string
	email, note, meeting string // acme's records (meeting: the activity)
	globexEmail          string
	otherEmail           string
}

// setupSearch builds a searchBundle; embedder, when not nil, replaces the
// local provider's for searching (the records are indexed with the local
// one either way).
func setupSearch(t *testing.T, embedder llm.Embedder) *searchBundle {
	t.Helper()
	ctx := context.Background()
	b := &searchBundle{testBundle: setup(t)}
	p := local.New(384)
	var err error
	b.svc, err = retrieval.New(retrieval.Config{Store: b.store, Embedder: p, Completer: p, EmbedModel: "local-hash-v2/384"})
	require.NoError(t, err)
	searcher := b.svc
	if embedder != nil {
		searcher, err = retrieval.New(retrieval.Config{Store: b.store, Embedder: embedder, EmbedModel: "local-hash-v2/384"})
		require.NoError(t, err)
	}
	h, err := NewHandler(Deps{Store: b.store, Searcher: searcher})
	require.NoError(t, err)
	b.handler = h

	b.acme = b.create("/v1/accounts", map[string]any{"name": "Acme"})
	b.globex = b.create("/v1/accounts", map[string]any{"name": "Globex"})
	b.email = b.logged(b.key, b.orgID, map[string]any{"type": "email", "direction": "outbound", "account_id": b.acme,
		"occurred_at": "2026-03-10T15:00:00Z", "subject": "Renewal quote",
		"body": "Hi Wei, the renewal uplift is capped at 7 percent for a two-year term, as promised on the call."})
	b.note = b.logged(b.key, b.orgID, map[string]any{"type": "note", "account_id": b.acme,
		"occurred_at": "2026-02-01T15:00:00Z", "subject": "Security review",
		"body": "Wei asked for SSO with Okta before the pilot starts."})
	b.globexEmail = b.logged(b.key, b.orgID, map[string]any{"type": "email", "direction": "inbound", "account_id": b.globex,
		"occurred_at": "2026-03-11T15:00:00Z", "subject": "Uplift",
		"body": "Globex wants the renewal uplift capped as well."})

	// A processed meeting on Acme: one transcript chunk (two turns) and a
	// notes chunk.
	segs := []crm.Segment{
		{Index: 0, Speaker: "Dana Lee", StartMS: 1000, EndMS: 4000, Text: "Let's go over the rollout plan."},
		{Index: 1, Speaker: "Wei Zhang", StartMS: 4000, EndMS: 9000, Text: "The pilot budget is approved for the warehouse team."},
	}
	res := b.do("POST", "/v1/transcripts", map[string]any{"source": "zoom", "external_id": "s-1", "title": "Acme sync",
		"started_at": "2026-03-05T15:00:00Z", "account_id": b.acme, "segments": []map[string]any{
			{"speaker": segs[0].Speaker, "start_ms": segs[0].StartMS, "end_ms": segs[0].EndMS, "text": segs[0].Text},
			{"speaker": segs[1].Speaker, "start_ms": segs[1].StartMS, "end_ms": segs[1].EndMS, "text": segs[1].Text},
		}})
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	var tr struct {
		ID         string `json:"id"`
		ActivityID string `json:"activity_id"`
	}
	res.JSON(t, &tr)
	b.meeting = tr.ActivityID
	notes := crm.Notes{Summary: "The team reviewed the rollout plan.", Coverage: 1, Model: "m", PromptVersion: "v"}
	chunks, err := b.svc.MeetingChunks(ctx, b.orgID, tr.ActivityID, segs, notes)
	require.NoError(t, err)
	_, err = b.store.NotesSave(ctx, b.orgID, tr.ID, 1, notes, chunks)
	require.NoError(t, err)

	// Another org, with words the searches below look for.
	b.otherOrg, b.otherKey = b.newOrg("Other Org")
	res = b.doKey(b.otherKey, "POST", "/v1/accounts", map[string]any{"name": "Initech"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	b.otherAccount = res.Map(t)["id"].(string)
	b.otherEmail = b.logged(b.otherKey, b.otherOrg, map[string]any{"type": "email", "direction": "outbound", "account_id": b.otherAccount,
		"occurred_at": "2026-03-10T15:00:00Z", "subject": "Renewal uplift",
		"body": "The renewal uplift is capped at 7 percent; the pilot budget is approved."})
	return b
}

// logged posts an activity with key and indexes it, as the worker would.
func (b *searchBundle) logged(key, orgID string, body map[string]any) string {
	b.t.Helper()
	res := b.doKey(key, "POST", "/v1/activities", body)
	require.Equal(b.t, http.StatusCreated, res.Status, "%s", res.Body)
	id := res.Map(b.t)["id"].(string)
	_, err := b.svc.IndexActivity(context.Background(), orgID, id)
	require.NoError(b.t, err)
	return id
}

// search GETs path with the query parameters kv (name, value, …) and
// requires 200.
func (b *searchBundle) search(key, path string, kv ...string) []Passage {
	b.t.Helper()
	res := b.doKey(key, "GET", path+query(kv...), nil)
	require.Equal(b.t, http.StatusOK, res.Status, "%s: %s", path, res.Body)
	var out itemsOf[Passage]
	res.JSON(b.t, &out)
	require.NotNil(b.t, out.Items, "items is a list, never null")
	for i := 1; i < len(out.Items); i++ {
		require.GreaterOrEqual(b.t, out.Items[i-1].Score, out.Items[i].Score, "best first")
	}
	return out.Items
}

func query(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

func activities(ps []Passage) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ActivityID)
	}
	return out
}

// highlighted returns the words the highlights mark, slicing the text by
// UTF-16 code units as a JavaScript client does.
func highlighted(t *testing.T, p Passage) []string {
	t.Helper()
	u := utf16.Encode([]rune(p.Text))
	var out []string
	for _, h := range p.Highlights {
		require.True(t, 0 <= h.Start && h.Start < h.End && h.End <= len(u), "highlight %+v out of %q", h, p.Text)
		out = append(out, string(utf16.Decode(u[h.Start:h.End])))
	}
	return out
}

func TestSearchAccount(t *testing.T) {
	t.Parallel()
	b := setupSearch(t, nil)
	path := "/v1/accounts/" + b.acme + "/search"

	t.Run("WordsRankFirst", func(t *testing.T) {
		items := b.search(b.key, path, "q", "What cap did we promise on the renewal uplift?")
		require.NotEmpty(t, items)
		top := items[0]
		require.Equal(t, b.email, top.ActivityID)
		require.Equal(t, b.acme, top.AccountID)
		require.Equal(t, crm.ActivityEmail, top.Type)
		require.Equal(t, "2026-03-10T15:00:00Z", top.OccurredAt.UTC().Format("2006-01-02T15:04:05Z07:00"))
		require.Nil(t, top.Speaker, "an email has no speaker")
		require.Nil(t, top.StartMS)
		require.Nil(t, top.EndMS)
		require.Contains(t, top.Text, "the renewal uplift is capped at 7 percent")
		require.NotEmpty(t, top.ChunkID)
		require.Greater(t, top.Score, 0.0)
		require.Equal(t, []string{"Renewal", "renewal", "uplift", "capped", "promised"}, highlighted(t, top))

		// The wire format has every field, nulls included.
		res := b.do("GET", path+query("q", "renewal uplift"), nil)
		var raw struct {
			Items []map[string]json.RawMessage `json:"items"`
		}
		res.JSON(t, &raw)
		require.NotEmpty(t, raw.Items)
		for _, k := range []string{"activity_id", "account_id", "chunk_id", "type", "occurred_at", "speaker", "start_ms", "end_ms", "text", "highlights", "score"} {
			require.Contains(t, raw.Items[0], k)
		}
		require.Equal(t, "null", string(raw.Items[0]["speaker"]))
	})

	t.Run("TranscriptPassage", func(t *testing.T) {
		items := b.search(b.key, path, "q", "was the pilot budget approved?")
		require.NotEmpty(t, items)
		top := items[0]
		require.Equal(t, b.meeting, top.ActivityID)
		require.Equal(t, crm.ActivityMeeting, top.Type)
		require.Equal(t, "Dana Lee: Let's go over the rollout plan.\nWei Zhang: The pilot budget is approved for the warehouse team.", top.Text)
		require.NotNil(t, top.Speaker)
		require.Equal(t, "Dana Lee", *top.Speaker, "a transcript passage's first speaker")
		require.NotNil(t, top.StartMS)
		require.NotNil(t, top.EndMS)
		require.Equal(t, int64(1000), *top.StartMS)
		require.Equal(t, int64(9000), *top.EndMS)
		require.Equal(t, []string{"pilot", "budget", "approved"}, highlighted(t, top))
	})

	t.Run("OnlyThisAccount", func(t *testing.T) {
		for _, q := range []string{"renewal uplift capped", "pilot budget approved", "Globex"} {
			for _, p := range b.search(b.key, path, "q", q, "limit", "50") {
				require.Equal(t, b.acme, p.AccountID, "%q found %s", q, p.ActivityID)
				require.NotContains(t, []string{b.globexEmail, b.otherEmail}, p.ActivityID)
			}
		}
	})

	t.Run("Types", func(t *testing.T) {
		items := b.search(b.key, path, "q", "SSO Okta renewal", "types", "note")
		require.Equal(t, []string{b.note}, activities(items))
		items = b.search(b.key, path, "q", "SSO Okta renewal", "types", "email, meeting")
		require.Equal(t, []string{b.email}, activities(items))
		require.Empty(t, b.search(b.key, path, "q", "SSO Okta", "types", "call"))
	})

	t.Run("SinceUntil", func(t *testing.T) {
		q := "renewal uplift pilot budget SSO"
		require.ElementsMatch(t, []string{b.email, b.note, b.meeting}, activities(b.search(b.key, path, "q", q)))
		require.Equal(t, []string{b.note}, activities(b.search(b.key, path, "q", q, "until", "2026-03-01T00:00:00Z")))
		require.Equal(t, []string{b.email}, activities(b.search(b.key, path, "q", q, "since", "2026-03-06T00:00:00Z")))
		require.Equal(t, []string{b.meeting}, activities(b.search(b.key, path, "q", q,
			"since", "2026-03-05T00:00:00Z", "until", "2026-03-06T00:00:00+00:00")))
	})

	t.Run("NothingRelevant", func(t *testing.T) {
		// The vector list always has a nearest chunk; a passage with none
		// of the words and nothing close in meaning is not a result.
		require.Empty(t, b.search(b.key, path, "q", "Kubernetes migration"))
	})

	t.Run("NoSearchableWords", func(t *testing.T) {
		for _, q := range []string{"?!", "what is the", "... --- ..."} {
			res := b.do("GET", path+query("q", q), nil)
			require.Equal(t, http.StatusOK, res.Status, "%q: %s", q, res.Body)
			require.JSONEq(t, `{"items":[]}`, string(res.Body), "%q", q)
		}
	})
}

func TestSearchLimit(t *testing.T) {
	t.Parallel()
	b := setupSearch(t, nil)
	for i := range 12 {
		b.logged(b.key, b.orgID, map[string]any{"type": "note", "account_id": b.globex,
			"occurred_at": fmt.Sprintf("2026-01-%02dT10:00:00Z", i+1), "body": fmt.Sprintf("Forecast review number %d.", i+1)})
	}
	path := "/v1/accounts/" + b.globex + "/search"
	require.Len(t, b.search(b.key, path, "q", "forecast"), 10, "the default")
	require.Len(t, b.search(b.key, path, "q", "forecast", "limit", "3"), 3)
	require.Len(t, b.search(b.key, path, "q", "forecast", "limit", "1"), 1)
	require.Len(t, b.search(b.key, path, "q", "forecast", "limit", "50"), 12)
	require.Len(t, b.search(b.key, "/v1/search", "q", "forecast", "limit", "5"), 5)
}

func TestSearchOrg(t *testing.T) {
	t.Parallel()
	b := setupSearch(t, nil)

	items := b.search(b.key, "/v1/search", "q", "renewal uplift capped", "limit", "50")
	require.ElementsMatch(t, []string{b.email, b.globexEmail}, activities(items))
	for _, p := range items {
		want := map[string]string{b.email: b.acme, b.globexEmail: b.globex}[p.ActivityID]
		require.Equal(t, want, p.AccountID, "each passage names its account")
		require.NotEmpty(t, p.Highlights)
	}
	require.Equal(t, []string{b.globexEmail}, activities(b.search(b.key, "/v1/search", "q", "Globex uplift", "limit", "1")))

	// The other org sees its own records only, on both routes.
	items = b.search(b.otherKey, "/v1/search", "q", "renewal uplift pilot budget SSO Globex", "limit", "50")
	require.Equal(t, []string{b.otherEmail}, activities(items))
	require.Equal(t, b.otherAccount, items[0].AccountID)
	items = b.search(b.otherKey, "/v1/accounts/"+b.otherAccount+"/search", "q", "renewal uplift pilot budget SSO Globex", "limit", "50")
	require.Equal(t, []string{b.otherEmail}, activities(items))
	for _, p := range b.search(b.key, "/v1/search", "q", "renewal uplift pilot budget SSO Globex", "limit", "50") {
		require.NotEqual(t, b.otherEmail, p.ActivityID)
		require.NotEqual(t, b.otherAccount, p.AccountID)
	}

	// Filters apply org-wide too.
	require.Equal(t, []string{b.globexEmail}, activities(b.search(b.key, "/v1/search", "q", "renewal uplift",
		"since", "2026-03-11T00:00:00Z")))
	require.Equal(t, []string{b.note}, activities(b.search(b.key, "/v1/search", "q", "renewal uplift SSO", "types", "note")))
}

func TestSearchBadInput(t *testing.T) {
	t.Parallel()
	b := setupSearch(t, nil)
	for _, path := range []string{"/v1/accounts/" + b.acme + "/search", "/v1/search"} {
		for _, tc := range []struct {
			kv    []string
			field string
		}{
			{nil, "q"},
			{[]string{"q", ""}, "q"},
			{[]string{"q", "   "}, "q"},
			{[]string{"q", strings.Repeat("x", 1001)}, "q"},
			{[]string{"q", "a\x00b"}, "q"},
			{[]string{"q", "\xff"}, "q"},
			{[]string{"q", "renewal", "limit", "0"}, "limit"},
			{[]string{"q", "renewal", "limit", "51"}, "limit"},
			{[]string{"q", "renewal", "limit", "ten"}, "limit"},
			{[]string{"q", "renewal", "types", "fax"}, "types"},
			{[]string{"q", "renewal", "types", "email,fax"}, "types"},
			{[]string{"q", "renewal", "since", "March"}, "since"},
			{[]string{"q", "renewal", "until", "2026-03-01"}, "until"},
			{[]string{"q", "renewal", "since", "2026-03-02T00:00:00Z", "until", "2026-03-01T00:00:00Z"}, "until"},
		} {
			res := b.do("GET", path+query(tc.kv...), nil)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s %q: %s", path, tc.kv, res.Body)
			require.Equal(t, []string{tc.field}, res.Fields(t), "%s %q", path, tc.kv)
		}
		// Every bad parameter is named at once.
		res := b.do("GET", path+query("limit", "99", "types", "fax", "since", "x"), nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status)
		require.ElementsMatch(t, []string{"q", "limit", "types", "since"}, res.Fields(t))

		// The bounds themselves are fine; q is trimmed before it is counted.
		b.search(b.key, path, "q", "  "+strings.Repeat("x", 1000)+"  ", "limit", "50")
		b.search(b.key, path, "q", "renewal", "limit", "1", "since", "2026-03-01T00:00:00Z", "until", "2026-03-01T00:00:00Z")
	}

	// The account: malformed is 422, unknown or another org's is 404, whatever the query.
	require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/accounts/nope/search?q=renewal", nil).Status)
	require.Equal(t, []string{"id"}, b.do("GET", "/v1/accounts/nope/search?q=renewal", nil).Fields(t))
	for _, q := range []string{"?q=renewal", "", "?limit=0"} {
		require.Equal(t, http.StatusNotFound, b.do("GET", "/v1/accounts/00000000-0000-7000-8000-000000000000/search"+q, nil).Status)
		res := b.do("GET", "/v1/accounts/"+b.otherAccount+"/search"+q, nil)
		require.Equal(t, http.StatusNotFound, res.Status, "another org's account")
		require.NotContains(t, string(res.Body), "uplift")
	}

	// Read scope is enough; ingest is not.
	require.Equal(t, http.StatusOK, b.doKey(b.keyWith(crm.ScopeRead), "GET", "/v1/search?q=renewal", nil).Status)
	require.Equal(t, http.StatusForbidden, b.doKey(b.keyWith(crm.ScopeIngest), "GET", "/v1/search?q=renewal", nil).Status)
	require.Equal(t, http.StatusUnauthorized, b.doKey("", "GET", "/v1/search?q=renewal", nil).Status)
}

// downEmbedder is an embedding model that cannot be reached.
type downEmbedder struct{}

func (downEmbedder) Embed(context.Context, []string) ([][]float32, error) {
	return nil, errors.New("dial tcp 127.0.0.1:1: connection refused")
}

func TestSearchUnavailable(t *testing.T) {
	t.Parallel()

	t.Run("EmbedderDown", func(t *testing.T) {
		t.Parallel()
		b := setupSearch(t, downEmbedder{})
		for _, path := range []string{"/v1/accounts/" + b.acme + "/search?q=renewal", "/v1/search?q=renewal"} {
			res := b.do("GET", path, nil)
			require.Equal(t, http.StatusServiceUnavailable, res.Status, "%s: %s", path, res.Body)
			require.Contains(t, string(res.Body), "try again")
		}
		// Bad input is still the client's to fix.
		require.Equal(t, http.StatusUnprocessableEntity, b.do("GET", "/v1/search?q=", nil).Status)
	})

	t.Run("NoRetrieval", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		acct := b.create("/v1/accounts", map[string]any{"name": "Acme"})
		require.Equal(t, http.StatusServiceUnavailable, b.do("GET", "/v1/accounts/"+acct+"/search?q=renewal", nil).Status)
		require.Equal(t, http.StatusServiceUnavailable, b.do("GET", "/v1/search?q=renewal", nil).Status)
		require.Equal(t, http.StatusNotFound, b.do("GET", "/v1/accounts/00000000-0000-7000-8000-000000000000/search?q=renewal", nil).Status)
	})
}

// TestSearchOpenAPI checks the search routes' documentation: parameters,
// the passage schema and the offsets' unit.
func TestSearchOpenAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	paths := b.spec["paths"].(map[string]any)
	for _, p := range []string{"/v1/accounts/{id}/search", "/v1/search"} {
		op := paths[p].(map[string]any)["get"].(map[string]any)
		require.Contains(t, op["summary"], "UTF-16 code units")
		params := map[string]map[string]any{}
		for _, x := range op["parameters"].([]any) {
			m := x.(map[string]any)
			params[m["name"].(string)] = m
		}
		for _, name := range []string{"q", "limit", "types", "since", "until"} {
			require.Contains(t, params, name, "%s documents ?%s", p, name)
		}
		require.Equal(t, true, params["q"]["required"])
		require.NotContains(t, params["limit"], "required")
		schema := op["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)["application/json"].(map[string]any)["schema"]
		require.Equal(t, "#/components/schemas/PassageList", schema.(map[string]any)["$ref"])
	}
	passage := b.spec["components"].(map[string]any)["schemas"].(map[string]any)["Passage"].(map[string]any)
	props := passage["properties"].(map[string]any)
	require.ElementsMatch(t, []any{"activity_id", "account_id", "chunk_id", "type", "occurred_at", "speaker", "start_ms", "end_ms",
		"text", "highlights", "score"}, passage["required"])
	require.Len(t, props, 11)
	require.Equal(t, "#/components/schemas/Highlight", props["highlights"].(map[string]any)["items"].(map[string]any)["$ref"])
	require.Contains(t, props["type"].(map[string]any)["enum"], "meeting")
}
