package transcript

import (
	"strings"
	"unicode"
)

// lineKind classifies a line of a plain-text transcript.
type lineKind int

const (
	lineBlank lineKind = iota
	linePlain          // text continuing the current speaker's turn
	lineStamp          // a timestamp alone
	lineLabel          // "Name: text", possibly with a timestamp
	lineOtter          // an Otter header, "Name  0:05"
)

// textLine is one analysed line. For lineLabel, name is only a candidate:
// whether it is a speaker is decided with what the whole file shows.
type textLine struct {
	kind    lineKind
	name    string
	text    string
	ms      int64
	hasTime bool
}

// parseText parses plain text: "Name: text" lines with optional timestamps
// before or after the name ("[00:01:05] Dana Lee: …", "Dana Lee (01:05): …",
// "00:01:05 Dana Lee: …"), Otter exports (a "Name  0:05" header line, then
// the paragraph), Google Meet transcripts (a header of title, attendees and
// disclaimer, which becomes Meta; "00:05:00" marker lines; a closing
// "Meeting ended after …" line) and lines without a speaker, which continue
// the current speaker's turn.
//
// A "Label: text" line is a speaker only when the label looks like a name
// (isName, strict): capitalised words, no sentence punctuation, not a label
// word such as "Note", not a phrase ("One More Thing"). A name used as a
// label on three or more lines is a speaker too, and if it is in lower case
// ("dana: …") capitals are not required of the file's other labels. When
// the header lists attendees, a label that names one is a speaker, and one
// that names none and is used only once is text.
//
// A time given on a line, or by a timestamp alone on a line, is the start
// of the fragment that follows; fragments between two known times (a
// marker every five minutes in a Meet transcript) are spread over that
// stretch in proportion to their words, so that each has its own start.
func parseText(s string) ([]fragment, Meta, error) {
	raw := strings.Split(s, "\n")
	h := readHeader(raw)
	for i := 0; i < h.end; i++ {
		raw[i] = ""
	}
	lines := make([]textLine, len(raw))
	counts := map[string]int{}
	for i, l := range raw {
		lines[i] = analyzeTextLine(l)
		if lines[i].kind == lineLabel {
			counts[lines[i].name]++
		}
	}
	// A name used as a label on three or more lines is a speaker even in
	// lower case; and a file that writes a speaker so ("dana: …") writes
	// them all so, so its labels need not be capitalised.
	known := speakers{}
	mode := strict
	for name, n := range counts {
		if n >= 3 && isName(name, recurring, nil) {
			known[name] = true
			if !isName(name, strict, nil) {
				mode = lenient
			}
		}
	}
	attendees := h.meta.Attendees
	isSpeaker := func(name string) bool {
		if known[name] {
			return true
		}
		if len(attendees) > 0 {
			if attendeeMatch(name, attendees) {
				return isName(name, recurring, nil)
			}
			if h.meet && counts[name] < 2 {
				return false
			}
		}
		return isName(name, mode, known)
	}

	var (
		frags   []fragment
		anchors []anchor
		speaker string
		now     int64
	)
	// mark records that the next fragment starts at ms.
	mark := func(ms int64) {
		now = ms
		if n := len(anchors); n > 0 && anchors[n-1].at == len(frags) {
			anchors[n-1].ms = ms
			return
		}
		anchors = append(anchors, anchor{at: len(frags), ms: ms})
	}
	add := func(text string) {
		if !isBlank(text) {
			frags = append(frags, fragment{speaker: speaker, text: text, start: now})
		}
	}
	for i, tl := range lines {
		switch tl.kind {
		case lineBlank:
			continue
		case lineOtter:
			speaker = tl.name
			mark(tl.ms)
			known[tl.name] = true
			continue
		case lineStamp:
			mark(tl.ms)
			continue
		case lineLabel:
			if isSpeaker(tl.name) {
				known[tl.name] = true
				speaker = tl.name
				if tl.hasTime {
					mark(tl.ms)
				}
				add(tl.text)
				continue
			}
			tl = analyzePlain(raw[i])
		}
		if ms, ok := meetingEnded(tl.text); ok && !tl.hasTime {
			h.meta.DurationMS = ms
			mark(ms)
			speaker = "" // what follows is no one's turn
			continue
		}
		if tl.hasTime {
			mark(tl.ms)
		}
		if isOtterFooter(tl.text) || isDisclaimer(tl.text) || !hasWordRune(tl.text) {
			// A line of only symbols ("**", "---" left by a Markdown
			// conversion) says nothing.
			continue
		}
		add(tl.text)
	}
	spread(frags, anchors)
	return frags, h.meta, nil
}

// anchor is a known time: fragment at (or, at len(frags), the end of the
// last one) starts at ms.
type anchor struct {
	at int
	ms int64
}

// spread gives the fragments between two anchors starts spread over the
// time between them in proportion to their words (the first keeps the
// anchor's time); each but the last ends where the next starts. Fragments
// before the first anchor are spread from 0.
// Where time goes back, or after the last anchor, starts are left as they
// are. An anchor after the last fragment (a closing "Meeting ended after"
// line, or a last marker) is that fragment's end.
func spread(frags []fragment, anchors []anchor) {
	if len(anchors) == 0 || len(frags) == 0 {
		return
	}
	if anchors[0].at > 0 {
		anchors = append([]anchor{{at: 0, ms: 0}}, anchors...)
	}
	for k := 0; k+1 < len(anchors); k++ {
		a, b := anchors[k], anchors[k+1]
		if b.ms < a.ms || b.at-a.at < 1 {
			continue
		}
		if b.at == len(frags) {
			last := &frags[len(frags)-1]
			last.end, last.hasEnd = b.ms, true
		}
		if b.at-a.at < 2 {
			continue
		}
		total := 0
		words := make([]int, b.at-a.at)
		for j := range words {
			words[j] = max(1, countWords(frags[a.at+j].text))
			total += words[j]
		}
		// span*cum/total without overflow: span may be near maxMS.
		span, t := b.ms-a.ms, int64(total)
		q, r, cum := span/t, span%t, int64(0)
		for j := range words {
			frags[a.at+j].start = a.ms + q*cum + r*cum/t
			cum += int64(words[j])
			if j > 0 {
				// A fragment lasts until the next one starts, so that
				// one speaker's lines stay one turn.
				prev := &frags[a.at+j-1]
				prev.end, prev.hasEnd = frags[a.at+j].start, true
			}
		}
		if b.at == len(frags) && frags[b.at-1].end < frags[b.at-1].start {
			frags[b.at-1].end = frags[b.at-1].start
		}
	}
}

// hasWordRune reports whether s holds a letter or a digit.
func hasWordRune(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}

// countWords counts the whitespace-separated words of s.
func countWords(s string) int {
	n, in := 0, false
	for i := 0; i < len(s); i++ {
		sp := s[i] == ' ' || s[i] == '\t'
		if !sp && !in {
			n++
		}
		in = !sp
	}
	return n
}

// analyzeTextLine classifies one line of plain text.
func analyzeTextLine(line string) textLine {
	l := strings.TrimSpace(line)
	if l == "" {
		return textLine{kind: lineBlank}
	}
	if name, ms, ok := otterHeader(l); ok {
		return textLine{kind: lineOtter, name: name, ms: ms, hasTime: true}
	}
	ms, stamp, rest := leadingStamp(l)
	if stamp != stampNone && rest == "" {
		return textLine{kind: lineStamp, ms: ms, hasTime: true}
	}
	if i := labelColon(rest); i > 0 {
		cand := strings.TrimSpace(rest[:i])
		text := strings.TrimSpace(rest[i+1:])
		if ms2, name, ok := trailingStamp(cand); ok {
			cand = name
			if stamp == stampNone {
				ms, stamp = ms2, stampBracketed
			}
		}
		cand = trimBrackets(cand)
		if cand != "" && !isClock(cand) && isName(cand, recurring, nil) {
			if stamp == stampNone {
				if ms3, st, t := leadingStamp(text); st == stampBracketed {
					ms, stamp, text = ms3, st, t
				}
			}
			return textLine{kind: lineLabel, name: cand, text: text, ms: ms, hasTime: stamp != stampNone}
		}
	}
	return analyzePlain(line)
}

// analyzePlain reads a line as text without a speaker. A bracketed or
// h:mm:ss timestamp at its start is taken; a bare "10:30" is prose.
func analyzePlain(line string) textLine {
	l := strings.TrimSpace(line)
	ms, stamp, rest := leadingStamp(l)
	if stamp == stampBracketed || stamp == stampBare3 {
		return textLine{kind: linePlain, text: rest, ms: ms, hasTime: true}
	}
	return textLine{kind: linePlain, text: l}
}

type stampKind int

const (
	stampNone      stampKind = iota
	stampBracketed           // [00:01:05] or (01:05)
	stampBare3               // 00:01:05
	stampBare2               // 01:05
)

// leadingStamp takes a timestamp off the start of l: "[hh:mm:ss]",
// "[mm:ss]", "(mm:ss)" or a bare clock, followed by the end of the line or
// a space and an optional "-", "–" or "|" separator.
func leadingStamp(l string) (ms int64, kind stampKind, rest string) {
	if l == "" {
		return 0, stampNone, l
	}
	var tok string
	switch l[0] {
	case '[', '(':
		closer := byte(']')
		if l[0] == '(' {
			closer = ')'
		}
		j := strings.IndexByte(l, closer)
		if j < 0 || j > 20 {
			return 0, stampNone, l
		}
		tok, rest, kind = l[1:j], l[j+1:], stampBracketed
	default:
		if l[0] < '0' || l[0] > '9' {
			return 0, stampNone, l
		}
		j := strings.IndexAny(l, " \t")
		if j < 0 {
			j = len(l)
		}
		tok, rest = l[:j], l[j:]
		kind = stampBare2
		if strings.Count(tok, ":") == 2 {
			kind = stampBare3
		}
	}
	ms, ok := parseClock(strings.TrimSpace(tok))
	if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
		return 0, stampNone, l
	}
	rest = strings.TrimSpace(rest)
	for _, sep := range []string{"-", "–", "—", "|"} {
		if r, ok := strings.CutPrefix(rest, sep); ok && (r == "" || r[0] == ' ' || r[0] == '\t') {
			rest = strings.TrimSpace(r)
			break
		}
	}
	return ms, kind, rest
}

// trailingStamp takes a timestamp off the end of a label: "Dana Lee
// (01:05)", "Dana Lee [00:01:05]", "Dana Lee 01:05", "Dana Lee - 01:05".
func trailingStamp(cand string) (ms int64, name string, ok bool) {
	var tok string
	if n := len(cand); n > 0 && (cand[n-1] == ')' || cand[n-1] == ']') {
		opener := byte('(')
		if cand[n-1] == ']' {
			opener = '['
		}
		j := strings.LastIndexByte(cand, opener)
		if j < 0 {
			return 0, cand, false
		}
		tok, name = cand[j+1:n-1], cand[:j]
	} else {
		j := strings.LastIndexAny(cand, " \t")
		if j < 0 {
			return 0, cand, false
		}
		tok, name = cand[j+1:], cand[:j]
	}
	if ms, ok = parseClock(strings.TrimSpace(tok)); !ok {
		return 0, cand, false
	}
	name = strings.TrimSpace(name)
	name = strings.TrimSpace(strings.TrimRight(name, "-–—|,"))
	return ms, name, name != ""
}

// trimBrackets removes one pair of brackets around a label: "[Dana Lee]".
func trimBrackets(s string) string {
	if n := len(s); n >= 2 && ((s[0] == '[' && s[n-1] == ']') || (s[0] == '(' && s[n-1] == ')')) {
		return strings.TrimSpace(s[1 : n-1])
	}
	return s
}

// otterHeader recognises an Otter.ai speaker line: a name, two or more
// spaces (or a tab), and an m:ss or h:mm:ss time, alone on the line.
func otterHeader(l string) (name string, ms int64, ok bool) {
	j := strings.LastIndexAny(l, " \t")
	if j <= 0 {
		return "", 0, false
	}
	tok := l[j+1:]
	if tok == "" || tok[0] < '0' || tok[0] > '9' {
		return "", 0, false
	}
	if ms, ok = parseClock(tok); !ok {
		return "", 0, false
	}
	head := l[:j+1]
	trimmed := strings.TrimRight(head, " \t")
	gap := head[len(trimmed):]
	if gap != "\t" && len(gap) < 2 && !strings.Contains(gap, "\t") {
		return "", 0, false
	}
	name = strings.TrimSpace(trimmed)
	if name == "" || !isName(name, strict, nil) {
		return "", 0, false
	}
	return name, ms, true
}

// isOtterFooter reports Otter's "Transcribed by https://otter.ai" line.
func isOtterFooter(text string) bool {
	return strings.HasPrefix(strings.ToLower(text), "transcribed by https://otter.ai")
}
