package transcript

import "strings"

// parseClock parses a clock time into milliseconds: "h:mm:ss", "mm:ss",
// each optionally with a fraction after '.' or ',' ("00:01:05.120",
// "1:05", "01:05,5"). Hours take up to 6 digits; without hours, minutes
// take up to 4 (an Otter "75:30"). Minutes under hours and seconds must be
// below 60. A fraction longer than 3 digits is cut to milliseconds.
func parseClock(s string) (int64, bool) {
	var fields [3]string
	n := 0
	for {
		i := strings.IndexByte(s, ':')
		if i < 0 {
			break
		}
		if n == 2 {
			return 0, false
		}
		fields[n] = s[:i]
		n++
		s = s[i+1:]
	}
	if n == 0 {
		return 0, false
	}
	fields[n] = s
	n++

	sec, frac := fields[n-1], ""
	if i := strings.IndexAny(sec, ".,"); i >= 0 {
		sec, frac = sec[:i], sec[i+1:]
		if frac == "" || len(frac) > 9 || !isDigits(frac) {
			return 0, false
		}
	}
	ss, ok := atoiN(sec, 1, 2)
	if !ok || ss >= 60 {
		return 0, false
	}
	var hh, mm int64
	if n == 3 {
		if hh, ok = atoiN(fields[0], 1, 6); !ok {
			return 0, false
		}
		if mm, ok = atoiN(fields[1], 1, 2); !ok || mm >= 60 {
			return 0, false
		}
	} else if mm, ok = atoiN(fields[0], 1, 4); !ok {
		return 0, false
	}
	var ms int64
	for i := 0; i < 3; i++ {
		ms *= 10
		if i < len(frac) {
			ms += int64(frac[i] - '0')
		}
	}
	return ((hh*60+mm)*60+ss)*1000 + ms, true
}

// atoiN parses a decimal of minDigits..maxDigits digits.
func atoiN(s string, minDigits, maxDigits int) (int64, bool) {
	if len(s) < minDigits || len(s) > maxDigits {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// parseTiming parses a cue timing line, "start --> end" followed by
// optional cue settings ("align:start position:10%"), both times in
// parseClock's syntax.
func parseTiming(line string) (start, end int64, ok bool) {
	l, r, found := strings.Cut(line, "-->")
	if !found {
		return 0, 0, false
	}
	r = strings.TrimLeft(r, " \t")
	if i := strings.IndexAny(r, " \t"); i >= 0 {
		r = r[:i]
	}
	if start, ok = parseClock(strings.TrimSpace(l)); !ok {
		return 0, 0, false
	}
	if end, ok = parseClock(r); !ok {
		return 0, 0, false
	}
	return start, end, true
}

// isClock reports whether s is a clock time parseClock accepts.
func isClock(s string) bool {
	_, ok := parseClock(s)
	return ok
}
