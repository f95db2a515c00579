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
	"el": true, "y": true, "e": true, "dos": true, "das": true, "ter": true, "ten": true, "zu": true,
}

// nameAbbrevs may end with a '.' inside a name ("Dr. Ana Silva").
var nameAbbrevs = map[string]bool{
	"dr": true, "mr": true, "mrs": true, "ms": true, "mx": true, "jr": true, "sr": true,
	"st": true, "prof": true, "rev": true,
}

// isName reports whether s (already trimmed) looks like a speaker name: at
// most 80 bytes and 5 words, starting with a letter, made of letters,
// digits, spaces and name punctuation (' - . _ @ & ( )), with no sentence
// punctuation, and not a known label word. In strict mode each word must
// also be capitalised (or a particle such as "van"). A name in known is
// always accepted.
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
