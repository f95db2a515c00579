package local

import (
	"slices"
	"strings"

	"logbook/internal/llm"
	"logbook/internal/llm/local/speech"
)

// cueKind says who a commitment cue makes the owner.
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
