// Package datephrase finds date phrases in English text ("by Friday",
// "end of the month", "March 10th", "in two weeks", "3/10", "end of Q3")
// and resolves them to calendar dates relative to a reference date, usually
// the day a meeting took place.
//
// It is deterministic and pure: the same text and reference date always give
// the same matches, and nothing reads the clock. Matching is
// case-insensitive and respects word boundaries, so "Monday.com" is not a
// Monday and "may" is only the month when a day number goes with it.
package datephrase

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Match is one date phrase found in a text.
type Match struct {
	// Phrase is the text as written, including a leading preposition
	// ("by Friday", "on the 15th").
	Phrase string
	// Start and End are the phrase's byte offsets in the text
	// (text[Start:End] == Phrase).
	Start, End int
	// Date is the calendar date the phrase means, at midnight UTC.
	Date time.Time
}

// Find returns every date phrase in text, in order and without overlaps,
// resolved against ref (whose calendar date, in ref's own location, is the
// reference day).
//
// Weekdays ("Friday", "on Friday", "this Friday") mean the next such day
// after ref; "next Friday" is that weekday in the week after ref's week
// (weeks start on Monday). "next week" is the Monday of the following week,
// "end of the week" (or "EOW") the Friday of ref's week (the next Friday
// when ref is a weekend day), "end of the month" its last day, "end of Q3"
// or "by Q3" the last day of that quarter. A month and day without a year
// ("March 10", "10 March", "3/10") is the next such date on or after ref,
// unless it lies at most about two months in the past, when it is taken as
// that recent date. "the 15th" is the next 15th on or after ref.
func Find(text string, ref time.Time) []Match {
	y, m, d := ref.Date()
	p := parser{text: text, toks: tokenize(text), ref: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
	var out []Match
	for i := 0; i < len(p.toks); {
		end, date, ok := p.match(i)
		if !ok {
			i++
			continue
		}
		s, e := p.toks[i].start, p.toks[end-1].end
		out = append(out, Match{Phrase: text[s:e], Start: s, End: e, Date: date})
		i = end
	}
	return out
}

// Resolve returns the date of the first date phrase in phrase, resolved
// against ref, and whether there was one.
func Resolve(phrase string, ref time.Time) (time.Time, bool) {
	ms := Find(phrase, ref)
	if len(ms) == 0 {
		return time.Time{}, false
	}
	return ms[0].Date, true
}

type token struct {
	s          string // lower case
	start, end int
	free       bool // not glued into a URL, e-mail, identifier, time or amount
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// tokenize splits text into runs of letters and digits. A run of digits
// followed by '/' or '-' and a digit continues through the date-like run
// ("3/10", "2026-03-10").
func tokenize(text string) []token {
	var toks []token
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !isWordRune(r) {
			i += n
			continue
		}
		start := i
		for i < len(text) {
			r, n := utf8.DecodeRuneInString(text[i:])
			if !isWordRune(r) {
				break
			}
			i += n
		}
		if isDigits(text[start:i]) && i+1 < len(text) && (text[i] == '/' || text[i] == '-') && text[i+1] >= '0' && text[i+1] <= '9' {
			for i < len(text) && (text[i] == '/' || text[i] == '-' || (text[i] >= '0' && text[i] <= '9')) {
				i++
			}
			for i > start && (text[i-1] == '/' || text[i-1] == '-') {
				i--
			}
		}
		toks = append(toks, token{s: strings.ToLower(text[start:i]), start: start, end: i, free: free(text, start, i)})
	}
	return toks
}

// free reports whether text[start:end] stands on its own as a word.
func free(text string, start, end int) bool {
	if start > 0 {
		prev, _ := utf8.DecodeLastRuneInString(text[:start])
		switch prev {
		case '@', '_', '#', '$', '€', '£', ':', '/', '\\':
			return false
		case '.':
			if start > 1 {
				pp, _ := utf8.DecodeLastRuneInString(text[:start-1])
				if isWordRune(pp) {
					return false
				}
			}
		}
	}
	if end < len(text) {
		next, n := utf8.DecodeRuneInString(text[end:])
		switch next {
		case '@', '_', '%', ':', '/', '\\':
			return false
		case '.', ',':
			if end+n < len(text) {
				nn, _ := utf8.DecodeRuneInString(text[end+n:])
				if isWordRune(nn) {
					return false
				}
			}
		}
	}
	return true
}
