package local

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
var spokenFillers = wordSet(`uh um uhm umm erm er ah hmm mm mmm mhm hm`)

// shortWords are real words of one or two letters, never false starts.
var shortWords = wordSet(`a i an am as at be by do go he if in is it me my no of on or so to up us we ok oh tv ad pc uk us`)

// fluent drops fillers, transcription markers ("{vocalsound}"), false
// starts (a one- or two-letter fragment the next word begins with) and
// immediate repeats of one to three words from ws, a sentence's words in
// text.
func fluent(text string, ws []word) []word {
	out := ws[:0:0]
	for k, w := range ws {
		if spokenFillers[w.w] || marker(text, w) {
			continue
		}
		if !shortWords[w.w] && utf8.RuneCountInString(w.w) <= 2 && fragmentOf(w.w, ws[k+1:min(k+3, len(ws))]) {
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
func fragmentOf(f string, next []word) bool {
	for _, w := range next {
		if len(w.w) > len(f) && strings.HasPrefix(w.w, f) {
			return true
		}
	}
	return false
}

// marker reports whether w is written in braces ("{vocalsound}").
func marker(text string, w word) bool {
	return w.start > 0 && text[w.start-1] == '{' && w.end < len(text) && text[w.end] == '}'
}

func sameWords(a, b []word) bool {
	for i := range a {
		if a[i].w != b[i].w {
			return false
		}
	}
	return true
}

// fluentText is the words of ws as one line, with the text's commas and
// sentence punctuation between them kept (a space before it dropped) and
// every other gap a single space.
func fluentText(text string, ws []word) string {
	var b strings.Builder
	for k, w := range ws {
		if k > 0 {
			g := text[ws[k-1].end:w.start]
			if p := strings.IndexAny(g, ",;:"); p >= 0 && !strings.Contains(g, "{") {
				b.WriteByte(g[p])
			}
			b.WriteByte(' ')
		}
		b.WriteString(text[w.start:w.end])
	}
	return b.String()
}
