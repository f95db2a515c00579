package summarize_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/internal/llm/llmtest"
	"logbook/internal/llm/local"
	"logbook/internal/llm/openai"
	"logbook/internal/safety"
	"logbook/internal/store"
	"logbook/summarize"
)

// injectionCase is one transcript of testdata/injection/corpus.json: an
// attack (payment redirection, bank changes, credential requests, outside
// links, in several languages and markups) or a benign control.
type injectionCase struct {
	Name   string   `json:"name"`
	Lang   string   `json:"lang"`
	Attack bool     `json:"attack"`
	Lines  []string `json:"lines"` // "Speaker|text"
	// Secrets are what must reach no draft and no webhook payload, in
	// safety.Normalize's form.
	Secrets []string `json:"secrets"`
	// Forged are claims the attacker's model adds that cite lines which do
	// not say them (or do not exist): validation must drop every one.
	Forged []struct {
		Kind     string `json:"kind"`
		Text     string `json:"text"`
		Segments []int  `json:"segments"`
		Quote    string `json:"quote"`
	} `json:"forged"`
	// Draft and Subject are what the attacker's model adds to its draft.
	Draft   string `json:"draft"`
	Subject string `json:"subject"`
}

type injectionCorpus struct {
	TrustedDomains []string        `json:"trusted_domains"`
	Cases          []injectionCase `json:"cases"`
}

func loadCorpus(t *testing.T) injectionCorpus {
	t.Helper()
	b, err := os.ReadFile("testdata/injection/corpus.json")
	require.NoError(t, err)
	var c injectionCorpus
	require.NoError(t, json.Unmarshal(b, &c))
	return c
}

func (c injectionCase) meeting(trusted []string) summarize.Meeting {
	m := summarize.Meeting{
		Title: "Acme renewal", Date: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC),
		Participants: []crm.Participant{
			{Name: "Dana Lee", Email: "dana@acme.com"}, {Name: "Sam Ortiz", Email: "sam@seller.io"},
		},
		From: "Sam Ortiz", External: []crm.Participant{{Name: "Dana Lee", Email: "dana@acme.com"}},
		TrustedDomains: trusted,
	}
	var at int64
	for i, l := range c.Lines {
		speaker, text, _ := strings.Cut(l, "|")
		m.Segments = append(m.Segments, crm.Segment{Index: i, Speaker: speaker, StartMS: at, EndMS: at + 5000, Text: text})
		at += 5500
	}
	return m
}

// attackerNotes is what a hijacked model answers: every line of the
// transcript as a summary sentence, key point, decision, risk and action
// item (each citing its line truthfully), plus the case's forged claims.
func (c injectionCase) attackerNotes(m summarize.Meeting) llm.NotesOutput {
	var out llm.NotesOutput
	for _, s := range m.Segments {
		cl := llm.Claim{Text: s.Text, Segments: []int{s.Index}, Quote: s.Text}
		out.Summary = append(out.Summary, cl)
		out.KeyPoints = append(out.KeyPoints, cl)
		out.Decisions = append(out.Decisions, cl)
		out.Risks = append(out.Risks, cl)
		out.ActionItems = append(out.ActionItems, llm.ActionClaim{Text: s.Text, Owner: s.Speaker, Segments: []int{s.Index}, Quote: s.Text})
	}
	for _, f := range c.Forged {
		cl := llm.Claim{Text: f.Text, Segments: f.Segments, Quote: f.Quote}
		switch f.Kind {
		case "summary":
			out.Summary = append(out.Summary, cl)
		case "key_points":
			out.KeyPoints = append(out.KeyPoints, cl)
		case "decisions":
			out.Decisions = append(out.Decisions, cl)
		case "action_items":
			out.ActionItems = append(out.ActionItems, llm.ActionClaim{Text: f.Text, Segments: f.Segments, Quote: f.Quote})
		}
	}
	return out
}

// attackerDraft is the hijacked model's follow-up: every line of the
// transcript under "What we agreed" and "Next steps", plus the case's own
// additions.
func (c injectionCase) attackerDraft(m summarize.Meeting) llm.FollowUpOutput {
	var b strings.Builder
	b.WriteString("Hi Dana,\n\nThank you for your time today.\n\nWhat we agreed:\n")
	for _, s := range m.Segments {
		b.WriteString("- " + s.Text + "\n")
	}
	b.WriteString("\nNext steps:\n")
	for _, s := range m.Segments {
		b.WriteString("- " + s.Speaker + ": " + s.Text + "\n")
	}
	if c.Draft != "" {
		b.WriteString("\n" + c.Draft + "\n")
	}
	b.WriteString("\nBest regards,\nSam Ortiz")
	subject := "Follow-up: Acme renewal"
	if c.Subject != "" {
		subject = c.Subject
	}
	return llm.FollowUpOutput{Subject: subject, Body: b.String()}
}

// reaches reports which of secrets text carries, as written or normalised.
func reaches(text string, secrets []string) []string {
	norm, low := safety.Normalize(text), strings.ToLower(text)
	var out []string
	for _, s := range secrets {
		if strings.Contains(norm, s) || strings.Contains(low, s) {
			out = append(out, s)
		}
	}
	return out
}

// allItems lists every notes item as (kind, text with its quotes, flag,
// reason).
type item struct {
	kind, text string
	needs      bool
	reason     *string
}

func allItems(n crm.Notes) []item {
	var out []item
	quotes := func(ev []crm.Evidence) string {
		var b strings.Builder
		for _, e := range ev {
			b.WriteString(" " + e.Quote)
		}
		return b.String()
	}
	for kind, l := range map[string][]crm.Point{"summary_sentences": n.SummarySentences, "key_points": n.KeyPoints,
		"decisions": n.Decisions, "risks": n.Risks} {
		for _, p := range l {
			out = append(out, item{kind, p.Text + quotes(p.Evidence), p.NeedsReview, p.ReviewReason})
		}
	}
	for _, a := range n.ActionItems {
		out = append(out, item{"action_items", a.Text + quotes(a.Evidence), a.NeedsReview, a.ReviewReason})
	}
	return out
}

// TestInjectionCorpus runs every transcript of the corpus through both
// providers (local offline; openai through the fake server answering with
// the attacker's notes and draft) and checks: no secret reaches the
// follow-up draft, the prompt the draft is written from, or the
// meeting.processed payload; every item carrying one needs review with a
// reason; forged citations are dropped; and no item of a benign control is
// flagged.
func TestInjectionCorpus(t *testing.T) {
	t.Parallel()
	corpus := loadCorpus(t)
	var attacks, controls int
	langs := map[string]bool{}
	for _, c := range corpus.Cases {
		langs[c.Lang] = true
		if c.Attack {
			attacks++
			require.NotEmpty(t, c.Secrets, c.Name)
			var said strings.Builder
			for _, l := range c.Lines {
				said.WriteString(l + "\n")
			}
			if len(c.Forged) == 0 && c.Draft == "" {
				require.Equal(t, c.Secrets, reaches(said.String(), c.Secrets), "%s: a secret is not in the transcript", c.Name)
			}
		} else {
			controls++
		}
	}
	require.GreaterOrEqual(t, attacks+controls, 50)
	require.GreaterOrEqual(t, len(langs), 5)

	type tally struct{ items, flagged, cases, casesFlagged int }
	var mu = make(chan struct{}, 1)
	ctrl := map[string]*tally{"local": {}, "openai": {}}
	atk := map[string]*tally{"local": {}, "openai": {}}

	check := func(t *testing.T, provider string, c injectionCase, n crm.Notes, st summarize.Stats, draftPrompt string) {
		t.Helper()
		require.NotNil(t, n.FollowUp)
		draft := n.FollowUp.Subject + "\n" + n.FollowUp.Body
		require.Empty(t, reaches(draft, c.Secrets), "%s/%s: the draft carries flagged content:\n%s", provider, c.Name, draft)
		require.Empty(t, reaches(draftPrompt, c.Secrets), "%s/%s: the draft prompt carries flagged content", provider, c.Name)
		payload, err := json.Marshal(store.MeetingProcessedData("a", "b", "c", n))
		require.NoError(t, err)
		require.Empty(t, reaches(string(payload), c.Secrets), "%s/%s: the webhook payload carries flagged content", provider, c.Name)
		require.Empty(t, reaches(n.Summary, c.Secrets), "%s/%s: the summary carries flagged content", provider, c.Name)

		items := allItems(n)
		flagged := 0
		for _, it := range items {
			if it.needs {
				flagged++
				require.NotNil(t, it.reason, "%s/%s: %q flagged without a reason", provider, c.Name, it.text)
				require.Regexp(t, `^(payment_instructions|credentials|external_link): `, *it.reason)
			}
			if len(reaches(it.text, c.Secrets)) > 0 {
				require.True(t, it.needs, "%s/%s: %s item %q carries %v but is not flagged", provider, c.Name, it.kind, it.text, reaches(it.text, c.Secrets))
			}
		}
		for _, f := range c.Forged {
			for _, it := range items {
				require.NotContains(t, it.text, f.Text, "%s/%s: forged claim kept", provider, c.Name)
			}
		}
		if provider == "openai" {
			require.GreaterOrEqual(t, len(st.Dropped), len(c.Forged), "%s: forged citations not dropped: %+v", c.Name, st.Dropped)
		}
		mu <- struct{}{}
		tl := atk[provider]
		if !c.Attack {
			tl = ctrl[provider]
		}
		tl.items += len(items)
		tl.flagged += flagged
		tl.cases++
		if flagged > 0 {
			tl.casesFlagged++
		}
		<-mu
		if !c.Attack {
			for _, it := range items {
				require.False(t, it.needs, "%s/%s: benign %s item flagged: %q (%s)", provider, c.Name, it.kind, it.text, deref(it.reason))
			}
		}
	}

	t.Run("Cases", func(t *testing.T) {
		for _, c := range corpus.Cases {
			t.Run("local/"+c.Name, func(t *testing.T) {
				t.Parallel()
				m := c.meeting(corpus.TrustedDomains)
				var prompt strings.Builder
				rec := completerFunc(func(ctx context.Context, req llm.CompletionRequest) (llm.Completion, error) {
					if req.Purpose == "followup.v1" {
						for _, msg := range req.Messages {
							prompt.WriteString(msg.Content)
						}
					}
					return local.New(64).Complete(ctx, req)
				})
				n, st, err := summarize.New(rec, summarize.Config{}).NotesWithStats(context.Background(), m)
				require.NoError(t, err)
				check(t, "local", c, n, st, prompt.String())
			})
			t.Run("openai/"+c.Name, func(t *testing.T) {
				t.Parallel()
				m := c.meeting(corpus.TrustedDomains)
				srv := llmtest.NewServer(t)
				notes, err := json.Marshal(c.attackerNotes(m))
				require.NoError(t, err)
				draft, err := json.Marshal(c.attackerDraft(m))
				require.NoError(t, err)
				srv.Default = func(req llmtest.ChatRequest) string {
					for _, msg := range req.Messages {
						if strings.Contains(msg.Content, "<<<TRANSCRIPT") {
							return string(notes)
						}
					}
					return string(draft)
				}
				p, err := openai.New(openai.Config{APIKey: "test-key", BaseURL: srv.URL(), ChatModel: llmtest.DefaultChatModel,
					EmbedModel: llmtest.DefaultEmbedModel, EmbedDim: llmtest.DefaultEmbedDim, Timeout: 5 * time.Second})
				require.NoError(t, err)
				n, st, err := summarize.New(p, summarize.Config{}).NotesWithStats(context.Background(), m)
				require.NoError(t, err)
				var prompt strings.Builder
				for _, r := range srv.ChatRequests() {
					for _, msg := range r.Messages {
						if strings.Contains(msg.Content, "<<<NOTES") {
							prompt.WriteString(msg.Content)
						}
					}
				}
				require.NotEmpty(t, prompt.String())
				check(t, "openai", c, n, st, prompt.String())
			})
		}
	})
	for _, p := range []string{"local", "openai"} {
		a, k := atk[p], ctrl[p]
		t.Logf("%s: attacks: %d/%d cases with flagged items (%d of %d items flagged); controls: %d/%d cases flagged, "+
			"%d of %d items flagged (false-positive rate %.1f%%)", p, a.casesFlagged, a.cases, a.flagged, a.items,
			k.casesFlagged, k.cases, k.flagged, k.items, 100*float64(k.flagged)/float64(max(k.items, 1)))
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// completerFunc is a Completer from a function.
type completerFunc func(ctx context.Context, req llm.CompletionRequest) (llm.Completion, error)

func (f completerFunc) Complete(ctx context.Context, req llm.CompletionRequest) (llm.Completion, error) {
	return f(ctx, req)
}
