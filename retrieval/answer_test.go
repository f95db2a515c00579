package retrieval

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/llm"
	"logbook/internal/llm/llmtest"
	"logbook/internal/llm/local"
	"logbook/internal/llm/openai"
)

// sourceLine is one numbered source line of an answer prompt.
var sourceLine = regexp.MustCompile(`(?m)^\[(\d+)\] [^·]+· [^·]+· [^:]+: (.*)$`)

// promptSources returns the numbered sources of an answer request.
func promptSources(t *testing.T, req llmtest.ChatRequest) map[string]string {
	t.Helper()
	user := req.Messages[len(req.Messages)-1].Content
	require.Contains(t, user, "<<<SOURCES")
	out := map[string]string{}
	for _, m := range sourceLine.FindAllStringSubmatch(user, -1) {
		out[m[1]] = m[2]
	}
	require.NotEmpty(t, out, "the prompt numbers its sources:\n%s", user)
	return out
}

func openaiFixture(t *testing.T) (*fixture, *llmtest.Server) {
	t.Helper()
	f := newFixture(t)
	srv := llmtest.NewServer(t)
	p, err := openai.New(openai.Config{APIKey: "k", BaseURL: srv.URL(), ChatModel: llmtest.DefaultChatModel,
		EmbedModel: llmtest.DefaultEmbedModel, EmbedDim: 384})
	require.NoError(t, err)
	f.svc, err = New(Config{Store: f.st, Embedder: local.New(384), Completer: p, EmbedModel: testModel})
	require.NoError(t, err)
	return f, srv
}

func reply(t *testing.T, out llm.AnswerOutput) string {
	b, err := json.Marshal(out)
	require.NoError(t, err)
	return string(b)
}

func TestAnswerCitationsAreValidated(t *testing.T) {
	f, srv := openaiFixture(t)
	acme, _, ids := history(f)
	var sources map[string]string
	srv.Default = func(req llmtest.ChatRequest) string {
		sources = promptSources(t, req)
		require.NotNil(t, req.ResponseFormat, "answers ask for strict JSON")
		var n1 string
		for n, text := range sources {
			if strings.Contains(text, "Okta SAML") {
				n1 = n
			}
		}
		require.NotEmpty(t, n1, "the March meeting is a source")
		return reply(t, llm.AnswerOutput{
			Answer: "We promised Okta SAML support by the end of April [" + n1 + "]. We also promised a 50% discount [9]. " +
				"Finance signed off [" + n1 + "]. Everyone was happy.",
			Citations: []llm.AnswerCitation{
				{Source: atoi(n1), Quote: "we promised  Okta SAML support, by the end of April"}, // tidied: still verbatim words
				{Source: 9, Quote: "a 50% discount"},                                             // no source 9
				{Source: atoi(n1), Quote: "finance signed off"},                                  // not in the source
			},
		})
	}
	a, err := f.svc.Ask(context.Background(), Question{OrgID: f.orgID, AccountID: acme, Text: "What did we promise Acme about SSO?"}, nil)
	require.NoError(t, err)
	require.True(t, a.Grounded)
	require.Len(t, a.Citations, 1, "the invented source and the made-up quote are dropped: %+v", a.Citations)
	c := a.Citations[0]
	require.Equal(t, ids["acme-mar"], c.ActivityID)
	require.Equal(t, "we promised Okta SAML support by the end of April", c.Quote, "the quote as the record has it")
	require.Equal(t, "Maya Patel", *c.Speaker)
	// Each sentence keeps only valid references; a sentence citing nothing
	// valid, or nothing at all, is not on record and goes.
	require.Regexp(t, `^We promised Okta SAML support by the end of April \[\d+\]\. Finance signed off \[\d+\]\.$`, a.Answer)
	require.NotContains(t, a.Answer, "[9]")
	require.NotContains(t, a.Answer, "discount")
	require.NotContains(t, a.Answer, "happy")

	// Nothing valid at all: no answer is made up from it.
	srv.Default = func(req llmtest.ChatRequest) string {
		return reply(t, llm.AnswerOutput{Answer: "Acme was promised SSO in January [12].",
			Citations: []llm.AnswerCitation{{Source: 12, Quote: "SSO in January"}, {Source: 1, Quote: "no such words anywhere"}}})
	}
	a, err = f.svc.Ask(context.Background(), Question{OrgID: f.orgID, AccountID: acme, Text: "What did we promise Acme about SSO?"}, nil)
	require.NoError(t, err)
	require.False(t, a.Grounded)
	require.Equal(t, NothingOnRecord, a.Answer)
	require.Empty(t, a.Citations)
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

func TestAnswerModelFailures(t *testing.T) {
	f, srv := openaiFixture(t)
	acme, _, _ := history(f)
	q := Question{OrgID: f.orgID, AccountID: acme, Text: "What did we promise Acme about SSO?"}

	// Malformed JSON is asked again once, then reported as unavailable.
	srv.Reply(llmtest.ReplyMalformed())
	srv.Reply(llmtest.ReplyMalformed())
	_, err := f.svc.Ask(context.Background(), q, nil)
	require.ErrorIs(t, err, ErrUnavailable)

	// One malformed answer, then a good one.
	srv.Reply(llmtest.ReplyMalformed())
	srv.Default = func(req llmtest.ChatRequest) string {
		for n, text := range promptSources(t, req) {
			if strings.Contains(text, "Okta SAML") {
				return reply(t, llm.AnswerOutput{Answer: "Okta SAML by the end of April [" + n + "].",
					Citations: []llm.AnswerCitation{{Source: atoi(n), Quote: "Okta SAML support by the end of April"}}})
			}
		}
		return reply(t, llm.AnswerOutput{Answer: "none", Citations: []llm.AnswerCitation{}})
	}
	a, err := f.svc.Ask(context.Background(), q, nil)
	require.NoError(t, err)
	require.True(t, a.Grounded)

	// A 500 from the model is unavailable (the API answers 503).
	srv.Reply(llmtest.Reply500())
	srv.Reply(llmtest.Reply500())
	_, err = f.svc.Ask(context.Background(), q, nil)
	require.ErrorIs(t, err, ErrUnavailable)
}
