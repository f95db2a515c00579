package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
)

// TestCheckExchangeCatchesDrift feeds checkExchange answers that stray from
// the document in each way it must notice, and one that does not: a check
// that passed everything would make every API test's check worthless.
func TestCheckExchangeCatchesDrift(t *testing.T) {
	t.Parallel()
	spec := servedSpec(t)
	const id = "01a23ad6-36fc-7c88-bb3a-bd40935310e2"
	account := `{"id":"` + id + `","name":"Acme","domains":["acme.test"],"segment":null,"owner_id":null,` +
		`"created_at":"2026-03-02T15:00:00Z","updated_at":"2026-03-02T15:00:00.5Z"}`
	jsonHdr := http.Header{"Content-Type": {"application/json"}}
	problemHdr := http.Header{"Content-Type": {"application/problem+json"}}
	get := func(path string) *http.Request {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Authorization", "Bearer k")
		return r
	}
	post := func(path, body string, hdr map[string]string) *http.Request {
		r := httptest.NewRequest("POST", path, bytes.NewReader([]byte(body)))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer k")
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader([]byte(body))), nil }
		return r
	}
	sse := http.Header{"Content-Type": {"text/event-stream"}}
	citation := `{"n":1,"activity_id":"` + id + `","chunk_id":"` + id + `","occurred_at":"2026-03-02T15:00:00Z","type":"meeting",` +
		`"speaker":"Dana","start_ms":0,"end_ms":10,"quote":"we promise"}`
	stream := "event: token\ndata: {\"text\":\"We promised\"}\n\nevent: citations\ndata: [" + citation +
		"]\n\nevent: done\ndata: {\"answer\":\"We promised [1]\",\"grounded\":true}\n\n"
	withNotes := func(notes string) string {
		return `{"id":"` + id + `","type":"meeting","direction":null,"account_id":"` + id + `","deal_id":null,"owner_id":null,` +
			`"contact_ids":[],"participants":[],"occurred_at":"2026-03-02T15:00:00Z","duration_seconds":null,"subject":null,` +
			`"body":null,"disposition":null,"next_step":null,"source":"api","external_id":null,"metadata":{"any":{"thing":[1]}},` +
			`"notes":` + notes + `,"created_at":"2026-03-02T15:00:00Z","updated_at":"2026-03-02T15:00:00Z"}`
	}
	// The notes as the API encodes them (every list present, as the store
	// loads them), so a field added to crm.Notes is in the fixture too.
	nb, err := json.Marshal(crm.Notes{Summary: "s", SummaryEvidence: []crm.Evidence{}, SummarySentences: []crm.Point{},
		KeyPoints: []crm.Point{{Text: "k", Evidence: []crm.Evidence{{Segment: 0, StartMS: 0, Speaker: "D", Quote: "q"}}}},
		Decisions: []crm.Point{}, Risks: []crm.Point{}, ActionItems: []crm.ActionItem{}, Coverage: 1, Model: "m", PromptVersion: "p",
		GeneratedAt: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	notes := string(nb)

	for _, tc := range []struct {
		name   string
		req    *http.Request
		status int
		header http.Header
		body   string
		ok     bool
	}{
		{"AGoodAnswer", get("/v1/accounts/" + id), 200, jsonHdr, account, true},
		{"AMissingRequiredField", get("/v1/accounts/" + id), 200, jsonHdr, `{"id":"` + id + `","name":"Acme"}`, false},
		{"AFieldTheDocumentLacks", get("/v1/accounts/" + id), 200, jsonHdr, account[:len(account)-1] + `,"extra":1}`, false},
		{"AnIDThatIsNoUUID", get("/v1/accounts/" + id), 200, jsonHdr, `{"id":"acct-1"` + account[len(`{"id":"`+id+`"`):], false},
		{"ATimeThatIsNoDateTime", get("/v1/accounts/" + id), 200, jsonHdr,
			bytes.NewBuffer(bytes.Replace([]byte(account), []byte("2026-03-02T15:00:00Z"), []byte("yesterday"), 1)).String(), false},
		{"ANumberForANullableString", get("/v1/accounts/" + id), 200, jsonHdr,
			bytes.NewBuffer(bytes.Replace([]byte(account), []byte(`"owner_id":null`), []byte(`"owner_id":5`), 1)).String(), false},
		{"ANullWhereNoneIsAllowed", get("/v1/accounts/" + id), 200, jsonHdr,
			bytes.NewBuffer(bytes.Replace([]byte(account), []byte(`"name":"Acme"`), []byte(`"name":null`), 1)).String(), false},
		{"AProblemWithAnEmptyTitle", get("/v1/accounts/" + id), 404, problemHdr, `{"type":"about:blank","title":"","status":404}`, false},
		{"AStatusTheDocumentLacks", get("/v1/accounts/" + id), 418, problemHdr, `{"type":"about:blank","title":"x","status":418}`, false},
		{"AnErrorThatIsNoProblem", get("/v1/accounts/" + id), 404, jsonHdr, `{"error":"nope"}`, false},
		{"AProblemWithAnUnknownField", get("/v1/accounts/" + id), 404, problemHdr, `{"type":"about:blank","title":"x","status":404,"code":1}`, false},
		{"A401WithoutWWWAuthenticate", get("/v1/accounts/" + id), 401, problemHdr, `{"type":"about:blank","title":"x","status":401}`, false},
		{"A401WithWWWAuthenticate", get("/v1/accounts/" + id), 401,
			http.Header{"Content-Type": {"application/problem+json"}, "Www-Authenticate": {`Bearer realm="logbook"`}},
			`{"type":"about:blank","title":"x","status":401}`, true},
		{"A429WithoutRetryAfter", get("/v1/accounts/" + id), 429,
			http.Header{"Content-Type": {"application/problem+json"}, "Ratelimit-Limit": {"1"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"60"}},
			`{"type":"about:blank","title":"x","status":429}`, false},
		{"A429WithRetryAfter", get("/v1/accounts/" + id), 429,
			http.Header{"Content-Type": {"application/problem+json"}, "Retry-After": {"60"}, "Ratelimit-Limit": {"1"}, "Ratelimit-Remaining": {"0"}, "Ratelimit-Reset": {"60"}},
			`{"type":"about:blank","title":"x","status":429}`, true},
		{"ARateLimitHeaderThatIsNoNumber", get("/v1/accounts/" + id), 200,
			http.Header{"Content-Type": {"application/json"}, "Ratelimit-Remaining": {"lots"}}, account, false},
		{"A503WithoutRetryAfter", get("/v1/accounts/" + id), 503, problemHdr, `{"type":"about:blank","title":"x","status":503}`, false},
		{"A503WithRetryAfter", get("/v1/accounts/" + id), 503,
			http.Header{"Content-Type": {"application/problem+json"}, "Retry-After": {"5"}}, `{"type":"about:blank","title":"x","status":503}`, true},
		{"AnUnknownPathAnswering200", get("/v1/nowhere"), 200, jsonHdr, `{}`, false},
		{"AnUnknownPathAnswering404", get("/v1/nowhere"), 404, problemHdr, `{"type":"about:blank","title":"x","status":404}`, true},
		{"AnAcceptedRequestTheDocumentRefuses", post("/v1/accounts", `{"name":5}`, nil), 201, jsonHdr, account, false},
		{"AnAcceptedRequestWithAnUnknownField", post("/v1/accounts", `{"name":"A","colour":"red"}`, nil), 201, jsonHdr, account, false},
		{"ARefusedRequestIsNotChecked", post("/v1/accounts", `{"name":5}`, nil), 422, problemHdr, `{"type":"about:blank","title":"x","status":422}`, true},
		{"KeysInAnyCaseAsEncodingJSONReadsThem", post("/v1/accounts", `{"NAME":"A"}`, nil), 201, jsonHdr, account, true},
		{"NullForAFieldThatCannotHoldItIsAbsence", post("/v1/accounts", `{"name":"A","segment":null}`, nil), 201, jsonHdr, account, true},
		{"NullForARequiredFieldTheAPIAccepted", post("/v1/hooks/transcripts", `{"source":null,"started_at":"2026-03-02T15:00:00Z"}`,
			map[string]string{"Logbook-Org": id, "Logbook-Signature": "t=1,v1=ab"}), 202, jsonHdr,
			`{"id":"` + id + `","activity_id":"` + id + `","status":"queued","status_url":"/v1/transcripts/` + id + `"}`, false},
		{"NotesFullyTyped", get("/v1/activities/" + id), 200, jsonHdr, withNotes(notes), true},
		{"NotesWithAWrongType", get("/v1/activities/" + id), 200, jsonHdr,
			withNotes(bytes.NewBuffer(bytes.Replace([]byte(notes), []byte(`"summary":"s"`), []byte(`"summary":1`), 1)).String()), false},
		{"NotesWithAnUnknownField", get("/v1/activities/" + id), 200, jsonHdr, withNotes(notes[:len(notes)-1] + `,"mood":"good"}`), false},
		{"EvidenceWithoutItsQuote", get("/v1/activities/" + id), 200, jsonHdr,
			withNotes(bytes.NewBuffer(bytes.Replace([]byte(notes), []byte(`,"quote":"q"`), nil, 1)).String()), false},
		{"MetadataThatIsNoObject", get("/v1/activities/" + id), 200, jsonHdr,
			bytes.NewBuffer(bytes.Replace([]byte(withNotes(notes)), []byte(`{"any":{"thing":[1]}}`), []byte(`[1]`), 1)).String(), false},
		{"AGoodEventStream", post("/v1/ask", `{"question":"q"}`, map[string]string{"Accept": "text/event-stream"}), 200, sse, stream, true},
		{"AnEventTheDocumentLacks", post("/v1/ask", `{"question":"q"}`, nil), 200, sse, stream + "event: thought\ndata: {}\n\n", false},
		{"AnEventWithBadData", post("/v1/ask", `{"question":"q"}`, nil), 200, sse, "event: token\ndata: {\"text\":1}\n\n", false},
		{"ACitationsEventMissingAField", post("/v1/ask", `{"question":"q"}`, nil), 200, sse,
			"event: citations\ndata: [{\"n\":1}]\n\n", false},
		{"AnEventStreamCutShort", post("/v1/ask", `{"question":"q"}`, nil), 200, sse, "event: token\ndata: {\"text\":\"a\"}", false},
		{"AHookWithoutItsSignature", post("/v1/hooks/transcripts", `{"source":"zoom","started_at":"2026-03-02T15:00:00Z"}`,
			map[string]string{"Logbook-Org": id}), 202, jsonHdr,
			`{"id":"` + id + `","activity_id":"` + id + `","status":"queued","status_url":"/v1/transcripts/` + id + `"}`, false},
		{"AHookSigned", post("/v1/hooks/transcripts", `{"source":"zoom","started_at":"2026-03-02T15:00:00Z"}`,
			map[string]string{"Logbook-Org": id, "Logbook-Signature": "t=1,v1=ab"}), 202, jsonHdr,
			`{"id":"` + id + `","activity_id":"` + id + `","status":"queued","status_url":"/v1/transcripts/` + id + `"}`, true},
		{"AnAcceptedStartTimeThatIsNoDateTime", post("/v1/hooks/transcripts", `{"source":"zoom","started_at":"Monday"}`,
			map[string]string{"Logbook-Org": id, "Logbook-Signature": "t=1,v1=ab"}), 202, jsonHdr,
			`{"id":"` + id + `","activity_id":"` + id + `","status":"queued","status_url":"/v1/transcripts/` + id + `"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkExchange(spec, tc.req, response{Status: tc.status, Header: tc.header, Body: []byte(tc.body)})
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				t.Log(err)
			}
		})
	}
}

// BenchmarkCheckExchange is the cost the check adds to one API test
// request: a GET of an account, its answer checked.
func BenchmarkCheckExchange(b *testing.B) {
	spec := servedSpec(b)
	const id = "01a23ad6-36fc-7c88-bb3a-bd40935310e2"
	account := `{"id":"` + id + `","name":"Acme","domains":["acme.test"],"segment":null,"owner_id":null,` +
		`"created_at":"2026-03-02T15:00:00Z","updated_at":"2026-03-02T15:00:00.5Z"}`
	for b.Loop() {
		r := httptest.NewRequest("GET", "/v1/accounts/"+id, nil)
		r.Header.Set("Authorization", "Bearer k")
		if err := checkExchange(spec, r, response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(account)}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestHasAnyKey(t *testing.T) {
	t.Parallel()
	doc := map[string]any{"components": map[string]any{"schemas": map[string]any{
		"A": map[string]any{"type": "object", "properties": map[string]any{"x": map[string]any{"const": 1}}}}}}
	require.True(t, hasAnyKey(doc, jsonSchema2020Keywords), "a const keeps the document on JSON Schema 2020-12")
	doc = map[string]any{"paths": map[string]any{}, "x-note": map[string]any{"const": 1},
		"components": map[string]any{"schemas": map[string]any{"A": map[string]any{"type": "string", "example": map[string]any{"if": 1}}}}}
	require.False(t, hasAnyKey(doc, jsonSchema2020Keywords), "extensions and examples are data")
	spec := servedSpec(t)
	require.False(t, hasAnyKey(mustJSON(t, spec), jsonSchema2020Keywords), "the served document uses no 2020-12 keyword")
	require.Equal(t, "3.0.3", loadSpec(spec).doc.OpenAPI, "so it is checked by kin-openapi's own validator directly")
}

func mustJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}
