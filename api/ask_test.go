package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/internal/llm/llmtest"
	"logbook/internal/llm/local"
	"logbook/internal/llm/openai"
	"logbook/retrieval"
)

// setupAsk is setup with questions answered by retrieval on the local
// provider (or the given completer), and an account with an indexed email.
func setupAsk(t *testing.T, c llm.Completer) (b *testBundle, svc *retrieval.Service, account, email string) {
	t.Helper()
	b = setup(t)
	p := local.New(384)
	if c == nil {
		c = p
	}
	svc, err := retrieval.New(retrieval.Config{Store: b.store, Embedder: p, Completer: c, EmbedModel: p.Model()})
	require.NoError(t, err)
	h, err := NewHandler(Deps{Store: b.store, Asker: svc})
	require.NoError(t, err)
	b.handler = h
	account = b.create("/v1/accounts", map[string]any{"name": "Acme"})
	email = b.create("/v1/activities", map[string]any{"type": "email", "direction": "outbound", "account_id": account,
		"occurred_at": "2026-03-10T15:00:00Z", "subject": "Renewal quote",
		"body": "Hi Wei, the renewal uplift is capped at 7 percent for a two-year term, as promised on the call."})
	_, err = svc.IndexActivity(context.Background(), b.orgID, email)
	require.NoError(t, err)
	return b, svc, account, email
}

func TestAskAccount(t *testing.T) {
	b, _, account, email := setupAsk(t, nil)
	res := b.do("POST", "/v1/accounts/"+account+"/ask", map[string]any{"question": "What cap did we promise on the renewal uplift?"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var a retrieval.Answer
	res.JSON(t, &a)
	require.True(t, a.Grounded)
	require.NotEmpty(t, a.Citations)
	for _, c := range a.Citations {
		require.Equal(t, email, c.ActivityID)
		require.Equal(t, "email", c.Type)
		require.Contains(t, c.Quote, "7 percent")
		require.Empty(t, c.AccountID)
	}
	m := res.Map(t)
	cit := m["citations"].([]any)[0].(map[string]any)
	for _, k := range []string{"activity_id", "chunk_id", "occurred_at", "type", "speaker", "start_ms", "quote", "n", "end_ms"} {
		require.Contains(t, cit, k, "API.md's citation fields, with n and end_ms")
	}
	require.Nil(t, cit["start_ms"], "an email is no moment of a meeting")
	require.Nil(t, cit["end_ms"])
	requireAnswerCites(t, a)

	// The schema describes them.
	spec := b.doKey("", "GET", "/openapi.json", nil).Map(t)
	props := spec["components"].(map[string]any)["schemas"].(map[string]any)["Citation"].(map[string]any)["properties"].(map[string]any)
	require.Equal(t, "integer", props["n"].(map[string]any)["type"])
	for _, k := range []string{"start_ms", "end_ms"} {
		require.Equal(t, []any{"integer", "null"}, props[k].(map[string]any)["type"], k)
	}

	// Nothing on record.
	res = b.do("POST", "/v1/accounts/"+account+"/ask", map[string]any{"question": "How did the Kubernetes migration go?"})
	require.Equal(t, http.StatusOK, res.Status)
	res.JSON(t, &a)
	require.False(t, a.Grounded)
	require.Equal(t, retrieval.NothingOnRecord, a.Answer)
	require.Empty(t, a.Citations)
	var raw map[string]json.RawMessage
	res.JSON(t, &raw)
	require.Equal(t, "[]", string(raw["citations"]), "an empty list, not null")

	// Filters: an until before the email finds nothing.
	res = b.do("POST", "/v1/accounts/"+account+"/ask", map[string]any{"question": "What cap did we promise on the renewal uplift?",
		"until": "2026-03-01T00:00:00Z"})
	require.Equal(t, http.StatusOK, res.Status)
	res.JSON(t, &a)
	require.False(t, a.Grounded)
	res = b.do("POST", "/v1/accounts/"+account+"/ask", map[string]any{"question": "What cap did we promise on the renewal uplift?",
		"types": []string{"call", "meeting"}})
	res.JSON(t, &a)
	require.False(t, a.Grounded, "types excludes the email")

	// Org-wide: citations name the account.
	res = b.do("POST", "/v1/ask", map[string]any{"question": "What cap did we promise on the renewal uplift?"})
	require.Equal(t, http.StatusOK, res.Status)
	res.JSON(t, &a)
	require.True(t, a.Grounded)
	require.Equal(t, account, a.Citations[0].AccountID)
}

// requireAnswerCites checks that every [n] of an answer names one of its
// citations' n, and that no quote opens with a speaker's label.
func requireAnswerCites(t *testing.T, a retrieval.Answer) {
	t.Helper()
	ns := map[int]bool{}
	for _, c := range a.Citations {
		require.Positive(t, c.N)
		ns[c.N] = true
		if c.Speaker != nil {
			require.False(t, strings.HasPrefix(c.Quote, *c.Speaker+":"), "the quote %q is the speaker's words, not the label", c.Quote)
		}
	}
	for _, m := range regexp.MustCompile(`\[(\d+)\]`).FindAllStringSubmatch(a.Answer, -1) {
		n, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		require.True(t, ns[n], "[%d] in %q names a citation", n, a.Answer)
	}
}

// TestAskMeeting asks about a processed meeting: the offline answer names
// the speaker outside the quotation, and the citation quotes the
// transcript's words (not the "Speaker: " its chunk lines carry) with the
// segment's span.
func TestAskMeeting(t *testing.T) {
	b, svc, account, _ := setupAsk(t, nil)
	ctx := context.Background()
	segs := []crm.Segment{
		{Index: 0, Speaker: "Dana Lee", StartMS: 1000, EndMS: 4000, Text: "Okay."},
		{Index: 1, Speaker: "Wei Zhang", StartMS: 4000, EndMS: 12500, Text: "We agreed that the warehouse pilot starts on the first of June."},
		{Index: 2, Speaker: "Dana Lee", StartMS: 12500, EndMS: 13000, Text: "Mm."},
	}
	var in []map[string]any
	for _, s := range segs {
		in = append(in, map[string]any{"speaker": s.Speaker, "start_ms": s.StartMS, "end_ms": s.EndMS, "text": s.Text})
	}
	res := b.do("POST", "/v1/transcripts", map[string]any{"source": "zoom", "external_id": "m-1", "title": "Pilot sync",
		"started_at": "2026-03-05T15:00:00Z", "account_id": account, "segments": in})
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	var tr struct {
		ID         string `json:"id"`
		ActivityID string `json:"activity_id"`
	}
	res.JSON(t, &tr)
	notes := crm.Notes{Summary: "A pilot sync.", Coverage: 1, Model: "m", PromptVersion: "v"}
	chunks, err := svc.MeetingChunks(ctx, b.orgID, tr.ActivityID, segs, notes)
	require.NoError(t, err)
	_, err = b.store.NotesSave(ctx, b.orgID, tr.ID, 1, notes, chunks)
	require.NoError(t, err)

	res = b.do("POST", "/v1/accounts/"+account+"/ask", map[string]any{"question": "When does the warehouse pilot start?"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var a retrieval.Answer
	res.JSON(t, &a)
	require.True(t, a.Grounded, "%+v", a)
	require.Len(t, a.Citations, 1, "%+v", a.Citations)
	c := a.Citations[0]
	require.Equal(t, "We agreed that the warehouse pilot starts on the first of June.", c.Quote)
	require.Equal(t, "Wei Zhang", *c.Speaker)
	require.Equal(t, 4000, *c.StartMS)
	require.Equal(t, 12500, *c.EndMS)
	require.Equal(t, `Wei Zhang said: "We agreed that the warehouse pilot starts on the first of June" [1].`, a.Answer)
	requireAnswerCites(t, a)
}

func TestAskBadInput(t *testing.T) {
	b, _, account, _ := setupAsk(t, nil)
	path := "/v1/accounts/" + account + "/ask"
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{}, "question"},
		{map[string]any{"question": "   "}, "question"},
		{map[string]any{"question": strings.Repeat("x", 2001)}, "question"},
		{map[string]any{"question": "a\x00b"}, "question"},
		{map[string]any{"question": "q", "since": "March"}, "since"},
		{map[string]any{"question": "q", "since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}, "until"},
		{map[string]any{"question": "q", "types": []string{"fax"}}, "types"},
	} {
		res := b.do("POST", path, tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%v: %s", tc.body, res.Body)
		require.Contains(t, res.Fields(t), tc.field)
	}
	require.Equal(t, http.StatusUnprocessableEntity, b.do("POST", path, `{"question":"q","extra":1}`).Status)
	require.Equal(t, http.StatusBadRequest, b.do("POST", path, `{"question":`).Status)
	require.Equal(t, http.StatusNotFound, b.do("POST", "/v1/accounts/00000000-0000-7000-8000-000000000000/ask", map[string]any{"question": "q"}).Status)
	require.Equal(t, http.StatusUnprocessableEntity, b.do("POST", "/v1/accounts/nope/ask", map[string]any{"question": "q"}).Status)

	// A server without retrieval says so.
	plain := setup(t)
	acct := plain.create("/v1/accounts", map[string]any{"name": "Acme"})
	res := plain.do("POST", "/v1/accounts/"+acct+"/ask", map[string]any{"question": "q"})
	require.Equal(t, http.StatusServiceUnavailable, res.Status)
}

func TestAskModelDown(t *testing.T) {
	srv := llmtest.NewServer(t)
	p, err := openai.New(openai.Config{APIKey: "k", BaseURL: srv.URL(), ChatModel: llmtest.DefaultChatModel,
		EmbedModel: llmtest.DefaultEmbedModel, EmbedDim: 384})
	require.NoError(t, err)
	b, _, account, _ := setupAsk(t, p)
	srv.Reply(llmtest.Reply500())
	srv.Reply(llmtest.Reply500())
	res := b.do("POST", "/v1/accounts/"+account+"/ask", map[string]any{"question": "What cap did we promise on the renewal uplift?"})
	require.Equal(t, http.StatusServiceUnavailable, res.Status, "%s", res.Body)
	require.Contains(t, string(res.Body), "try again")
}

func TestAskEventStream(t *testing.T) {
	b, _, account, email := setupAsk(t, nil)
	req := httptest.NewRequest("POST", "/v1/accounts/"+account+"/ask",
		strings.NewReader(`{"question":"What cap did we promise on the renewal uplift?"}`))
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Accept", "text/event-stream")
	res := b.serve(req)
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	var events []string
	var tokens strings.Builder
	var data []string
	sc := bufio.NewScanner(bytes.NewReader(res.Body))
	var ev string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			ev = strings.TrimPrefix(line, "event: ")
			events = append(events, ev)
		case strings.HasPrefix(line, "data: "):
			d := strings.TrimPrefix(line, "data: ")
			data = append(data, d)
			if ev == "token" {
				var tok struct{ Text string }
				require.NoError(t, jsonUnmarshal(d, &tok))
				tokens.WriteString(tok.Text)
			}
		}
	}
	require.GreaterOrEqual(t, len(events), 4)
	n := len(events)
	require.Equal(t, []string{"citations", "done"}, events[n-2:])
	for _, e := range events[:n-2] {
		require.Equal(t, "token", e)
	}
	var done struct {
		Answer   string
		Grounded bool
	}
	require.NoError(t, jsonUnmarshal(data[n-1], &done))
	require.True(t, done.Grounded)
	require.Equal(t, done.Answer, tokens.String(), "the tokens spell the answer")
	require.Contains(t, data[n-2], email)
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestAskEventStreamFromAStreamingModel runs an SSE answer end to end over
// HTTP with the openai provider streaming from the fake model: the first
// sentence reaches the client while the model is still writing, and
// nothing the validation drops is ever sent.
func TestAskEventStreamFromAStreamingModel(t *testing.T) {
	srv := llmtest.NewServer(t)
	p, err := openai.New(openai.Config{APIKey: "k", BaseURL: srv.URL(), ChatModel: llmtest.DefaultChatModel,
		EmbedModel: llmtest.DefaultEmbedModel, EmbedDim: 384})
	require.NoError(t, err)
	b, _, account, email := setupAsk(t, p)

	hold := make(chan struct{})
	var release sync.Once
	defer release.Do(func() { close(hold) })
	source := regexp.MustCompile(`(?m)^\[(\d+)\] .*7 percent`)
	srv.DefaultReply = func(req llmtest.ChatRequest) llmtest.Reply {
		m := source.FindStringSubmatch(req.Messages[len(req.Messages)-1].Content)
		if m == nil {
			return llmtest.Reply{Status: http.StatusBadRequest, Error: "test: the email is not among the sources"}
		}
		n := m[1]
		// The model cites an invented source and writes a sentence citing
		// nothing; the last delta waits until the client has a token.
		return llmtest.Reply{Hold: hold, Content: `{"citations":[{"source":` + n + `,"quote":"capped at 7 percent"},` +
			`{"source":7,"quote":"free onboarding for a year"}],"answer":"The renewal uplift is capped at 7 percent [` + n + `]. ` +
			`We also offered free onboarding [7]. Wei was delighted. It holds for a two-year term [` + n + `]."}`}
	}

	hs := httptest.NewServer(b.handler)
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", hs.URL+"/v1/accounts/"+account+"/ask",
		strings.NewReader(`{"question":"What cap did we promise on the renewal uplift?"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+b.key)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := hs.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))

	br := bufio.NewReader(resp.Body)
	next := func() (name, data string) {
		t.Helper()
		for {
			line, err := br.ReadString('\n')
			require.NoError(t, err, "the stream ended early (or never sent a token while the model was writing)")
			line = strings.TrimRight(line, "\n")
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			case line == "" && name != "":
				return name, data
			}
		}
	}
	var tokens []string
	token := func(data string) {
		var tok struct{ Text string }
		require.NoError(t, jsonUnmarshal(data, &tok))
		tokens = append(tokens, tok.Text)
	}

	// The model has not finished: its last delta is held back.
	name, data := next()
	require.Equal(t, "token", name)
	token(data)
	release.Do(func() { close(hold) })

	var citations, done string
	for done == "" {
		name, data = next()
		switch name {
		case "token":
			require.Empty(t, citations, "no token after the citations")
			token(data)
		case "citations":
			citations = data
		case "done":
			done = data
		default:
			t.Fatalf("unexpected event %s: %s", name, data)
		}
	}
	var final struct {
		Answer   string
		Grounded bool
	}
	require.NoError(t, jsonUnmarshal(done, &final))
	require.True(t, final.Grounded)
	require.Regexp(t, `^The renewal uplift is capped at 7 percent \[\d+\]\. It holds for a two-year term \[\d+\]\.$`, final.Answer)
	require.Equal(t, final.Answer, strings.Join(tokens, ""), "the tokens spell the answer")
	for _, tok := range tokens {
		for _, bad := range []string{"onboarding", "[7]", "delighted"} {
			require.NotContains(t, tok, bad)
		}
	}
	require.Contains(t, citations, email)
	require.NotContains(t, citations, "onboarding")
	require.True(t, srv.ChatRequests()[0].Stream)
}
