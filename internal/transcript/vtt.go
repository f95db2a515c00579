package transcript

import "strings"

const vttTiming = "HH:MM:SS.mmm --> HH:MM:SS.mmm"

// parseVTT parses WebVTT: the WEBVTT signature (after blank lines, if any)
// and header, then blocks. NOTE, STYLE and REGION blocks are skipped; a
// cue is an optional identifier line, a timing line with optional cue
// settings ("align:start position:0%"), and text lines.
//
// A cue's text ends at an empty line, and also where the next cue's timing
// line (or a numeric identifier and a timing line) follows it directly:
// YouTube's automatic captions and some converters write no blank line
// between cues. A line of only spaces inside a cue (YouTube starts cues
// with one) is part of the cue, as the WebVTT syntax says, unless what
// follows it is a new block. A block of text without a timing line after a
// cue continues that cue, as in SRT. YouTube's roll-up captions, where
// each cue repeats the previous cue's last line, lose the repeats
// (dropRollUp); their inline "<00:00:01.500><c> word</c>" timestamps and
// tags are stripped by the normaliser.
func parseVTT(s string) ([]fragment, error) {
	lines := strings.Split(s, "\n")
	i := 0
	for i < len(lines)-1 && isBlank(lines[i]) {
		i++
	}
	if !isVTTHeader(lines[i]) {
		return nil, &ParseError{Format: FormatVTT, Line: i + 1, Reason: "missing WEBVTT header"}
	}
	i++
	for i < len(lines) && !isBlank(lines[i]) && !strings.Contains(lines[i], "-->") {
		i++ // header lines ("Kind: captions", "Language: en")
	}
	var cues []cue
	for i < len(lines) {
		if isBlank(lines[i]) {
			i++
			continue
		}
		first := i
		if isBlockKeyword(lines[i], "NOTE") || isBlockKeyword(lines[i], "STYLE") || isBlockKeyword(lines[i], "REGION") {
			for i++; i < len(lines) && !isBlank(lines[i]) && !startsCue(lines, i); i++ {
			}
			continue
		}
		t := i
		if !strings.Contains(lines[i], "-->") {
			if i+1 < len(lines) && strings.Contains(lines[i+1], "-->") {
				t = i + 1 // an identifier
			} else {
				// Text without a timing line: it continues the previous
				// cue, unless it is a broken timing or there is no cue.
				j := i
				for j < len(lines) && !isBlank(lines[j]) {
					j++
				}
				if len(cues) == 0 || looksLikeTiming(lines[i]) || (i+1 < j && looksLikeTiming(lines[i+1])) {
					return nil, missingTiming(FormatVTT, vttTiming, lines[i:j], first)
				}
				text, next, err := cueText(lines, i)
				if err != nil {
					return nil, err
				}
				last := cues[len(cues)-1]
				cues = append(cues, cue{lines: text, start: last.start, end: last.end, cont: true})
				i = next
				continue
			}
		}
		start, end, ok := parseTiming(lines[t])
		if !ok {
			return nil, &ParseError{Format: FormatVTT, Line: t + 1, Reason: "cue timing is not " + vttTiming}
		}
		text, next, err := cueText(lines, t+1)
		if err != nil {
			return nil, err
		}
		cues = append(cues, cue{lines: text, start: start, end: end})
		i = next
	}
	return cueFragments(dropRollUp(cues)), nil
}

// cueText reads a cue's text lines from lines[i]: up to an empty line, a
// line of spaces before a new block or the end, or the start of the next
// cue (startsCue). Lines of only spaces are dropped. It returns the text
// and where reading stopped. A line with "-->" that starts like a timing
// but is not one is an error, as it would be at the start of a block.
func cueText(lines []string, i int) (text []string, next int, err error) {
	for ; i < len(lines); i++ {
		l := lines[i]
		if l == "" {
			break
		}
		if isBlank(l) {
			j := i + 1
			for j < len(lines) && isBlank(lines[j]) && lines[j] != "" {
				j++
			}
			if j == len(lines) || lines[j] == "" || startsCue(lines, j) || isBlockKeyword(lines[j], "NOTE") {
				break
			}
			i = j - 1 // the whole run of space lines is inside the cue
			continue
		}
		if startsCue(lines, i) {
			break
		}
		if strings.Contains(l, "-->") && looksLikeTiming(l) {
			return nil, 0, &ParseError{Format: FormatVTT, Line: i + 1, Reason: "cue timing is not " + vttTiming}
		}
		text = append(text, l)
	}
	return text, i, nil
}

// startsCue reports whether a cue starts at lines[i] without a blank line
// before it: a valid timing line, or a cue identifier followed by one.
func startsCue(lines []string, i int) bool {
	if isTiming(lines[i]) {
		return true
	}
	return i+1 < len(lines) && isCueID(lines[i]) && isTiming(lines[i+1])
}

// isCueID reports whether a line right before a timing line is that cue's
// identifier rather than the last line of the previous cue's text: one
// token with a digit in it and no sentence punctuation at its end, as
// converters and Teams write them ("12", "cue-4", "1f0c…-3/1").
func isCueID(line string) bool {
	l := strings.TrimSpace(line)
	if l == "" || strings.ContainsAny(l, " \t") || !strings.ContainsAny(l, "0123456789") {
		return false
	}
	switch l[len(l)-1] {
	case '.', ',', '!', '?', ':', ';', ')', '"', '\'':
		return false
	}
	return true
}

// isTiming reports whether line is a valid cue timing line.
func isTiming(line string) bool {
	if !strings.Contains(line, "-->") {
		return false
	}
	_, _, ok := parseTiming(line)
	return ok
}

// looksLikeTiming reports whether line starts like a cue timing, with a
// clock or an arrow, so that a broken one is reported rather than read as
// text.
func looksLikeTiming(line string) bool {
	l := strings.TrimSpace(line)
	tok, _, _ := strings.Cut(l, " ")
	return strings.HasPrefix(l, "-->") || (tok != "" && tok[0] >= '0' && tok[0] <= '9' && isClock(tok))
}

// dropRollUp removes the repeated lines of roll-up captions. YouTube's
// automatic captions show two lines at a time: each cue repeats the
// previous cue's last line above its new words, and a 10 ms cue between
// them repeats the line alone. When at least half of the cues of two or
// more lines (and at least two) start with the line the previous cue ended
// with, each cue
// loses the leading lines it shares with the end of the previous one, and
// a cue left without text is dropped. Lines are compared as the normaliser
// will write them (markup and inline timestamps stripped). Files that do
// not roll up are returned as they are.
func dropRollUp(cues []cue) []cue {
	if len(cues) < 3 {
		return cues
	}
	repeats, multi := 0, 0
	for k := 1; k < len(cues); k++ {
		a, b := cues[k-1].lines, cues[k].lines
		if len(b) < 2 {
			continue
		}
		multi++
		if len(a) > 0 && sameLine(a[len(a)-1], b[0]) {
			repeats++
		}
	}
	if repeats < 2 || 2*repeats < multi {
		return cues
	}
	out := make([]cue, 0, len(cues))
	var prev []string
	for _, c := range cues {
		clean := make([]string, len(c.lines))
		for j, l := range c.lines {
			clean[j], _ = cleanText(l)
		}
		n := overlap(prev, clean)
		prev = clean
		if n == len(c.lines) {
			continue
		}
		c.lines = c.lines[n:]
		out = append(out, c)
	}
	return out
}

// sameLine reports whether two cue lines read the same once cleaned.
func sameLine(a, b string) bool {
	if a == b {
		return true
	}
	ca, _ := cleanText(a)
	cb, _ := cleanText(b)
	return ca != "" && ca == cb
}

// maxRollUp is the most lines a roll-up caption repeats (CEA-608 roll-up
// captions show at most four rows; YouTube's show two).
const maxRollUp = 4

// overlap returns the largest n (at most maxRollUp) such that the last n
// lines of a are the first n lines of b, all non-empty.
func overlap(a, b []string) int {
	for n := min(len(a), len(b), maxRollUp); n > 0; n-- {
		ok := true
		for j := 0; j < n; j++ {
			if b[j] == "" || a[len(a)-n+j] != b[j] {
				ok = false
				break
			}
		}
		if ok {
			return n
		}
	}
	return 0
}

// isBlockKeyword reports whether line opens a block with keyword: the word
// alone or followed by a space or tab.
func isBlockKeyword(line, keyword string) bool {
	rest, ok := strings.CutPrefix(line, keyword)
	return ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t')
}

// missingTiming is the error for a block without a "-->" timing line: a
// line that looks like a broken timing ("00:01.000 -> 00:02.000") is named
// as such; otherwise the line where the timing was expected (after an
// identifier) is.
func missingTiming(format, timing string, block []string, first int) error {
	for i, l := range block[:min(len(block), 2)] {
		tok, _, _ := strings.Cut(strings.TrimSpace(l), " ")
		if strings.Contains(l, "->") || isClock(tok) {
			return &ParseError{Format: format, Line: first + i + 1, Reason: "cue timing is not " + timing}
		}
	}
	return &ParseError{Format: format, Line: first + min(len(block), 2), Reason: "expected a cue timing line (" + timing + ")"}
}
