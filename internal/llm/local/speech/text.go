// Package speech reads transcribed speech for the local provider: it
// splits text into sentences and words (each word keeping its byte range,
// so a quote stays verbatim), reads a sentence without its disfluencies
// (fillers, repeats, false starts, transcription markers) and matches word
// phrases. It is deterministic and holds no state.
package speech

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Span is a byte range [start, end) of a text.
type Span struct{ Start, End int }

// abbreviations end with a period that does not end a sentence.
var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "sr": true, "jr": true, "st": true,
	"vs": true, "etc": true, "inc": true, "ltd": true, "co": true, "corp": true, "approx": true,
	"e.g": true, "i.e": true, "eg": true, "ie": true, "no": true, "dept": true, "est": true,
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true, "aug": true,
	"sep": true, "sept": true, "oct": true, "nov": true, "dec": true,
}

// Sentences splits text into sentences: at '.', '!', '?' (and runs of
// them, with closing quotes or brackets) followed by white space or the
// end, and at line breaks, except before a line opening in lower case (a
// caption line wrapped mid-sentence). A period after a known abbreviation or a single
// letter does not end a sentence. Each span is trimmed of white space and is
// never empty.
func Sentences(text string) []Span {
	var out []Span
	start := 0
	emit := func(end int) {
		s, e := start, end
		for s < e {
			r, n := utf8.DecodeRuneInString(text[s:])
			if !unicode.IsSpace(r) {
				break
			}
			s += n
		}
		for e > s {
			r, n := utf8.DecodeLastRuneInString(text[:e])
			if !unicode.IsSpace(r) {
				break
			}
			e -= n
		}
		if e > s {
			out = append(out, Span{s, e})
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c == '\n' || c == '\r' {
			i++
			if !wrapped(text, i) {
				emit(i - 1)
				start = i
			}
			continue
		}
		if c != '.' && c != '!' && c != '?' {
			_, n := utf8.DecodeRuneInString(text[i:])
			i += n
			continue
		}
		j := i
		for j < len(text) && (text[j] == '.' || text[j] == '!' || text[j] == '?') {
			j++
		}
		// closing quotes and brackets belong to the sentence
		for j < len(text) {
			r, n := utf8.DecodeRuneInString(text[j:])
			if r != '"' && r != '\'' && r != ')' && r != '\u201d' && r != '\u2019' && r != ']' {
				break
			}
			j += n
		}
		atEnd := j >= len(text)
		if !atEnd {
			r, _ := utf8.DecodeRuneInString(text[j:])
			if !unicode.IsSpace(r) {
				i = j
				continue
			}
		}
		if c == '.' && j == i+1 && !atEnd && abbreviated(text[start:i]) {
			i = j
			continue
		}
		emit(j)
		i = j
		start = j
	}
	emit(len(text))
	return out
}

// wrapped reports whether the line starting at i continues the sentence
// of the line before, as a caption line wrapped mid-sentence does: it
// opens with a lower-case letter.
func wrapped(text string, i int) bool {
	for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return i < len(text) && unicode.IsLower(r)
}

// abbreviated reports whether before ends with an abbreviation or a single
// letter (an initial).
func abbreviated(before string) bool {
	k := len(before)
	for k > 0 {
		r, n := utf8.DecodeLastRuneInString(before[:k])
		if !unicode.IsLetter(r) && r != '.' {
			break
		}
		k -= n
	}
	w := strings.ToLower(strings.TrimLeft(before[k:], "."))
	if w == "" {
		return false
	}
	if utf8.RuneCountInString(w) == 1 {
		return true
	}
	return abbreviations[w]
}

// Word is one word of a sentence: lower case, curly apostrophes made
// straight, with its byte range in the original text.
type Word struct {
	W          string
	Start, End int
	Upper      bool // starts with an upper-case letter
}

// WordsOf splits text[s.Start:s.End] into words of letters, digits and
// inner apostrophes ("I'll", "can't"), with offsets into text.
func WordsOf(text string, s Span) []Word {
	var out []Word
	i := s.Start
	for i < s.End {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			i += n
			continue
		}
		st := i
		up := unicode.IsUpper(r)
		plain := true // ASCII lower case and digits, straight apostrophes
		for i < s.End {
			r, n := utf8.DecodeRuneInString(text[i:])
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r):
				if r >= utf8.RuneSelf || ('A' <= r && r <= 'Z') {
					plain = false
				}
				i += n
				continue
			case r == '\'' || r == '\u2019':
				if i+n < s.End {
					nr, _ := utf8.DecodeRuneInString(text[i+n:])
					if unicode.IsLetter(nr) {
						if r != '\'' {
							plain = false
						}
						i += n
						continue
					}
				}
			}
			break
		}
		w := text[st:i]
		if !plain {
			w = strings.Map(func(r rune) rune {
				if r == '\u2019' {
					return '\''
				}
				return unicode.ToLower(r)
			}, w)
		}
		out = append(out, Word{W: w, Start: st, End: i, Upper: up})
	}
	return out
}

// Gap is the text between words k-1 and k.
func Gap(text string, ws []Word, k int) string {
	if k <= 0 || k >= len(ws) {
		return ""
	}
	return text[ws[k-1].End:ws[k].Start]
}

// fillers are words trimmed from the front of a sentence used as a claim's
// text.
var fillers = map[string]bool{
	"so": true, "yeah": true, "yes": true, "okay": true, "ok": true, "um": true, "uh": true,
	"well": true, "and": true, "right": true, "alright": true, "oh": true, "also": true,
	"anyway": true, "now": true, "basically": true, "honestly": true, "look": true, "like": true,
	"but": true, "then": true, "sure": true, "great": true, "perfect": true, "hmm": true, "mm": true,
	"totally": true, "absolutely": true, "yep": true, "cool": true, "got": true,
}

// CleanSentence trims leading fillers ("So, yeah, …") and returns the rest
// with its first letter upper-cased, for a claim's text.
func CleanSentence(text string, s Span) string {
	ws := WordsOf(text, s)
	start := s.Start
	for k := 0; k < len(ws)-3; k++ {
		if !fillers[ws[k].W] {
			break
		}
		if ws[k].W == "got" { // "got it, …"
			if k+1 < len(ws) && ws[k+1].W == "it" {
				start = ws[k+2].Start
				k++
				continue
			}
			break
		}
		start = ws[k+1].Start
	}
	out := strings.TrimSpace(text[start:s.End])
	out = strings.TrimLeft(out, ",;:-–— ")
	return UpperFirst(out)
}

// UpperFirst returns s with its first letter upper-cased.
func UpperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// Seq reports whether ws[k:] starts with the words of phrase.
func Seq(ws []Word, k int, phrase ...string) bool {
	if k+len(phrase) > len(ws) {
		return false
	}
	for i, p := range phrase {
		if ws[k+i].W != p {
			return false
		}
	}
	return true
}

// PhraseSet is a list of word phrases indexed by their first word, so a
// sentence is scanned once whatever the number of phrases.
type PhraseSet map[string][][]string

// NewPhraseSet indexes phrases (each words separated by spaces) by their
// first word.
func NewPhraseSet(phrases ...string) PhraseSet {
	ps := PhraseSet{}
	for _, p := range phrases {
		f := strings.Fields(p)
		ps[f[0]] = append(ps[f[0]], f)
	}
	return ps
}

// Find calls fn for every phrase of the set in ws[from:to], in order,
// until fn returns true; it reports whether one did. A nil fn accepts the
// first phrase found.
func (ps PhraseSet) Find(ws []Word, from, to int, fn func(k int, p []string) bool) bool {
	to = min(to, len(ws))
	for k := max(from, 0); k < to; k++ {
		for _, p := range ps[ws[k].W] {
			if k+len(p) <= to && Seq(ws, k, p...) && (fn == nil || fn(k, p)) {
				return true
			}
		}
	}
	return false
}

// Has reports whether ws holds a phrase of the set.
func (ps PhraseSet) Has(ws []Word) bool { return ps.Find(ws, 0, len(ws), nil) }

// HasPrefixWord reports whether some word of ws[from:to] starts with one of
// stems.
func HasPrefixWord(ws []Word, from, to int, stems ...string) bool {
	to = min(to, len(ws))
	for k := max(from, 0); k < to; k++ {
		for _, s := range stems {
			if strings.HasPrefix(ws[k].W, s) {
				return true
			}
		}
	}
	return false
}

// WordSet is the set of the white-space separated words of s.
func WordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// Filler reports whether w (lower case) is a word trimmed from the front of
// a sentence used as a claim's text ("so", "yeah", "okay", …).
func Filler(w string) bool { return fillers[w] }

// Injection reports whether a sentence reads like an instruction to a
// language model ("ignore all previous instructions…"). A transcript is
// data: such a sentence is never made a claim.
func Injection(ws []Word) bool {
	for k, w := range ws {
		switch w.W {
		case "ignore", "disregard", "forget", "override":
			for j := k + 1; j < len(ws) && j <= k+5; j++ {
				switch ws[j].W {
				case "instructions", "instruction", "prompt", "prompts", "rules", "previous", "prior", "above", "guidelines":
					return true
				}
			}
		case "system":
			if k+1 < len(ws) && (ws[k+1].W == "prompt" || ws[k+1].W == "message") {
				return true
			}
		case "jailbreak":
			return true
		}
	}
	return injectionPhrases.Has(ws)
}

var injectionPhrases = NewPhraseSet("you are now", "as an ai", "new instructions", "developer mode", "language model")
