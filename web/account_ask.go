package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"logbook/internal/crm"
	"logbook/internal/ratelimit"
	"logbook/internal/sse"
	"logbook/retrieval"
)

// Asker answers a question from an account's history (retrieval.Service),
// the same as the API's ask. onToken, when not nil, receives the validated
// answer's text as it is written.
type Asker interface {
	Ask(ctx context.Context, q retrieval.Question, onToken func(string) error) (retrieval.Answer, error)
}

// askTimeout bounds one answer, streamed or not: past it the page says the
// answer took too long rather than waiting on the model for ever.
const askTimeout = 90 * time.Second

// askView is a question and its answer, or why there is none.
type askView struct {
	Question string
	// Error is the sentence shown instead of an answer (no model, a
	// timeout, a question too long); empty when it was answered.
	Error  string
	Answer *answerView
}

// answerView is an answer as the page shows it: its text in parts, each
// "[n]" a link to the record its citation quotes, and the citations.
type answerView struct {
	Grounded  bool
	Parts     []answerPart
	Citations []citationView
}

// answerPart is a run of an answer's text; with Href it is a "[n]" that
// links to source n.
type answerPart struct {
	Text string
	Href string
	N    int
}

// citationView is one citation as the page (and the stream's citations
// event, for ask.js) shows it: where it links and what it quotes.
type citationView struct {
	N    int    `json:"n"`
	Href string `json:"href"`
	// Label says what the record is: type, date, speaker and moment.
	Label string `json:"label"`
	Quote string `json:"quote"`
}

// accountAskPage is GET /accounts/{id}/ask: the question form.
func (h *handler) accountAskPage(w http.ResponseWriter, r *http.Request, v *viewer) error {
	t, err := h.accountTools(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.render(w, r, v, http.StatusOK, "tools_ask.html", "accounts", t)
}

// accountAsk is POST /accounts/{id}/ask (the form without JavaScript):
// the page with the whole answer and its citations.
func (h *handler) accountAsk(w http.ResponseWriter, r *http.Request, v *viewer) error {
	t, err := h.accountTools(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	h.extendWriteDeadline(w, r)
	av := &askView{Question: r.PostFormValue("question")}
	t.Ask = av
	q, status, msg := h.askQuestion(r, v, t.AccountID, av.Question)
	if msg == "" {
		ctx, cancel := context.WithTimeout(r.Context(), askTimeout)
		defer cancel()
		a, err := h.Asker.Ask(ctx, q, nil)
		if err != nil {
			status, msg = h.askFailure(r, err)
		} else {
			av.Answer = h.answerOf(r.Context(), v.OrgID, a)
		}
	}
	av.Error = msg
	return h.render(w, r, v, status, "tools_ask.html", "accounts", t)
}

// accountAskStream is POST /accounts/{id}/ask/stream (ask.js, with the
// X-CSRF-Token header): the answer as server-sent events, as the API
// streams it: "token" events ({"text"}) while it is written, then
// "citations" (a list of citationView), then "done" ({"answer",
// "grounded"}). Any failure is an "error" event ({"message"}, the
// sentence to show), with a 4xx/5xx status when nothing was sent yet.
func (h *handler) accountAskStream(w http.ResponseWriter, r *http.Request, v *viewer) error {
	t, err := h.accountTools(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	h.extendWriteDeadline(w, r)
	s := sse.New(w)
	q, status, msg := h.askQuestion(r, v, t.AccountID, r.PostFormValue("question"))
	if msg != "" {
		s.Status = status
		_ = s.Event("error", map[string]string{"message": msg})
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), askTimeout)
	defer cancel()
	a, err := h.Asker.Ask(ctx, q, func(tok string) error {
		return s.Event("token", map[string]string{"text": tok})
	})
	if err != nil {
		if r.Context().Err() != nil {
			return nil // the browser went away: nobody is left to tell
		}
		status, msg := h.askFailure(r, err)
		s.Status = status
		_ = s.Event("error", map[string]string{"message": msg})
		return nil
	}
	av := h.answerOf(r.Context(), v.OrgID, a)
	if err := s.Event("citations", av.Citations); err != nil {
		return nil
	}
	_ = s.Event("done", map[string]any{"answer": a.Answer, "grounded": a.Grounded})
	return nil
}

// extendWriteDeadline lets an answer outlive the server's WriteTimeout
// (which suits pages that read the database only): it may take askTimeout.
func (h *handler) extendWriteDeadline(w http.ResponseWriter, r *http.Request) {
	err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(askTimeout + 5*time.Second))
	if err != nil && !errors.Is(err, http.ErrNotSupported) {
		h.log.WarnContext(r.Context(), "web: set write deadline", "error", err)
	}
}

// askQuestion validates a question as the API does and takes it from the
// ask quotas (askAllowed); a problem is the status and sentence to show
// instead of an answer.
func (h *handler) askQuestion(r *http.Request, v *viewer, accountID, text string) (retrieval.Question, int, string) {
	in := crm.AskInput{Question: strings.TrimSpace(text)}
	aq, err := in.Validate()
	switch {
	case err != nil && in.Question == "":
		return retrieval.Question{}, http.StatusUnprocessableEntity, "Type a question first."
	case err != nil:
		return retrieval.Question{}, http.StatusUnprocessableEntity,
			fmt.Sprintf("That question is too long or not plain text: use at most %d characters.", crm.MaxQuestion)
	case h.Asker == nil:
		return retrieval.Question{}, http.StatusServiceUnavailable,
			"Questions are not available: this server runs without a retrieval service."
	}
	if ok, wait := h.askAllowed(r, v); !ok {
		return retrieval.Question{}, http.StatusTooManyRequests,
			fmt.Sprintf("You have asked many questions in a short time. Ask again in %d seconds.", wait)
	}
	return retrieval.Question{OrgID: v.OrgID, AccountID: accountID, Text: aq.Question}, http.StatusOK, ""
}

// askFailure is the status and sentence for a question that could not be
// answered; what is not the model's or the clock's fault is logged.
func (h *handler) askFailure(r *http.Request, err error) (int, string) {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "The answer took too long. Try again in a moment, or ask a narrower question."
	case errors.Is(err, retrieval.ErrNoCompleter):
		return http.StatusServiceUnavailable, "Questions are not available: this server runs without a language model."
	case errors.Is(err, retrieval.ErrUnavailable):
		return http.StatusServiceUnavailable, "The language model could not answer just now. Try again in a moment."
	}
	h.log.ErrorContext(r.Context(), "web ask failed", "path", r.URL.Path, "error", err)
	return http.StatusInternalServerError, "Something went wrong while answering. The error has been logged; try again in a moment."
}

// answerOf is an answer with each citation's link: a quote from a
// meeting's transcript (or from notes that point into it) links to the
// transcript at the quoted line, anything else to its activity.
func (h *handler) answerOf(ctx context.Context, orgID string, a retrieval.Answer) *answerView {
	av := &answerView{Grounded: a.Grounded, Citations: []citationView{}}
	segs := segmentFinder{h: h, orgID: orgID, byActivity: map[string][]crm.Segment{}}
	hrefs := map[int]string{}
	for _, c := range a.Citations {
		href := "/activities/" + c.ActivityID
		if n, ok := segs.find(ctx, c); ok {
			href += "/transcript?cite=" + strconv.Itoa(n) + "#seg-" + strconv.Itoa(n)
		}
		if _, ok := hrefs[c.N]; !ok {
			hrefs[c.N] = href
		}
		av.Citations = append(av.Citations, citationView{N: c.N, Href: href, Label: citationLabel(c), Quote: c.Quote})
	}
	av.Parts = answerParts(a.Answer, hrefs)
	return av
}

// citationMarker is a source reference in an answer's text: [3], or [2, 5]
// (retrieval's own).
var citationMarker = regexp.MustCompile(`\[(\d+(?:\s*,\s*\d+)*)\]`)

// answerParts cuts an answer's text at its references: each number of a
// reference becomes a "[n]" part linking to hrefs[n] (plain text when no
// citation has that number).
func answerParts(text string, hrefs map[int]string) []answerPart {
	var out []answerPart
	at := 0
	for _, m := range citationMarker.FindAllStringSubmatchIndex(text, -1) {
		if m[0] > at {
			out = append(out, answerPart{Text: text[at:m[0]]})
		}
		for _, f := range strings.Split(text[m[2]:m[3]], ",") {
			n, _ := strconv.Atoi(strings.TrimSpace(f))
			out = append(out, answerPart{Text: "[" + strconv.Itoa(n) + "]", Href: hrefs[n], N: n})
		}
		at = m[1]
	}
	if at < len(text) {
		out = append(out, answerPart{Text: text[at:]})
	}
	return out
}

// citationLabel says what a citation's record is: "Meeting · 2026-03-05 ·
// Wei Zhang at 0:04".
func citationLabel(c retrieval.Citation) string {
	parts := []string{typeLabel(c.Type), c.OccurredAt.UTC().Format(time.DateOnly)}
	who := ""
	if c.Speaker != nil {
		who = *c.Speaker
	}
	if c.StartMS != nil {
		if who != "" {
			who += " "
		}
		who += "at " + msClock(int64(*c.StartMS))
	}
	if who != "" {
		parts = append(parts, who)
	}
	return strings.Join(parts, " · ")
}

// msClock is milliseconds into a meeting as m:ss or h:mm:ss (the
// templates' clock).
func msClock(ms int64) string {
	s := ms / 1000
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s%3600/60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// segmentFinder works out which transcript segment a citation quotes: a
// citation carries the moment (start_ms) and the words of the line it
// quotes, not the segment's index, so the meeting's segments are read
// (once per meeting) and matched on both.
type segmentFinder struct {
	h          *handler
	orgID      string
	byActivity map[string][]crm.Segment
}

// find returns the index of the segment c quotes; false when c is not a
// moment of a meeting or its transcript is gone (purged) or unreadable.
func (f *segmentFinder) find(ctx context.Context, c retrieval.Citation) (int, bool) {
	if c.StartMS == nil || c.Type != string(crm.ActivityMeeting) {
		return 0, false
	}
	segs, ok := f.byActivity[c.ActivityID]
	if !ok {
		segs = f.load(ctx, c.ActivityID)
		f.byActivity[c.ActivityID] = segs
	}
	start := int64(*c.StartMS)
	best, bestScore := -1, 0
	for _, s := range segs {
		if s.StartMS != start {
			continue
		}
		// The same moment; better when the speaker and then the words
		// match too (several segments can start at one moment).
		score := 1
		if c.Speaker != nil && *c.Speaker == s.Speaker {
			score++
		}
		if c.Quote != "" && strings.Contains(s.Text, c.Quote) {
			score += 2
		}
		if score > bestScore {
			best, bestScore = s.Index, score
		}
	}
	return best, best >= 0
}

// load reads a meeting's segments; none when it has no processed
// transcript (or the read fails: the citation then links to the meeting).
func (f *segmentFinder) load(ctx context.Context, activityID string) []crm.Segment {
	tr, _, err := f.h.Store.MeetingNotes(ctx, f.orgID, activityID)
	if err == nil {
		tr, err = f.h.Store.TranscriptGet(ctx, f.orgID, tr.ID, true)
	}
	if err != nil {
		if !errors.Is(err, crm.ErrNotFound) {
			f.h.log.WarnContext(ctx, "web: read a cited transcript", "activity_id", activityID, "error", err)
		}
		return nil
	}
	return tr.Segments
}

// AskLimits are the web UI's quotas on questions, per minute, as the API
// has for its keys (RATE_LIMIT_ASK_PER_MIN, RATE_LIMIT_ORG_ASK_PER_MIN):
// each question is a model call. Zero fields have the defaults; a negative
// one is no limit.
type AskLimits struct {
	// PerUser is the questions one person may ask per minute (default 20).
	PerUser int
	// PerOrg is the questions the whole org may ask per minute through
	// the web UI (default 120).
	PerOrg int
}

// askAllowed takes one question from the viewer's and their org's ask
// buckets (in the org's partition); when refused it says how many seconds
// to wait. Without a limiter, or when Redis fails, the question is allowed
// (as the API does: the quota protects the model, not the data).
func (h *handler) askAllowed(r *http.Request, v *viewer) (bool, int64) {
	if h.LoginLimiter == nil {
		return true, 0
	}
	l := h.AskLimits
	if l.PerUser == 0 {
		l.PerUser = 20
	}
	if l.PerOrg == 0 {
		l.PerOrg = 120
	}
	var buckets []ratelimit.Bucket
	if l.PerUser > 0 {
		buckets = append(buckets, ratelimit.Bucket{Name: "web-ask:user:" + v.UserID, Limit: l.PerUser, Period: time.Minute})
	}
	if l.PerOrg > 0 {
		buckets = append(buckets, ratelimit.Bucket{Name: "web-ask:org", Limit: l.PerOrg, Period: time.Minute})
	}
	if len(buckets) == 0 {
		return true, 0
	}
	d, err := h.LoginLimiter.Allow(r.Context(), v.OrgID, buckets...)
	if err != nil {
		if r.Context().Err() == nil {
			h.log.ErrorContext(r.Context(), "ask rate limit check failed; allowing the question", slog.Any("error", err))
		}
		return true, 0
	}
	if d.Allowed {
		return true, 0
	}
	return false, max(ratelimit.Seconds(d.RetryAfter), 1)
}
