package speech

import (
	"strings"
	"unicode/utf8"
)

// Spoken text is full of disfluencies: fillers ("uh", "um"), repeated
// words ("you could you could have"), false starts cut off after a letter
// or two ("y you'll", "s so") and transcription markers ("{vocalsound}").
// The rules read a sentence without them, so a stutter never reads as a
// cue ("you could you could have" is not "could you"), and summaries are
// written without them. Quotes stay verbatim: only the word list changes,
// each word keeping its place in the text.

// spokenFillers are words that carry nothing in speech.
var spokenFillers = WordSet(`uh um uhm umm erm er ah hmm mm mmm mhm hm`)

// shortWords are real words of one or two letters, never false starts.
var shortWords = WordSet(`a i an am as at be by do go he if in is it me my no of on or so to up us we ok oh tv ad pc uk us`)

// Fluent drops fillers, transcription markers ("{vocalsound}"), false
// starts (a one- or two-letter fragment the next word begins with) and
// immediate repeats of one to three words from ws, a sentence's words in
// text.
func Fluent(text string, ws []Word) []Word {
	out := ws[:0:0]
	for k, w := range ws {
		if spokenFillers[w.W] || marker(text, w) {
			continue
		}
		if !shortWords[w.W] && utf8.RuneCountInString(w.W) <= 2 && fragmentOf(w.W, ws[k+1:min(k+3, len(ws))]) {
			continue
		}
		out = append(out, w)
	}
	// "you need to you you need to": dropping one repeat can make another
	for changed, round := true, 0; changed && round < 3; round++ {
		changed = false
		for n := 3; n >= 1; n-- {
			for i := 0; i+2*n <= len(out); {
				if sameWords(out[i:i+n], out[i+n:i+2*n]) {
					out = append(out[:i], out[i+n:]...)
					changed = true
					continue
				}
				i++
			}
		}
	}
	return out
}

// fragmentOf reports whether f is the start of one of the next words, a
// false start ("y you'll", "you n you need").
func fragmentOf(f string, next []Word) bool {
	for _, w := range next {
		if len(w.W) > len(f) && strings.HasPrefix(w.W, f) {
			return true
		}
	}
	return false
}

// marker reports whether w is written in braces ("{vocalsound}").
func marker(text string, w Word) bool {
	return w.Start > 0 && text[w.Start-1] == '{' && w.End < len(text) && text[w.End] == '}'
}

func sameWords(a, b []Word) bool {
	for i := range a {
		if a[i].W != b[i].W {
			return false
		}
	}
	return true
}

// FluentText is the words of ws as one line, with the text's commas and
// sentence punctuation between them kept (a space before it dropped) and
// every other gap a single space.
func FluentText(text string, ws []Word) string {
	var b strings.Builder
	for k, w := range ws {
		if k > 0 {
			g := text[ws[k-1].End:w.Start]
			if p := strings.IndexAny(g, ",;:"); p >= 0 && !strings.Contains(g, "{") {
				b.WriteByte(g[p])
			}
			b.WriteByte(' ')
		}
		b.WriteString(text[w.Start:w.End])
	}
	return b.String()
}
