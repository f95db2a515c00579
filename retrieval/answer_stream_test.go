package retrieval

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/internal/llm/llmtest"
)

// streamSources are the sources of the answerStream unit tests.
func streamSources() []Hit {
	return []Hit{
		{Chunk: crm.Chunk{ID: "c1", ActivityID: "a1", Text: "Maya Patel: we promised Okta SAML support by the end of April and it is on track."}},
		{Chunk: crm.Chunk{ID: "c2", ActivityID: "a2", Text: "Wei Zhang: a 12 percent uplift will be hard to justify to finance."}},
	}
}

// streamed is what answerStream sent, token by token, and what finish
// added.
type streamed struct {
	during []string // sent while the model's text streamed
	at     []int    // how much of the text had been written at each of during
	after  []string // sent by finish
}

func (s streamed) text() string { return strings.Join(s.during, "") + strings.Join(s.after, "") }

// streamAnswer feeds text to an answerStream in pieces of the given sizes
// (cycling), then validates the whole text as answer does and finishes.
func streamAnswer(t *testing.T, text string, sizes []int) (streamed, Answer, error) {
	t.Helper()
	return streamAnswerFrom(t, streamSources(), text, sizes)
}

// streamAnswerFrom is streamAnswer with the given sources.
func streamAnswerFrom(t *testing.T, srcs []Hit, text string, sizes []int) (streamed, Answer, error) {
	t.Helper()
	var got streamed
	done, written := false, 0
	x := newAnswerStream(srcs, false, func(tok string) error {
		if done {
			got.after = append(got.after, tok)
		} else {
			got.during = append(got.during, tok)
			got.at = append(got.at, written)
		}
		return nil
	})
	for i, n := 0, 0; i < len(text); n++ {
		end := min(i+sizes[n%len(sizes)], len(text))
		written = end
		require.NoError(t, x.write(text[i:end]))
		i = end
	}
	done = true
	var out llm.AnswerOutput
	require.NoError(t, json.Unmarshal([]byte(text), &out))
	a := validate(out, srcs, false)
	return got, a, x.finish(a.Answer)
}

func TestAnswerStream(t *testing.T) {
	t.Parallel()

	// Each case is model output and the validated answer; during is what
	// must stream, token by token, before the text ends when it comes a
	// byte at a time (in bigger pieces, a prefix of it), nil when nothing
	// may stream before validation.
	for _, tc := range []struct {
		name, text, want string
		during           []string
		// firstBy, when set, is text the first token must be out before
		// the model has finished writing (a byte at a time): a sentence
		// goes as soon as the next one has begun.
		firstBy string
		never   []string // must not appear in any token
	}{
		{
			name: "DropsUncitedSentencesAndInventedSources",
			text: `{"citations":[{"source":1,"quote":"we promised  Okta SAML support, by the end of April"},{"source":9,"quote":"a 50% discount"},` +
				`{"source":2,"quote":"finance signed off"}],"answer":"We promised Okta SAML support by the end of April [1]. ` +
				`We also promised a 50% discount [9]. Finance signed off [2]. Everyone was happy. It is on track [1, 9]."}`,
			want:    "We promised Okta SAML support by the end of April [1]. It is on track [1].",
			during:  []string{"We promised Okta SAML support by the end of April [1]."},
			firstBy: "We also promised a 50%",
			never:   []string{"discount", "[9]", "Finance", "happy", "9]"},
		},
		{
			name: "ReferencesOpeningASentenceBelongToTheOneBefore",
			text: `{"citations":[{"source":1,"quote":"Okta SAML support"},{"source":2,"quote":"12 percent uplift"}],` +
				`"answer":"Okta SAML ships in April. [1] The uplift is 12 percent [2]. Nobody said why. [2, 1] Done."}`,
			want:   "Okta SAML ships in April. [1] The uplift is 12 percent [2]. Nobody said why. [2, 1]",
			during: []string{"Okta SAML ships in April. [1]", " The uplift is 12 percent [2].", " Nobody said why. [2, 1]"},
			never:  []string{"Done"},
		},
		{
			name: "ReferenceAfterTheFullStopBelongsToTheSentenceBefore",
			text: `{"citations":[{"source":1,"quote":"Okta SAML support"}],"answer":"SSO comes first [1]. Okta SAML ships by the end of April. [1]"}`,
			want: "SSO comes first [1]. Okta SAML ships by the end of April. [1]",
			// The second sentence cites nothing until its reference comes.
			during: []string{"SSO comes first [1]."},
		},
		{
			name: "ReferenceAfterTheFullStopStaysWithItsSentence",
			text: `{"citations":[{"source":1,"quote":"Okta SAML support"},{"source":2,"quote":"12 percent uplift"}],` +
				`"answer":"SSO comes first [1]. The uplift is 12 percent [2]. [1]"}`,
			want: "SSO comes first [1]. The uplift is 12 percent [2]. [1]",
			// "[1]" might still be coming, so the second sentence is not
			// sent before the end, and the references never go alone.
			during: []string{"SSO comes first [1]."},
		},
		{
			name:   "EscapesSurrogatesAndLineBreaks",
			text:   `{"citations":[{"source":1,"quote":"Okta SAML"}],"answer":"Caf\u00e9 \"SSO\" \ud83d\ude00 is promised [1].\nOkta SAML by April [1]!\tDone [1]."}`,
			want:   "Café \"SSO\" 😀 is promised [1]. Okta SAML by April [1]! Done [1].",
			during: []string{"Café \"SSO\" 😀 is promised [1].", " Okta SAML by April [1]!"},
		},
		{
			name: "PrettyPrintedWithAnotherMember",
			text: "{\n  \"citations\": [\n    {\"source\": 2, \"quote\": \"12 percent uplift\", \"note\": [1, {\"x\": \"]\"}]}\n  ],\n" +
				"  \"confidence\": 0.9,\n  \"answer\": \"The uplift is 12 percent [2]. Finance will push back [2].\"\n}\n",
			want:   "The uplift is 12 percent [2]. Finance will push back [2].",
			during: []string{"The uplift is 12 percent [2]."},
		},
		{
			name:  "AnswerBeforeCitationsWaitsForTheEnd",
			text:  `{"answer":"We promised Okta SAML [1]. A discount too [9]. By April [1].","citations":[{"source":1,"quote":"Okta SAML support"}]}`,
			want:  "We promised Okta SAML [1]. By April [1].",
			never: []string{"discount", "[9]"},
		},
		{
			name:  "NoValidCitationIsNothingOnRecord",
			text:  `{"citations":[{"source":1,"quote":"not in the source at all"}],"answer":"We promised SSO in January [1]. And more [1]."}`,
			want:  NothingOnRecord,
			never: []string{"January", "[1]"},
		},
		{
			name:  "NoCitedSentenceIsNothingOnRecord",
			text:  `{"citations":[{"source":1,"quote":"Okta SAML support"}],"answer":"We promised SSO. It ships in April. Everyone agreed."}`,
			want:  NothingOnRecord,
			never: []string{"SSO", "April"},
		},
		{
			name: "OneSentenceIsSentAtTheEnd",
			text: `{"citations":[{"source":1,"quote":"Okta SAML support"}],"answer":"Okta SAML by the end of April [1]."}`,
			want: "Okta SAML by the end of April [1].",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, 2))
			random := make([]int, 50)
			for i := range random {
				random[i] = 1 + rng.IntN(12)
			}
			for _, sizes := range [][]int{{1}, {2}, {3}, {7}, random, {len(tc.text)}} {
				got, a, err := streamAnswer(t, tc.text, sizes)
				require.NoError(t, err)
				require.Equal(t, tc.want, a.Answer)
				require.Equal(t, a.Answer, got.text(), "the tokens spell the validated answer (pieces of %v)", sizes[0])
				for _, tok := range append(slices.Clone(got.during), got.after...) {
					for _, bad := range tc.never {
						require.NotContains(t, tok, bad)
					}
				}
				switch {
				case sizes[0] == 1:
					require.Equal(t, tc.during, got.during)
					if tc.firstBy != "" {
						require.Less(t, got.at[0], strings.Index(tc.text, tc.firstBy)+len(tc.firstBy))
					}
				case len(tc.during) > 0 && sizes[0] < 10:
					require.NotEmpty(t, got.during, "a sentence streams before the text ends (pieces of %v)", sizes[0])
					require.Equal(t, tc.during[:len(got.during)], got.during, "(pieces of %v)", sizes[0])
				default:
					require.LessOrEqual(t, len(got.during), len(tc.during))
					require.Equal(t, tc.during[:len(got.during)], got.during, "(pieces of %v)", sizes[0])
				}
			}
		})
	}

	t.Run("AmbiguousJSONIsRefusedAfterTokens", func(t *testing.T) {
		t.Parallel()
		// encoding/json keeps the last of two "answer" members; the first
		// had begun to stream.
		text := `{"citations":[{"source":1,"quote":"Okta SAML support"}],"answer":"First [1]. Second [1].","answer":"Other [1]."}`
		got, a, err := streamAnswer(t, text, []int{3})
		require.ErrorIs(t, err, ErrUnavailable)
		require.Equal(t, "Other [1].", a.Answer)
		require.Equal(t, []string{"First [1]."}, got.during)
		require.Empty(t, got.after)
	})

	t.Run("EmitErrorStopsEverything", func(t *testing.T) {
		t.Parallel()
		errGone := errors.New("gone")
		var calls int
		x := newAnswerStream(streamSources(), false, func(string) error { calls++; return errGone })
		text := `{"citations":[{"source":1,"quote":"Okta SAML support"}],"answer":"One [1]. Two [1]. Three [1]. Four [1]."}`
		var err error
		for i := 0; i < len(text) && err == nil; i++ {
			err = x.write(text[i : i+1])
		}
		require.ErrorIs(t, err, errGone)
		require.ErrorIs(t, x.write("more"), errGone)
		require.ErrorIs(t, x.finish("One [1]. Two [1]. Three [1]. Four [1]."), errGone)
		require.Equal(t, 1, calls)
	})

	t.Run("NotJSONSendsNothing", func(t *testing.T) {
		t.Parallel()
		var sent []string
		x := newAnswerStream(streamSources(), false, func(s string) error { sent = append(sent, s); return nil })
		require.NoError(t, x.write("```json\n"+`{"citations":[{"source":1,"quote":"Okta SAML support"}],"answer":"One [1]. Two [1]. Three [1]."}`))
		require.Empty(t, sent)
		require.False(t, x.streamed())
	})
}

// TestSentencesArePrefixStable pins what answerStream relies on: every
// sentence of a text's prefix but the last is a sentence of the whole
// text, in the same place (answerSentences, which answers are split by,
// and Sentences, which it follows outside quotations).
func TestSentencesArePrefixStable(t *testing.T) {
	t.Parallel()
	for _, text := range []string{
		`We promised SSO [1]. It ships in April! Really? Yes.`,
		`He said "done." Then left. (See notes.) Next [2]. [3]`,
		"Line one.\nLine two.\tTab three. ",
		`Price is 3.5 percent, e.g. for two years. Ok?! Fine...  End`,
		`Trailing reference. [1] [2]`,
		`Maya said: "We ship in April. It is on track." [1] Wei agreed [2]. Done.`,
		"Maya asked: \u201cIs it late? Is it?\u201d [1] A 5\" screen. \"Stray. Quote.\nNew line. End.",
		`Stray "` + strings.Repeat("word. ", maxQuotation/5) + `end. Next one. Last.`,
	} {
		for _, split := range []func(string) []string{Sentences, answerSentences} {
			full := split(text)
			for i := range len(text) + 1 {
				part := split(text[:i])
				if len(part) == 0 {
					continue
				}
				stable := part[:len(part)-1]
				require.Equal(t, stable, full[:len(stable)], "prefix %q of %q", text[:i], text)
			}
		}
	}
}

// streamFixture is an openai fixture whose fake model answers with the
// reply build makes from the prompt's sources (numbered as the prompt
// numbers them).
func streamFixture(t *testing.T, build func(sources map[string]string) llmtest.Reply) (*fixture, *llmtest.Server, Question) {
	t.Helper()
	f, srv := openaiFixture(t)
	acme, _, _ := history(f)
	srv.DefaultReply = func(req llmtest.ChatRequest) llmtest.Reply { return build(promptSources(t, req)) }
	return f, srv, Question{OrgID: f.orgID, AccountID: acme, Text: "What did we promise Acme about SSO?"}
}

// sourceWith returns the number of the source that contains s.
func sourceWith(t *testing.T, sources map[string]string, s string) string {
	t.Helper()
	for n, text := range sources {
		if strings.Contains(text, s) {
			return n
		}
	}
	t.Fatalf("no source contains %q: %v", s, sources)
	return ""
}

// tokens collects what Ask sends to onToken.
type tokens struct {
	mu   sync.Mutex
	list []string
	at   []time.Time
}

func (tk *tokens) on(s string) error {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	tk.list = append(tk.list, s)
	tk.at = append(tk.at, time.Now())
	return nil
}

func (tk *tokens) text() string {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return strings.Join(tk.list, "")
}

func citationsFirst(t *testing.T, out llm.AnswerOutput) string {
	t.Helper()
	b, err := json.Marshal(struct {
		Citations []llm.AnswerCitation `json:"citations"`
		Answer    string               `json:"answer"`
	}{out.Citations, out.Answer})
	require.NoError(t, err)
	return string(b)
}

func TestAskStream(t *testing.T) {
	t.Parallel()

	// dishonest is an answer with an invented source, a made-up quote and
	// an uncited sentence around two that are on record.
	dishonest := func(t *testing.T, sources map[string]string) llm.AnswerOutput {
		n := sourceWith(t, sources, "Okta SAML")
		return llm.AnswerOutput{
			Answer: "We promised Okta SAML support by the end of April [" + n + "]. We also promised a 50% discount [9]. " +
				"Everyone was happy. It is on track [" + n + ", 9].",
			Citations: []llm.AnswerCitation{
				{Source: atoi(n), Quote: "we promised Okta SAML support by the end of April"},
				{Source: 9, Quote: "a 50% discount"},
				{Source: atoi(n), Quote: "finance signed off"},
			},
		}
	}
	const want = `^We promised Okta SAML support by the end of April \[\d+\]\. It is on track \[\d+\]\.$`

	t.Run("AnswerBeforeCitationsIsSentOnlyWhenValidated", func(t *testing.T) {
		t.Parallel()
		var released time.Time
		var mu sync.Mutex
		hold := make(chan struct{})
		f, _, q := streamFixture(t, func(sources map[string]string) llmtest.Reply {
			out := dishonest(t, sources)
			b, err := json.Marshal(out) // llm.AnswerOutput: answer first, as JSON mode may
			require.NoError(t, err)
			return llmtest.Reply{Content: string(b), Hold: hold}
		})
		time.AfterFunc(200*time.Millisecond, func() {
			mu.Lock()
			released = time.Now()
			mu.Unlock()
			close(hold)
		})

		var tk tokens
		a, err := f.svc.Ask(context.Background(), q, tk.on)
		require.NoError(t, err)
		require.Regexp(t, want, a.Answer)
		require.Equal(t, a.Answer, tk.text())
		mu.Lock()
		defer mu.Unlock()
		require.True(t, tk.at[0].After(released), "no token before the whole answer was in")
		require.Greater(t, len(tk.list), 3, "sent word by word")
	})

	t.Run("CutAfterTokensIsUnavailableAndNotRetried", func(t *testing.T) {
		t.Parallel()
		f, srv, q := streamFixture(t, func(sources map[string]string) llmtest.Reply {
			n := sourceWith(t, sources, "Okta SAML")
			out := llm.AnswerOutput{
				Citations: []llm.AnswerCitation{{Source: atoi(n), Quote: "Okta SAML support"}},
				Answer: strings.Repeat("Okta SAML is promised ["+n+"]. Nobody said this. ", 6) +
					strings.Repeat("It ships by the end of April ["+n+"]. ", 6),
			}
			// Cut halfway: the citations and the first sentences are out.
			return llmtest.Reply{Content: citationsFirst(t, out), Truncate: true}
		})

		var tk tokens
		_, err := f.svc.Ask(context.Background(), q, tk.on)
		require.ErrorIs(t, err, ErrUnavailable)
		require.NotEmpty(t, tk.list, "sentences streamed before the cut")
		for _, tok := range tk.list {
			require.Contains(t, tok, "Okta SAML is promised")
			require.NotContains(t, tok, "Nobody")
		}
		require.Len(t, srv.ChatRequests(), 1, "no second answer after tokens went out")
	})

	t.Run("InventedAndUncitedNeverStreamAndTokensArriveEarly", func(t *testing.T) {
		t.Parallel()
		hold := make(chan struct{})
		f, srv, q := streamFixture(t, func(sources map[string]string) llmtest.Reply {
			// The last delta waits until the first token is here: an Ask
			// that sent nothing before the stream ended would time out.
			return llmtest.Reply{Content: citationsFirst(t, dishonest(t, sources)), Hold: hold}
		})

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var tk tokens
		var once sync.Once
		a, err := f.svc.Ask(ctx, q, func(s string) error {
			once.Do(func() { close(hold) })
			return tk.on(s)
		})
		require.NoError(t, err)
		require.True(t, a.Grounded)
		require.Regexp(t, want, a.Answer)
		require.Len(t, a.Citations, 1)
		require.Equal(t, a.Answer, tk.text(), "the tokens spell the validated answer")
		require.Len(t, tk.list, 2, "one token per sentence")
		for _, tok := range tk.list {
			for _, bad := range []string{"discount", "9]", "happy"} {
				require.NotContains(t, tok, bad)
			}
		}

		reqs := srv.ChatRequests()
		require.Len(t, reqs, 1)
		require.True(t, reqs[0].Stream)
		schema := string(reqs[0].ResponseFormat.JSONSchema.Schema)
		require.Less(t, strings.Index(schema, `"citations"`), strings.Index(schema, `"answer"`),
			"strict output follows the schema's order: citations first")
	})

	t.Run("MalformedFirstAnswerIsAskedAgainAndStreamed", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		f, srv, q := streamFixture(t, func(sources map[string]string) llmtest.Reply {
			if calls.Add(1) == 1 {
				return llmtest.ReplyMalformed()
			}
			return llmtest.Reply{Content: citationsFirst(t, dishonest(t, sources))}
		})

		var tk tokens
		a, err := f.svc.Ask(context.Background(), q, tk.on)
		require.NoError(t, err)
		require.Regexp(t, want, a.Answer)
		require.Equal(t, a.Answer, tk.text())
		reqs := srv.ChatRequests()
		require.Len(t, reqs, 2)
		require.True(t, reqs[1].Stream, "the second answer streams too")
	})

	t.Run("MalformedAfterTokensIsUnavailableAndNotRetried", func(t *testing.T) {
		t.Parallel()
		f, srv, q := streamFixture(t, func(sources map[string]string) llmtest.Reply {
			// Text after the object: encoding/json refuses it, but only
			// once the first sentence has gone out.
			return llmtest.Reply{Content: citationsFirst(t, dishonest(t, sources)) + " Hope this helps!"}
		})

		var tk tokens
		_, err := f.svc.Ask(context.Background(), q, tk.on)
		require.ErrorIs(t, err, ErrUnavailable)
		require.Len(t, tk.list, 1)
		require.Regexp(t, `^We promised Okta SAML support by the end of April \[\d+\]\.$`, tk.list[0])
		require.Len(t, srv.ChatRequests(), 1, "no second answer after tokens went out")
	})

	t.Run("MalformedTwiceIsUnavailable", func(t *testing.T) {
		t.Parallel()
		f, _, q := streamFixture(t, func(map[string]string) llmtest.Reply { return llmtest.ReplyMalformed() })

		var tk tokens
		_, err := f.svc.Ask(context.Background(), q, tk.on)
		require.ErrorIs(t, err, ErrUnavailable)
		require.Empty(t, tk.list)
	})

	t.Run("OnTokenErrorIsReturnedAsIs", func(t *testing.T) {
		t.Parallel()
		f, _, q := streamFixture(t, func(sources map[string]string) llmtest.Reply {
			return llmtest.Reply{Content: citationsFirst(t, dishonest(t, sources))}
		})

		errGone := errors.New("the client went away")
		_, err := f.svc.Ask(context.Background(), q, func(string) error { return errGone })
		require.ErrorIs(t, err, errGone)
		require.NotErrorIs(t, err, ErrUnavailable, "the model did nothing wrong")
	})

	t.Run("RateLimitedBeforeTheStreamIsUnavailable", func(t *testing.T) {
		t.Parallel()
		f, srv, q := streamFixture(t, func(map[string]string) llmtest.Reply { return llmtest.Reply429(time.Second) })

		var tk tokens
		_, err := f.svc.Ask(context.Background(), q, tk.on)
		require.ErrorIs(t, err, ErrUnavailable)
		require.Empty(t, tk.list)
		require.Len(t, srv.ChatRequests(), 1)
	})
}

// TestAnswerStreamAgreesWithValidate streams random answers, in random
// pieces, and checks the invariant: the tokens spell the validated answer,
// and what streamed before the end is whole sentences of it. It checks the
// validated answer's own rules too: every [n] in it names a citation, and
// every quote is words of one line of its source, without the line's label.
func TestAnswerStreamAgreesWithValidate(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 9))
	words := []string{"We promised", "Okta SAML", "support", ".", "!", "?", " ", "\n", "[1]", "[2]", "[3]", "[9]", "[1, 9]",
		"[2,1]", "[0]", "e.g.", `"`, "\u201c", "\u201d", "said:", ")", "percent", "uplift", "12", "[", "]", "é", "\\", "😀"}
	quotes := []string{"Okta SAML support", "12 percent uplift", "nothing here", "we promised okta saml",
		"Maya Patel: we promised Okta SAML", "Maya Patel we promised", "Wei Zhang: a 12 percent uplift", "on track. Wei Zhang: Okay",
		"Decision: Annual billing starts", "Email: Renewal terms", "net 60 payment", "Okay"}
	for i := range 4000 {
		srcs := streamSources()
		if i%2 == 1 {
			srcs = quoteSources()
		}
		var b strings.Builder
		for j := rng.IntN(30); j > 0; j-- {
			b.WriteString(words[rng.IntN(len(words))])
			if rng.IntN(3) == 0 {
				b.WriteString(" ")
			}
		}
		out := llm.AnswerOutput{Answer: b.String(), Citations: []llm.AnswerCitation{}}
		for j := rng.IntN(5); j > 0; j-- {
			out.Citations = append(out.Citations, llm.AnswerCitation{Source: rng.IntN(5), Quote: quotes[rng.IntN(len(quotes))]})
		}
		text := citationsFirst(t, out)
		sizes := []int{1 + rng.IntN(8), 1 + rng.IntN(8), 1 + rng.IntN(8)}

		got, a, err := streamAnswerFrom(t, srcs, text, sizes)
		require.NoError(t, err, "%s", text)
		require.Equal(t, validate(out, srcs, false), a)
		require.Equal(t, a.Answer, got.text(), "%s in pieces of %v", text, sizes)
		for _, tok := range got.during {
			require.Contains(t, " "+a.Answer+" ", " "+strings.TrimSpace(tok)+" ", "%s", text)
		}
		requireMarkersCited(t, a)
		for _, c := range a.Citations {
			h := srcs[c.N-1]
			require.Equal(t, h.ID, c.ChunkID)
			inLine := false
			for _, line := range strings.Split(h.Text, "\n") {
				label, body, ok := strings.Cut(line, ": ")
				if !ok || len(strings.Fields(label)) > 4 {
					body = line
				}
				inLine = inLine || strings.Contains(body, c.Quote)
			}
			require.True(t, inLine, "%q is not words of one line of %q without its label", c.Quote, h.Text)
		}
	}
}
