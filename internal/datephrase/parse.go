package datephrase

import (
	"strconv"
	"time"
)

// parser reads date phrases from the tokens of text, relative to ref.
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
