package local

import (
	"strings"

	"logbook/internal/llm/local/speech"
)

// Precision first: a cue ("I'll", "you're going to", "can you") only opens
// a candidate. The candidate is dropped when its sentence is hypothetical
// ("if we…, we'll…"), reported ("I thought I'll…"), about the meeting
// itself ("I'll just share my screen", "I'll take notes for this call") or
// too vague to do ("we'll have…"); what is left is weighed (who committed,
// to what kind of work, by when, whether the person asked took it on) and
// only the clear ones are kept.

// lemma is a verb's base form for the "-ing" forms speech is full of
// ("looking" → "look", "making" → "make", "getting" → "get").
func lemma(w string) string {
	base, ok := strings.CutSuffix(w, "ing")
	if !ok || len(base) < 2 {
		return w
	}
	known := func(v string) bool { return workVerbs[v] || weakVerbs[v] || meetingVerbs[v] || actionVerbs[v] }
	if n := len(base); n >= 3 && base[n-1] == base[n-2] && known(base[:n-1]) {
		return base[:n-1] // "getting", "putting"
	}
	if known(base) {
		return base
	}
	if known(base + "e") {
		return base + "e"
	}
	return w
}

// workVerbs are work done away from the meeting table: a commitment to one
// of them is a deliverable.
var workVerbs = speech.WordSet(`send resend email mail forward circulate distribute share prepare draft finish complete check
investigate research explore contact ask arrange book schedule organise organize update fix review upload post
compile collect gather test build design develop sketch write study examine analyse analyze evaluate assess
find figure sort follow work focus look think call ring phone confirm verify estimate price cost order buy
inform tell notify brief reply respond deliver produce submit present report bring chase save store file
meet reconvene regroup watch monitor track loop introduce connect`)

// Particles and objects that turn a work verb into a phrase of its own.
var (
	// lookParticles make "look" work ("look into", "look at").
	lookParticles = speech.WordSet(`into at over through up for`)
	// aboutParticles make "think" work ("think about").
	aboutParticles = speech.WordSet(`about over through of`)
)

// weakVerbs say too little on their own to be a commitment ("we'll have a
// break", "I'll be looking out", "you'll get emails").
var weakVerbs = speech.WordSet(`have get make do use go come see need want like know hope mean keep stay end lose fall
become seem feel happen try give take put let leave call`)

// meetingVerbs are things done there and then, in the meeting: drawing on
// the board, presenting, moving on.
var meetingVerbs = speech.WordSet(`draw rub erase wipe switch turn click plug unplug press scroll pass read speak talk
explain show start begin continue move skip stop wrap summarise summarize recap introduce sit stand pick hold
hand open close act chair point mention jump hop run note minute pause play demonstrate display sum answer
clarify repeat`)

// nowWords place a clause in the meeting itself.
var nowPhrases = speech.NewPhraseSet("now", "right now", "here", "over here", "in a minute", "in a second",
	"in a moment", "in a sec", "for a second", "for a moment", "at the moment", "as we go", "this meeting",
	"today's meeting", "this session", "this call", "straight away", "quick", "quickly", "on the board", "on the screen")

// futurePhrases say that something is done after the meeting.
var futurePhrases = speech.NewPhraseSet("next meeting", "next time", "next week", "next call", "next session",
	"after the meeting", "after this meeting", "after the call", "after this call", "after lunch",
	"afterwards", "afterward", "later", "tomorrow", "tonight", "in the meantime", "meantime", "before the next",
	"by the next", "for the next", "until the next", "as soon as", "end of the day", "end of the week",
	"when we go", "once you go", "once we go", "when i get back", "when you get back", "soon")

// timeUnits follow "in" and a number in "in twenty minutes".
var timeUnits = speech.WordSet(`minutes minute hours hour days day weeks week months month`)

// future reports whether ws[from:to] says when, after the meeting: a
// phrase ("next meeting", "afterwards") or "in <number> <unit>".
func future(ws []speech.Word, from, to int) bool {
	if futurePhrases.Find(ws, from, to, nil) {
		return true
	}
	for k := from; k < to && k < len(ws); k++ {
		if ws[k].W != "in" {
			continue
		}
		for j := k + 1; j < to && j < len(ws) && j <= k+4; j++ {
			if timeUnits[ws[j].W] {
				return true
			}
		}
	}
	return false
}

// reportWords before a cue make it retold ("I thought I'll…", "he said
// he'll…", "I was like I need to…").
var reportWords = speech.WordSet(`thought said told says was were asked wondered meant supposed figured realised realized
heard read wrote did had`)

// hypotheticalWords before a cue make it a supposition ("if we do that
// we'll…", "suppose we'll…").
var hypotheticalWords = speech.WordSet(`if unless whether suppose supposing imagine assuming assume say`)

// kindOf sorts the verb of a commitment clause ws[c0:end]: work (a
// deliverable), weak (says too little), meeting (done there and then).
func kindOf(ws []speech.Word, c0, end int) (work, weak, meeting bool) {
	v := lemma(ws[c0].W)
	next := ""
	if c0+1 < end {
		next = ws[c0+1].W
	}
	last := ws[end-1].W
	switch {
	case v == "look":
		return lookParticles[next], !lookParticles[next], false
	case v == "think":
		return aboutParticles[next], !aboutParticles[next], false
	case v == "find" || v == "figure" || v == "sort":
		return next == "out" || last == "out", next != "out" && last != "out", false
	case v == "work":
		// "work on", "work it out", "work together on"
		for j := c0 + 1; j < end && j <= c0+3; j++ {
			switch ws[j].W {
			case "on", "out", "through":
				return true, false, false
			}
		}
		return false, true, false
	case v == "write":
		if next == "down" || next == "on" || next == "here" || next == "this" || next == "that" {
			return false, false, true
		}
		return true, false, false
	case v == "put" || v == "take" || v == "get" || v == "have" || v == "bring":
		// "put them in the folder", "get the redlines back to you", "have
		// it done by Friday"; "put the top in", "take it off" (a particle
		// ending the clause) is done there and then.
		switch last {
		case "in", "on", "off", "out", "up", "down", "away", "together":
			if end-c0 <= 4 {
				return false, false, true
			}
		}
		if v == "take" && (next == "a" || hasWord(ws[c0:end], "minutes", "notes")) {
			return false, false, true
		}
		if v == "get" && end-c0 > 2 && recipients[next] {
			return true, false, false // "get you the numbers": a delivery
		}
		if (v == "put" || v == "get") && next == "together" && end-c0 > 2 {
			return true, false, false // "put together the quote"
		}
		if v == "have" && end-c0 > 3 && hasWord(ws[c0+2:end], "to") && hasWord(ws[c0+2:end], "you", "them", "him", "her", "us", "everyone") {
			return true, false, false // "have it to you in two weeks"
		}
		if (v == "get" || v == "have") && end-c0 > 2 && strings.HasSuffix(last, "ed") {
			return true, false, false // "get the exception approved"
		}
		for j := c0 + 2; j < end && j <= c0+4; j++ { // the object's own particle, not a later clause's
			switch ws[j].W {
			case "done", "ready", "finished", "sorted", "completed", "back":
				return true, false, false // "have it done", "get the redlines back"
			case "into", "in", "to", "over":
				if v == "put" || v == "bring" || (v == "get" && ws[j].W != "in") {
					return true, false, false // "put them in the folder", "get legal to review it"
				}
			}
		}
		return false, v != "bring", false
	case v == "make" && next == "sure":
		return true, false, false
	case v == "do":
		if next == "it" || next == "that" || next == "this" || next == "so" || next == "something" || next == "some" || end-c0 < 2 {
			return false, true, false
		}
		return false, false, false
	case v == "call" && next != "":
		// "call that a doner" names something; "call the supplier" is work
		return end-c0 <= 3 && !strings.HasSuffix(last, "s"), false, false
	}
	if meetingVerbs[v] {
		return false, false, true
	}
	if danglingWords[last] && end-c0 <= 4 {
		return false, true, false // "check with my": cut off
	}
	return workVerbs[v], weakVerbs[v], false
}

// subordinators open a clause that explains or sets the scene.
var subordinators = speech.WordSet(`because cause since when once as while until whenever`)

// shared reports whether a request or assignment's clause ws[c0:end],
// put to "you" at word k, is given to several people ("you two", "you
// will work together on…"): no one person owns it.
func shared(ws []speech.Word, k, c0, end int) bool {
	for j := k; j < end && j <= c0+1; j++ {
		if ws[j].W == "you" && j+1 < len(ws) {
			switch ws[j+1].W {
			case "two", "three", "four", "all", "both", "guys", "each":
				return true
			}
		}
	}
	for j := c0; j < end; j++ {
		switch ws[j].W {
		case "both", "each", "everyone", "everybody":
			return true
		case "together": // but "put together the quote" is one person's work
			if j == c0 || !phrasalTogether[ws[j-1].W] {
				return true
			}
		}
	}
	return false
}

// phrasalTogether are verbs that make "together" part of the verb.
var phrasalTogether = speech.WordSet(`put get pull bring piece throw cobble stitch`)

// recipients are who a delivery goes to ("get you…", "send them…").
var recipients = speech.WordSet(`you him her them us me everyone everybody`)

// danglingWords cannot end a clause: one that ends in them was cut off.
var danglingWords = speech.WordSet(`the a an my your our their his her its to with of for from and or but about into on at by
in`)

// unlikely reports whether the candidate whose cue starts at word k, with
// its clause ws[c0:end], is no commitment: retold, supposed, or done in the
// meeting.
func unlikely(ws []speech.Word, k, c0, end int) bool {
	for j := max(0, k-4); j < k; j++ {
		if reportWords[ws[j].W] {
			return true
		}
	}
	for j := 0; j < k; j++ {
		if hypotheticalWords[ws[j].W] {
			return true
		}
	}
	// "because you need to…", "once we're going to…": a reason or a
	// circumstance, not a commitment
	for j := max(0, k-3); j < k; j++ {
		if subordinators[ws[j].W] {
			return true
		}
	}
	// "what we're going to do is…", "how we're gonna…": a clause about the
	// plan, not a commitment
	if k > 0 {
		switch ws[k-1].W {
		case "what", "how", "which", "that", "who", "when", "where", "why", "whatever", "whoever":
			return true
		}
	}
	for j := k + 1; j < c0; j++ {
		if ws[j].W == "just" || ws[j].W == "quickly" {
			return !future(ws, c0, end) // "I'll just switch that back"
		}
	}
	if nowPhrases.Find(ws, c0, end, nil) && !future(ws, c0, end) {
		return true
	}
	return false
}
