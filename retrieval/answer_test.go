package retrieval

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/internal/llm/llmtest"
	"logbook/internal/llm/local"
	"logbook/internal/llm/openai"
)

// sourceLine is one numbered source line of an answer prompt.
var sourceLine = regexp.MustCompile(`(?m)^\[(\d+)\] [^·]+· [^·:]+(?:· ([^:]+))?: (.*)$`)

// promptSources returns the numbered sources of an answer request.
func promptSources(t *testing.T, req llmtest.ChatRequest) map[string]string {
	t.Helper()
	user := req.Messages[len(req.Messages)-1].Content
	require.Contains(t, user, "<<<SOURCES")
	out := map[string]string{}
	for _, m := range sourceLine.FindAllStringSubmatch(user, -1) {
		// A transcript excerpt's lines name their speakers: the source line
		// does not name the first one again before them.
		require.False(t, m[2] != "" && strings.HasPrefix(m[3], m[2]+":"), "speaker named twice: %s", m[0])
		out[m[1]] = m[3]
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
	require.Contains(t, sources[strconv.Itoa(c.N)], c.Quote, "n is the source the quote is from")
	require.NotNil(t, c.StartMS)
	require.NotNil(t, c.EndMS, "the end of the segment quoted")
	require.Greater(t, *c.EndMS, *c.StartMS)
	requireMarkersCited(t, a)
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

// quoteSources are sources as retrieval makes them: a meeting's
// transcript excerpt ("Speaker: text" lines), a line of its notes and an
// email, in that order (sources 1, 2 and 3).
func quoteSources() []Hit {
	tr := ChunkTranscript([]crm.Segment{
		{Index: 0, Speaker: "Maya Patel", StartMS: 1000, EndMS: 9000, Text: "We promised Okta SAML support by the end of April. It is on track."},
		{Index: 1, Speaker: "Wei Zhang", StartMS: 9000, EndMS: 10000, Text: "Okay."},
		{Index: 2, Speaker: "Wei Zhang", StartMS: 10500, EndMS: 30000, Text: "A 12 percent uplift will be hard to justify to finance."},
	})
	notes := ChunkNotes(crm.Notes{Decisions: []crm.Point{{Text: "Annual billing starts in May.",
		Evidence: []crm.Evidence{{Segment: 2, StartMS: 10500, Speaker: "Wei Zhang"}}}}})
	subject, body := "Renewal terms", "Finance asks for net 60 payment terms."
	email := ChunkActivity(crm.Activity{Type: crm.ActivityEmail, Subject: &subject, Body: &body})
	var hits []Hit
	for i, c := range []crm.Chunk{tr[0], notes[0], email[0]} {
		c.ID, c.ActivityID = fmt.Sprintf("c%d", i+1), fmt.Sprintf("a%d", i+1)
		c.ActivityType = "meeting"
		if c.Kind == crm.ChunkActivity {
			c.ActivityType = "email"
		}
		hits = append(hits, Hit{Chunk: c})
	}
	return hits
}

func TestValidateQuotes(t *testing.T) {
	t.Parallel()
	srcs := quoteSources()
	require.Equal(t, "Maya Patel: We promised Okta SAML support by the end of April. It is on track.\nWei Zhang: Okay.\n"+
		"Wei Zhang: A 12 percent uplift will be hard to justify to finance.", srcs[0].Text, "the excerpt as the model sees it")
	ms := func(v int) *int { return &v }
	check := func(t *testing.T, quote string, source int) []Citation {
		t.Helper()
		a := validate(llm.AnswerOutput{Answer: "It is so [" + strconv.Itoa(source) + "].",
			Citations: []llm.AnswerCitation{{Source: source, Quote: quote}}}, srcs, false)
		return a.Citations
	}

	t.Run("ALabelIsNotTheTranscriptsWords", func(t *testing.T) {
		t.Parallel()
		for _, q := range []string{"Maya Patel: we promised Okta SAML support", "we promised Okta SAML support", "Maya Patel we promised Okta SAML support"} {
			cs := check(t, q, 1)
			require.Len(t, cs, 1, q)
			c := cs[0]
			require.Equal(t, "We promised Okta SAML support", c.Quote, "the label is stripped and the rest is the record's own text")
			require.Equal(t, "Maya Patel", *c.Speaker)
			require.Equal(t, 1, c.N)
			require.Equal(t, ms(1000), c.StartMS)
			require.Equal(t, ms(9000), c.EndMS, "the segment's end, not the chunk's")
		}
		cs := check(t, "Wei Zhang: a 12 percent uplift", 1)
		require.Len(t, cs, 1)
		require.Equal(t, "A 12 percent uplift", cs[0].Quote)
		require.Equal(t, "Wei Zhang", *cs[0].Speaker)
		require.Equal(t, ms(10500), cs[0].StartMS)
		require.Equal(t, ms(30000), cs[0].EndMS)
	})

	t.Run("AQuoteIsInOneLine", func(t *testing.T) {
		t.Parallel()
		for _, q := range []string{
			"It is on track. Wei Zhang: Okay.", // runs into the next line, label and all
			"on track okay",                    // the words of two lines, joined
			"Maya Patel: Wei Zhang",            // labels only
			"Wei Zhang: We promised Okta SAML", // a label, then words not in its line... found in Maya's: kept
		} {
			cs := check(t, q, 1)
			if q == "Wei Zhang: We promised Okta SAML" {
				require.Len(t, cs, 1, "a label before words that are on record is dropped; the speaker is the line's")
				require.Equal(t, "Maya Patel", *cs[0].Speaker)
				continue
			}
			require.Empty(t, cs, q)
		}
		require.Empty(t, check(t, "Okay", 1), "one word is no evidence")
		require.Equal(t, "It is on track.", check(t, "it is on track.", 1)[0].Quote, "with the full stop the record has")
		require.Equal(t, "It is on track", check(t, "it is on track!", 1)[0].Quote, "without one it does not")
	})

	t.Run("NotesAndRecordsWithoutTheirLabels", func(t *testing.T) {
		t.Parallel()
		cs := check(t, "Decision: Annual billing starts in May", 2)
		require.Len(t, cs, 1)
		require.Equal(t, "Annual billing starts in May", cs[0].Quote)
		require.Equal(t, 2, cs[0].N)
		require.Equal(t, ms(10500), cs[0].StartMS, "notes point at their evidence")
		require.Nil(t, cs[0].EndMS)

		cs = check(t, "Email: Renewal terms", 3)
		require.Len(t, cs, 1)
		require.Equal(t, "Renewal terms", cs[0].Quote)
		require.Nil(t, cs[0].StartMS, "an email has no moment")
		require.Nil(t, cs[0].EndMS)
		require.Nil(t, cs[0].Speaker)
		require.Len(t, check(t, "net 60 payment terms", 3), 1)
		require.Empty(t, check(t, "Email Renewal", 3), "the label is not the email's text")
	})

	t.Run("LinesStoredWithoutTheirEnd", func(t *testing.T) {
		t.Parallel()
		old := slices.Clone(srcs)
		old[0].Lines = slices.Clone(old[0].Lines)
		for i := range old[0].Lines {
			old[0].Lines[i].EndMS = nil
		}
		a := validate(llm.AnswerOutput{Answer: "So [1].", Citations: []llm.AnswerCitation{
			{Source: 1, Quote: "on track"}, {Source: 1, Quote: "hard to justify"}}}, old, false)
		require.Len(t, a.Citations, 2)
		require.Equal(t, ms(9000), a.Citations[0].EndMS, "until the next segment's line starts")
		require.Equal(t, ms(30000), a.Citations[1].EndMS, "the chunk's end for its last segment")
	})

	t.Run("WithoutLineOffsets", func(t *testing.T) {
		t.Parallel()
		bare := []Hit{{Chunk: crm.Chunk{ID: "c1", ActivityID: "a1", Text: "Maya Patel: we promised Okta SAML.\nWei Zhang: the uplift is hard."}}}
		a := validate(llm.AnswerOutput{Answer: "So [1].", Citations: []llm.AnswerCitation{
			{Source: 1, Quote: "Maya Patel: we promised Okta SAML"}, {Source: 1, Quote: "SAML Wei Zhang the uplift"}}}, bare, false)
		require.Len(t, a.Citations, 1)
		require.Equal(t, "we promised Okta SAML", a.Citations[0].Quote)
		require.Nil(t, a.Citations[0].StartMS)
	})
}

func TestValidateMarkersNameCitations(t *testing.T) {
	t.Parallel()
	srcs := quoteSources()
	out := llm.AnswerOutput{
		Answer: "SAML ships in April [1]. Billing is annual [2, 4]. The uplift is hard [3]. " +
			"Both hold [1,2]. Nothing backs this [0]. Nor this [3, 7].",
		Citations: []llm.AnswerCitation{
			{Source: 1, Quote: "Okta SAML support"},
			{Source: 2, Quote: "Annual billing starts"},
			{Source: 3, Quote: "A 12 percent uplift"},   // not in the email
			{Source: 4, Quote: "Annual billing starts"}, // no source 4
			{Source: 1, Quote: "Okta SAML support"},     // again: one citation
		},
	}
	a := validate(out, srcs, false)
	require.True(t, a.Grounded)
	require.Equal(t, "SAML ships in April [1]. Billing is annual [2]. Both hold [1, 2].", a.Answer)
	var ns []int
	for _, c := range a.Citations {
		ns = append(ns, c.N)
	}
	require.Equal(t, []int{1, 2}, ns)
	requireMarkersCited(t, a)
}

// requireMarkersCited checks that every [n] of an answer names a citation
// of the answer.
func requireMarkersCited(t *testing.T, a Answer) {
	t.Helper()
	for _, m := range marker.FindAllStringSubmatch(a.Answer, -1) {
		for _, n := range strings.Split(m[1], ",") {
			k := atoi(strings.TrimSpace(n))
			require.True(t, slices.ContainsFunc(a.Citations, func(c Citation) bool { return c.N == k }),
				"[%d] in %q names no citation", k, a.Answer)
		}
	}
}

func TestAnswerSentencesKeepQuotations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		want []string
	}{
		{`Maya said: "We ship in April. It is on track." [1] Wei agreed [2].`,
			[]string{`Maya said: "We ship in April. It is on track."`, `[1] Wei agreed [2].`}},
		{`Maya said: "We ship in April. It is on track" [1]. Done.`,
			[]string{`Maya said: "We ship in April. It is on track" [1].`, `Done.`}},
		{"Maya asked: \u201cIs it late? Is it?\u201d [1] Yes.", []string{"Maya asked: \u201cIs it late? Is it?\u201d", "[1] Yes."}},
		{`A 5" screen. Fine.`, []string{`A 5" screen.`, `Fine.`}},
		{"He said \"no.\nIt is. Fine.", []string{"He said \"no.\nIt is.", "Fine."}},
		{`He said "done." Then left.`, []string{`He said "done."`, `Then left.`}},
		{`Plain. Text? Yes!`, []string{`Plain.`, `Text?`, `Yes!`}},
	} {
		require.Equal(t, tc.want, answerSentences(tc.text), tc.text)
	}
	// A stray quotation mark holds sentences together for maxQuotation
	// bytes at most.
	long := `Stray "` + strings.Repeat("word ", maxQuotation/5) + `end. Next one. Last.`
	got := answerSentences(long)
	require.Equal(t, []string{"Next one.", "Last."}, got[len(got)-2:])
}
