package quality

import (
	"sort"
	"strings"
	"unicode"
)

// Summary baselines: what a summary must beat to be worth more than
// copying the transcript. Both work on a turn's words: its content with
// QMSum's {markers} removed, split on whitespace; a word is a field holding
// a letter or digit, and the punctuation fields between words (the QMSum
// transcripts space them out: "Okay . So ,") are kept but not counted.
// Turns are joined by newlines, so ROUGE-Lsum sees each turn as at least
// one sentence.

// LeadBaseline is the first words of the meeting: its turns in order,
// cut after the given number of words.
func LeadBaseline(m Meeting, words int) string {
	var out []string
	left := words
	for _, t := range m.Turns {
		if left <= 0 {
			break
		}
		f, n := turnWords(t.Content, left)
		if n == 0 {
			continue
		}
		out = append(out, strings.Join(f, " "))
		left -= n
	}
	return strings.Join(out, "\n")
}

// LongestTurnsBaseline is the meeting's longest turns, printed in meeting
// order, up to the given number of words: turns are taken longest first
// (on equal length the earlier first) while they fit whole in what is left
// of the budget; the first that does not fit is cut to what is left, and
// the selection stops there. So the result has exactly min(words, the
// meeting's words) words, like LeadBaseline, and ROUGE compares them at
// the same length.
func LongestTurnsBaseline(m Meeting, words int) string {
	lens := make([]int, len(m.Turns))
	order := make([]int, len(m.Turns))
	for i, t := range m.Turns {
		_, lens[i] = turnWords(t.Content, -1)
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return lens[order[a]] > lens[order[b]] })
	take := map[int]int{} // turn position → words taken from it
	left := words
	for _, i := range order {
		if left <= 0 || lens[i] == 0 {
			break
		}
		if lens[i] <= left {
			take[i] = lens[i]
			left -= lens[i]
			continue
		}
		take[i] = left
		break
	}
	var out []string
	for i, t := range m.Turns {
		if n, ok := take[i]; ok {
			f, _ := turnWords(t.Content, n)
			out = append(out, strings.Join(f, " "))
		}
	}
	return strings.Join(out, "\n")
}

// turnWords returns a turn's fields (markers removed) up to and including
// its limit-th word (limit < 0: all of them), and the number of words.
func turnWords(content string, limit int) ([]string, int) {
	var out []string
	n := 0
	for _, f := range strings.Fields(qmsumMarker.ReplaceAllString(content, " ")) {
		if !strings.ContainsFunc(f, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
			if n > 0 { // punctuation before the first word is dropped
				out = append(out, f)
			}
			continue
		}
		if limit >= 0 && n == limit {
			break
		}
		out = append(out, f)
		n++
	}
	return out, n
}
