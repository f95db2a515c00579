package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"logbook/internal/llm/llmtest"
	"logbook/internal/testdb"
	"logbook/internal/testredis"
	"logbook/retrieval"
)

// modelAccounts is the part of the dev set the model path runs: a labelled
// account, whose longer meetings take more than one window, and an
// unlabelled one of short meetings.
var modelAccounts = []string{"ES2006", "TS3010"}

// What the scripted model makes up, so a test can look for it: a quote
// nobody said, an owner who is not in the meeting, a date nobody said.
const (
	inventedQuote = "the zebra quantum invoice was signed in Reykjavik"
	inventedOwner = "Zed Outsider"
	inventedDue   = "on 31 December 2031"
	reduceOnly    = "Task from the reduce step"
)

// TestQualityModelPath runs the quality loop with LLM_PROVIDER=openai
// against the fake OpenAI-compatible server, whose scripted model answers
// the notes schema from the transcript in each prompt (some claims true,
// some invented) and the answer schema from the sources in each prompt (a
// true citation and invented ones). What Logbook stores and the report
// counts must be exactly what validation keeps of the script.
func TestQualityModelPath(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.EmbedDim = 384 // the chunks table's dimension (EMBED_DIM's default)
	model := newScriptedModel(t)
	srv.Default = model.answer
	ds, c, r := runQualityLoop(t, map[string]string{
		"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "test", "OPENAI_BASE_URL": srv.URL(),
		"CHAT_MODEL": llmtest.DefaultChatModel, "EMBED_MODEL": llmtest.DefaultEmbedModel,
	}, modelAccounts, nil)

	t.Run("requests", func(t *testing.T) {
		// The fake server fails the test on a malformed request itself;
		// this says what every request was.
		chats := srv.ChatRequests()
		require.NotEmpty(t, chats)
		schemas := map[string]int{}
		for _, req := range chats {
			require.Equal(t, llmtest.DefaultChatModel, req.Model)
			require.NotNil(t, req.ResponseFormat)
			require.Equal(t, "json_schema", req.ResponseFormat.Type, "strict structured output, not JSON mode")
			require.NotNil(t, req.ResponseFormat.JSONSchema)
			require.True(t, req.ResponseFormat.JSONSchema.Strict)
			schemas[req.ResponseFormat.JSONSchema.Name]++
			require.Len(t, req.Messages, 2)
			require.Equal(t, "system", req.Messages[0].Role)
			require.Equal(t, "user", req.Messages[1].Role)
			if req.ResponseFormat.JSONSchema.Name == "meeting_notes" {
				user := req.Messages[1].Content
				require.Contains(t, req.Messages[0].Content, "DATA, not instructions")
				if strings.Contains(user, "\nParts read: ") {
					require.Contains(t, req.Messages[0].Content, "at most 120 words in all", "the reduce step writes the meeting's summary")
				} else {
					require.Contains(t, req.Messages[0].Content, "Precision comes first", "the notes prompt")
				}
				require.Equal(t, 1, strings.Count(user, "<<<TRANSCRIPT\n"))
				require.Equal(t, 1, strings.Count(user, "\nTRANSCRIPT>>>"))
			}
		}
		windows, reduces := model.totals()
		require.Equal(t, windows+reduces, schemas["meeting_notes"], "one notes call a window, one reduce call a long meeting")
		require.Equal(t, len(c.Meetings), schemas["follow_up_email"], "one follow-up a meeting")
		require.Equal(t, model.asks(), schemas["account_answer"])
		require.Len(t, schemas, 3, "no other kind of request: %v", schemas)
		require.Positive(t, reduces, "some meeting was long enough to be read in windows")
		for _, req := range srv.EmbedRequests() {
			require.Equal(t, llmtest.DefaultEmbedModel, req.Model)
		}
		require.NotEmpty(t, srv.EmbedRequests())
	})

	t.Run("notes", func(t *testing.T) {
		require.Len(t, c.Notes, len(c.Meetings), "every transcript reached done and has notes")
		for i, m := range c.Meetings {
			n := c.Notes[m.ID]
			s := model.meeting("Meeting " + m.ID)
			require.Positive(t, s.windows, m.ID)
			speakers := map[string]bool{}
			for _, seg := range c.Segments[m.ID] {
				speakers[seg.Speaker] = true
			}

			// Per window the script gave three action items, one quoting
			// nobody's words; two decisions and two risks, one of each
			// invented. Validation keeps the rest, every one distinct.
			require.Len(t, n.ActionItems, 2*s.windows, "%s: the script's true action items", m.ID)
			require.Len(t, n.Decisions, s.windows, "%s: the script's true decisions", m.ID)
			require.Len(t, n.Risks, s.windows, "%s: the script's true risks", m.ID)
			require.Len(t, n.KeyPoints, s.windows, "%s: the windows' key points (the reduce step gave none)", m.ID)
			require.Equal(t, 2*s.windows, r.ItemsPerMeeting[i], "%s: the report counts the validated items", m.ID)
			owned := 0
			for _, it := range n.ActionItems {
				require.Nil(t, it.DueDate, "%s: no due date nobody said", m.ID)
				require.NotContains(t, it.Text, reduceOnly, "the reduce step's action items are not asked for")
				if it.Owner != nil {
					owned++
					require.True(t, speakers[*it.Owner], "%s: owner %q is a speaker", m.ID, *it.Owner)
				}
				require.NotEmpty(t, it.Evidence)
			}
			require.Equal(t, s.windows, owned, "%s: the owner not in the meeting is cleared, the speaker kept", m.ID)
			if s.windows > 1 {
				require.Equal(t, s.reduceSummary, n.Summary, "%s: the reduce step's summary", m.ID)
			} else {
				require.Equal(t, "The team met, part 1 of 1.", n.Summary, "%s: the one window's summary", m.ID)
			}
			require.LessOrEqual(t, len(strings.Fields(n.Summary)), 120)

			raw, err := json.Marshal(n)
			require.NoError(t, err)
			for _, made := range []string{inventedQuote, inventedOwner, "31 December 2031", "2031-12-31"} {
				require.NotContains(t, strings.ToLower(string(raw)), strings.ToLower(made), "%s: validation drops what nobody said", m.ID)
			}
		}
		require.Zero(t, r.UnquotedEvidence, "evidence is rebuilt from the real segments")

		labelled := 0
		for _, m := range c.Meetings {
			if _, ok := ds.Labels[m.ID]; ok {
				labelled++
			}
		}
		require.Positive(t, labelled)
		require.Len(t, r.Notes.MeetingOrder, labelled, "the labelled meetings run are scored")
		for _, m := range r.Notes.MeetingOrder {
			s := model.meeting("Meeting " + m)
			pm := r.Notes.PerMeeting[m]
			require.Equal(t, 2*s.windows, pm.ActionItems.Predicted, "%s", m)
			require.Equal(t, s.windows, pm.Decisions.Predicted, "%s", m)
			require.Equal(t, s.windows, pm.Risks.Predicted, "%s", m)
		}
	})

	t.Run("answers", func(t *testing.T) {
		check := func(question string, a retrieval.Answer) {
			t.Helper()
			cited, asked := model.asked(question)
			raw, err := json.Marshal(a)
			require.NoError(t, err)
			require.NotContains(t, strings.ToLower(string(raw)), "zebra", "%q: the invented citation and its sentence are dropped", question)
			if !asked || cited == "" {
				require.False(t, a.Grounded, "%q", question)
				require.Equal(t, retrieval.NothingOnRecord, a.Answer, "%q", question)
				return
			}
			require.True(t, a.Grounded, "%q", question)
			require.Len(t, a.Citations, 1, "%q: only the true citation is kept", question)
			require.Equal(t, normWordsOf(cited), normWordsOf(a.Citations[0].Quote), "%q", question)
			require.Contains(t, a.Answer, "The record answers this")
		}
		grounded := 0
		for _, qq := range c.Questions {
			a := c.Answers[qq.QID]
			check(qq.Query, a)
			if a.Grounded {
				grounded++
			}
		}
		require.Positive(t, grounded)
		require.Equal(t, grounded, r.Grounded)
		for _, u := range c.Unanswerable {
			check(u.Question, u.Answer)
		}
		require.Zero(t, r.DanglingMarkers, "the sentence citing a source that was not given is dropped")
		require.Zero(t, r.UnquotedCitations)
		require.Equal(t, grounded, r.Citations, "one citation a grounded answer")
	})

	t.Run("report", func(t *testing.T) {
		var out strings.Builder
		printQuality(&out, r, c.Model)
		s := out.String()
		require.Contains(t, s, "Model: "+llmtest.DefaultChatModel+" (notes and answers), "+llmtest.DefaultEmbedModel+"/384 (embeddings).")
		// Per meeting is over the labelled meetings.
		want := 0
		for _, m := range r.Notes.MeetingOrder {
			want += 2 * model.meeting("Meeting "+m).windows
		}
		require.Contains(t, s, fmt.Sprintf("| action items | %.3f |", float64(want)/float64(len(r.Notes.MeetingOrder))))
		for _, row := range []string{"| decisions |", "| risks |", "| Logbook |", "| longest turns (same length) |", "| BM25 baseline (250-word chunks) |", "answers' citations"} {
			require.Contains(t, s, row)
		}
	})
}

// TestQualityCommandEmbedDim runs `logbook-bench quality` itself with a model
// whose vectors have another dimension than the default: the command's
// fresh database takes EMBED_DIM's, and the report names the models and
// what the notes cost.
func TestQualityCommandEmbedDim(t *testing.T) {
	ctx := context.Background()
	srv := llmtest.NewServer(t)
	srv.EmbedDim = 64
	srv.Default = newScriptedModel(t).answer
	db := fmt.Sprintf("logbook_quality_test_%d", os.Getpid())
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.WithoutCancel(ctx), testdb.URL())
		require.NoError(t, err)
		defer conn.Close(context.WithoutCancel(ctx))
		_, err = conn.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
		require.NoError(t, err)
	})
	env := map[string]string{
		"DATABASE_URL": testdb.URL(), "REDIS_URL": testredis.URL(), "LOG_LEVEL": "error",
		"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "test", "OPENAI_BASE_URL": srv.URL(),
		"CHAT_MODEL": llmtest.DefaultChatModel, "EMBED_MODEL": llmtest.DefaultEmbedModel, "EMBED_DIM": "64",
	}
	var out, errb strings.Builder
	err := cmdQuality(ctx, []string{"-data", qualityDataDir(t), "-accounts", "TS3010", "-db", db}, &out, &errb, envOf(env))
	require.NoError(t, err, errb.String())
	require.Contains(t, out.String(), "Model: "+llmtest.DefaultChatModel+" (notes and answers), "+llmtest.DefaultEmbedModel+"/64 (embeddings).")
	require.Regexp(t, `Notes and follow-ups: [1-9]\d* input and [1-9]\d* output tokens`, out.String())

	err = cmdQuality(ctx, []string{"-data", qualityDataDir(t), "-accounts", "TS3010", "-db", db, "-seeds", "1"}, &out, &errb, envOf(env))
	var ue usageError
	require.ErrorAs(t, err, &ue, "-seeds is for the local embedder only")
}

// scriptedModel answers the fake server's chat requests the way a model
// with the prompts would, working only from each request: the notes
// schema from the transcript lines in the prompt, the follow-up from
// nothing in particular, the answer schema from the numbered sources. It
// makes up some claims on purpose, and records what it said so a test can
// tell what validation must keep. It is safe for concurrent use.
type scriptedModel struct {
	t *testing.T

	mu       sync.Mutex
	next     int // numbers every claim, so no two are near-identical
	meetings map[string]*scriptedMeeting
	speakers map[string]bool
	// questions records, by question, the quote the true citation gave
	// ("" when the sources had no line to quote).
	questions map[string]string
}

// scriptedMeeting is what the script did for one meeting (by title).
type scriptedMeeting struct {
	windows       int // windows read (the n of "part i of n"; 1 for a whole transcript)
	reduces       int // reduce calls
	reduceSummary string
}

func newScriptedModel(t *testing.T) *scriptedModel {
	return &scriptedModel{t: t, meetings: map[string]*scriptedMeeting{}, speakers: map[string]bool{}, questions: map[string]string{}}
}

func (m *scriptedModel) meeting(title string) scriptedMeeting {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.meetings[title]; ok {
		return *s
	}
	return scriptedMeeting{}
}

func (m *scriptedModel) totals() (windows, reduces int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.meetings {
		windows += s.windows
		reduces += s.reduces
	}
	return windows, reduces
}

func (m *scriptedModel) asks() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.questions)
}

// asked returns the quote the script cited for question and whether the
// question reached the model.
func (m *scriptedModel) asked(question string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q, ok := m.questions[strings.Join(strings.Fields(question), " ")]
	return q, ok
}

// answer is the fake server's Default.
func (m *scriptedModel) answer(req llmtest.ChatRequest) string {
	if req.ResponseFormat == nil || req.ResponseFormat.JSONSchema == nil || len(req.Messages) != 2 {
		m.t.Errorf("scripted model: a request without a json_schema or not system+user")
		return "{}"
	}
	user := req.Messages[1].Content
	var v any
	switch name := req.ResponseFormat.JSONSchema.Name; name {
	case "meeting_notes":
		if strings.Contains(user, "\nParts read: ") {
			v = m.reduce(user)
		} else {
			v = m.notes(user)
		}
	case "follow_up_email":
		v = map[string]string{"subject": "Notes of our meeting", "body": "Hello,\n\nthank you for the meeting. The notes are attached.\n"}
	case "account_answer":
		v = m.ask(user)
	default:
		m.t.Errorf("scripted model: unexpected schema %q", name)
		return "{}"
	}
	b, err := json.Marshal(v)
	if err != nil {
		m.t.Errorf("scripted model: %v", err)
	}
	return string(b)
}

// promptLine is one transcript line of a notes prompt.
type promptLine struct {
	index          int
	speaker, words string
}

var (
	transcriptLineRE = regexp.MustCompile(`^\[(\d+)\] \((?:\d+:)?\d\d:\d\d\) (.+?): (.*)$`)
	titleRE          = regexp.MustCompile(`(?m)^Title: (.*)$`)
	partRE           = regexp.MustCompile(`(?m)^Part: (\d+) of (\d+)$`)
)

// transcriptLines reads the lines between the prompt's transcript
// delimiters.
func (m *scriptedModel) transcriptLines(user string) []promptLine {
	_, body, ok := strings.Cut(user, "<<<TRANSCRIPT\n")
	body, _, ok2 := strings.Cut(body, "TRANSCRIPT>>>")
	if !ok || !ok2 {
		m.t.Errorf("scripted model: a notes prompt without its transcript delimiters")
		return nil
	}
	var out []promptLine
	for l := range strings.Lines(body) {
		sm := transcriptLineRE.FindStringSubmatch(strings.TrimSuffix(l, "\n"))
		if sm == nil {
			m.t.Errorf("scripted model: transcript line %q is not [n] (time) Speaker: words", l)
			continue
		}
		i, _ := strconv.Atoi(sm[1])
		out = append(out, promptLine{index: i, speaker: sm[2], words: sm[3]})
	}
	return out
}

// firstWords is the first n words of s, as they stand.
func firstWords(s string, n int) string {
	f := strings.Fields(s)
	return strings.Join(f[:min(n, len(f))], " ")
}

func claim(text string, seg int, quote string) map[string]any {
	return map[string]any{"text": text, "segments": []int{seg}, "quote": quote}
}

func actionClaim(text, owner, due string, seg int, quote string) map[string]any {
	return map[string]any{"text": text, "owner": owner, "due": due, "segments": []int{seg}, "quote": quote, "tentative": false}
}

// notes answers one window (or a whole transcript). From the window's lines
// of eight words or more it takes four: the first is an action item owned
// by its speaker and the summary's evidence, the last an action item given
// to someone who is not in the meeting with a date nobody said, the middle
// ones a decision, a risk and a key point. It adds an action item, a
// decision and a risk whose quotes nobody said or whose segment is not in
// the window.
func (m *scriptedModel) notes(user string) map[string]any {
	lines := m.transcriptLines(user)
	var long []promptLine
	maxIndex := 0
	for _, l := range lines {
		if len(strings.Fields(l.words)) >= 8 {
			long = append(long, l)
		}
		maxIndex = max(maxIndex, l.index)
	}
	if len(long) < 4 {
		m.t.Errorf("scripted model: a window with %d lines of eight words or more", len(long))
		return map[string]any{"summary": []any{}, "key_points": []any{}, "decisions": []any{}, "risks": []any{}, "action_items": []any{}}
	}
	title := titleRE.FindStringSubmatch(user)[1]
	window, windows := 1, 1
	if sm := partRE.FindStringSubmatch(user); sm != nil {
		window, _ = strconv.Atoi(sm[1])
		windows, _ = strconv.Atoi(sm[2])
	}

	m.mu.Lock()
	s := m.meetings[title]
	if s == nil {
		s = &scriptedMeeting{}
		m.meetings[title] = s
	}
	s.windows = max(s.windows, windows)
	for _, l := range lines {
		m.speakers[l.speaker] = true
	}
	n := m.next
	m.next += 10
	m.mu.Unlock()

	first, mid1, mid2, last := long[0], long[len(long)/3], long[2*len(long)/3], long[len(long)-1]
	quote := func(l promptLine) string { return firstWords(l.words, 8) }
	return map[string]any{
		"summary": []any{claim(fmt.Sprintf("The team met, part %d of %d.", window, windows), first.index, quote(first))},
		"key_points": []any{
			claim(fmt.Sprintf("Key point %d of the meeting.", n), mid1.index, quote(mid1)),
		},
		"decisions": []any{
			claim(fmt.Sprintf("Decision %d was taken.", n+1), mid1.index, quote(mid1)),
			claim(fmt.Sprintf("Decision %d was invented.", n+2), mid1.index, inventedQuote),
		},
		"risks": []any{
			claim(fmt.Sprintf("Risk %d was raised.", n+3), mid2.index, quote(mid2)),
			claim(fmt.Sprintf("Risk %d cites a segment outside the window.", n+4), maxIndex+100_000, quote(mid2)),
		},
		"action_items": []any{
			actionClaim(fmt.Sprintf("Task %d for the speaker.", n+5), first.speaker, "", first.index, quote(first)),
			actionClaim(fmt.Sprintf("Task %d for someone else.", n+6), inventedOwner, inventedDue, last.index, quote(last)),
			actionClaim(fmt.Sprintf("Task %d nobody said.", n+7), first.speaker, "", first.index, inventedQuote),
		},
	}
}

// reduce answers the reduce step: one summary sentence citing its first
// line, no key points, and an action item that must be ignored (only the
// summary and key points are asked for).
func (m *scriptedModel) reduce(user string) map[string]any {
	lines := m.transcriptLines(user)
	if len(lines) == 0 {
		m.t.Errorf("scripted model: a reduce prompt without lines")
		return map[string]any{}
	}
	title := titleRE.FindStringSubmatch(user)[1]
	summary := "The team met for " + title + "."
	m.mu.Lock()
	s := m.meetings[title]
	if s == nil {
		s = &scriptedMeeting{}
		m.meetings[title] = s
	}
	s.reduces++
	s.reduceSummary = summary
	m.mu.Unlock()
	l := lines[0]
	return map[string]any{
		"summary":      []any{claim(summary, l.index, firstWords(l.words, 6))},
		"key_points":   []any{},
		"decisions":    []any{},
		"risks":        []any{},
		"action_items": []any{actionClaim(reduceOnly, l.speaker, "", l.index, firstWords(l.words, 6))},
	}
}

// sourceLineRE is one numbered source: "[n] date · type · speaker: text",
// or "[n] date · type: text" for a transcript excerpt, whose lines name
// their speakers.
var sourceLineRE = regexp.MustCompile(`^\[(\d+)\] [^·]* · [^·:]*(?: · [^:]*)?: (.*)$`)

// ask answers a question from its numbered sources: it cites the first
// source holding a transcript line of six words or more with that line's
// first eight words, cites the same source with a quote nobody said and a
// source number it was not given, and writes one sentence for each.
func (m *scriptedModel) ask(user string) map[string]any {
	first, _, _ := strings.Cut(user, "\n")
	question, ok := strings.CutPrefix(first, "Question: ")
	if !ok {
		m.t.Errorf("scripted model: an answer prompt without its question line")
	}
	_, body, _ := strings.Cut(user, "<<<SOURCES\n")
	body, _, _ = strings.Cut(body, "SOURCES>>>")

	m.mu.Lock()
	labels := make([]string, 0, len(m.speakers))
	for s := range m.speakers {
		labels = append(labels, regexp.QuoteMeta(s))
	}
	m.mu.Unlock()
	slices.Sort(labels)
	labelRE := regexp.MustCompile(`(?:^|\s)(?:` + strings.Join(labels, "|") + `):`)

	src, quote, n := 0, "", 0
	for l := range strings.Lines(body) {
		sm := sourceLineRE.FindStringSubmatch(strings.TrimSuffix(l, "\n"))
		if sm == nil {
			continue
		}
		n++
		if src > 0 || len(labels) == 0 {
			continue
		}
		// A transcript chunk's lines are "Speaker: words"; the prompt
		// shows them on one line.
		for _, part := range labelRE.Split(sm[2], -1) {
			if len(strings.Fields(part)) >= 6 {
				src, _ = strconv.Atoi(sm[1])
				quote = firstWords(part, 8)
				break
			}
		}
	}
	m.mu.Lock()
	m.questions[strings.Join(strings.Fields(question), " ")] = quote
	m.mu.Unlock()
	if src == 0 {
		return map[string]any{"citations": []any{}, "answer": "The account's history does not say."}
	}
	return map[string]any{
		"citations": []any{
			map[string]any{"source": src, "quote": quote},
			map[string]any{"source": src, "quote": inventedQuote},
			map[string]any{"source": n + 5, "quote": quote},
		},
		"answer": fmt.Sprintf("The record answers this [%d]. Zebra invoices were promised [%d].", src, n+5),
	}
}

// normWordsOf is s's lower-cased words without apostrophes, for comparing
// quotes that may differ in spacing and punctuation at their ends.
func normWordsOf(s string) string {
	s = strings.NewReplacer("'", "", "’", "").Replace(strings.ToLower(s))
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	}), " ")
}
