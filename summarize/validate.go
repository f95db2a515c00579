package summarize

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"logbook/internal/crm"
	"logbook/internal/datephrase"
	"logbook/internal/llm"
)

// decodeJSON parses a model's answer into v: one JSON object (optionally in
// a ``` code fence), nothing after it. Unknown fields are ignored; a value
// of the wrong type is an error.
func decodeJSON(text string, v any) error {
	t := strings.TrimSpace(text)
	if rest, ok := strings.CutPrefix(t, "```"); ok {
		rest = strings.TrimPrefix(rest, "json")
		if body, ok := strings.CutSuffix(strings.TrimSpace(rest), "```"); ok {
			t = strings.TrimSpace(body)
		}
	}
	if !strings.HasPrefix(t, "{") {
		return errors.New("the answer is not a JSON object")
	}
	dec := json.NewDecoder(strings.NewReader(t))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON object")
	}
	return nil
}

// meetingRef is what validation needs to know about the whole meeting: the
// date due phrases resolve against and the names an owner may be.
type meetingRef struct {
	date time.Time
	// names are the participants' and speakers' names, participants first,
	// each once (case-insensitively).
	names []string
}

func newMeetingRef(m Meeting) meetingRef {
	r := meetingRef{date: m.Date}
	seen := map[string]bool{}
	add := func(name string) {
		name = collapse(name)
		k := normString(name)
		if k == "" || seen[k] {
			return
		}
		seen[k] = true
		r.names = append(r.names, name)
	}
	for _, p := range m.Participants {
		add(p.Name)
	}
	for _, s := range m.Segments {
		add(s.Speaker)
	}
	return r
}

// owner matches a model's owner against the meeting's names: the full name
// (case-insensitively), or a first name that only one full name starts
// with. It returns the full name as the meeting writes it.
func (r meetingRef) owner(name string) (string, bool) {
	k := normString(name)
	if k == "" {
		return "", false
	}
	first := func(n string) string { f, _, _ := strings.Cut(normString(n), " "); return f }
	// longer is the one multi-word name starting with the first name f.
	longer := func(f string) (string, bool) {
		var hit string
		for _, n := range r.names {
			nk := normString(n)
			if strings.Contains(nk, " ") && first(n) == f {
				if hit != "" && normString(hit) != nk {
					return "", false
				}
				hit = n
			}
		}
		return hit, hit != ""
	}
	for _, n := range r.names {
		if normString(n) == k {
			if !strings.Contains(k, " ") {
				if l, ok := longer(k); ok {
					return l, true
				}
			}
			return n, true
		}
	}
	if strings.Contains(k, " ") {
		return "", false
	}
	return longer(k)
}

// resolveDue turns a due phrase into a date against the meeting date. The
// phrase as the transcript says it wins: a date phrase datephrase finds in
// the cited segments that contains the model's phrase (or that the phrase
// contains) gives the date, so "Friday" cut from "next Friday" still means
// next Friday; otherwise the model's phrase itself is resolved.
func (r meetingRef) resolveDue(phrase string, cited []crm.Segment) (crm.Date, bool) {
	if r.date.IsZero() {
		return crm.Date{}, false
	}
	p := cleanQuote(phrase)
	t, ok := time.Time{}, false
	for _, s := range cited {
		for _, m := range datephrase.Find(s.Text, r.date) {
			mp := normString(m.Phrase)
			if containsWords(mp, p) || containsWords(p, mp) {
				t, ok = m.Date, true
				break
			}
		}
		if ok {
			break
		}
	}
	if !ok {
		t, ok = datephrase.Resolve(phrase, r.date)
	}
	if !ok || !crm.TimeInRange(t) {
		// A date past year 9999 (a meeting on 9999-12-31 "next week") is
		// not one Logbook can write back.
		return crm.Date{}, false
	}
	return crm.Date{Time: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}, true
}

// window is the set of segments one call was given, by index.
type window struct {
	n       int // 1-based window number, 0 for the reduce step
	byIndex map[int]crm.Segment
	norm    map[int]normText
}

func newWindow(n int, segs []crm.Segment) *window {
	w := &window{n: n, byIndex: make(map[int]crm.Segment, len(segs)), norm: map[int]normText{}}
	for _, s := range segs {
		if _, dup := w.byIndex[s.Index]; !dup {
			w.byIndex[s.Index] = s
		}
	}
	return w
}

func (w *window) normOf(i int) normText {
	n, ok := w.norm[i]
	if !ok {
		n = normalize(w.byIndex[i].Text)
		w.norm[i] = n
	}
	return n
}

// citation is a claim's verified link to the transcript.
type citation struct {
	evidence []crm.Evidence
	segments []crm.Segment // the cited segments, in index order
	quote    string        // normalised quote
	joined   string        // normalised text of the cited segments, space-joined
}

// cite checks a claim's segments and quote against the window. The quote
// must occur, normalised, in the cited segments' normalised text joined in
// index order (so a quote may run across two cited segments); the evidence
// names every cited segment the match touches, with the original words.
func (w *window) cite(segments []int, quote string) (citation, DropReason) {
	if len(segments) == 0 {
		return citation{}, DropNoSegments
	}
	idx := slices.Clone(segments)
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		if _, ok := w.byIndex[i]; !ok {
			return citation{}, DropUnknownSegment
		}
	}
	// The quote as given, or else without its surrounding quotation marks
	// and punctuation.
	q := cleanQuote(quote)
	if q == "" {
		return citation{}, DropQuoteNotFound
	}
	candidates := []string{q}
	if full := normString(quote); full != q {
		candidates = []string{full, q}
	}
	var b strings.Builder
	offs := make([]int, len(idx))
	for k, i := range idx {
		if k > 0 {
			b.WriteByte(' ')
		}
		offs[k] = b.Len()
		b.WriteString(w.normOf(i).s)
	}
	joined := b.String()
	at := -1
	for _, c := range candidates {
		if at = strings.Index(joined, c); at >= 0 {
			q = c
			break
		}
	}
	if at < 0 {
		return citation{}, DropQuoteNotFound
	}
	c := citation{quote: q, joined: joined}
	for _, i := range idx {
		c.segments = append(c.segments, w.byIndex[i])
	}
	end := at + len(q)
	for k, i := range idx {
		n := w.normOf(i)
		lo, hi := max(at, offs[k])-offs[k], min(end, offs[k]+len(n.s))-offs[k]
		if lo >= hi {
			continue
		}
		seg := w.byIndex[i]
		words := strings.TrimSpace(seg.Text[n.start[lo]:n.end[hi-1]])
		if words == "" {
			continue
		}
		c.evidence = append(c.evidence, crm.Evidence{Segment: seg.Index, StartMS: seg.StartMS, Speaker: seg.Speaker, Quote: words})
	}
	return c, ""
}

// windowNotes are one call's validated claims.
type windowNotes struct {
	summary, keyPoints, decisions, risks []crm.Point
	actions                              []crm.ActionItem
	stats                                Stats
}

// validate keeps the claims of out that cite w truthfully and rebuilds
// their evidence from the real segments.
func validate(out llm.NotesOutput, w *window, ref meetingRef) windowNotes {
	var wn windowNotes
	drop := func(kind ClaimKind, r DropReason, text string, segs []int, quote string) {
		wn.stats.Dropped = append(wn.stats.Dropped, Drop{Window: w.n, Kind: kind, Reason: r, Text: text, Segments: segs, Quote: quote})
	}
	points := func(kind ClaimKind, claims []llm.Claim) []crm.Point {
		var ps []crm.Point
		for _, c := range claims {
			cit, reason := w.cite(c.Segments, c.Quote)
			text := collapse(c.Text)
			if reason == "" && text == "" {
				reason = DropEmptyText
			}
			if reason != "" {
				drop(kind, reason, c.Text, c.Segments, c.Quote)
				continue
			}
			wn.stats.Kept++
			ps = append(ps, crm.Point{Text: text, Evidence: cit.evidence})
		}
		return ps
	}
	wn.summary = points(KindSummary, out.Summary)
	wn.keyPoints = points(KindKeyPoint, out.KeyPoints)
	wn.decisions = points(KindDecision, out.Decisions)
	wn.risks = points(KindRisk, out.Risks)

	for _, a := range out.ActionItems {
		cit, reason := w.cite(a.Segments, a.Quote)
		text := collapse(a.Text)
		if reason == "" && text == "" {
			reason = DropEmptyText
		}
		if reason != "" {
			drop(KindActionItem, reason, a.Text, a.Segments, a.Quote)
			continue
		}
		wn.stats.Kept++
		item := crm.ActionItem{Text: text, Status: crm.ActionOpen, Evidence: cit.evidence}
		if o := collapse(a.Owner); o != "" {
			if name, ok := ref.owner(o); ok {
				item.Owner = &name
			} else {
				wn.stats.OwnersCleared = append(wn.stats.OwnersCleared, Cleared{Window: w.n, Text: text, Value: a.Owner})
			}
		}
		if d := collapse(a.Due); d != "" {
			if p := cleanQuote(d); p != "" && containsWords(cit.joined, p) {
				if date, ok := ref.resolveDue(d, cit.segments); ok {
					item.DueDate = &date
				}
			}
			if item.DueDate == nil {
				wn.stats.DuesCleared = append(wn.stats.DuesCleared, Cleared{Window: w.n, Text: text, Value: a.Due})
			}
		}
		item.Tentative = a.Tentative
		if !a.Tentative && hedged(cit.quote) {
			item.Tentative = true
			wn.stats.MarkedTentative++
		}
		wn.actions = append(wn.actions, item)
	}
	return wn
}

// errInvalid wraps ErrInvalidOutput with the purpose and the last problem.
func errInvalid(purpose string, last error) error {
	return fmt.Errorf("%s answered twice with unusable output: %w: %v", purpose, ErrInvalidOutput, last)
}
