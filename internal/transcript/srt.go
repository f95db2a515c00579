package transcript

import "strings"

const srtTiming = "HH:MM:SS,mmm --> HH:MM:SS,mmm"

// parseSRT parses SubRip: blocks of an index line, a timing line and text
// lines. It tolerates a missing index, '.' for ',' in times, extra blank
// lines (a block without a timing line continues the previous cue), cue
// settings after the timing, and a next cue's timing line (with or without
// its index) right after a cue's text, without a blank line between.
func parseSRT(s string) ([]fragment, error) {
	lines := strings.Split(s, "\n")
	var (
		cues       []cue
		haveCue    bool
		start, end int64
	)
	for i := 0; i < len(lines); {
		if isBlank(lines[i]) {
			i++
			continue
		}
		first := i
		for i < len(lines) && !isBlank(lines[i]) {
			i++
		}
		block := lines[first:i]
		t := -1
		switch {
		case strings.Contains(block[0], "-->"):
			t = 0
		case len(block) > 1 && strings.Contains(block[1], "-->"):
			t = 1
		}
		if t < 0 {
			if len(block) == 1 && isDigits(strings.TrimSpace(block[0])) {
				continue // an index separated from its timing by a blank line
			}
			if !haveCue {
				return nil, missingTiming(FormatSRT, srtTiming, block, first)
			}
			cues = append(cues, cue{lines: block, start: start, end: end, cont: true})
			continue
		}
		for {
			var ok bool
			if start, end, ok = parseTiming(block[t]); !ok {
				return nil, &ParseError{Format: FormatSRT, Line: first + t + 1, Reason: "cue timing is not " + srtTiming}
			}
			haveCue = true
			k := t + 1
			for k < len(block) && !startsCue(block, k) {
				k++
			}
			cues = append(cues, cue{lines: block[t+1 : k], start: start, end: end})
			if k == len(block) {
				break
			}
			block, first, t = block[k:], first+k, 0
			if !strings.Contains(block[0], "-->") {
				t = 1 // an index
			}
		}
	}
	return cueFragments(cues), nil
}
