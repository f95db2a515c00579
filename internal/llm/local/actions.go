package local

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode"

	"logbook/internal/crm"
	"logbook/internal/datephrase"
	"logbook/internal/llm"
	"logbook/internal/llm/local/hashvec"
	"logbook/internal/llm/local/speech"
)

// person is someone in the meeting.
type person struct {
	name    string   // the speaker label, or the participant's name
	first   string   // lower-case first name
	parts   []string // lower-case words of the name
	speaker bool
}

// people are the meeting's speakers and participants, each once.
type people struct {
	list     []person
	speakers []string // distinct valid speaker labels, in order of first turn
}

// validLabel reports whether a speaker label names a person (not "",
// "Unknown" or "Speaker 2").
func validLabel(s string) bool {
	l := strings.ToLower(strings.TrimSpace(s))
	if l == "" || l == "unknown" || l == "guest" || l == "unidentified" {
		return false
	}
	if rest, ok := strings.CutPrefix(l, "speaker"); ok {
		rest = strings.TrimSpace(strings.TrimLeft(rest, " _-#"))
		if rest == "" || strings.IndexFunc(rest, func(r rune) bool { return !unicode.IsDigit(r) && !unicode.IsLetter(r) }) < 0 && len(rest) <= 2 {
			return false
		}
	}
	return strings.IndexFunc(l, unicode.IsLetter) >= 0
}

func firstName(name string) string {
	f, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(name)), " ")
	return strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) })
}

func newPeople(parts []crm.Participant, segs []crm.Segment) people {
	var p people
	has := func(full string) bool {
		for _, q := range p.list {
			if strings.EqualFold(q.name, full) {
				return true
			}
		}
		return false
	}
	for _, s := range segs {
		label := strings.Join(strings.Fields(s.Speaker), " ")
		if !validLabel(label) || has(label) {
			continue
		}
		p.list = append(p.list, person{name: label, first: firstName(label), parts: strings.Fields(strings.ToLower(label)), speaker: true})
		p.speakers = append(p.speakers, label)
	}
	for _, pt := range parts {
		name := strings.Join(strings.Fields(pt.Name), " ")
		if !validLabel(name) || has(name) {
			continue
		}
		f := firstName(name)
		merged := false
		for _, q := range p.list {
			// "Dana" speaking is "Dana Whitfield" on the invite
			if q.speaker && q.first == f && !strings.Contains(q.name, " ") {
				merged = true
			}
		}
		if !merged {
			p.list = append(p.list, person{name: name, first: f, parts: strings.Fields(strings.ToLower(name))})
		}
	}
	return p
}

// byFirst returns the one person with first name f (lower case).
func (p people) byFirst(f string) (string, bool) {
	hit := ""
	for _, q := range p.list {
		if q.first == f && f != "" {
			if hit != "" {
				return "", false
			}
			hit = q.name
		}
	}
	return hit, hit != ""
}

// nameAt returns the person word k of ws names ("Priya", "Priya's",
// "Priya'll"): capitalised, and a first name only one person has.
func (m *meeting) nameAt(ws []speech.Word, k int) (string, bool) {
	if k < 0 || k >= len(ws) || !ws[k].Upper {
		return "", false
	}
	w := ws[k].W
	w = strings.TrimSuffix(w, "'s")
	w = strings.TrimSuffix(w, "'ll")
	return m.ppl.byFirst(w)
}

// nameSpan returns the person whose name starts at word k of ws and the
// number of words it takes: a speaker label or participant name of several
// words said in full ("Support Lead"), or a first name only one person has
// (as nameAt), either followed by one more capitalised word, a surname or
// a title ("Dana Smith", "Support Lead Engineer").
func (m *meeting) nameSpan(ws []speech.Word, k int) (string, int, bool) {
	if k < 0 || k >= len(ws) || !ws[k].Upper {
		return "", 0, false
	}
	bare := func(w string) string { return strings.TrimSuffix(strings.TrimSuffix(w, "'s"), "'ll") }
	name, n := "", 0
	for _, p := range m.ppl.list {
		parts := p.parts
		if len(parts) < 2 || len(parts) <= n || k+len(parts) > len(ws) {
			continue
		}
		ok := true
		for i, part := range parts {
			w := ws[k+i].W
			if i == len(parts)-1 {
				w = bare(w)
			}
			if w != part || (i < len(parts)-1 && w != ws[k+i].W) {
				ok = false
				break
			}
		}
		if ok {
			name, n = p.name, len(parts)
		}
	}
	if n == 0 {
		var ok bool
		if name, ok = m.nameAt(ws, k); !ok {
			return "", 0, false
		}
		n = 1
	}
	last := ws[k+n-1].W
	if j := k + n; j < len(ws) && ws[j].Upper && ws[j].W != "i" && bare(last) == last && !strings.HasPrefix(ws[j].W, "i'") {
		n++
	}
	return name, n, true
}

type cueKind int

const (
	cueSelf    cueKind = iota // the speaker commits: "I'll", "let me"
	cueWe                     // "we'll": owner unknown unless a name does it
	cueRequest                // "can you": the person addressed
	cueSomeone                // "can someone": nobody in particular
	cueLets                   // "let's schedule": everyone
	cueThird                  // "Dana will": Dana
	cueAssign                 // "you're going to look at…": the person addressed, once they take it on
)

// cue is a phrase that opens a commitment.
type cue struct {
	words     []string
	kind      cueKind
	needVerb  bool // the next word must be an action verb (or a date said)
	tentative bool
	atStart   bool // only at the start of a clause
	ing       bool // the next word must be an "-ing" form of an action verb ("you're looking at…")
}

// cues are the cue phrases by first word, longest first.
var cues = func() map[string][]cue {
	c := func(phrase string, kind cueKind, opts ...string) cue {
		x := cue{words: strings.Fields(phrase), kind: kind}
		for _, o := range opts {
			switch o {
			case "verb":
				x.needVerb = true
			case "tentative":
				x.tentative = true
			case "start":
				x.atStart = true
			case "ing":
				x.needVerb, x.ing = true, true
			}
		}
		return x
	}
	list := []cue{
		c("i'll need you to", cueRequest), c("we'll need you to", cueRequest), c("we need you to", cueRequest),
		c("i need you to", cueRequest), c("i'd like you to", cueRequest), c("i want you to", cueRequest),
		c("you're going to", cueAssign, "verb"), c("you are going to", cueAssign, "verb"), c("you're gonna", cueAssign, "verb"),
		c("you'll", cueAssign, "verb"), c("you will", cueAssign, "verb"), c("you're", cueAssign, "ing"), c("you are", cueAssign, "ing"), c("i'd love for you to", cueRequest),
		c("can i get you to", cueRequest), c("would you mind", cueRequest), c("do you mind", cueRequest),
		c("can you", cueRequest), c("could you", cueRequest), c("would you", cueRequest), c("will you", cueRequest),
		c("you'll need to", cueRequest, "verb"), c("you need to", cueRequest, "verb"), c("make sure you", cueRequest, "verb"),
		c("please", cueRequest, "verb", "start"),
		c("can someone", cueSomeone), c("could someone", cueSomeone), c("can somebody", cueSomeone), c("could somebody", cueSomeone),
		c("i'll", cueSelf), c("i will", cueSelf), c("i shall", cueSelf), c("i'm going to", cueSelf), c("i am going to", cueSelf),
		c("i'm gonna", cueSelf), c("i can", cueSelf, "verb"), c("let me", cueSelf, "verb"),
		c("i need to", cueSelf, "verb"), c("i have to", cueSelf, "verb"), c("i've got to", cueSelf, "verb"),
		c("i'd be happy to", cueSelf), c("happy to", cueSelf, "verb", "start"), c("i'd be glad to", cueSelf),
		c("i might be able to", cueSelf, "tentative"), c("i may be able to", cueSelf, "tentative"),
		c("i should be able to", cueSelf), c("i could", cueSelf, "verb", "tentative"), c("i might", cueSelf, "verb", "tentative"),
		c("we'll", cueWe), c("we will", cueWe), c("we're going to", cueWe), c("we are going to", cueWe), c("we're gonna", cueWe),
		c("we might be able to", cueWe, "tentative"), c("we may be able to", cueWe, "tentative"),
		c("let's", cueLets, "verb"),
	}
	slices.SortStableFunc(list, func(a, b cue) int { return len(b.words) - len(a.words) })
	byFirst := map[string][]cue{}
	for _, x := range list {
		byFirst[x.words[0]] = append(byFirst[x.words[0]], x)
	}
	return byFirst
}()

// maxClauseWords bounds a commitment's clause: talk without punctuation
// (automatic captions often have none) is cut rather than read to its end.
const maxClauseWords = 40

// actionVerbs are what a commitment does; cues marked "verb" need one.
var actionVerbs = speech.WordSet(`send resend share email forward schedule reschedule set book loop introduce intro draft prepare
put get follow circle check ask review confirm update write create run reach call ping sync connect finalize
sign provide deliver pull compile dig coordinate arrange open file submit push escalate talk touch reconvene
regroup meet plan make have organize invite add cc demo test fix deploy install configure enable activate
provision extend reply respond return grab order process approve discuss look find figure work build ship
release document outline map spin upload post publish circulate distribute pass shoot drop ship sort clean
double verify validate chase nudge remind flag raise bring hand kick start prioritize block hold reserve
estimate quote price scope propose send`)

// Verbs that never make an action item after a first-person cue ("I'll be
// honest", "let me think"), and those that do only when a date is said
// ("I'll walk you through it on Friday").
var (
	selfHardStop = speech.WordSet(`be say admit guess bet think pass mention note repeat hop hear imagine like believe see mean love stop
wrap recap summarize turn jump go know just tell keep leave start hand answer rephrase clarify explain
play pause interrupt own`)
	selfSoftStop    = speech.WordSet(`walk show give share kick demo explain introduce pull bring`)
	requestHardStop = speech.WordSet(`hear see repeat say tell talk explain clarify elaborate describe imagine be like speak
go expand hold remind mute unmute stop help believe recommend do think guess still spell remember agree`)
	// letsVerbs are what "let's" commits everyone to.
	letsVerbs = speech.WordSet(`schedule set book meet reconvene regroup sync plan circle follow touch loop put pencil block`)
	// skipWords come between a cue and its verb without changing it.
	skipWords = speech.WordSet(`also just definitely certainly quickly then now actually absolutely totally please personally
gladly happily still first really kindly surely`)
	hedgeWords = speech.WordSet(`probably maybe possibly hopefully perhaps`)
)

// inMeeting reports whether a clause is something done there and then
// ("share your screen", "walk us through", "give me a sense of").
func inMeeting(ws []speech.Word) bool {
	if len(ws) == 0 {
		return false
	}
	rest := ws[1:]
	has := func(words ...string) bool { return speech.Seq(rest, 0, words...) }
	switch ws[0].W {
	case "share":
		return has("your", "screen") || has("my", "screen") || has("the", "screen") || has("screen")
	case "give":
		if has("me") || has("us") || has("you") {
			if len(rest) > 2 {
				switch rest[2].W {
				case "sense", "idea", "second", "minute", "moment", "overview", "example", "context", "rundown", "background", "bit":
					return true
				}
			}
			if len(rest) > 1 {
				switch rest[1].W {
				case "some", "context", "background":
					return true
				}
			}
		}
	case "walk", "show", "explain":
		return has("me") || has("us") || has("you")
	case "make":
		return has("it")
	case "put":
		return has("yourself") || has("yourselves")
	case "pull":
		return has("up")
	case "kick":
		return has("us", "off") || has("off")
	case "introduce":
		return has("yourself") || has("yourselves")
	}
	return false
}

// hedges make a commitment tentative.
var hedges = speech.NewPhraseSet(
	"might", "maybe", "may be able", "possibly", "perhaps", "try to", "try and", "hopefully", "not sure",
	"i think i can", "i think we can", "if i can", "if we can", "see if", "probably", "might be able",
	"no promises", "if possible", "fingers crossed", "if time permits", "i'll try", "we'll try",
)

// endWords end a commitment's clause.
var endWords = speech.WordSet(`but because cause since although though whereas unless however otherwise while`)

// causeNoun are words after which "cause" is the noun ("a root cause
// analysis"), not a clipped "because".
var causeNoun = speech.WordSet(`a the root main probable likely underlying real actual`)

// endsClause reports whether word j of ws is an end word.
func endsClause(ws []speech.Word, j int) bool {
	w := ws[j].W
	if w == "cause" && j > 0 && causeNoun[ws[j-1].W] {
		return false
	}
	return endWords[w]
}

// tagWords may trail a commitment after a comma ("…, okay?").
var tagWords = speech.WordSet(`okay ok right yeah alright sound sounds good does that work works for you is fine if that's no problem yes cool`)

// acceptWords open an answer that takes a request on.
var acceptWords = []string{
	"sure", "yes", "yeah", "yep", "yup", "absolutely", "definitely", "certainly", "of course", "no problem",
	"will do", "can do", "on it", "happy to", "i can", "i will", "i'll", "okay", "ok", "sounds good",
	"totally", "for sure", "no worries", "i'm on it", "consider it done", "done",
}

// action is a commitment found in a sentence.
type action struct {
	claim llm.ActionClaim
	kind  cueKind
	seg   int // position in m.segs
	// what weighs it (see weight)
	work, weak, future, named, accepted bool
	shared                              bool // given to several people: no one owner
	offer                               bool // the speaker's, to someone there ("get you", "send them")
}

// matchCue returns the cue at word k of ws.
func (m *meeting) matchCue(text string, ws []speech.Word, k int) (cue, string, bool) {
	if k < 0 || k >= len(ws) {
		return cue{}, "", false // a clause ending in "and": no cue after it
	}
	for _, c := range cues[ws[k].W] {
		if !speech.Seq(ws, k, c.words...) {
			continue
		}
		if c.atStart && !m.clauseStartAt(text, ws, k) {
			continue
		}
		return c, "", true
	}
	// "Send me the slides by Friday": an imperative opening the sentence
	if imperativeVerbs[ws[k].W] && m.opensSentence(ws, k) {
		return cue{kind: cueRequest}, "", true
	}
	// "Dana will …", "Dana's going to …", "Dana'll …", "the Support Lead is
	// gonna …" (a speaker label of several words, a trailing title word)
	if name, n, ok := m.nameSpan(ws, k); ok && !strings.Contains(speech.Gap(text, ws, k+n), ",") && !speech.Seq(ws, k+n+1, "you") {
		l := k + n - 1 // the name's last word
		w := ws[l].W
		for l+1 < len(ws) && l < k+n+1 && placeAdverbs[ws[l+1].W] {
			l++ // "the Support Lead over here will…"
		}
		var who []string
		for i := k; i <= l; i++ {
			who = append(who, ws[i].W)
		}
		third := func(rest ...string) cue {
			return cue{words: append(who, rest...), kind: cueThird}
		}
		switch {
		case strings.HasSuffix(w, "'ll"):
			return third(), name, true
		case strings.HasSuffix(w, "'s") && (speech.Seq(ws, l+1, "going", "to") || speech.Seq(ws, l+1, "gonna")):
			if ws[l+1].W == "gonna" {
				return third("gonna"), name, true
			}
			return third("going", "to"), name, true
		case speech.Seq(ws, l+1, "will"):
			return third("will"), name, true
		case speech.Seq(ws, l+1, "is", "going", "to"):
			return third("is", "going", "to"), name, true
		case speech.Seq(ws, l+1, "is", "gonna"):
			return third("is", "gonna"), name, true
		case speech.Seq(ws, l+1, "can"):
			c := third("can")
			c.needVerb = true
			return c, name, true
		}
	}
	return cue{}, "", false
}

// placeAdverbs may stand between a person and the verb ("Dana here will…").
var placeAdverbs = speech.WordSet(`here over there also too`)

// receiveVerbs are what an addressee gets rather than does.
var receiveVerbs = speech.WordSet(`get receive have see hear find`)

// groupWords after "you" put a request to several people.
var groupWords = speech.WordSet(`two three four all both guys`)

// imperativeVerbs open an imperative that hands out work ("send me…",
// "check whether…"); the rest are mostly things to do there and then
// ("look at this", "press that").
var imperativeVerbs = speech.WordSet(`send email mail forward circulate prepare draft finish complete check investigate research
contact arrange book schedule organise organize update review upload`)

// discourseWords may come before an imperative ("so, okay, send…").
var discourseWords = speech.WordSet(`so okay ok and then please just also now well right yeah yes alright oh but`)

// opensSentence reports whether only discourse words come before word k.
func (m *meeting) opensSentence(ws []speech.Word, k int) bool {
	for j := 0; j < k; j++ {
		if !discourseWords[ws[j].W] {
			if _, ok := m.nameAt(ws, j); !ok {
				return false
			}
		}
	}
	return true
}

// clauseStartAt reports whether word k opens a clause: first in the
// sentence, after a comma or dash, after a discourse word or a name.
func (m *meeting) clauseStartAt(text string, ws []speech.Word, k int) bool {
	if k == 0 {
		return true
	}
	if strings.ContainsAny(speech.Gap(text, ws, k), ",;:—–") {
		return true
	}
	switch ws[k-1].W {
	case "and", "so", "then", "but", "okay", "ok", "sure", "yes", "yeah", "well", "also", "oh", "now", "just":
		return true
	}
	_, ok := m.nameAt(ws, k-1)
	return ok
}

// clauseFloor is where the clause holding word k starts, for hedges said
// before a cue ("maybe I'll…"): at most four words back, not past a strong
// boundary.
func clauseFloor(text string, ws []speech.Word, k int) int {
	j := k
	for j > 0 && j > k-4 {
		if strings.ContainsAny(speech.Gap(text, ws, j), ";:—–") || endsClause(ws, j-1) {
			break
		}
		j--
	}
	return j
}

// clauseEnd is the word after the commitment's clause that starts at c0.
func (m *meeting) clauseEnd(text string, ws []speech.Word, c0 int) int {
	for j := c0 + 1; j < len(ws); j++ {
		if j-c0 >= maxClauseWords {
			return j
		}
		g := speech.Gap(text, ws, j)
		if strings.ContainsAny(g, ";:—–()[]") || strings.Contains(g, " - ") {
			return j
		}
		w := ws[j].W
		if endsClause(ws, j) {
			return j
		}
		// "I'll take… I can send it back": a false start, said again
		if j-c0 <= 2 && (w == "i" || strings.HasPrefix(w, "i'")) {
			if c, _, ok := m.matchCue(text, ws, j); ok && c.kind == cueSelf {
				return j
			}
		}
		if w == "so" && strings.Contains(g, ",") {
			return j
		}
		if w == "and" || w == "then" || w == "or" || w == "so" {
			if _, _, ok := m.matchCue(text, ws, j+1); ok {
				return j
			}
			// "… and the Support Lead will…"
			if j+2 < len(ws) && ws[j+1].W == "the" {
				if _, _, ok := m.matchCue(text, ws, j+2); ok {
					return j
				}
			}
			if j+2 < len(ws) && ws[j+1].W == "then" {
				if _, _, ok := m.matchCue(text, ws, j+2); ok {
					return j
				}
			}
			// "…, and Tom, can you…"
			if _, ok := m.nameAt(ws, j+1); ok && strings.Contains(speech.Gap(text, ws, j+2), ",") {
				if _, _, ok := m.matchCue(text, ws, j+2); ok {
					return j
				}
			}
		}
		if strings.Contains(g, ",") {
			if _, _, ok := m.matchCue(text, ws, j); ok {
				return j
			}
			if m.trailer(ws[j:]) {
				return j
			}
		}
	}
	return len(ws)
}

// trailer reports whether the words after a comma are a tag ("okay?",
// "if that works") or the name of the person addressed.
func (m *meeting) trailer(rest []speech.Word) bool {
	if len(rest) == 0 || len(rest) > 4 {
		return false
	}
	if len(rest) == 1 {
		if _, ok := m.nameAt(rest, 0); ok {
			return true
		}
	}
	for _, w := range rest {
		if !tagWords[w.W] {
			return false
		}
	}
	return true
}

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
