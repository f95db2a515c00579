package local

import (
	"cmp"
	"slices"
	"strings"

	"logbook/internal/llm"
	"logbook/internal/llm/local/hashvec"
	"logbook/internal/llm/local/speech"
)

// Decisions and risks, precision first. A sentence is weighed on how it is
// said (a cue: "we're going with…", "X is out", "let's do that"; "the
// problem is…", "too expensive", "it might break") and on how the others
// answer it (a decision that two other people agree with in the next turns
// is one; one they argue with is not). Recaps of earlier meetings ("as we
// discussed last time…") are not this meeting's decisions, and negated
// concerns ("you don't have to worry about…", "no problem") are not risks.

// Outcomes are kept when they weigh minOutcome or more, at most maxOutcomes
// of each kind per meeting.
const (
	minOutcome  = 3
	minRisk     = 2.5
	maxOutcomes = 10
)

// Decision cues by strength: a choice stated ("we're going with", "X is
// out"), and a plan stated ("we'll have", "we're using").
var (
	choicePhrases = speech.NewPhraseSet(
		"go with", "going with", "go for", "going for", "stick with", "stick to", "sticking with", "settle on",
		"settled on", "opt for", "opted for", "we choose", "we chose", "we've chosen", "we have chosen",
		"let's do that", "let's do it", "let's go for", "let's go with", "the way to go", "ruled out", "rule out", "definitely out",
		"is out", "are out", "definitely in", "is in as well", "we decided", "we've decided", "we have decided",
		"decided to", "agreed to", "agreed on", "agreed that", "we agreed", "we agree", "we all agree",
		"we're agreed", "we are agreed", "consensus", "final decision", "the decision is", "that's decided",
		"that's settled", "we'll take", "we will take", "we'll keep", "we will keep", "we'll drop", "we will drop",
		"we'll use", "we will use", "we'll go", "we will go", "signed off", "approved", "moving forward with",
		"move forward with", "proceed with", "locked in", "we want to go",
		"we want to stick", "we'd like to use", "we would like to use", "we'll only", "we will only",
	)
	planPhrases = speech.NewPhraseSet(
		"we'll have", "we will have", "we're having", "we are having", "we're going to have", "we're gonna have",
		"we're using", "we are using", "we're going to use", "we're gonna use", "we'll include", "we're including",
		"we're incorporating", "we'll make", "we're making", "we'll need", "let's have", "let's make",
		"let's keep", "let's use", "we want", "we would like", "we'd like", "we can make", "we can have",
		"we should", "we need",
	)
	// recapPhrases retell an earlier meeting.
	recapPhrases = speech.NewPhraseSet(
		"last time", "last meeting", "previous meeting", "the last meeting", "as we discussed", "we discussed",
		"as discussed", "as we said", "we said", "as i said", "already decided", "already agreed", "earlier meeting",
		"before the meeting", "minutes from", "from last", "as we agreed", "as agreed", "as we decided",
	)
	// supposition before a cue makes it an option, not a decision; so
	// does a wh-word ("what we want to decide…").
	suppositionWords = speech.WordSet(`if unless whether suppose supposing maybe perhaps probably what which how`)
	// otherSubjects before a cue make it someone else's choice ("they'll go
	// for…").
	otherSubjects = speech.WordSet(`they they'll they're he he'll she she'll people customers users you you'll`)
	// decidingWords name the act of deciding; after futureModals it is
	// still to come ("you should come to a consensus").
	decidingWords = speech.WordSet(`consensus decide decided agree agreed settle settled decision`)
	futureModals  = speech.WordSet(`should must need needs have has will going gonna want shall`)
	// questionOpeners open a question said without its mark ("have we
	// confirmed that…").
	questionOpeners = speech.WordSet(`have has do does did are is was were should shall can could would will`)
	// impersonalChoice end the choice cues that need no "we" ("diesel is
	// out", "a consensus", "the way to go").
	impersonalChoice = speech.WordSet(`out in consensus go settled decided approved`)
	// alternatives name what was not chosen.
	alternatives = speech.NewPhraseSet("instead of", "rather than", "not the", "and not")
	// agreePhrases in a short answer agree ("that's a good idea").
	agreePhrases = speech.NewPhraseSet("good idea", "sounds good", "i agree", "i think so", "why not", "fair enough",
		"makes sense", "let's do", "good point", "that's right", "that's true", "that's fine")
	// agreeWords open an answer that agrees.
	agreeWords = speech.WordSet(`yeah yes yep yup okay ok sure right agreed agree good great fine exactly definitely
absolutely cool perfect alright true indeed`)
	// disagreeWords open an answer that disagrees.
	disagreeWords = speech.WordSet(`no nope but although though`)
)

// Risk cues: a concern named ("the problem is…", "expensive"), "too" and
// a word of quality ("too complex"), a harm that might come ("it might
// break"), something that cannot be done ("we can't have…").
var (
	riskWords = speech.WordSet(`problem problems problematic risk risks risky concern concerns concerned worried worry worries worrying
danger dangerous drawback drawbacks downside downsides disadvantage disadvantages constraint constraints limitation
limitations trouble tricky frustrating annoying injury injuries damage damaged broken
fragile expensive costly pricey difficult complicated unreliable interfere interferes interference fail fails failure
blocker blockers delay delays delayed slip slipping jeopardy jeopardise jeopardize showstopper dealbreaker`)
	riskPhrases2 = speech.NewPhraseSet("deal breaker", "show stopper", "red flag", "over budget", "out of budget",
		"no budget", "budget freeze", "at stake", "won't work", "doesn't work", "not work", "won't be able",
		"not be able", "not possible", "not feasible", "isn't ready", "not ready", "won't be ready", "run out",
		"a lot of problems", "the catch", "the trouble", "steep")
	// riskIdioms name a risk beyond doubt.
	riskIdioms = speech.NewPhraseSet("deal breaker", "show stopper", "red flag", "dealbreaker", "showstopper")
	// riskNegations before a risk word deny it ("not very expensive",
	// "less of a constraint", "stop worrying").
	riskNegations = speech.WordSet(`not no never less without stop isn't aren't wasn't weren't don't doesn't didn't won't
wouldn't shouldn't hardly nothing`)
	harmModals = speech.WordSet(`might could may will would`)
	harmVerbs  = speech.WordSet(`break interfere lose fail crash damage hurt annoy frustrate confuse drain increase cost
slip delay stop block`)
	// qualityWords after "too" name a concern ("too complex").
	tooSkip = speech.WordSet(`much many`)
	// denials make a sentence about a concern say there is none.
	riskDenials2 = speech.NewPhraseSet("no problem", "no problems", "not a problem", "not problem", "no concern",
		"no concerns", "not concerned", "not worried", "no risk", "not a risk", "not a concern", "no issue",
		"no issues", "not an issue", "no worries", "no worry", "don't worry", "not worry", "dont worry",
		"not to worry", "don't have to worry", "nothing to worry", "without problem", "without problems",
		"no blocker", "no blockers", "not a blocker", "low risk", "zero risk", "not too", "isn't too", "wasn't too",
		"not that", "not very", "no delay", "no delays", "without delay", "not difficult", "isn't difficult",
		"not expensive", "isn't expensive", "quite cheap", "solves", "solved", "fixes", "fixed", "is concerned",
		"are concerned", "far as", "least of", "lower risk", "less risk", "less of a problem", "lesser risk")
	// whOpeners open a question said without a question mark ("what are our
	// constraints").
	whOpeners = speech.WordSet(`what how why where which who`)
	// auxiliaries follow a wh-word in a question.
	auxiliaries = speech.WordSet(`are is do does did can could would should will was were have has`)
	// pastWords make a concern one that was, not one that is.
	pastWords = speech.WordSet(`was were had did wasn't weren't hadn't didn't`)
)

// outcome is a decision or risk candidate.
type outcome struct {
	i     int // sentence
	score float64
}

// answers counts the other speakers who agree with (and disagree with)
// sentence s in the next four segments, each speaker once: a short turn
// (eight words at most) opening with a word of agreement, or any turn
// opening with a word of disagreement.
func (m *meeting) answers(s *sent) (agree, disagree int) {
	me := m.segs[s.seg].Speaker
	seen := map[string]bool{me: true}
	if sents := m.bySeg[s.seg]; len(sents) > 0 && &m.sents[sents[len(sents)-1]] != s {
		return 0, 0 // answers follow the last sentence of a turn
	}
	for q := s.seg + 1; q < len(m.segs) && q <= s.seg+4; q++ {
		sp := m.segs[q].Speaker
		if seen[sp] {
			continue
		}
		seen[sp] = true
		t := m.segs[q].Text
		ws := speech.WordsOf(t, speech.Span{Start: 0, End: len(t)})
		if len(ws) == 0 {
			continue
		}
		switch {
		case disagreeWords[ws[0].W]:
			disagree++
		case len(ws) <= 8 && (agreeWords[ws[0].W] || agreePhrases.Has(ws)):
			agree++
		}
	}
	return agree, disagree
}

// cueBefore reports whether any of words occurs in ws[from:k].
func cueBefore(ws []speech.Word, from, k int, words map[string]bool) bool {
	for j := max(0, from); j < k; j++ {
		if words[ws[j].W] {
			return true
		}
	}
	return false
}

// decisionWeight weighs sentence s as a decision of this meeting.
func (m *meeting) decisionWeight(s *sent) float64 {
	if s.injected || s.chatter || s.content < 3 || recapPhrases.Has(s.ws) {
		return 0
	}
	ws := s.ws
	cue := 0.0
	// what is decided is said with the cue: two content words after it
	// ("we're going with a simple fridge"), or before one that ends it
	// ("diesel is out")
	said := func(k int, p []string, need int) bool {
		last := p[len(p)-1]
		if last == "that" || last == "it" {
			return true // "let's do that": what was proposed before
		}
		from, to := k+len(p), len(ws)
		if impersonalChoice[last] {
			from, to, need = 0, k, 1
		}
		n := 0
		for j := from; j < to; j++ {
			if hashvec.ContentWord(ws[j].W) {
				n++
			}
		}
		return n >= need
	}
	// a choice names what is chosen (one content word), a plan says more
	check := func(w float64) func(k int, p []string) bool {
		return func(k int, p []string) bool {
			if !said(k, p, 3-int(w)) {
				return false
			}
			if cueBefore(ws, 0, k, suppositionWords) || cueBefore(ws, k-5, k, negations) || cueBefore(ws, k-3, k, otherSubjects) ||
				(decidingWords[p[0]] || decidingWords[p[len(p)-1]]) && cueBefore(ws, k-5, k, futureModals) ||
				(k+len(p) < len(ws) && (ws[k+len(p)].W == "not" || ws[k+len(p)].W == "never")) {
				return false
			}
			cue = max(cue, w)
			return w >= 2
		}
	}
	// a choice the team makes has the team in it ("we", "let's", "our"),
	// unless it is said of the thing itself ("diesel is out", "the way to go")
	ours := hasWord(ws, "we", "we're", "we'll", "we've", "we'd", "let's", "us", "our")
	choicePhrases.Find(ws, 0, len(ws), func(k int, p []string) bool {
		if !ours && !impersonalChoice[p[len(p)-1]] {
			return false
		}
		return check(2)(k, p)
	})
	if cue == 0 && ours {
		planPhrases.Find(ws, 0, len(ws), check(1))
	}
	if cue > 0 && ((ours && alternatives.Has(ws)) || hasWord(ws, "definitely")) {
		cue++ // "we'd like to use leased vans instead of cargo bikes", "diesel is definitely out"
	}
	if s.decision && !s.question && !cueBefore(ws, 0, len(ws), suppositionWords) && decisionCues.Find(ws, 0, len(ws), func(k int, p []string) bool { return said(k, p, 2) }) {
		cue = 3 // said outright: "we decided to", "so we're agreed"
	}
	if cue == 0 {
		return 0
	}
	agree, disagree := m.answers(s)
	question := s.question && !m.tagQuestion(m.segs[s.seg].Text, ws) || // "…, right?" states
		len(ws) > 1 && questionOpeners[ws[0].W] && (ws[1].W == "we" || ws[1].W == "you") // "have we confirmed…"
	if disagree > 0 || (question && agree < 2) {
		// argued with; a question ("so we're going with the leased van?")
		// counts only once two others confirm it
		return 0
	}
	return cue + float64(min(agree, 2))
}

// riskWeight weighs sentence s as a concern raised.
func (m *meeting) riskWeight(s *sent) float64 {
	ws := s.ws
	if s.injected || s.chatter || s.question || s.content < 2 || riskDenials2.Has(ws) || riskDenials.Has(ws) {
		return 0
	}
	if riskIdioms.Has(ws) {
		return minOutcome + 1
	}
	if len(ws) > 1 && whOpeners[ws[0].W] && auxiliaries[ws[1].W] {
		return 0 // a question, its mark lost
	}
	w := 0.0
	for k, x := range ws {
		negated := cueBefore(ws, k-6, k, riskNegations)
		// "difficult to draw that": trouble with the meeting itself
		if k+2 < len(ws) && ws[k+1].W == "to" && (meetingVerbs[ws[k+2].W] || ws[k+2].W == "see" || ws[k+2].W == "hear" || ws[k+2].W == "write") {
			continue
		}
		switch {
		case riskWords[x.W] && !negated:
			w = max(w, 2)
		case x.W == "too" && k+1 < len(ws) && !negated && !tooSkip[ws[k+1].W] && hashvec.ContentWord(ws[k+1].W):
			w = max(w, 2) // "too complex"
		case harmModals[x.W] && k+1 < len(ws):
			j := k + 1
			if ws[j].W == "be" || ws[j].W == "also" || ws[j].W == "just" {
				j++
			}
			if j < len(ws) && harmVerbs[ws[j].W] && !cueBefore(ws, k-3, k, riskNegations) {
				w = max(w, 2) // "it might interfere with…"
			}
		}
	}
	phrase := func(k int, _ []string) bool { return !cueBefore(ws, k-5, k, riskNegations) }
	if riskPhrases2.Find(ws, 0, len(ws), phrase) || riskPhrases.Find(ws, 0, len(ws), phrase) {
		w = max(w, 2)
	}
	if w == 0 {
		return 0
	}
	agree, _ := m.answers(s)
	w += 0.5 * float64(min(agree, 2))
	if len(ws) <= 15 {
		w += 0.5 // said plainly: "spelt is expensive"
	}
	if hasWord(ws, "was", "were", "had", "did") {
		w-- // a concern that was, looking back
	}
	return w
}

// outcomes picks the decisions and risks of the meeting: sentences whose
// weight is minOutcome or more, the heaviest first, at most this window's
// share of maxOutcomes of each, in meeting order.
func (m *meeting) outcomes() (decisions, risks []llm.Claim) {
	var ds, rs []outcome
	for i := range m.sents {
		s := &m.sents[i]
		if w := m.decisionWeight(s); w >= minOutcome {
			ds = append(ds, outcome{i, w})
		} else if w := m.riskWeight(s); w >= minRisk {
			rs = append(rs, outcome{i, w})
		}
	}
	// near repeats are one point: a sentence sharing 70% of its content
	// words with a kept one; for risks, also one said within two turns of
	// a kept one (a concern is raised over a few turns)
	pick := func(os []outcome, near int) []llm.Claim {
		slices.SortStableFunc(os, func(a, b outcome) int { return cmp.Compare(b.score, a.score) })
		var kept []outcome
		seen := map[string]bool{}
		for _, o := range os {
			if len(kept) == m.budget(maxOutcomes) {
				break
			}
			k := strings.ToLower(m.claim(&m.sents[o.i]).Text)
			if seen[k] || slices.ContainsFunc(kept, func(p outcome) bool {
				d := m.sents[p.i].seg - m.sents[o.i].seg
				return (-near <= d && d <= near) || overlap(m.text(&m.sents[o.i]), m.text(&m.sents[p.i])) >= 0.7
			}) {
				continue
			}
			seen[k] = true
			kept = append(kept, o)
		}
		slices.SortFunc(kept, func(a, b outcome) int { return cmp.Compare(a.i, b.i) })
		out := []llm.Claim{}
		for _, o := range kept {
			out = append(out, m.claim(&m.sents[o.i]))
		}
		return out
	}
	return pick(ds, 0), pick(rs, 2)
}
