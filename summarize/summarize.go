package summarize

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/prompts"
)

// ErrInvalidOutput marks a model answer that could not be used twice in a
// row: not JSON, JSON of the wrong shape, or a follow-up without a subject
// or body. It does not wrap llm.ErrPermanent (a caller may choose to try
// again), but the immediate repair call has already been made: the worker
// treats a second unusable answer to the same input as deterministic and
// fails the transcript at once.
var ErrInvalidOutput = errors.New("summarize: invalid model output")

// Follow-up limits.
const (
	MaxSubjectChars = 200
	MaxBodyChars    = 8_000
)

// Meeting is what Notes reads: the meeting's details and its segments.
type Meeting struct {
	Title string
	// Date is when the meeting took place; due phrases resolve against it.
	// A zero Date keeps every due date empty.
	Date         time.Time
	Participants []crm.Participant
	// Segments are the transcript; their Index values are what citations
	// and evidence name.
	Segments []crm.Segment
	// From is the rep's name for the follow-up (may be empty).
	From string
	// External are the follow-up's recipients: the participants outside the
	// seller's email domain, as the caller decides.
	External []crm.Participant
}

// Summarizer writes meeting notes with a Completer. It is safe for
// concurrent use.
type Summarizer struct {
	c   llm.Completer
	cfg Config
}

// New returns a Summarizer that calls c, with cfg's zero fields defaulted.
func New(c llm.Completer, cfg Config) *Summarizer {
	return &Summarizer{c: c, cfg: cfg.withDefaults()}
}

// usage adds up what the calls of one run cost.
type usage struct {
	calls, retries int
	in, out        int
	cost           float64
	model          string
	purposes       []string
}

func (u *usage) add(o usage) {
	u.calls += o.calls
	u.retries += o.retries
	u.in += o.in
	u.out += o.out
	u.cost += o.cost
	if u.model == "" {
		u.model = o.model
	}
	for _, p := range o.purposes {
		if !slices.Contains(u.purposes, p) {
			u.purposes = append(u.purposes, p)
		}
	}
}

// complete makes one call, and one immediate retry if parse rejects the
// answer. Completer errors pass through unwrapped (the caller labels them);
// a second rejected answer is ErrInvalidOutput.
func (s *Summarizer) complete(ctx context.Context, req llm.CompletionRequest, parse func(text string) error) (usage, error) {
	u := usage{purposes: []string{req.Purpose}}
	var last error
	for attempt := range 2 {
		if err := ctx.Err(); err != nil {
			return u, err
		}
		if attempt > 0 {
			u.retries++
		}
		u.calls++
		c, err := s.c.Complete(ctx, req)
		if err != nil {
			return u, err
		}
		model := c.Model
		if model == "" {
			model = s.cfg.Model
		}
		if u.model == "" {
			u.model = model
		}
		u.in += c.InputTokens
		u.out += c.OutputTokens
		u.cost += s.cfg.cost(model, c.InputTokens, c.OutputTokens)
		if last = parse(c.Text); last == nil {
			return u, nil
		}
	}
	return u, errInvalid(req.Purpose, last)
}

func request(p prompts.Prompt, schema llm.Schema, maxTokens int, data prompts.Input) llm.CompletionRequest {
	return llm.CompletionRequest{
		Purpose:   p.Purpose(),
		System:    p.System,
		Messages:  []llm.Message{{Role: "user", Content: p.User}},
		JSON:      true,
		Schema:    &schema,
		MaxTokens: maxTokens,
		Data:      data,
	}
}

// Notes writes the notes of m, follow-up draft included. See the package
// documentation for how; NotesWithStats also tells what validation dropped.
// A transcript over the Config limits is refused before any model call
// with a *RejectedError. When only the follow-up draft fails, the notes are
// returned complete (FollowUp nil) with a *FollowUpError.
func (s *Summarizer) Notes(ctx context.Context, m Meeting) (crm.Notes, error) {
	n, _, err := s.NotesWithStats(ctx, m)
	return n, err
}

// NotesWithStats is Notes that also returns the run's Stats: calls made,
// windows read, and the claims validation dropped or cleared. The Stats are
// filled as far as the run got, also on error.
func (s *Summarizer) NotesWithStats(ctx context.Context, m Meeting) (_ crm.Notes, st Stats, _ error) {
	st.SegmentsTotal = len(m.Segments)
	if err := Check(s.cfg, m.Segments); err != nil {
		return crm.Notes{}, st, err
	}
	ref := newMeetingRef(m)
	var u usage
	defer func() { st.Calls, st.Retries = u.calls, u.retries }()

	var wins [][]crm.Segment
	if Fits(s.cfg, m.Segments) {
		wins = [][]crm.Segment{m.Segments}
	} else {
		wins = Windows(s.cfg, m.Segments)
	}
	read := wins[:min(len(wins), s.cfg.MaxWindows)]
	st.Windows, st.WindowsRead = len(wins), len(read)
	for _, w := range read {
		st.SegmentsRead += len(w)
	}

	results, err := s.readWindows(ctx, m, ref, read, len(wins))
	for _, r := range results {
		u.add(r.u)
		st.add(r.notes.stats)
	}
	if err != nil {
		return crm.Notes{}, st, err
	}

	var n crm.Notes
	var summary []crm.Point
	for _, r := range results {
		summary = append(summary, r.notes.summary...)
		n.KeyPoints = mergePoints(n.KeyPoints, r.notes.keyPoints, &st)
		n.Decisions = mergePoints(n.Decisions, r.notes.decisions, &st)
		n.Risks = mergePoints(n.Risks, r.notes.risks, &st)
		n.ActionItems = mergeActions(n.ActionItems, r.notes.actions, &st)
	}
	if len(wins) > 1 {
		red, err := s.reduce(ctx, m, ref, summary, len(read))
		u.add(red.u)
		st.add(red.stats)
		if err != nil {
			return crm.Notes{}, st, fmt.Errorf("summarize: notes reduce: %w", err)
		}
		st.Reduced = red.called
		st.ReduceFallback = !red.used
		if red.used {
			summary = red.summary
			if len(red.keyPoints) > 0 {
				n.KeyPoints = mergePoints(nil, red.keyPoints, &st)
			}
		}
	}
	n.Summary = joinSentences(summary)
	for _, p := range summary {
		n.SummaryEvidence = mergeEvidence(n.SummaryEvidence, p.Evidence)
	}

	now := s.cfg.Now()
	fu, fuu, fuErr := s.followUp(ctx, m, n, now)
	u.add(fuu)
	if fuErr != nil && ctx.Err() != nil {
		return crm.Notes{}, st, fmt.Errorf("summarize: followup: %w", fuErr)
	}
	if fuErr == nil {
		n.FollowUp = &fu
	}

	n.Coverage = 1
	if st.SegmentsRead < st.SegmentsTotal {
		n.Coverage = float64(st.SegmentsRead) / float64(st.SegmentsTotal)
	}
	n.Model = u.model
	if n.Model == "" {
		n.Model = s.cfg.Model
	}
	n.PromptVersion = strings.Join(u.purposes, "+")
	n.Tokens = crm.Tokens{Input: u.in, Output: u.out}
	n.CostUSD = u.cost
	n.GeneratedAt = now
	emptyNotNil(&n)
	if fuErr != nil {
		// The notes stand on their own: a failed draft must not throw them
		// away (it can be drafted again from the stored notes).
		return n, st, &FollowUpError{Err: fuErr}
	}
	return n, st, nil
}

// emptyNotNil makes the lists of n empty rather than nil, so they encode as
// [] and not null.
func emptyNotNil(n *crm.Notes) {
	if n.SummaryEvidence == nil {
		n.SummaryEvidence = []crm.Evidence{}
	}
	for _, l := range []*[]crm.Point{&n.KeyPoints, &n.Decisions, &n.Risks} {
		if *l == nil {
			*l = []crm.Point{}
		}
	}
	if n.ActionItems == nil {
		n.ActionItems = []crm.ActionItem{}
	}
}

// joinSentences joins summary sentences into one paragraph.
func joinSentences(ps []crm.Point) string {
	var b strings.Builder
	for _, p := range ps {
		t := strings.TrimSpace(p.Text)
		if t == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t)
		if !strings.ContainsAny(t[len(t)-1:], ".!?") {
			b.WriteByte('.')
		}
	}
	return b.String()
}

type windowResult struct {
	notes windowNotes
	u     usage
}

// readWindows makes the notes call of every window, at most
// cfg.Concurrency at a time, and stops at the first failure. Results are in
// window order; the error is the first failure's.
func (s *Summarizer) readWindows(ctx context.Context, m Meeting, ref meetingRef, read [][]crm.Segment, total int) ([]windowResult, error) {
	res := make([]windowResult, len(read))
	if len(read) == 1 {
		r, err := s.readWindow(ctx, m, ref, read[0], 1, total)
		res[0] = r
		return res, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, s.cfg.Concurrency)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i, segs := range read {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			r, err := s.readWindow(ctx, m, ref, segs, i+1, total)
			res[i] = r
			if err != nil {
				once.Do(func() { first = err })
				cancel(err)
			}
		})
	}
	wg.Wait()
	if first != nil {
		return res, first
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("summarize: notes: %w", context.Cause(ctx))
	}
	return res, nil
}

// readWindow makes the notes call of one window and validates its answer
// against the window's segments.
func (s *Summarizer) readWindow(ctx context.Context, m Meeting, ref meetingRef, segs []crm.Segment, i, total int) (windowResult, error) {
	label := "summarize: notes"
	if total > 1 {
		label = fmt.Sprintf("summarize: notes window %d/%d", i, total)
	}
	in := &prompts.NotesInput{
		Title: m.Title, MeetingDate: m.Date, Participants: m.Participants,
		Segments: segs, Window: i, Windows: total,
	}
	p, err := prompts.Notes(*in)
	if err != nil {
		return windowResult{}, fmt.Errorf("%s: %w", label, err)
	}
	var out llm.NotesOutput
	u, err := s.complete(ctx, request(p, NotesSchema(), s.cfg.MaxOutputTokens, in), func(text string) error {
		out = llm.NotesOutput{}
		return decodeJSON(text, &out)
	})
	if err != nil {
		return windowResult{u: u}, fmt.Errorf("%s: %w", label, err)
	}
	return windowResult{notes: validate(out, newWindow(i, segs), ref), u: u}, nil
}

type reduceResult struct {
	summary, keyPoints []crm.Point
	stats              Stats
	u                  usage
	called, used       bool
}

// reduce writes the summary of a map-reduced meeting with one notes-reduce
// call over the segments the window summaries cite, so its citations point
// at real segments too. An unusable answer (malformed twice, or no summary
// sentence surviving validation) leaves used false: the caller keeps the
// window summaries. Completer errors are returned.
func (s *Summarizer) reduce(ctx context.Context, m Meeting, ref meetingRef, summary []crm.Point, windows int) (reduceResult, error) {
	var r reduceResult
	segs := s.reduceSegments(m.Segments, summary)
	if len(segs) == 0 {
		return r, nil
	}
	in := &prompts.NotesInput{
		Title: m.Title, MeetingDate: m.Date, Participants: m.Participants,
		Segments: segs, Window: 1, Windows: windows,
	}
	p, err := prompts.NotesReduce(*in)
	if err != nil {
		return r, err
	}
	r.called = true
	var out llm.NotesOutput
	r.u, err = s.complete(ctx, request(p, NotesSchema(), s.cfg.MaxOutputTokens, in), func(text string) error {
		out = llm.NotesOutput{}
		return decodeJSON(text, &out)
	})
	if errors.Is(err, ErrInvalidOutput) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	// Only the summary and key points are asked for; decisions, risks and
	// action items come from the windows.
	out.Decisions, out.Risks, out.ActionItems = nil, nil, nil
	wn := validate(out, newWindow(0, segs), ref)
	r.stats = wn.stats
	r.summary, r.keyPoints = wn.summary, wn.keyPoints
	r.used = len(r.summary) > 0
	return r, nil
}

// reduceSegments picks the segments the window summaries cite, in index
// order, within cfg.ContextTokens: when they do not all fit, each window
// summary's citations are taken in turn (first citation of every sentence,
// then second…) until the budget is spent.
func (s *Summarizer) reduceSegments(all []crm.Segment, summary []crm.Point) []crm.Segment {
	byIndex := make(map[int]crm.Segment, len(all))
	for _, seg := range all {
		if _, dup := byIndex[seg.Index]; !dup {
			byIndex[seg.Index] = seg
		}
	}
	picked := map[int]bool{}
	var out []crm.Segment
	budget := s.cfg.ContextTokens
	for round := 0; ; round++ {
		more := false
		for _, p := range summary {
			if round >= len(p.Evidence) {
				continue
			}
			more = true
			i := p.Evidence[round].Segment
			seg, ok := byIndex[i]
			if !ok || picked[i] {
				continue
			}
			t := SegmentTokens(seg)
			if t > budget && len(out) > 0 {
				continue
			}
			budget -= t
			picked[i] = true
			out = append(out, seg)
		}
		if !more {
			break
		}
	}
	slices.SortFunc(out, func(a, b crm.Segment) int { return a.Index - b.Index })
	return out
}

// FollowUp drafts the follow-up email of m from notes n (validated notes:
// summary, decisions and action items), addressed to m.External.
func (s *Summarizer) FollowUp(ctx context.Context, m Meeting, n crm.Notes) (crm.FollowUp, error) {
	f, _, err := s.followUp(ctx, m, n, s.cfg.Now())
	if err != nil {
		return crm.FollowUp{}, fmt.Errorf("summarize: followup: %w", err)
	}
	return f, nil
}

func (s *Summarizer) followUp(ctx context.Context, m Meeting, n crm.Notes, now time.Time) (crm.FollowUp, usage, error) {
	in := &prompts.FollowUpInput{
		Title: m.Title, MeetingDate: m.Date, From: m.From,
		To:          slices.Clone(m.External),
		Summary:     n.Summary,
		Decisions:   n.Decisions,
		ActionItems: n.ActionItems,
	}
	p, err := prompts.FollowUp(*in)
	if err != nil {
		return crm.FollowUp{}, usage{}, err
	}
	var out llm.FollowUpOutput
	u, err := s.complete(ctx, request(p, FollowUpSchema(), s.cfg.MaxOutputTokens, in), func(text string) error {
		out = llm.FollowUpOutput{}
		if err := decodeJSON(text, &out); err != nil {
			return err
		}
		out.Subject = collapse(out.Subject)
		out.Body = strings.TrimSpace(out.Body)
		switch {
		case out.Subject == "":
			return errors.New("empty subject")
		case utf8.RuneCountInString(out.Subject) > MaxSubjectChars:
			return fmt.Errorf("subject longer than %d characters", MaxSubjectChars)
		case out.Body == "":
			return errors.New("empty body")
		case utf8.RuneCountInString(out.Body) > MaxBodyChars:
			return fmt.Errorf("body longer than %d characters", MaxBodyChars)
		}
		return nil
	})
	if err != nil {
		return crm.FollowUp{}, u, err
	}
	to := slices.Clone(m.External)
	if to == nil {
		to = []crm.Participant{}
	}
	return crm.FollowUp{Subject: out.Subject, Body: out.Body, To: to, GeneratedAt: now}, u, nil
}
