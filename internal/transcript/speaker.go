package transcript

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// nameMode says how much evidence a "Name:" label needs before it is taken
// as a speaker rather than as prose.
type nameMode int

const (
	// lenient accepts any well-formed name that is not a known label word:
	// the first line of a subtitle cue, an Otter header.
	lenient nameMode = iota
	// strict also wants each word capitalised: a line of plain text, where
	// "Next steps: ..." is prose.
	strict
	// knownOnly accepts only speakers already seen: a later line of a cue.
	knownOnly
	// recurring is lenient for a label the file uses again and again: it
	// does not ask that the label not read as a phrase ("The Interviewer"
	// on every other line is a speaker).
	recurring
)

// speakers remembers the speakers a parser has accepted, by clean name.
type speakers map[string]bool

// stopNames are words that head a "Label: text" line of prose or a
// "[sound]" annotation and are never speakers, unless a transcript really
// uses them as one (then they are known).
var stopNames = map[string]bool{
	"note": true, "notes": true, "nb": true, "n.b": true, "ps": true, "p.s": true, "fyi": true,
	"update": true, "updates": true, "reminder": true, "warning": true, "caution": true,
	"important": true, "attention": true, "summary": true, "agenda": true, "action": true,
	"action item": true, "action items": true, "next step": true, "next steps": true,
	"todo": true, "to do": true, "tip": true, "example": true, "e.g": true, "i.e": true,
	"re": true, "subject": true, "edit": true, "decision": true, "decisions": true,
	"risk": true, "risks": true, "outcome": true, "result": true, "results": true,
	"goal": true, "goals": true, "problem": true, "issue": true, "solution": true,
	"status": true, "context": true, "background": true, "conclusion": true,
	"bottom line": true, "caveat": true, "disclaimer": true, "source": true, "quote": true,
	"ref": true, "reference": true, "step": true, "option": true, "phase": true,
	"http": true, "https": true, "mailto": true, "ftp": true, "www": true,
	"attendees": true, "participants": true, "date": true, "time": true, "location": true,
	"title": true, "topic": true, "meeting": true, "transcript": true, "recording": true,
	"link": true, "url": true, "email": true, "phone": true, "cc": true, "bcc": true,
	"from": true, "to": true, "sent": true, "deadline": true, "due": true, "owner": true,
	"budget": true, "price": true, "pricing": true, "cost": true, "total": true,
	"plan": true, "scope": true, "priority": true, "so": true, "also": true, "and": true,
	"but": true, "yes": true, "no": true, "ok": true, "okay": true, "well": true,
	"now": true, "then": true, "first": true, "second": true, "third": true,
	"finally": true, "next": true, "again": true, "anyway": true, "basically": true,
	"however": true, "therefore": true, "plus": true, "remember": true, "look": true,
	"listen": true, "hint": true, "hello": true, "hi": true, "hey": true, "thanks": true,
	"question": true, "questions": true, "answer": true, "key": true, "item": true,
	"laughter": true, "laughs": true, "laughing": true, "inaudible": true, "crosstalk": true,
	"cross-talk": true, "music": true, "applause": true, "silence": true, "pause": true,
	"noise": true, "unintelligible": true, "indistinct": true, "foreign": true,
	"cough": true, "coughs": true, "coughing": true, "sigh": true, "sighs": true,
	"chuckles": true, "chuckle": true, "static": true, "overlapping": true, "overtalk": true,
	"beep": true, "typing": true, "blank": true, "sound": true, "unclear": true,
	"speaking": true, "upbeat": true, "multiple": true, "clears": true, "no audio": true,
}

// stopFirstWords head multi-word labels ("Action items", "Question from
// Dana", "Inaudible 00:01:02") that are not speakers.
var stopFirstWords = map[string]bool{
	"note": true, "notes": true, "action": true, "next": true, "question": true, "step": true,
	"agenda": true, "summary": true, "update": true, "reminder": true, "follow": true,
	"todo": true, "option": true, "phase": true, "item": true, "items": true, "topic": true,
	"re": true, "subject": true, "ps": true, "fyi": true, "nb": true, "warning": true,
	"important": true, "tip": true, "example": true, "edit": true, "decision": true,
	"risk": true, "background": true, "inaudible": true, "crosstalk": true, "laughter": true,
	"music": true, "speaking": true, "upbeat": true, "foreign": true, "multiple": true,
	"clears": true, "unintelligible": true, "indistinct": true,
}

// nameParticles may start a word of a name in lower case.
var nameParticles = map[string]bool{
	"de": true, "da": true, "di": true, "du": true, "del": true, "della": true, "der": true,
	"den": true, "van": true, "von": true, "la": true, "le": true, "bin": true, "al": true,
	"el": true, "y": true, "e": true, "dos": true, "das": true, "do": true, "ter": true, "ten": true, "zu": true,
}

// Words that make a label read as the start of a sentence rather than a
// name: "One more thing:", "The point is:", "What we need:", "Quick
// Question:". They are general English: function words (articles,
// pronouns, auxiliaries, conjunctions, prepositions) and the few nouns and
// adverbs that open a sentence before a colon. Words that are also common
// given names (Will, May, Can, Mark, Grace, An, Do) are left out of the
// lists used on capitalised words.
var (
	// phraseWords are never part of a name in lower case, and two or more
	// of them make a capitalised label a phrase ("One More Thing").
	phraseWords = wordSet(`the a this that these those some any every each all both either neither
		such another other others same more most less least much many few lot lots enough
		me my mine we us our ours you your yours he him his she her hers it its they them their theirs
		myself yourself ourselves themselves itself everyone everybody someone somebody anyone anybody
		nobody everything something anything nothing
		am is are was were be been being does did done doing has have had having get got gets
		would could should shall might must need needs
		i'm i've i'll i'd we're we've we'll we'd you're you've you'll it's that's there's here's
		what's let's don't doesn't didn't can't won't isn't aren't wasn't weren't haven't hasn't
		shouldn't wouldn't couldn't he's she's they're
		what which who whom whose why how where when whatever
		and or but nor because unless although though while whereas then than also just only even
		still really actually basically maybe perhaps not never always already very too here there
		now today tomorrow yesterday
		to in on for with about into onto over under after before between through during without
		within against as by like
		said says think mean means guess wonder`)
	// phraseOpeners cannot start a multi-word capitalised name ("The Plan",
	// "What We Need", "Here's Why").
	phraseOpeners = wordSet(`the this that these those what why how which where whatever and but or if
		because we you they it its my our your their his here there some every each all another such
		more most let's it's that's there's here's what's i'm we're you're i'll we'll i'd i've we've
		just also`)
	// phraseNouns cannot end a multi-word name ("Quick Question", "One
	// Thing", "Fun Fact", "Good Point").
	phraseNouns = wordSet(`thing things point points question questions idea ideas reason reasons fact
		facts problem problems issue issues part bit catch trick takeaway takeaways upshot gist
		answer concern concerns recap`)
	// phraseSolos are single words that are never a speaker's name.
	phraseSolos = wordSet(`the this that these those what why how which where whatever here there it we
		they you everyone everybody someone something everything nothing anything thing things point
		idea reason fact problem issue actually honestly seriously obviously clearly personally
		frankly meanwhile otherwise instead besides additionally unfortunately fortunately hopefully
		ideally similarly importantly specifically overall alternatively`)
)

// wordSet makes a set of the whitespace-separated words of s.
func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// isPhrase reports whether a label's words read as the opening of a
// sentence rather than a name: a lower-case function word or sentence noun
// ("one more thing", "the plan"); a capitalised label opened by a
// determiner, pronoun or wh-word ("The Plan", "What We Need"), ended by a
// sentence noun ("Quick Question"), made of two or more function words
// ("One More Thing"), or a single word that is never a name ("This",
// "Honestly"). Single letters are initials and are not judged.
func isPhrase(words []string) bool {
	counted := 0
	for i, w := range words {
		lw := strings.ToLower(strings.ReplaceAll(w, "’", "'"))
		if utf8.RuneCountInString(lw) < 2 || nameParticles[lw] {
			continue
		}
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(r) {
			if phraseWords[lw] || phraseNouns[lw] || phraseSolos[lw] || phraseOpeners[lw] {
				return true
			}
			continue
		}
		switch {
		case len(words) == 1:
			return phraseSolos[lw]
		case i == 0 && phraseOpeners[lw]:
			return true
		case i == len(words)-1 && phraseNouns[lw]:
			return true
		}
		if phraseWords[lw] && lw != "an" && lw != "do" {
			counted++
		}
	}
	return counted >= 2
}

// nameAbbrevs may end with a '.' inside a name ("Dr. Ana Silva").
var nameAbbrevs = map[string]bool{
	"dr": true, "mr": true, "mrs": true, "ms": true, "mx": true, "jr": true, "sr": true,
	"st": true, "prof": true, "rev": true,
}

// isName reports whether s (already trimmed) looks like a speaker name: at
// most 80 bytes and 5 words, starting with a letter, made of letters,
// digits, spaces and name punctuation (' - . _ @ & ( )), with no sentence
// punctuation, not a known label word, and (unless mode is recurring) not
// a phrase (isPhrase: "One more thing"). In strict mode each word must also
// be capitalised (or a particle such as "van"). A name in known is always
// accepted.
func isName(s string, mode nameMode, known speakers) bool {
	if s == "" || len(s) > 80 {
		return false
	}
	if known[s] {
		return true
	}
	if mode == knownOnly {
		return false
	}
	r0, _ := utf8.DecodeRuneInString(s)
	if !unicode.IsLetter(r0) {
		return false
	}
	words := strings.Fields(s)
	if len(words) > 5 {
		return false
	}
	for i, w := range words {
		for j, r := range w {
			switch {
			case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r):
			case r == '\'', r == '’', r == '-', r == '_', r == '@', r == '&', r == '(', r == ')':
			case r == '.':
				if j == len(w)-1 {
					// A word-final '.' is an initial or an abbreviation,
					// never the end of the name (that is a sentence).
					base := w[:j]
					if i == len(words)-1 || !(utf8.RuneCountInString(base) == 1 || nameAbbrevs[strings.ToLower(base)]) {
						return false
					}
				}
			default:
				return false
			}
		}
	}
	lower := strings.ToLower(s)
	if stopNames[lower] || stopNames[strings.TrimRight(lower, ".")] {
		return false
	}
	if len(words) > 1 && stopFirstWords[strings.ToLower(words[0])] {
		return false
	}
	if mode != recurring && isPhrase(words) {
		return false
	}
	if mode == strict {
		for _, w := range words {
			r, _ := utf8.DecodeRuneInString(w)
			if unicode.IsLower(r) && !nameParticles[strings.ToLower(w)] {
				return false
			}
		}
	}
	return true
}

// labelColon returns the index of the colon that ends a "Name: text" label:
// the first ':' followed by whitespace or the end of the line, within the
// first 100 bytes. It returns -1 when there is none.
func labelColon(line string) int {
	limit := min(len(line), 100)
	for i := 0; i < limit; i++ {
		if line[i] == ':' && (i+1 == len(line) || line[i+1] == ' ' || line[i+1] == '\t') {
			return i
		}
	}
	return -1
}

// labelCandidates returns what cueLabel would check as a name on line:
// the text of a leading "[…]" and the text before the label colon.
func labelCandidates(line string) []string {
	var out []string
	l := strings.TrimLeft(line, " \t")
	if strings.HasPrefix(l, "[") {
		if j := strings.IndexByte(l, ']'); j > 1 && j < 82 {
			out = append(out, strings.TrimSpace(l[1:j]))
		}
	}
	if i := labelColon(l); i > 0 {
		out = append(out, strings.TrimSpace(l[:i]))
	}
	return out
}

// cueLabel splits a subtitle cue line into a speaker label and the rest:
// "Dana Lee: text", "[Dana Lee] text" or "[Dana Lee]: text". It returns the
// clean name and ok when the label passes isName in mode.
func cueLabel(line string, mode nameMode, known speakers) (name, rest string, ok bool) {
	l := strings.TrimLeft(line, " \t")
	if strings.HasPrefix(l, "[") {
		if j := strings.IndexByte(l, ']'); j > 1 && j < 82 {
			cand := strings.TrimSpace(l[1:j])
			if !isClock(cand) && isName(cand, mode, known) {
				rest = strings.TrimLeft(l[j+1:], " \t")
				rest = strings.TrimLeft(strings.TrimPrefix(rest, ":"), " \t")
				return cand, rest, true
			}
		}
	}
	if i := labelColon(l); i > 0 {
		cand := strings.TrimSpace(l[:i])
		if isName(cand, mode, known) {
			return cand, strings.TrimLeft(l[i+1:], " \t"), true
		}
	}
	return "", line, false
}
