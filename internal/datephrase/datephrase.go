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
	"strconv"
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

type parser struct {
	text string
	toks []token
	ref  time.Time
}

// at reports whether token i exists, is a free word and is one of words.
func (p *parser) at(i int, words ...string) bool {
	if i < 0 || i >= len(p.toks) || !p.toks[i].free {
		return false
	}
	for _, w := range words {
		if p.toks[i].s == w {
			return true
		}
	}
	return false
}

// joined reports whether token i follows token i-1 with only blanks or
// hyphens between them (and, when allowed, one comma or one period).
func (p *parser) joined(i int, comma, period bool) bool {
	if i <= 0 || i >= len(p.toks) || !p.toks[i].free {
		return false
	}
	gap := p.text[p.toks[i-1].end:p.toks[i].start]
	if gap == "" {
		return false
	}
	for _, c := range gap {
		switch {
		case c == ' ' || c == '\t' || c == '-' || c == '\u00a0':
		case c == ',' && comma:
			comma = false
		case c == '.' && period:
			period = false
		default:
			return false
		}
	}
	return true
}

// next reports whether token i is joined to i-1 and is one of words.
func (p *parser) next(i int, words ...string) bool {
	return p.joined(i, false, false) && p.at(i, words...)
}

var prepositions = []string{"by", "on", "before", "until", "till", "til", "due", "for", "from"}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

var months = map[string]time.Month{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
	"may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
	"september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
	"december": 12, "dec": 12,
}

var counts = map[string]int{
	"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
	"seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}

var partsOfDay = []string{"morning", "afternoon", "evening", "night", "eod", "cob", "noon", "lunchtime"}

// match tries a phrase starting at token i: up to two prepositions, then a
// date. It returns the index after the phrase's last token.
func (p *parser) match(i int) (int, time.Time, bool) {
	if !p.toks[i].free {
		return 0, time.Time{}, false
	}
	j := i
	for k := 0; k < 2 && p.at(j, prepositions...) && p.joined(j+1, false, false); k++ {
		j++
	}
	if end, d, ok := p.core(j); ok {
		return end, d, true
	}
	return 0, time.Time{}, false
}

// core parses a date at token i (no preposition).
func (p *parser) core(i int) (int, time.Time, bool) {
	if i >= len(p.toks) || !p.toks[i].free {
		return 0, time.Time{}, false
	}
	t := p.toks[i].s
	ref := p.ref
	switch t {
	case "today", "tonight":
		return p.dayTail(i+1, ref)
	case "tomorrow", "tmrw", "tmr":
		return p.dayTail(i+1, ref.AddDate(0, 0, 1))
	case "eod", "cob", "eob":
		return p.eodTail(i+1, ref)
	case "eow":
		return i + 1, endOfWeek(ref), true
	case "eom":
		return i + 1, endOfMonth(ref.Year(), ref.Month()), true
	case "eoq":
		return i + 1, quarterEnd(ref.Year(), quarterOf(ref)), true
	case "eoy":
		return i + 1, time.Date(ref.Year(), 12, 31, 0, 0, 0, 0, time.UTC), true
	case "day":
		if p.next(i+1, "after") && p.next(i+2, "tomorrow") {
			return i + 3, ref.AddDate(0, 0, 2), true
		}
	case "the":
		if p.next(i+1, "day") && p.next(i+2, "after") && p.next(i+3, "tomorrow") {
			return i + 4, ref.AddDate(0, 0, 2), true
		}
		if p.next(i+1, "end") {
			return p.endOf(i + 1)
		}
		if end, d, ok := p.dayMonth(i+1, true); ok {
			return end, d, true
		}
		if p.joined(i+1, false, false) {
			if day, ord, ok := dayNumber(p.toks[i+1].s); ok && ord {
				return i + 2, nextNth(ref, day), true
			}
		}
	case "end":
		return p.endOf(i)
	case "close":
		if p.next(i+1, "of") && p.next(i+2, "business", "play") {
			return p.eodTail(i+3, ref)
		}
	case "this":
		if p.joined(i+1, false, false) {
			if wd, ok := weekdays[p.toks[i+1].s]; ok {
				return p.weekdayTail(i+2, nextWeekday(ref, wd))
			}
			if p.at(i+1, "coming") && p.joined(i+2, false, false) {
				if wd, ok := weekdays[p.toks[i+2].s]; ok {
					return p.weekdayTail(i+3, nextWeekday(ref, wd))
				}
			}
			if p.at(i+1, "morning", "afternoon", "evening") {
				return i + 2, ref, true
			}
		}
	case "coming":
		if p.joined(i+1, false, false) {
			if wd, ok := weekdays[p.toks[i+1].s]; ok {
				return p.weekdayTail(i+2, nextWeekday(ref, wd))
			}
		}
	case "next", "early":
		k := i
		if t == "early" {
			if !p.next(i+1, "next") {
				break
			}
			k = i + 1
		}
		if p.joined(k+1, false, false) {
			if wd, ok := weekdays[p.toks[k+1].s]; ok && t == "next" {
				return p.weekdayTail(k+2, mondayOf(ref).AddDate(0, 0, 7+offset(wd)))
			}
			switch p.toks[k+1].s {
			case "week":
				return k + 2, mondayOf(ref).AddDate(0, 0, 7), true
			case "month":
				return k + 2, time.Date(ref.Year(), ref.Month()+1, 1, 0, 0, 0, 0, time.UTC), true
			}
		}
	case "last":
		if p.joined(i+1, false, false) {
			if wd, ok := weekdays[p.toks[i+1].s]; ok {
				back := (int(ref.Weekday()) - int(wd) + 7) % 7
				if back == 0 {
					back = 7
				}
				return p.dayTail(i+2, ref.AddDate(0, 0, -back))
			}
		}
	case "in", "within":
		return p.relative(i+1, ref)
	}
	if wd, ok := weekdays[t]; ok {
		return p.weekdayTail(i+1, nextWeekday(ref, wd))
	}
	if q, ok := quarterToken(t); ok {
		return p.quarter(i+1, q)
	}
	if end, d, ok := p.monthDay(i); ok {
		return end, d, true
	}
	if end, d, ok := p.dayMonth(i, false); ok {
		return end, d, true
	}
	if d, ok := p.numeric(t); ok {
		return i + 1, d, true
	}
	if _, ok := counts[t]; ok || isDigits(t) {
		// "two weeks from now"
		if end, d, ok := p.count(i, ref); ok && p.next(end, "from") && p.next(end+1, "now", "today") {
			return end + 2, d, true
		}
	}
	return 0, time.Time{}, false
}

// dayTail extends a day with a part of the day ("tomorrow morning",
// "Friday EOD", "Monday end of day").
func (p *parser) dayTail(i int, d time.Time) (int, time.Time, bool) {
	if p.next(i, partsOfDay...) {
		return i + 1, d, true
	}
	if p.next(i, "end", "close") && p.next(i+1, "of") {
		if p.next(i+2, "day", "business") {
			return i + 3, d, true
		}
		if p.next(i+2, "the") && p.next(i+3, "day") {
			return i + 4, d, true
		}
	}
	return i, d, true
}

// weekdayTail is dayTail for a weekday, which may also carry its date
// ("Friday, March 13"): then the date said wins.
func (p *parser) weekdayTail(i int, d time.Time) (int, time.Time, bool) {
	if p.joined(i, true, false) {
		if end, dd, ok := p.monthDay(i); ok {
			return end, dd, true
		}
		if end, dd, ok := p.dayMonth(i, false); ok {
			return end, dd, true
		}
		if p.at(i, "the") {
			if end, dd, ok := p.dayMonth(i+1, true); ok {
				return end, dd, true
			}
			if p.joined(i+1, false, false) {
				if day, ord, ok := dayNumber(p.toks[i+1].s); ok && ord {
					return i + 2, nextNth(p.ref, day), true
				}
			}
		}
		if dd, ok := p.numeric(p.toks[i].s); ok {
			return i + 1, dd, true
		}
	}
	return p.dayTail(i, d)
}

// eodTail handles "end of day" and friends, which may name the day after
// them ("EOD Friday", "end of day tomorrow").
func (p *parser) eodTail(i int, d time.Time) (int, time.Time, bool) {
	if p.joined(i, false, false) {
		t := p.toks[i].s
		if wd, ok := weekdays[t]; ok {
			return i + 1, nextWeekday(p.ref, wd), true
		}
		switch t {
		case "tomorrow", "tmrw":
			return i + 1, p.ref.AddDate(0, 0, 1), true
		case "today":
			return i + 1, p.ref, true
		}
	}
	return i, d, true
}

// endOf parses "end of …" with token i being "end".
func (p *parser) endOf(i int) (int, time.Time, bool) {
	ref := p.ref
	fail := func() (int, time.Time, bool) { return 0, time.Time{}, false }
	if !p.next(i+1, "of") || !p.joined(i+2, false, false) {
		return fail()
	}
	k := i + 2
	which := "this"
	if p.at(k, "the", "this") && p.joined(k+1, false, false) {
		k++
	} else if p.at(k, "next") && p.joined(k+1, false, false) {
		which = "next"
		k++
	}
	switch p.toks[k].s {
	case "week":
		if which == "next" {
			return k + 1, mondayOf(ref).AddDate(0, 0, 7+4), true
		}
		return k + 1, endOfWeek(ref), true
	case "month":
		if which == "next" {
			return k + 1, endOfMonth(ref.Year(), ref.Month()+1), true
		}
		return k + 1, endOfMonth(ref.Year(), ref.Month()), true
	case "quarter":
		q := quarterOf(ref)
		y := ref.Year()
		if which == "next" {
			q++
			if q == 5 {
				q, y = 1, y+1
			}
		}
		return k + 1, quarterEnd(y, q), true
	case "year":
		y := ref.Year()
		if which == "next" {
			y++
		}
		return k + 1, time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC), true
	case "day", "business", "play":
		if which == "next" {
			return fail()
		}
		return p.eodTail(k+1, ref)
	}
	if k != i+2 {
		return fail()
	}
	if m, ok := months[p.toks[k].s]; ok {
		y := ref.Year()
		if endOfMonth(y, m).Before(ref.AddDate(0, 0, -62)) {
			y++
		}
		end := k + 1
		if p.joined(end, true, false) && isYear(p.toks[end].s) {
			y, _ = strconv.Atoi(p.toks[end].s)
			end++
		}
		return end, endOfMonth(y, m), true
	}
	if q, ok := quarterToken(p.toks[k].s); ok {
		return p.quarter(k+1, q)
	}
	return fail()
}

// quarter finishes "Q3" or "Q3 2026" (i is after the quarter token).
func (p *parser) quarter(i, q int) (int, time.Time, bool) {
	if p.joined(i, true, false) && isYear(p.toks[i].s) {
		y, _ := strconv.Atoi(p.toks[i].s)
		return i + 1, quarterEnd(y, q), true
	}
	y := p.ref.Year()
	if quarterEnd(y, q).Before(p.ref) {
		y++
	}
	return i, quarterEnd(y, q), true
}

// relative parses the "two weeks" of "in two weeks".
func (p *parser) relative(i int, ref time.Time) (int, time.Time, bool) {
	if !p.joined(i, false, false) {
		return 0, time.Time{}, false
	}
	return p.count(i, ref)
}

// count parses "<n> days|weeks|months" at token i and adds it to ref.
func (p *parser) count(i int, ref time.Time) (int, time.Time, bool) {
	fail := func() (int, time.Time, bool) { return 0, time.Time{}, false }
	if i >= len(p.toks) || !p.toks[i].free {
		return fail()
	}
	n, ok := counts[p.toks[i].s]
	k := i + 1
	if !ok {
		if p.at(i, "a") {
			n = 1
		}
		if isDigits(p.toks[i].s) && len(p.toks[i].s) <= 3 {
			n, _ = strconv.Atoi(p.toks[i].s)
			ok = true
		}
	}
	if p.at(i, "a") && p.next(i+1, "couple") {
		n, ok, k = 2, true, i+2
		if p.next(k, "of") {
			k++
		}
	}
	if !ok || !p.joined(k, false, false) {
		return fail()
	}
	switch p.toks[k].s {
	case "day", "days":
		return k + 1, ref.AddDate(0, 0, n), true
	case "week", "weeks":
		return k + 1, ref.AddDate(0, 0, 7*n), true
	case "month", "months":
		return k + 1, ref.AddDate(0, n, 0), true
	}
	return fail()
}

// monthDay parses "March 10", "Mar. 10th", "March the 10th", "March 10, 2026".
func (p *parser) monthDay(i int) (int, time.Time, bool) {
	fail := func() (int, time.Time, bool) { return 0, time.Time{}, false }
	if i >= len(p.toks) || !p.toks[i].free {
		return fail()
	}
	m, ok := months[p.toks[i].s]
	if !ok {
		return fail()
	}
	abbrev := len(p.toks[i].s) <= 4 && p.toks[i].s != "june" && p.toks[i].s != "july"
	k := i + 1
	if p.next(k, "the") {
		k++
	}
	if !p.joined(k, false, abbrev) {
		return fail()
	}
	day, _, ok := dayNumber(p.toks[k].s)
	if !ok {
		return fail()
	}
	return p.withYear(k+1, m, day)
}

// dayMonth parses "10 March", "10th of March", "10th March 2026" ("the"
// already consumed when the caller saw it; afterThe then also allows a bare
// ordinal only).
func (p *parser) dayMonth(i int, afterThe bool) (int, time.Time, bool) {
	fail := func() (int, time.Time, bool) { return 0, time.Time{}, false }
	if i >= len(p.toks) || !p.toks[i].free || (afterThe && !p.joined(i, false, false)) {
		return fail()
	}
	day, ord, ok := dayNumber(p.toks[i].s)
	if !ok {
		return fail()
	}
	k := i + 1
	of := false
	if p.next(k, "of") {
		k++
		of = true
	}
	if !p.joined(k, false, false) {
		return fail()
	}
	m, ok := months[p.toks[k].s]
	if !ok || (p.toks[k].s == "may" && !ord && !of) {
		return fail()
	}
	return p.withYear(k+1, m, day)
}

// withYear finishes a month and day with an optional year at token i.
func (p *parser) withYear(i int, m time.Month, day int) (int, time.Time, bool) {
	if p.joined(i, true, false) && isYear(p.toks[i].s) {
		y, _ := strconv.Atoi(p.toks[i].s)
		if d, ok := date(y, m, day); ok {
			return i + 1, d, true
		}
		return 0, time.Time{}, false
	}
	d, ok := p.yearless(m, day)
	return i, d, ok
}

// yearless places a month and day in the year that makes it the next
// occurrence on or after ref, keeping dates up to about two months back.
func (p *parser) yearless(m time.Month, day int) (time.Time, bool) {
	y := p.ref.Year()
	d, ok := date(y, m, day)
	if !ok && m == 2 && day == 29 {
		for y++; !ok; y++ {
			d, ok = date(y, m, day)
		}
		return d, true
	}
	if !ok {
		return time.Time{}, false
	}
	if d.Before(p.ref.AddDate(0, 0, -62)) {
		if nd, ok := date(y+1, m, day); ok {
			return nd, true
		}
	}
	return d, true
}

// numeric parses "3/10", "3/10/26", "3/10/2026" (US month/day) and
// "2026-03-10".
func (p *parser) numeric(t string) (time.Time, bool) {
	if strings.Contains(t, "-") {
		parts := strings.Split(t, "-")
		if len(parts) != 3 || len(parts[0]) != 4 || len(parts[1]) != 2 || len(parts[2]) != 2 {
			return time.Time{}, false
		}
		y, _ := strconv.Atoi(parts[0])
		m, _ := strconv.Atoi(parts[1])
		d, _ := strconv.Atoi(parts[2])
		if m < 1 || m > 12 {
			return time.Time{}, false
		}
		return date(y, time.Month(m), d)
	}
	parts := strings.Split(t, "/")
	if len(parts) < 2 || len(parts) > 3 || len(parts[0]) > 2 || len(parts[1]) > 2 {
		return time.Time{}, false
	}
	m, _ := strconv.Atoi(parts[0])
	d, _ := strconv.Atoi(parts[1])
	if m < 1 || m > 12 || d < 1 {
		return time.Time{}, false
	}
	if len(parts) == 3 {
		y, _ := strconv.Atoi(parts[2])
		switch len(parts[2]) {
		case 2:
			y += 2000
		case 4:
		default:
			return time.Time{}, false
		}
		return date(y, time.Month(m), d)
	}
	return p.yearless(time.Month(m), d)
}

// dayNumber parses "10" or "10th" (1–31) and says whether it had an
// ordinal suffix.
func dayNumber(s string) (day int, ordinal bool, ok bool) {
	num := s
	for _, suf := range []string{"st", "nd", "rd", "th"} {
		if strings.HasSuffix(s, suf) {
			num, ordinal = strings.TrimSuffix(s, suf), true
			break
		}
	}
	if !isDigits(num) || len(num) > 2 {
		return 0, false, false
	}
	day, _ = strconv.Atoi(num)
	if day < 1 || day > 31 {
		return 0, false, false
	}
	return day, ordinal, true
}

func isYear(s string) bool {
	if len(s) != 4 || !isDigits(s) {
		return false
	}
	return s[:2] == "19" || s[:2] == "20"
}

func quarterToken(s string) (int, bool) {
	if len(s) == 2 && s[0] == 'q' && s[1] >= '1' && s[1] <= '4' {
		return int(s[1] - '0'), true
	}
	return 0, false
}

// date builds a UTC calendar date, rejecting days the month lacks.
func date(y int, m time.Month, d int) (time.Time, bool) {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	if t.Month() != m || t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// offset is the number of days from Monday to wd.
func offset(wd time.Weekday) int { return (int(wd) + 6) % 7 }

func mondayOf(t time.Time) time.Time { return t.AddDate(0, 0, -offset(t.Weekday())) }

// nextWeekday is the first wd strictly after ref.
func nextWeekday(ref time.Time, wd time.Weekday) time.Time {
	n := (int(wd) - int(ref.Weekday()) + 7) % 7
	if n == 0 {
		n = 7
	}
	return ref.AddDate(0, 0, n)
}

// endOfWeek is the Friday of ref's week, or the next Friday when ref is
// past it.
func endOfWeek(ref time.Time) time.Time {
	f := mondayOf(ref).AddDate(0, 0, 4)
	if ref.After(f) {
		f = f.AddDate(0, 0, 7)
	}
	return f
}

func endOfMonth(y int, m time.Month) time.Time {
	return time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
}

func quarterOf(t time.Time) int { return (int(t.Month())-1)/3 + 1 }

func quarterEnd(y, q int) time.Time { return endOfMonth(y, time.Month(3*q)) }

// nextNth is the next day-of-month n on or after ref (skipping months that
// lack it).
func nextNth(ref time.Time, n int) time.Time {
	y, m := ref.Year(), ref.Month()
	if ref.Day() > n {
		m++
		if m > 12 {
			m, y = 1, y+1
		}
	}
	for {
		if d, ok := date(y, m, n); ok {
			return d
		}
		m++
		if m > 12 {
			m, y = 1, y+1
		}
	}
}
