package local

import (
	"slices"
	"strings"

	"logbook/internal/llm/local/hashvec"
	"logbook/internal/llm/local/speech"
)

// tagQuestion reports whether a question is a statement with a tag
// ("I'll send it Friday, okay?").
func (m *meeting) tagQuestion(text string, ws []speech.Word) bool {
	for j := len(ws) - 1; j > 0 && j >= len(ws)-4; j-- {
		if strings.Contains(speech.Gap(text, ws, j), ",") {
			return m.trailer(ws[j:])
		}
	}
	return false
}

// settleRequests gives requests their owners and folds the answers that
// take them on into them. The owner of a request nobody was named in is
// whoever answers it with a yes; failing that, in a two-person exchange,
// the other person.
func (m *meeting) settleRequests(acts []action) []action {
	drop := make([]bool, len(acts))
	bySeg := map[int][]int{}
	for j, a := range acts {
		bySeg[a.seg] = append(bySeg[a.seg], j)
	}
	for i := range acts {
		r := &acts[i]
		if (r.kind != cueRequest && r.kind != cueAssign) || drop[i] {
			continue
		}
		asker := m.segs[r.seg].Speaker
		p := -1
		for q := r.seg + 1; q < len(m.segs) && q <= r.seg+2; q++ {
			if sp := m.segs[q].Speaker; sp != asker && validLabel(sp) {
				p = q
				break
			}
		}
		if p >= 0 {
			m.takeOn(r, p, acts, bySeg, drop)
		}
		if r.claim.Owner == "" && !r.shared {
			r.claim.Owner = m.otherInExchange(r.seg)
		}
	}
	out := acts[:0]
	for i, a := range acts {
		if !drop[i] {
			out = append(out, a)
		}
	}
	return out
}

// takeOn settles request r with the answer in segment p (bySeg: the
// actions of each segment; drop: the actions folded away). When p's
// speaker may own r (it names nobody else) and takes it on, with a yes, an
// acknowledgement or an "I'll…" of their own, they own it (unless the
// group shares it); their own commitment is folded into r when it says no
// more (lending r its due date and its hedge), else the answer's first
// sentence lends r a due date and a hedge.
func (m *meeting) takeOn(r *action, p int, acts []action, bySeg map[int][]int, drop []bool) {
	label := strings.Join(strings.Fields(m.segs[p].Speaker), " ")
	if r.claim.Owner != "" && !strings.EqualFold(r.claim.Owner, label) {
		return
	}
	accepted := m.accepts(p) || m.acknowledges(p)
	acc := -1
	for _, j := range bySeg[p] {
		if !drop[j] && acts[j].seg == p && acts[j].kind == cueSelf && strings.EqualFold(acts[j].claim.Owner, label) {
			acc = j
			accepted = true
			break
		}
	}
	if !accepted {
		return
	}
	r.accepted = true
	if !r.shared {
		r.claim.Owner = label
	}
	if acc >= 0 {
		a := &acts[acc]
		if vague(a.claim.Text) || overlap(r.claim.Text, a.claim.Text) >= 0.5 {
			drop[acc] = true
			if r.claim.Due == "" && a.claim.Due != "" {
				r.claim.Due = a.claim.Due
				r.claim.Segments = append(r.claim.Segments, m.segs[p].Index)
			}
			r.claim.Tentative = r.claim.Tentative || a.claim.Tentative
		}
		return
	}
	if len(m.bySeg[p]) == 0 {
		return
	}
	first := &m.sents[m.bySeg[p][0]]
	if r.claim.Due == "" {
		if d := m.due(m.text(first)); d != "" {
			r.claim.Due = d
			r.claim.Segments = append(r.claim.Segments, m.segs[p].Index)
		}
	}
	if hedged(first.ws, 0, len(first.ws)) {
		r.claim.Tentative = true
	}
}

// accepts reports whether segment p opens with a yes.
func (m *meeting) accepts(p int) bool {
	if len(m.bySeg[p]) == 0 {
		return false
	}
	ws := m.sents[m.bySeg[p][0]].ws
	for _, a := range acceptWords {
		if speech.Seq(ws, 0, strings.Fields(a)...) {
			return true
		}
	}
	return false
}

// ackWords open a short answer that takes an assignment on ("Mm-hmm.",
// "Right.", "Okay, sure.").
var ackWords = speech.WordSet(`mm hmm mhm uh okay ok yeah yes yep right alright sure cool fine`)

// acknowledges reports whether segment p is a short answer (six words at
// most) opening with an acknowledgement.
func (m *meeting) acknowledges(p int) bool {
	t := m.segs[p].Text
	ws := speech.WordsOf(t, speech.Span{Start: 0, End: len(t)})
	return len(ws) > 0 && len(ws) <= 6 && ackWords[ws[0].W]
}

// otherInExchange is the person a speaker at segment i is talking with
// when only two people are: the meeting has two speakers, or the nearest
// other speakers before and after are the same person.
func (m *meeting) otherInExchange(i int) string {
	me := strings.Join(strings.Fields(m.segs[i].Speaker), " ")
	if !validLabel(me) {
		return ""
	}
	if len(m.ppl.speakers) == 2 {
		for _, s := range m.ppl.speakers {
			if !strings.EqualFold(s, me) {
				return s
			}
		}
	}
	other := func(from, step int) string {
		for q := from; q >= 0 && q < len(m.segs); q += step {
			sp := strings.Join(strings.Fields(m.segs[q].Speaker), " ")
			if validLabel(sp) && !strings.EqualFold(sp, me) {
				return sp
			}
		}
		return ""
	}
	before, after := other(i-1, -1), other(i+1, 1)
	if before != "" && strings.EqualFold(before, after) {
		return before
	}
	return ""
}

// hasWord reports whether ws holds one of words.
func hasWord(ws []speech.Word, words ...string) bool {
	for _, w := range ws {
		if slices.Contains(words, w.W) {
			return true
		}
	}
	return false
}

// empty reports whether a commitment says nothing on its own: two words at
// most, ending in a pronoun ("do it", "handle that").
func empty(text string) bool {
	ws := strings.Fields(strings.ToLower(text))
	if len(ws) > 2 {
		return false
	}
	switch strings.Trim(ws[len(ws)-1], ".,!?") {
	case "it", "that", "this", "them", "those", "so", "one", "him", "her", "us", "you":
		return true
	}
	return false
}

// vague reports whether a commitment's text leans on what was asked
// ("do that", "send it over").
func vague(text string) bool {
	ws := strings.Fields(strings.ToLower(text))
	if len(ws) <= 3 {
		return true
	}
	for _, w := range ws[1:min(len(ws), 3)] {
		switch strings.Trim(w, ".,!?") {
		case "it", "that", "this", "them", "those", "one":
			return true
		}
	}
	return false
}

// overlap is the share of a's content words that b also has.
func overlap(a, b string) float64 {
	wa := hashvec.Words(a, nil)
	wb := hashvec.Words(b, nil)
	n, hit := 0, 0
	for _, w := range wa {
		if !hashvec.ContentWord(w) {
			continue
		}
		n++
		if slices.Contains(wb, w) {
			hit++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(hit) / float64(n)
}
