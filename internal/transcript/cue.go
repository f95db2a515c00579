package transcript

import "strings"

// cue is one subtitle cue (WebVTT or SRT) before speakers are found: its
// text lines and timing. cont marks an SRT block without a timing line,
// which continues the previous cue.
type cue struct {
	lines      []string
	start, end int64
	cont       bool
}

// cueFragments turns subtitle cues into fragments. Speakers come from WebVTT
// voice tags (<v Dana Lee>, with or without </v>, with classes as in
// <v.loud Dana>) and from labels on a cue's first line ("Dana Lee: …",
// "[Dana Lee] …"). A label used on the first line of three or more cues is
// a speaker whatever its case, and one used on two if it does not read as
// a phrase ("One more thing"); one used once must look like a name in
// strict mode, so that "Quick recap: …" in a file without speakers stays
// text. A
// later line of a cue starts a new fragment only with a known speaker's
// label. A cue without any speaker continues the previous cue's speaker.
func cueFragments(cues []cue) []fragment {
	// Count label candidates by their syntax alone, then check each distinct
	// one once: a four-hour meeting has thousands of cues but a few names.
	counts := map[string]int{}
	for _, c := range cues {
		if c.cont || len(c.lines) == 0 {
			continue
		}
		for _, cand := range labelCandidates(c.lines[0]) {
			counts[cand]++
		}
	}
	p := cueParser{known: speakers{}}
	for name, n := range counts {
		if (n >= 3 && isName(name, recurring, nil)) || (n == 2 && isName(name, lenient, nil)) {
			p.known[name] = true
		}
	}
	for _, c := range cues {
		p.cue(c)
	}
	return p.frags
}

// cueParser holds the state of cueFragments.
type cueParser struct {
	known speakers
	last  string
	frags []fragment
}

// cue adds one cue's fragments.
func (p *cueParser) cue(c cue) {
	if len(c.lines) == 0 {
		return
	}
	payload := c.lines[0]
	if len(c.lines) > 1 {
		payload = strings.Join(c.lines, "\n")
	}
	for i, part := range splitVoices(payload) {
		if part.voice {
			p.last = strings.TrimSpace(part.speaker)
			if p.last != "" {
				p.known[p.last] = true
			}
			p.add(p.last, part.text, c)
			continue
		}
		var cur []string
		speaker := p.last
		for j, line := range strings.Split(part.text, "\n") {
			mode := knownOnly
			if i == 0 && j == 0 && !c.cont {
				mode = strict
			}
			if name, rest, ok := cueLabel(line, mode, p.known); ok {
				p.add(speaker, strings.Join(cur, "\n"), c)
				cur = cur[:0]
				speaker = name
				p.known[name] = true
				line = rest
			}
			cur = append(cur, line)
		}
		p.add(speaker, strings.Join(cur, "\n"), c)
		p.last = speaker
	}
}

func (p *cueParser) add(speaker, text string, c cue) {
	if isBlank(strings.ReplaceAll(text, "\n", "")) {
		return
	}
	p.frags = append(p.frags, fragment{speaker: speaker, text: text, start: c.start, end: c.end, hasEnd: true})
}

// voicePart is a stretch of cue text and, when voice is set, the speaker
// its WebVTT voice tag named.
type voicePart struct {
	voice   bool
	speaker string
	text    string
}

// splitVoices splits cue text at WebVTT voice tags. Text before the first
// voice tag (if any) is a part without a voice.
func splitVoices(s string) []voicePart {
	var parts []voicePart
	cur := voicePart{}
	from := 0 // start of cur's text
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			break
		}
		j += i
		speaker, end, ok := voiceTagAt(s, j)
		if !ok {
			i = j + 1
			continue
		}
		cur.text = s[from:j]
		if cur.voice || !isBlank(strings.ReplaceAll(cur.text, "\n", "")) {
			parts = append(parts, cur)
		}
		cur = voicePart{voice: true, speaker: speaker}
		from, i = end, end
	}
	cur.text = s[from:]
	return append(parts, cur)
}

// voiceTagAt reports whether a voice tag (<v Name>, <v.class Name>, <v>)
// starts at s[j], returning its annotation and where it ends.
func voiceTagAt(s string, j int) (speaker string, end int, ok bool) {
	if j+2 >= len(s) || (s[j+1] != 'v' && s[j+1] != 'V') {
		return "", 0, false
	}
	switch s[j+2] {
	case ' ', '\t', '.', '>':
	default:
		return "", 0, false
	}
	end, _, ok = tagAt(s, j)
	if !ok {
		return "", 0, false
	}
	inner := s[j+2 : end-1]
	if inner != "" && inner[0] == '.' { // classes: <v.loud.first Name>
		i := strings.IndexAny(inner, " \t")
		if i < 0 {
			inner = ""
		} else {
			inner = inner[i:]
		}
	}
	return strings.TrimSpace(inner), end, true
}
