package local

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/internal/llm/local/hashvec"
	"logbook/internal/llm/local/speech"
	"logbook/prompts"
)

// maxQuote is the longest quote (in bytes) a claim carries; a longer
// sentence is quoted from its start, cut at a word boundary.
const maxQuote = 400

// sent is one sentence of the meeting.
type sent struct {
	seg      int // position in the meeting's segment list
	index    int // the segment's Index
	sp       speech.Span
	ws       []speech.Word
	vec      hashvec.Sparse
	content  int // number of content words
	question bool
	injected bool // reads like an instruction to a model: never extracted
	chatter  bool // greeting or small talk
	decision bool // records a decision
	risk     bool // raises a risk
}

// meeting is the parsed input of a notes completion.
type meeting struct {
	in    *prompts.NotesInput
	segs  []crm.Segment // distinct by Index, in Index order
	sents []sent
	bySeg [][]int        // sentence positions per segment
	vec   hashvec.Sparse // the whole meeting
	ppl   people
}

// parseMeeting splits the meeting into sentences and embeds them. It
// returns ctx.Err() once ctx is done.
func parseMeeting(ctx context.Context, in *prompts.NotesInput) (*meeting, error) {
	m := &meeting{in: in}
	seen := make(map[int]bool, len(in.Segments))
	for _, s := range in.Segments {
		if !seen[s.Index] {
			seen[s.Index] = true
			m.segs = append(m.segs, s)
		}
	}
	slices.SortStableFunc(m.segs, func(a, b crm.Segment) int { return cmp.Compare(a.Index, b.Index) })
	m.ppl = newPeople(in.Participants, m.segs)
	m.bySeg = make([][]int, len(m.segs))

	var buf hashvec.Buffers
	var all []string
	for i, s := range m.segs {
		if i%64 == 63 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		for _, sp := range speech.Sentences(s.Text) {
			ws := speech.Fluent(s.Text, speech.WordsOf(s.Text, sp))
			if len(ws) == 0 {
				continue
			}
			buf.Words = hashvec.Words(s.Text[sp.Start:sp.End], buf.Words)
			all = append(all, buf.Words...)
			var fs []hashvec.Feature
			fs, buf.Hashes = hashvec.Features(buf.Words, buf.Hashes)
			st := sent{seg: i, index: s.Index, sp: sp, ws: ws, vec: hashvec.NewSparse(fs)}
			for _, w := range buf.Words {
				if hashvec.ContentWord(w) {
					st.content++
				}
			}
			st.question = strings.HasSuffix(strings.TrimRight(s.Text[sp.Start:sp.End], `"')”’`), "?")
			st.injected = speech.Injection(ws)
			st.chatter = chatter(ws)
			st.decision = decision(&st)
			st.risk = !st.chatter && risk(&st)
			m.bySeg[i] = append(m.bySeg[i], len(m.sents))
			m.sents = append(m.sents, st)
		}
	}
	fs, _ := hashvec.Features(all, nil)
	m.vec = hashvec.NewSparse(fs)
	return m, nil
}

// text is the sentence's words as said.
func (m *meeting) text(s *sent) string { return m.segs[s.seg].Text[s.sp.Start:s.sp.End] }

// quote is the sentence as said, at most maxQuote bytes.
func (m *meeting) quote(s *sent) string {
	q := m.text(s)
	if len(q) <= maxQuote {
		return q
	}
	cut := s.sp.Start
	for _, w := range s.ws {
		if w.End-s.sp.Start > maxQuote {
			break
		}
		cut = w.End
	}
	return m.segs[s.seg].Text[s.sp.Start:cut]
}

func (m *meeting) claim(s *sent) llm.Claim {
	return llm.Claim{Text: m.cleanText(s), Segments: []int{s.index}, Quote: m.quote(s)}
}

// cleanText is a sentence as a claim's text: without its disfluencies
// (fillers, repeats, false starts) and leading discourse words ("So,
// yeah, …"), first letter upper-cased.
func (m *meeting) cleanText(s *sent) string {
	ws := s.ws
	for len(ws) > 3 && speech.Filler(ws[0].W) {
		if ws[0].W == "got" && ws[1].W == "it" {
			ws = ws[2:]
			continue
		}
		if ws[0].W == "got" {
			break
		}
		ws = ws[1:]
	}
	t := speech.FluentText(m.segs[s.seg].Text, ws)
	if end := m.text(s); len(end) > 0 && strings.ContainsAny(end[len(end)-1:], ".!?") {
		t += end[len(end)-1:]
	}
	return speech.UpperFirst(t)
}

var chatterWords = map[string]bool{
	"weather": true, "weekend": true, "vacation": true, "holiday": true, "holidays": true, "coffee": true,
	"traffic": true, "kids": true, "mute": true, "muted": true, "unmute": true, "bye": true, "goodbye": true,
	"hello": true, "hi": true, "hey": true, "welcome": true, "sunny": true, "rain": true, "raining": true,
	"snow": true, "cheers": true,
}

var chatterPhrases = speech.NewPhraseSet(
	"how are you", "how's it going", "how is it going", "good morning", "good afternoon", "good evening",
	"nice to meet", "good to see", "great to see", "nice to see", "thanks for joining", "thank you for joining",
	"thanks for having", "can you hear me", "can everyone hear", "hear me ok", "see my screen", "share my screen",
	"talk soon", "have a good", "have a great", "see you", "you're on mute", "you are on mute", "thanks everyone",
	"thank you everyone", "thanks all", "give it a minute", "wait for", "few more minutes", "let's get started",
	"let's dive in", "let's jump in", "before we start", "sounds good", "makes sense",
)

// chatter reports whether a sentence is a greeting or small talk.
func chatter(ws []speech.Word) bool {
	for _, w := range ws {
		if chatterWords[w.W] {
			return true
		}
	}
	return chatterPhrases.Has(ws)
}

// notes extracts a meeting's notes.
func notes(ctx context.Context, in *prompts.NotesInput) (llm.NotesOutput, error) {
	out := llm.NotesOutput{
		Summary: []llm.Claim{}, KeyPoints: []llm.Claim{}, Decisions: []llm.Claim{},
		Risks: []llm.Claim{}, ActionItems: []llm.ActionClaim{},
	}
	m, err := parseMeeting(ctx, in)
	if err != nil {
		return out, err
	}
	summary, keys := m.central()
	for _, i := range summary {
		c := m.claim(&m.sents[i])
		c.Text = m.reported(&m.sents[i])
		out.Summary = append(out.Summary, c)
	}
	for _, i := range keys {
		out.KeyPoints = append(out.KeyPoints, m.claim(&m.sents[i]))
	}
	out.Decisions, out.Risks = m.outcomes()
	if err := ctx.Err(); err != nil {
		return out, err
	}
	out.ActionItems = m.actions()
	return out, nil
}

// scored is a candidate sentence and its centrality.
type scored struct {
	i     int
	score float64
}

// central picks the summary and the key points: sentences ranked by
// centrality (cosine to the whole meeting times a length prior), chosen by
// maximal marginal relevance so they do not repeat each other, each list in
// meeting order.
func (m *meeting) central() (summary, keys []int) {
	var cands []scored
	eligible := 0
	for i := range m.sents {
		s := &m.sents[i]
		if s.injected || s.chatter || s.content < 4 || len(s.ws) < 6 {
			continue
		}
		eligible++
		prior := math.Sqrt(math.Min(float64(s.content), 12) / 12)
		if s.content > 40 {
			prior *= 40 / float64(s.content)
		}
		score := hashvec.Cosine(s.vec, m.vec) * prior
		if s.question {
			score *= 0.6
		}
		if s.decision || s.risk {
			score *= 1.15
		}
		if score > 0 {
			cands = append(cands, scored{i, score})
		}
	}
	if len(cands) == 0 {
		return nil, nil
	}
	slices.SortStableFunc(cands, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	if len(cands) > 200 {
		cands = cands[:200]
	}
	nSummary := min(6, max(3, 2+eligible/60))
	nKeys := min(6, max(3, 2+eligible/40))

	top := cands[0].score
	var picked []int
	used := make([]bool, len(cands))
	mmr := func(n int, ok func(i int) bool, take func(i int)) []int {
		var got []int
		for len(got) < n {
			best, bestV := -1, math.Inf(-1)
			for c, cd := range cands {
				if used[c] || !ok(cd.i) {
					continue
				}
				sim := 0.0
				for _, p := range picked {
					sim = max(sim, hashvec.Cosine(m.sents[cd.i].vec, m.sents[p].vec))
				}
				if sim > 0.8 {
					continue // a near repeat
				}
				v := 0.7*cd.score/top - 0.3*sim
				if v > bestV {
					best, bestV = c, v
				}
			}
			if best < 0 {
				break
			}
			used[best] = true
			picked = append(picked, cands[best].i)
			got = append(got, cands[best].i)
			if take != nil {
				take(cands[best].i)
			}
		}
		slices.Sort(got)
		return got
	}
	// the summary's sentences, as reported speech, fit maxSummaryWords
	left := maxSummaryWords
	length := map[int]int{} // words of a sentence as reported speech
	words := func(i int) int {
		n, ok := length[i]
		if !ok {
			n = len(strings.Fields(m.reported(&m.sents[i])))
			length[i] = n
		}
		return n
	}
	summary = mmr(nSummary, func(i int) bool {
		n := words(i)
		return n <= left && n <= maxSummarySentence
	}, func(i int) { left -= words(i) })
	topics := m.topicWords(30)
	keys = mmr(nKeys, func(i int) bool {
		n := 0
		for _, w := range m.sents[i].ws {
			if topics[w.W] {
				n++
			}
		}
		return n >= 2
	}, nil)
	return summary, keys
}

// topicWords are the meeting's n most frequent content words (said at
// least twice).
func (m *meeting) topicWords(n int) map[string]bool {
	counts := map[string]int{}
	var buf []string
	for _, s := range m.segs {
		buf = hashvec.Words(s.Text, buf)
		for _, w := range buf {
			if hashvec.ContentWord(w) && len(w) > 2 {
				counts[w]++
			}
		}
	}
	type wc struct {
		w string
		c int
	}
	var list []wc
	for w, c := range counts {
		if c >= 2 {
			list = append(list, wc{w, c})
		}
	}
	slices.SortFunc(list, func(a, b wc) int {
		if c := cmp.Compare(b.c, a.c); c != 0 {
			return c
		}
		return strings.Compare(a.w, b.w)
	})
	out := map[string]bool{}
	for i := 0; i < len(list) && i < n; i++ {
		out[list[i].w] = true
	}
	return out
}

// decisionCues mark a decision taken in the meeting.
var decisionCues = speech.NewPhraseSet(
	"we agreed", "agreed to", "agreed on", "agreed that", "we decided", "decided to", "we've decided",
	"let's go with", "we'll go with", "we will go with", "we're going with", "we're going to go with",
	"so we're agreed", "we are agreed", "decision is", "the decision", "confirmed that", "we will move forward",
	"we'll move forward", "we're moving forward", "moving forward with", "signed off", "we'll proceed with",
	"we will proceed with", "got approved", "was approved", "is approved", "has approved", "have approved",
	"final answer is", "we settled on", "locked in", "we agree on", "we agree to", "we agree that", "we all agree",
	"we're aligned on", "we are aligned on",
)

var agreedQuestion = speech.NewPhraseSet("so we're agreed", "are we agreed")

// negations before a cue undo it ("we haven't agreed to…").
var negations = map[string]bool{
	"not": true, "never": true, "haven't": true, "hasn't": true, "didn't": true, "don't": true, "doesn't": true,
	"no": true, "isn't": true, "wasn't": true, "aren't": true, "weren't": true, "won't": true, "can't": true,
	"yet": true, "if": true, "whether": true, "until": true,
}

// decision reports whether a sentence records a decision.
func decision(s *sent) bool {
	if s.injected || (s.question && !agreedQuestion.Has(s.ws)) {
		return false
	}
	return decisionCues.Find(s.ws, 0, len(s.ws), func(k int, p []string) bool {
		for j := max(0, k-3); j < k+len(p); j++ {
			if negations[s.ws[j].W] {
				return false
			}
		}
		if bareDecisionCue[p[0]] {
			// "decided to", "agreed to" record a decision of the meeting only
			// when the people in it took it: "we decided to", not "Teams
			// decided to update itself" or "a customer agreed to…" retold.
			for j := max(0, k-3); j < k; j++ {
				if meetingSubjects[s.ws[j].W] {
					return true
				}
			}
			return false
		}
		return true
	})
}

// bareDecisionCue are the cues that carry no subject of their own.
var bareDecisionCue = map[string]bool{"agreed": true, "decided": true, "confirmed": true}

// meetingSubjects are the subjects that make a bare cue the meeting's own
// decision.
var meetingSubjects = map[string]bool{
	"we": true, "i": true, "you": true, "us": true, "both": true, "everyone": true, "all": true,
	"we've": true, "we're": true, "i've": true, "you've": true, "everybody": true,
}

// riskStems start words that name a risk; riskPhrases are risks as
// phrases.
var (
	riskStems   = []string{"concern", "risk", "blocker", "worried", "worries", "worry", "delay", "churn", "escalat", "competitor", "jeopard", "showstopper", "dealbreaker"}
	riskPhrases = speech.NewPhraseSet(
		"budget freeze", "can't roll out", "cannot roll out", "won't be able", "deal breaker", "no budget",
		"show stopper", "red flag", "out of budget", "over budget", "pushed back", "slip", "slipping", "slipped", "at stake",
		"not going to make it", "might lose", "could lose", "walk away", "cut the budget", "budget cut",
	)
	riskDenials = speech.NewPhraseSet(
		"no concern", "no concerns", "not concerned", "not worried", "no risk", "not a risk", "not a concern",
		"no blockers", "no blocker", "not a blocker", "nothing blocking", "no worries", "no worry", "without delay",
		"no delay", "no delays", "don't see any", "low risk", "zero risk", "not worry", "don't worry",
	)
)

// risk reports whether a sentence raises a risk.
func risk(s *sent) bool {
	ws := s.ws
	if s.injected || riskDenials.Has(ws) {
		return false
	}
	// "if … isn't ready", "what if …"
	for k, w := range ws {
		if w.W != "if" {
			continue
		}
		for j := k + 1; j < len(ws) && j <= k+12; j++ {
			if ws[j].W == "ready" && j > 0 && (ws[j-1].W == "isn't" || ws[j-1].W == "not" || ws[j-1].W == "aren't" || ws[j-1].W == "won't" || ws[j-1].W == "be" && j > 1 && ws[j-2].W == "won't") {
				return true
			}
		}
	}
	if s.question {
		return false
	}
	return speech.HasPrefixWord(ws, 0, len(ws), riskStems...) || riskPhrases.Has(ws)
}
