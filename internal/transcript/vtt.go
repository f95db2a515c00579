package transcript

import "strings"

const vttTiming = "HH:MM:SS.mmm --> HH:MM:SS.mmm"

// parseVTT parses WebVTT: the WEBVTT signature (after blank lines, if any)
// and header, then blocks
// separated by blank lines. NOTE, STYLE and REGION blocks are skipped; a
// cue is an optional identifier line, a timing line with optional cue
// settings, and text lines.
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
		for i < len(lines) && !isBlank(lines[i]) {
			i++
		}
		block := lines[first:i]
		if isBlockKeyword(block[0], "NOTE") || isBlockKeyword(block[0], "STYLE") || isBlockKeyword(block[0], "REGION") {
			continue
		}
		t := 0
		if !strings.Contains(block[0], "-->") {
			if len(block) < 2 || !strings.Contains(block[1], "-->") {
				return nil, missingTiming(FormatVTT, vttTiming, block, first)
			}
			t = 1
		}
		start, end, ok := parseTiming(block[t])
		if !ok {
			return nil, &ParseError{Format: FormatVTT, Line: first + t + 1, Reason: "cue timing is not " + vttTiming}
		}
		cues = append(cues, cue{lines: block[t+1:], start: start, end: end})
	}
	return cueFragments(cues), nil
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
