package datephrase

import (
	"strconv"
	"strings"
	"time"
)

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
