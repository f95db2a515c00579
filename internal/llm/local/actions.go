package local

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"logbook/internal/datephrase"
	"logbook/internal/llm"
	"logbook/internal/llm/local/speech"
)

// refDate is the meeting's calendar date.
func (m *meeting) refDate() (time.Time, bool) {
	d := m.in.MeetingDate
	if d.IsZero() {
		return time.Time{}, false
	}
	y, mo, dd := d.Date()
	return time.Date(y, mo, dd, 0, 0, 0, 0, time.UTC), true
}

// due is the first date phrase in text that is not in the past, as said.
func (m *meeting) due(text string) string {
	ref, known := m.refDate()
	for _, mt := range datephrase.Find(text, m.in.MeetingDate) {
		if known && mt.Date.Before(ref) {
			continue
		}
		return mt.Phrase
	}
	return ""
}

// hedged reports whether ws[from:to] holds a hedge.
func hedged(ws []speech.Word, from, to int) bool { return hedges.Find(ws, from, to, nil) }

// commitment reads the commitment whose cue c starts at word k of sentence
// s. It returns the action and the word after its clause.
func (m *meeting) commitment(si int, k int, c cue, named string) (action, int, bool) {
	s := &m.sents[si]
	text := m.segs[s.seg].Text
	ws := s.ws
	floor := clauseFloor(text, ws, k)
	// "I don't think I'll…", "I doubt we can…"
	for j := floor; j < k; j++ {
		if ws[j].W == "doubt" || ((ws[j].W == "don't" || ws[j].W == "not") && j+1 < k && ws[j+1].W == "think") {
			return action{}, 0, false
		}
	}
	tentative := c.tentative
	c0 := k + len(c.words)
	if c.ing && (c0 >= len(ws) || !strings.HasSuffix(ws[c0].W, "ing") || ws[c0].W == "going") {
		return action{}, 0, false
	}
	for c0 < len(ws) {
		w := ws[c0].W
		switch {
		case skipWords[w]:
			c0++
		case len(c.words) > 0 && speech.Seq(ws, c0, c.words...) && c.kind != cueThird:
			c0 += len(c.words) // "I'll, I'll send…"
		case hedgeWords[w]:
			tentative = true
			c0++
		case (c.kind == cueRequest || c.kind == cueAssign) && groupWords[w] && c0 > 0 && ws[c0-1].W == "you":
			c0++ // "would you three mind…", "you two will…"
		case c.kind == cueRequest && w == "mind":
			c0++ // "would you mind sending…"
		case speech.Seq(ws, c0, "go", "ahead", "and"):
			c0 += 3
		case speech.Seq(ws, c0, "try", "to"), speech.Seq(ws, c0, "try", "and"):
			tentative = true
			c0 += 2
		case speech.Seq(ws, c0, "see", "if", "i", "can"), speech.Seq(ws, c0, "see", "if", "we", "can"):
			tentative = true
			c0 += 4
		case speech.Seq(ws, c0, "be", "able", "to"):
			c0 += 3
		case speech.Seq(ws, c0, "need", "to"), speech.Seq(ws, c0, "have", "to"), speech.Seq(ws, c0, "make", "sure", "to"):
			if w == "make" {
				c0 += 3
			} else {
				c0 += 2
			}
		case w == "be" && c0+1 < len(ws) && strings.HasSuffix(ws[c0+1].W, "ing") && len(ws[c0+1].W) > 4:
			c0++ // "I'll be sending"
		default:
			goto verb
		}
	}
verb:
	if c0 >= len(ws) {
		return action{}, 0, false
	}
	if w := ws[c0].W; w == "not" || w == "never" || w == "no" {
		return action{}, 0, false
	}
	owner := ""
	switch c.kind {
	case cueSelf:
		if label := strings.Join(strings.Fields(m.segs[s.seg].Speaker), " "); validLabel(label) {
			owner = label
		}
	case cueThird:
		owner = named
	case cueRequest, cueAssign:
		owner, _ = m.addressee(m.segs[s.seg].Speaker, text, ws, k)
	}
	addressed := owner != "" && c.kind != cueSelf
	// "I'll have Dana send…", "we'll get Sam to…"
	if (c.kind == cueSelf || c.kind == cueWe) && (ws[c0].W == "have" || ws[c0].W == "get") {
		if name, ok := m.nameAt(ws, c0+1); ok {
			owner = name
			c0 += 2
			if c0 < len(ws) && ws[c0].W == "to" {
				c0++
			}
			if c0 >= len(ws) {
				return action{}, 0, false
			}
		}
	}
	end := m.clauseEnd(text, ws, c0)
	if end <= c0 {
		return action{}, 0, false
	}
	// "Sam, we'll need the quote by Friday": the person addressed does it;
	// "Priya, we'll send you the contract": she only receives it.
	if c.kind == cueWe && owner == "" && !hasWord(ws[c0:end], "you", "your") {
		owner, addressed = m.addressee(m.segs[s.seg].Speaker, text, ws, k)
	}
	clause := speech.FluentText(text, ws[c0:end])
	if v := ws[c0].W; strings.HasSuffix(v, "ing") && lemma(v) != v {
		clause = lemma(v) + clause[len(v):] // "looking at…" → "look at…"
	}
	due := m.due(text[ws[k].Start:ws[end-1].End])
	verb := ws[c0].W
	next := ""
	if c0+1 < end {
		next = ws[c0+1].W
	}
	if unlikely(ws, k, c0, end) {
		return action{}, 0, false
	}
	together := (c.kind == cueRequest || c.kind == cueAssign) && shared(ws, k, c0, end)
	if together {
		owner, addressed = "", false
	}
	work, weak, meeting := kindOf(ws, c0, end)
	later := due != "" || future(ws, k, end)
	if meeting && due == "" {
		return action{}, 0, false
	}
	switch c.kind {
	case cueRequest, cueSomeone, cueAssign:
		if requestHardStop[verb] || verb == "you" || verb == "guys" || verb == "all" {
			return action{}, 0, false
		}
		// "you'll be getting instructions": the person addressed receives
		// something, and does nothing
		if c.kind == cueAssign && receiveVerbs[lemma(verb)] && !work {
			return action{}, 0, false
		}
		if due == "" && inMeeting(ws[c0:end]) {
			return action{}, 0, false
		}
		// "would you prefer…": a request asks for work; "would you take
		// the red one or the blue one?" asks to choose
		if v := lemma(verb); !workVerbs[v] && !actionVerbs[v] || s.question && hasWord(ws[c0:end], "or") {
			return action{}, 0, false
		}
	case cueLets:
		if !letsVerbs[verb] {
			return action{}, 0, false
		}
	default:
		if selfHardStop[verb] && !(verb == "tell" && next != "you" && next != "us") && !(verb == "start" && due != "") {
			return action{}, 0, false
		}
		if selfSoftStop[verb] && due == "" && inMeeting(ws[c0:end]) {
			return action{}, 0, false
		}
		if verb == "let" && (next == "you" || next == "it" || next == "that") {
			return action{}, 0, false
		}
	}
	if c.needVerb && !actionVerbs[verb] && !actionVerbs[lemma(verb)] && !workVerbs[lemma(verb)] && due == "" {
		return action{}, 0, false
	}
	if c.kind == cueSelf && strings.Join(c.words, " ") == "let me" && verb == "know" {
		return action{}, 0, false
	}
	if end-c0 < 2 && due == "" {
		return action{}, 0, false // one word: "can you reach", "I'll do"
	}
	from := floor
	if c.kind == cueRequest || c.kind == cueSomeone {
		from = c0 // "could you" is politeness, not a hedge
	}
	if hedged(ws, from, end) {
		tentative = true
	}
	a := action{
		claim: llm.ActionClaim{
			Text: speech.UpperFirst(clause), Owner: owner, Due: due, Segments: []int{s.index},
			Quote: m.quote(s), Tentative: tentative,
		},
		kind: c.kind, seg: s.seg,
		work: work, weak: weak, future: later, named: addressed, shared: together,
		offer: c.kind == cueSelf && c0+1 < end && recipients[ws[c0+1].W] && ws[c0+1].W != "me",
	}
	return a, end, true
}

// addressee is the person a request at word k is put to by name: "Priya,
// can you…", "Priya can you…", "…, Priya?", "Hey Priya, …". Names after
// "to", "with", "cc" or "from" are who gets something, not who does it.
func (m *meeting) addressee(speaker, text string, ws []speech.Word, k int) (string, bool) {
	speaker = strings.Join(strings.Fields(speaker), " ")
	ok := func(j int) (string, bool) {
		name, found := m.nameAt(ws, j)
		if !found || strings.EqualFold(name, speaker) {
			return "", false
		}
		if j > 0 && !strings.Contains(speech.Gap(text, ws, j+1), ",") {
			switch ws[j-1].W {
			case "to", "with", "cc", "from", "for", "and", "tell", "ask", "about":
				return "", false
			}
		}
		return name, true
	}
	if name, found := ok(k - 1); found {
		return name, true
	}
	for j := k - 1; j >= 0 && j >= k-5; j-- {
		if strings.Contains(speech.Gap(text, ws, j+1), ",") {
			if name, found := ok(j); found {
				return name, true
			}
		}
	}
	for j := max(k+1, len(ws)-3); j < len(ws); j++ {
		if strings.Contains(speech.Gap(text, ws, j), ",") {
			if name, found := ok(j); found {
				return name, true
			}
		}
	}
	return "", false
}

// actions finds the meeting's commitments, in meeting order.
func (m *meeting) actions() []llm.ActionClaim {
	var acts []action
	for si := range m.sents {
		s := &m.sents[si]
		if s.injected {
			continue
		}
		text := m.segs[s.seg].Text
		ws := s.ws
		var here []action
		for k := 0; k < len(ws); k++ {
			c, named, ok := m.matchCue(text, ws, k)
			if !ok {
				continue
			}
			a, end, ok := m.commitment(si, k, c, named)
			// A question is a commitment only as a request, or when its
			// question is a later clause or a tag ("…, okay?").
			if ok && s.question && end == len(ws) && c.kind != cueRequest && c.kind != cueSomeone && !m.tagQuestion(text, ws) {
				ok = false
			}
			if !ok {
				k += max(len(c.words)-1, 0)
				continue
			}
			here = append(here, a)
			k = end - 1
		}
		// "By Friday, I'll send…": a sentence's one commitment takes the
		// sentence's date.
		if len(here) == 1 && here[0].claim.Due == "" {
			here[0].claim.Due = m.due(m.text(s))
		}
		acts = append(acts, here...)
	}
	acts = m.settleRequests(acts)
	var kept []scored
	seen := map[string]bool{}
	for i, a := range acts {
		if a.claim.Text == "" || (a.claim.Due == "" && empty(a.claim.Text)) {
			continue
		}
		k := strings.ToLower(a.claim.Owner + "|" + a.claim.Text)
		if seen[k] {
			continue
		}
		seen[k] = true
		if w := a.weight(m.position(a.seg)); w >= minWeight {
			kept = append(kept, scored{i, w})
		}
	}
	// the clearest first, in meeting order: every one with a calendar due
	// date (as specific as a commitment gets), and at most maxActions
	// others (a share of it per window of a long meeting)
	slices.SortStableFunc(kept, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	undated := m.budget(maxActions)
	kept = slices.DeleteFunc(kept, func(k scored) bool {
		if acts[k.i].claim.Due != "" {
			return false
		}
		undated--
		return undated < 0
	})
	slices.SortFunc(kept, func(a, b scored) int { return cmp.Compare(a.i, b.i) })
	out := []llm.ActionClaim{}
	for _, k := range kept {
		out = append(out, acts[k.i].claim)
	}
	return out
}

// Action items are kept when they weigh minWeight or more, and at most
// maxActions per meeting of those without a calendar due date: people
// commit to a few things in a meeting, and three right items beat fifteen
// noisy ones.
const (
	minWeight  = 3
	maxActions = 6
)

// weight is how clearly a commits someone to work after the meeting: who
// took it on (the speaker or a named person 2; a request or assignment 1,
// 3 once the person is named or takes it on; "we" 1), plus one for work
// done away from the table ("send", "look into"), one for a time after
// the meeting ("by Friday", "next meeting"), less one for a verb that says
// little ("have", "do it") and a half for a hedge; a half more in the last
// fifth of the meeting (pos ≥ 0.8), where assignments are summed up.
func (a *action) weight(pos float64) float64 {
	w := 1.0
	switch a.kind {
	case cueSelf, cueThird:
		w = 2
	case cueRequest, cueAssign, cueSomeone, cueWe:
		if a.named || a.accepted {
			w = 3
		}
	}
	if a.work {
		w++
	}
	if a.future {
		w++
	}
	if a.weak {
		w--
	}
	if a.claim.Tentative && !a.offer {
		w -= 0.5 // a hedge; but a tentative offer ("I might be able to get you a credit") is still one
	}
	if pos >= 0.8 {
		w += 0.5
	}
	return w
}

// position is where segment i (of this window) lies in the whole meeting,
// from 0 (start) to 1 (end).
func (m *meeting) position(i int) float64 {
	if len(m.segs) == 0 {
		return 0
	}
	win, wins := max(m.in.Window, 1), max(m.in.Windows, 1)
	win = min(win, wins)
	return (float64(win-1) + float64(i)/float64(len(m.segs))) / float64(wins)
}

// budget is this window's share of n items for the meeting: n over the
// number of windows, at least one (so a meeting of more than n windows,
// many hours long, may have a few more).
func (m *meeting) budget(n int) int {
	return max(1, n/max(m.in.Windows, 1))
}
