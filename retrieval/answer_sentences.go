package retrieval

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// sentenceKeeper applies the sentence rules of a validated answer to the
// answer's sentences (as answerSentences splits them), one at a time: a sentence
// keeps only its references to valid sources, and goes when it cites no
// valid source; references that open a sentence ("… on track. [1] The
// next …", or a last sentence "… on track. [1]") belong to the sentence
// before it. validate and answerStream both use it, so a streamed answer
// and a validated one cannot differ.
type sentenceKeeper struct {
	// valid holds the source numbers cited validly.
	valid map[int]bool
	// pending is the last sentence pushed, with the references that
	// opened the sentences after it; has says whether there is one.
	pending string
	has     bool
	// leadTaken says the references opening the next sentence pushed are
	// in pending already (settleBefore took them).
	leadTaken bool
}

// push adds the next sentence. It returns the sentence before it in its
// kept form, with ok true, when that sentence is now complete and kept.
func (k *sentenceKeeper) push(sent string) (kept string, ok bool) {
	lead, rest := leadingMarkers(sent)
	if k.leadTaken {
		sent, k.leadTaken = rest, false
	} else if k.has && lead != "" {
		k.pending += " " + lead
		sent = rest
	}
	if k.has && strings.TrimSpace(sent) == "" {
		return "", false
	}
	prev, had := k.pending, k.has
	k.pending, k.has = sent, true
	if !had {
		return "", false
	}
	return keepSentence(prev, k.valid)
}

// settle ends the pending sentence: the next one, if any, is known not to
// be references only. It returns the sentence in its kept form, with ok
// true, when it is kept.
func (k *sentenceKeeper) settle() (kept string, ok bool) {
	if !k.has {
		return "", false
	}
	k.has = false
	return keepSentence(k.pending, k.valid)
}

// settleBefore ends the pending sentence while next, the sentence after
// it, is still being written but already holds more than references: the
// references that open next are final, so they join the pending sentence
// now, and push will not take them again.
func (k *sentenceKeeper) settleBefore(next string) (kept string, ok bool) {
	if !k.has {
		return "", false
	}
	if lead, _ := leadingMarkers(next); lead != "" {
		k.pending += " " + lead
	}
	k.leadTaken = true
	return k.settle()
}

// maxQuotation is the most bytes a quotation in an answer can run
// before the sentence ends in it split the answer's sentences again: past
// it, a quotation mark is taken to be a stray one.
const maxQuotation = 600

// answerSentences splits an answer into sentences as Sentences does, except
// inside a quotation: "Maya said: \"We ship in April. It is on track.\" [1]"
// is one sentence, whose reference backs the whole quotation. A straight
// quotation mark opens a quotation after white space, an opening bracket
// or at the start, and otherwise closes one; a curly one says which it is.
// A line break, or maxQuotation bytes, ends a quotation left open. Like
// Sentences, it splits a text's prefix where it splits the whole text,
// except that the prefix's last sentence may grow (TestSentencesArePrefixStable).
func answerSentences(text string) []string {
	var out []string
	start, open := 0, -1 // open: where the open quotation began (-1: none)
	quote := func(i int, r rune) {
		switch {
		case r == '\u201c' || (r == '"' && open < 0 && (i == 0 || strings.IndexByte(" \t\n([", text[i-1]) >= 0)):
			open = i
		case r == '\u201d' || r == '"':
			open = -1
		}
	}
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if r == '\n' {
			open = -1
		}
		if r != '.' && r != '!' && r != '?' {
			quote(i, r)
			i += n
			continue
		}
		j := i + 1
		for j < len(text) {
			r, n := utf8.DecodeRuneInString(text[j:])
			if r != '"' && r != '\'' && r != ')' && r != ']' && r != '\u201d' {
				break
			}
			if r == '"' || r == '\u201d' {
				open = -1 // a mark after a sentence's end closes
			}
			j += n
		}
		if open >= 0 && i-open > maxQuotation {
			open = -1
		}
		if open < 0 && j < len(text) && (text[j] == ' ' || text[j] == '\n' || text[j] == '\t') {
			if s := strings.TrimSpace(text[start:j]); s != "" {
				out = append(out, s)
			}
			start = j
		}
		i = j
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// leadingRefs matches the source references that open a sentence.
var leadingRefs = regexp.MustCompile(`^\s*(?:\[\d+(?:\s*,\s*\d+)*\]\s*)+`)

// leadingMarkers splits sent into the references that open it and the
// rest.
func leadingMarkers(sent string) (lead, rest string) {
	n := len(leadingRefs.FindString(sent))
	return strings.TrimSpace(sent[:n]), sent[n:]
}

// keepSentence returns sent with its references to sources not in valid
// removed and its spacing tidied, and whether it still cites a valid
// source (if not, it is not on record and goes).
func keepSentence(sent string, valid map[int]bool) (string, bool) {
	cited := false
	sent = marker.ReplaceAllStringFunc(sent, func(m string) string {
		var keep []string
		for _, n := range strings.Split(m[1:len(m)-1], ",") {
			k, err := strconv.Atoi(strings.TrimSpace(n))
			if err == nil && valid[k] {
				keep = append(keep, strconv.Itoa(k))
			}
		}
		if len(keep) == 0 {
			return ""
		}
		cited = true
		return "[" + strings.Join(keep, ", ") + "]"
	})
	if !cited {
		return "", false
	}
	sent = strings.Join(strings.Fields(sent), " ")
	return strings.ReplaceAll(sent, " .", "."), true
}

// findQuote finds quote in text, ignoring case, punctuation and spacing
// differences (models tidy quotes), and returns where it starts in text and
// the passage of text it matches, with the punctuation that ends the quote
// when the text has the same there; -1 when it is not there. A quote of fewer
// than two words is not evidence of anything.
func findQuote(text, quote string) (int, string) {
	qw := normWords(quote)
	if len(qw) < 2 {
		return -1, ""
	}
	tw, spans := normWordSpans(text)
	for i := 0; i+len(qw) <= len(tw); i++ {
		if slices.Equal(tw[i:i+len(qw)], qw) {
			start, end := spans[i][0], spans[i+len(qw)-1][1]
			// The punctuation that ends the quote, when the text has it
			// there too ("… in June." or "… in June ?").
			tail := quote[strings.LastIndexFunc(quote, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })+1:]
			if tail = strings.TrimRightFunc(tail, unicode.IsSpace); tail != "" && strings.HasPrefix(text[end:], tail) {
				end += len(tail)
			}
			return start, text[start:end]
		}
	}
	return -1, ""
}

func normWords(s string) []string {
	ws, _ := normWordSpans(s)
	return ws
}

// normWordSpans returns s's lower-cased words (letters and digits; an
// apostrophe inside a word is kept out) and each word's byte span.
func normWordSpans(s string) ([]string, [][2]int) {
	var ws []string
	var spans [][2]int
	start := -1
	var b strings.Builder
	flush := func(end int) {
		if start >= 0 {
			ws = append(ws, b.String())
			spans = append(spans, [2]int{start, end})
			b.Reset()
			start = -1
		}
	}
	for i, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if start < 0 {
				start = i
			}
			b.WriteRune(unicode.ToLower(r))
		case (r == '\'' || r == '’') && start >= 0:
			// "don't" and "don’t" are one word either way
		default:
			flush(i)
		}
	}
	flush(len(s))
	return ws, spans
}
