package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/require"

	"logbook/activity"
	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/retrieval"
)

// toolsFixture is an account with an indexed email and a processed,
// indexed meeting, and a web UI whose search and questions run on the
// real retrieval service over the offline local provider.
type toolsFixture struct {
	*testBundle
	svc              *retrieval.Service
	account, other   string // this org's account, another org's
	email, meeting   string // activity IDs
	acts             *activity.Service
	contact, deal    string
	foreignContactID string
}

// The meeting's segments: index 1 is the line questions about the pilot
// cite.
var fixtureSegments = []activity.SegmentInput{
	{Speaker: "Dana Lee", StartMS: 1000, EndMS: 4000, Text: "Okay."},
	{Speaker: "Wei Zhang", StartMS: 4000, EndMS: 12500, Text: "We agreed that the warehouse pilot starts on the first of June."},
	{Speaker: "Dana Lee", StartMS: 12500, EndMS: 13000, Text: "Mm."},
}

func setupTools(t *testing.T) *toolsFixture {
	t.Helper()
	ctx := context.Background()
	b := setup(t, "")
	p := local.New(384)
	svc, err := retrieval.New(retrieval.Config{Store: b.store, Embedder: p, Completer: p, EmbedModel: p.Model()})
	require.NoError(t, err)
	b.handler, err = NewHandler(Deps{Store: b.store, Asker: svc, Searcher: svc})
	require.NoError(t, err)
	f := &toolsFixture{testBundle: b, svc: svc, acts: activity.New(b.store)}

	f.account = f.createAccount(b.orgID, "Acme")
	c := crm.ContactInput{AccountID: crm.Some(f.account), Name: crm.Some("Wei Zhang"), Email: crm.Some("wei@acme.test")}
	require.NoError(t, c.Validate(true))
	contact, err := b.store.ContactCreate(ctx, b.orgID, c)
	require.NoError(t, err)
	f.contact = contact.ID
	d := crm.DealInput{AccountID: crm.Some(f.account), Name: crm.Some("Warehouse rollout"), Stage: crm.Some("proposal")}
	require.NoError(t, d.Validate(true))
	deal, err := b.store.DealCreate(ctx, b.orgID, d)
	require.NoError(t, err)
	f.deal = deal.ID

	// Another org's account and contact: never reachable from here.
	org2, err := b.store.OrgCreate(ctx, "Other org "+t.Name())
	require.NoError(t, err)
	f.other = f.createAccount(org2.ID, "Globex")
	c2 := crm.ContactInput{AccountID: crm.Some(f.other), Name: crm.Some("Hank Scorpio")}
	require.NoError(t, c2.Validate(true))
	fc, err := b.store.ContactCreate(ctx, org2.ID, c2)
	require.NoError(t, err)
	f.foreignContactID = fc.ID

	f.email = f.logged(crm.ActivityInput{Type: crm.Some(crm.ActivityEmail), Direction: crm.Some(crm.DirectionOutbound),
		AccountID: crm.Some(f.account), OccurredAt: crm.Some("2026-03-10T15:00:00Z"), Subject: crm.Some("Renewal quote"),
		Body: crm.Some("Hi Wei, the renewal uplift is capped at 7 percent for a two-year term, as promised on the call.")})

	// The meeting: ingested, its notes and chunks saved as the worker
	// does, so its transcript lines are searchable.
	acct := f.account
	ext := "m-1"
	ing, err := activity.ParseTranscript(&activity.TranscriptInput{Source: "zoom", ExternalID: &ext, Title: "Pilot sync",
		StartedAt: "2026-03-05T15:00:00Z", AccountID: &acct, Segments: fixtureSegments})
	require.NoError(t, err)
	got, err := f.acts.IngestTranscript(ctx, b.orgID, ing)
	require.NoError(t, err)
	f.meeting = got.Transcript.ActivityID
	tr, err := b.store.TranscriptGet(ctx, b.orgID, got.Transcript.ID, true)
	require.NoError(t, err)
	notes := crm.Notes{Summary: "A pilot sync.", Coverage: 1, Model: "m", PromptVersion: "v"}
	chunks, err := svc.MeetingChunks(ctx, b.orgID, f.meeting, tr.Segments, notes)
	require.NoError(t, err)
	_, err = b.store.NotesSave(ctx, b.orgID, tr.ID, 1, notes, chunks)
	require.NoError(t, err)
	return f
}

func (f *toolsFixture) createAccount(orgID, name string) string {
	f.t.Helper()
	in := crm.AccountInput{Name: crm.Some(name)}
	require.NoError(f.t, in.Validate(true))
	a, err := f.store.AccountCreate(context.Background(), orgID, in)
	require.NoError(f.t, err)
	return a.ID
}

// logged writes an activity of this org through the write rules and
// indexes it for search.
func (f *toolsFixture) logged(in crm.ActivityInput) string {
	f.t.Helper()
	a, _, _, err := f.acts.Upsert(context.Background(), f.orgID, in)
	require.NoError(f.t, err)
	_, err = f.svc.IndexActivity(context.Background(), f.orgID, a.ID)
	require.NoError(f.t, err)
	return a.ID
}

// TestAccountSearch: the results page shows the passages that hold the
// query's words, marked, each linking to where it is read (a transcript
// passage to its line), and escapes everything it shows.
func TestAccountSearch(t *testing.T) {
	t.Parallel()
	f := setupTools(t)
	path := "/accounts/" + f.account + "/search?q="

	res := f.get(path + url.QueryEscape("renewal uplift"))
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Contains(t, res.Body, `<section id="search"`)
	require.Contains(t, res.Body, `1 passage matches`)
	require.Contains(t, res.Body, `href="/activities/`+f.email+`"`)
	require.Contains(t, res.Body, `the <mark>renewal</mark> <mark>uplift</mark> is capped`)
	require.Contains(t, res.Body, `<time datetime="2026-03-10T15:00:00Z">2026-03-10</time>`)
	require.Equal(t, 1, strings.Count(res.Body, `<h1`), "one h1")

	// A transcript passage links to the line the word is on: segment 1.
	res = f.get(path + url.QueryEscape("warehouse pilot"))
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, `href="/activities/`+f.meeting+`/transcript#seg-1"`)
	require.Contains(t, res.Body, `Meeting · <time datetime="2026-03-05T15:00:00Z">2026-03-05</time> · Wei Zhang at 0:04`,
		"the speaker and moment of the line linked to")
	require.Contains(t, res.Body, `the <mark>warehouse</mark> <mark>pilot</mark> starts`)
	require.NotContains(t, res.Body, f.email, "the email has neither word")

	// Nothing matches; no query yet.
	res = f.get(path + "kubernetes")
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, "Nothing in this account's history matches")
	res = f.get("/accounts/" + f.account + "/search")
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, "Type a word or a phrase")
	res = f.get(path + strings.Repeat("x", maxSearchQuery+1))
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	require.Contains(t, res.Body, "too long")

	// Escaping: a record's text and the query are text, never markup.
	f.logged(crm.ActivityInput{Type: crm.Some(crm.ActivityNote), AccountID: crm.Some(f.account),
		OccurredAt: crm.Some("2026-03-11T09:00:00Z"), Subject: crm.Some(`Escalation <img src=x onerror=alert(1)>`),
		Body: crm.Some(`<script>alert("escalation")</script> "quoted" & more`)})
	res = f.get(path + url.QueryEscape(`escalation <b>bold</b>`))
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.NotContains(t, res.Body, `<script>alert`)
	require.NotContains(t, res.Body, `<img src=x`)
	require.NotContains(t, res.Body, `<b>bold`)
	require.Contains(t, res.Body, `&lt;script&gt;alert(&#34;<mark>escalation</mark>&#34;)&lt;/script&gt; &#34;quoted&#34; &amp; more`)
	require.Contains(t, res.Body, `<mark>Escalation</mark> &lt;img src=x onerror=alert(1)&gt;`)
	require.Contains(t, res.Body, `value="escalation &lt;b&gt;bold&lt;/b&gt;"`)

	// Another org's account is the 404 page, whatever the query.
	res = f.get("/accounts/" + f.other + "/search?q=renewal")
	require.Equal(t, http.StatusNotFound, res.Status)
	res = f.get("/accounts/not-an-id/search?q=renewal")
	require.Equal(t, http.StatusNotFound, res.Status)

	// A server without retrieval says so.
	f.handler, _ = NewHandler(Deps{Store: f.store})
	res = f.get(path + "renewal")
	require.Equal(t, http.StatusServiceUnavailable, res.Status)
	require.Contains(t, res.Body, "Search is not available")
}

// TestMarkParts: highlights are UTF-16 offsets (a character outside the
// BMP counts two) and cut the text into plain and marked parts.
func TestMarkParts(t *testing.T) {
	t.Parallel()
	// "🙂 price é ok": 🙂 is 2 code units (4 bytes), "price" is [3, 8)
	// in UTF-16 and [5, 10) in bytes; "ok" is [11, 13) and [12, 14)
	// ("é" is one code unit, two bytes).
	text := "🙂 price é ok"
	got := markParts(text, []retrieval.Highlight{{Start: 3, End: 8}, {Start: 11, End: 13}})
	require.Equal(t, []textPart{{Text: "🙂 "}, {Text: "price", Mark: true}, {Text: " é "}, {Text: "ok", Mark: true}}, got)
	require.Equal(t, retrieval.Highlights(text, retrieval.QueryTerms("price ok")),
		[]retrieval.Highlight{{Start: 3, End: 8}, {Start: 11, End: 13}}, "the offsets retrieval gives")
	// Out of range, inside a character, or overlapping: ignored.
	got = markParts(text, []retrieval.Highlight{{Start: 1, End: 2}, {Start: 3, End: 8}, {Start: 4, End: 6}, {Start: 12, End: 40}})
	require.Equal(t, []textPart{{Text: "🙂 "}, {Text: "price", Mark: true}, {Text: " é ok"}}, got)
	require.Nil(t, markParts("", nil))
}

// TestMarkPartsProperty: on random text (letters, digits, accents, emoji,
// markup, invalid bytes) and the highlights retrieval gives for random
// words of it, the parts put back together are the text, and the marked
// parts are exactly the highlighted words, in order.
func TestMarkPartsProperty(t *testing.T) {
	t.Parallel()
	const seed = 20261203
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 13))
	pieces := []string{"price", "Prices", "café", "🙂", "renewal", "<b>", "&amp;", " ", " ", "\n", ", ", "42", "\xff", "日本", "x"}
	for range 2000 {
		var b strings.Builder
		for range rng.IntN(30) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := b.String()
		query := pieces[rng.IntN(len(pieces))] + " " + pieces[rng.IntN(len(pieces))]
		hs := retrieval.Highlights(text, retrieval.QueryTerms(query))
		parts := markParts(text, hs)
		var joined strings.Builder
		var marked []string
		for _, p := range parts {
			joined.WriteString(p.Text)
			if p.Mark {
				marked = append(marked, p.Text)
			}
		}
		require.Equal(t, text, joined.String(), "text %q query %q", text, query)
		require.Len(t, marked, len(hs), "text %q query %q", text, query)
		u16 := utf16.Encode([]rune(text))
		for i, h := range hs {
			require.Equal(t, string(utf16.Decode(u16[h.Start:h.End])), marked[i], "text %q query %q", text, query)
		}
	}
}

// TestAccountAsk: the form without JavaScript gets the whole answer, its
// [n] linking to the records cited (a transcript line by its segment),
// and "nothing on record" for a question the records do not answer.
func TestAccountAsk(t *testing.T) {
	t.Parallel()
	f := setupTools(t)
	path := "/accounts/" + f.account + "/ask"

	res := f.get(path)
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Contains(t, res.Body, `<form id="ask-form"`)
	require.Contains(t, res.Body, `name="question"`)
	require.Contains(t, res.Body, `<script src="/static/ask.js" defer></script>`)
	require.Contains(t, res.Body, `aria-live="polite"`)

	res = f.post(path, url.Values{"question": {"What cap did we promise on the renewal uplift?"}})
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	require.Contains(t, res.Body, `<a class="cite" href="/activities/`+f.email+`" aria-label="Source 1">[1]</a>`)
	require.Contains(t, res.Body, "7 percent")
	require.Contains(t, res.Body, `<ul id="answer-citations" class="citations" aria-label="Sources">`, "shown")
	require.Contains(t, res.Body, `[1] Email · 2026-03-10</a>`)
	require.Contains(t, res.Body, `<p id="answer-none" class="empty" hidden>`)
	require.Contains(t, res.Body, `>What cap did we promise on the renewal uplift?</textarea>`, "the question stays")

	// A meeting's line: the link names its segment (1, by start_ms and
	// words) for the transcript page to highlight and scroll to.
	res = f.post(path, url.Values{"question": {"When does the warehouse pilot start?"}})
	require.Equal(t, http.StatusOK, res.Status, res.Body)
	want := `/activities/` + f.meeting + `/transcript?cite=1#seg-1`
	require.Contains(t, res.Body, `<a class="cite" href="`+want+`" aria-label="Source 1">[1]</a>`)
	require.Contains(t, res.Body, `<a class="cite" href="`+want+`">[1] Meeting · 2026-03-05 · Wei Zhang at 0:04</a>`)
	require.Contains(t, res.Body, `Wei Zhang said: &#34;We agreed that the warehouse pilot starts on the first of June&#34; <a`)

	// Nothing on record.
	res = f.post(path, url.Values{"question": {"How did the Kubernetes migration go?"}})
	require.Equal(t, http.StatusOK, res.Status)
	require.Contains(t, res.Body, `<div id="answer" class="answer ungrounded" aria-live="polite">`+retrieval.NothingOnRecord+`</div>`)
	require.Contains(t, res.Body, `<p id="answer-none" class="empty">`)
	require.NotContains(t, res.Body, `class="cite"`)

	// Injection in the question is text.
	res = f.post(path, url.Values{"question": {`<script>alert("x")</script> What cap did we promise on the renewal uplift?`}})
	require.Equal(t, http.StatusOK, res.Status)
	require.NotContains(t, res.Body, `<script>alert`)
	require.Contains(t, res.Body, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`)

	// A missing or too long question is a sentence, not a blank.
	res = f.post(path, url.Values{"question": {"  "}})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	require.Contains(t, res.Body, `<p id="ask-error" class="error-msg" role="alert">Type a question first.</p>`)
	res = f.post(path, url.Values{"question": {strings.Repeat("x", crm.MaxQuestion+1)}})
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	require.Contains(t, res.Body, "too long")

	// CSRF, tenancy.
	res = f.post(path, url.Values{"csrf": {"forged"}, "question": {"What cap did we promise?"}})
	require.Equal(t, http.StatusForbidden, res.Status)
	require.Equal(t, http.StatusNotFound, f.get("/accounts/"+f.other+"/ask").Status)
	require.Equal(t, http.StatusNotFound, f.post("/accounts/"+f.other+"/ask", url.Values{"question": {"renewal uplift?"}}).Status)
}

// TestAccountAskFailures: no model, a model that is down and one that
// takes too long are each a designed message with a fitting status.
func TestAccountAskFailures(t *testing.T) {
	t.Parallel()
	f := setupTools(t)
	path := "/accounts/" + f.account + "/ask"
	for _, tc := range []struct {
		asker  Asker
		status int
		msg    string
	}{
		{nil, http.StatusServiceUnavailable, "Questions are not available"},
		{failingAsker{err: retrieval.ErrNoCompleter}, http.StatusServiceUnavailable, "runs without a language model"},
		{failingAsker{err: errors.Join(retrieval.ErrUnavailable, errors.New("503 from the model"))}, http.StatusServiceUnavailable,
			"could not answer just now"},
		{failingAsker{err: context.DeadlineExceeded}, http.StatusGatewayTimeout, "took too long"},
		{failingAsker{err: errors.New("a bug")}, http.StatusInternalServerError, "has been logged"},
	} {
		var err error
		f.handler, err = NewHandler(Deps{Store: f.store, Asker: tc.asker})
		require.NoError(t, err)
		res := f.post(path, url.Values{"question": {"What cap did we promise?"}})
		require.Equal(t, tc.status, res.Status, tc.msg)
		require.Contains(t, res.Body, `<p id="ask-error" class="error-msg" role="alert">`)
		require.Contains(t, res.Body, tc.msg)
		require.NotContains(t, res.Body, "a bug", "no internals")

		ev := f.stream(path+"/stream", url.Values{"question": {"What cap did we promise?"}}, true)
		require.Equal(t, tc.status, ev.status)
		require.Equal(t, []string{"error"}, ev.names)
		require.Contains(t, ev.data[0], tc.msg)
	}

	// Failing after the first words: the stream ends with an error event.
	f.handler, _ = NewHandler(Deps{Store: f.store, Asker: failingAsker{err: retrieval.ErrUnavailable, token: "The cap "}})
	ev := f.stream(path+"/stream", url.Values{"question": {"What cap did we promise?"}}, true)
	require.Equal(t, http.StatusOK, ev.status, "sent before the failure")
	require.Equal(t, []string{"token", "error"}, ev.names)
	require.Contains(t, ev.data[1], "could not answer just now")
}

// failingAsker sends token (when set), then fails with err.
type failingAsker struct {
	err   error
	token string
}

func (a failingAsker) Ask(_ context.Context, _ retrieval.Question, onToken func(string) error) (retrieval.Answer, error) {
	if a.token != "" && onToken != nil {
		if err := onToken(a.token); err != nil {
			return retrieval.Answer{}, err
		}
	}
	return retrieval.Answer{}, a.err
}

// TestAccountAskStream: the stream ask.js reads is token events, then the
// citations with their links, then done; it needs the CSRF header.
func TestAccountAskStream(t *testing.T) {
	t.Parallel()
	f := setupTools(t)
	path := "/accounts/" + f.account + "/ask/stream"

	ev := f.stream(path, url.Values{"question": {"When does the warehouse pilot start?"}}, true)
	require.Equal(t, http.StatusOK, ev.status)
	n := len(ev.names)
	require.GreaterOrEqual(t, n, 3)
	require.Equal(t, []string{"citations", "done"}, ev.names[n-2:])
	var text strings.Builder
	for i, name := range ev.names[:n-2] {
		require.Equal(t, "token", name)
		var tok struct{ Text string }
		require.NoError(t, json.Unmarshal([]byte(ev.data[i]), &tok))
		text.WriteString(tok.Text)
	}
	var cites []citationView
	require.NoError(t, json.Unmarshal([]byte(ev.data[n-2]), &cites))
	require.Equal(t, []citationView{{N: 1, Href: "/activities/" + f.meeting + "/transcript?cite=1#seg-1",
		Label: "Meeting · 2026-03-05 · Wei Zhang at 0:04", Quote: "We agreed that the warehouse pilot starts on the first of June."}}, cites)
	var done struct {
		Answer   string
		Grounded bool
	}
	require.NoError(t, json.Unmarshal([]byte(ev.data[n-1]), &done))
	require.True(t, done.Grounded)
	require.Equal(t, done.Answer, text.String(), "the tokens are the answer")

	// Nothing on record: tokens of the sentence, no citations, not grounded.
	ev = f.stream(path, url.Values{"question": {"How did the Kubernetes migration go?"}}, true)
	n = len(ev.names)
	require.Equal(t, "[]", ev.data[n-2])
	require.JSONEq(t, `{"answer":"`+retrieval.NothingOnRecord+`","grounded":false}`, ev.data[n-1])

	// Without the CSRF header (or with another session's): refused.
	ev = f.stream(path, url.Values{"question": {"When does the warehouse pilot start?"}}, false)
	require.Equal(t, http.StatusForbidden, ev.status)
	require.Empty(t, ev.names)
	// Another org's account.
	ev = f.stream("/accounts/"+f.other+"/ask/stream", url.Values{"question": {"renewal?"}}, true)
	require.Equal(t, http.StatusNotFound, ev.status)
	// An empty question.
	ev = f.stream(path, url.Values{"question": {""}}, true)
	require.Equal(t, http.StatusUnprocessableEntity, ev.status)
	require.Equal(t, []string{"error"}, ev.names)
}

// TestAnswerParts: each number of a reference becomes a "[n]" link to its
// source; a number no citation has stays text.
func TestAnswerParts(t *testing.T) {
	t.Parallel()
	got := answerParts("Capped [1]. Pilot in June [2, 5]. End", map[int]string{1: "/a/1", 2: "/a/2"})
	require.Equal(t, []answerPart{
		{Text: "Capped "}, {Text: "[1]", Href: "/a/1", N: 1}, {Text: ". Pilot in June "},
		{Text: "[2]", Href: "/a/2", N: 2}, {Text: "[5]", N: 5}, {Text: ". End"},
	}, got)
	require.Nil(t, answerParts("", nil))
}

// events is a server-sent event stream as read back.
type events struct {
	status int
	names  []string
	data   []string
}

// stream posts form to path as ask.js does (Accept: text/event-stream,
// the CSRF token in X-CSRF-Token when withCSRF) and reads the events.
func (b *testBundle) stream(path string, form url.Values, withCSRF bool) events {
	b.t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/event-stream")
	if withCSRF {
		req.Header.Set("X-CSRF-Token", b.csrf)
	}
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: b.token})
	res := b.serve(req)
	ev := events{status: res.Status}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		return ev
	}
	sc := bufio.NewScanner(strings.NewReader(res.Body))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			ev.names = append(ev.names, strings.TrimPrefix(line, "event: "))
		case strings.HasPrefix(line, "data: "):
			ev.data = append(ev.data, strings.TrimPrefix(line, "data: "))
		}
	}
	require.Len(b.t, ev.data, len(ev.names))
	return ev
}
