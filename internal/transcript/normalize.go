package transcript

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"logbook/internal/crm"
)

// maxMS caps every time (about 31 years): anything larger is nonsense input
// and would only risk overflow in later arithmetic.
const maxMS = int64(1e12)

// fragment is what every parser produces: one stretch of speech with the raw
// speaker and text, before cleaning and merging. An end that the format
// does not give (plain text, some JSON) has hasEnd false.
type fragment struct {
	speaker string
	text    string
	start   int64
	end     int64
	hasEnd  bool
}

// segment is a fragment being merged, with what merging needs to know.
type segment struct {
	crm.Segment
	runes     int
	hasEnd    bool
	lastStart int64
}

// normalize cleans, merges and numbers fragments into segments; see the
// package documentation for the rules.
func normalize(frags []fragment) ([]crm.Segment, error) {
	words := 0
	clean := frags[:0:0]
	for _, f := range frags {
		text, n := cleanText(f.text)
		if text == "" {
			continue
		}
		words += n
		if words > MaxWords {
			return nil, fmt.Errorf("%w: more than %d words", ErrTooLong, MaxWords)
		}
		f.text = text
		f.speaker = cleanSpeaker(f.speaker)
		f.start = clampMS(f.start)
		f.end = clampMS(f.end)
		if f.end < f.start {
			f.end = f.start
		}
		clean = append(clean, f)
	}
	if len(clean) == 0 {
		return nil, ErrEmpty
	}
	// Input that goes back in time is repaired by a stable sort, which keeps
	// the given order of fragments that start together or overlap.
	if !slices.IsSortedFunc(clean, cmpStart) {
		slices.SortStableFunc(clean, cmpStart)
	}

	segs := make([]segment, 0, len(clean)/2+1)
	for _, f := range clean {
		runes := utf8.RuneCountInString(f.text)
		if n := len(segs); n > 0 {
			cur := &segs[n-1]
			prevEnd := cur.lastStart
			if cur.hasEnd {
				prevEnd = cur.EndMS
			}
			if cur.Speaker == f.speaker && cur.runes+1+runes <= MergeMaxRunes && f.start-prevEnd <= MergeMaxGap {
				cur.Text += " " + f.text
				cur.runes += 1 + runes
				cur.lastStart = f.start
				cur.hasEnd = f.hasEnd
				cur.EndMS = max(cur.EndMS, f.start)
				if f.hasEnd {
					cur.EndMS = max(cur.EndMS, f.end)
				}
				continue
			}
		}
		end := f.start
		if f.hasEnd {
			end = f.end
		}
		segs = append(segs, segment{
			Segment:   crm.Segment{Speaker: f.speaker, StartMS: f.start, EndMS: end, Text: f.text},
			runes:     runes,
			hasEnd:    f.hasEnd,
			lastStart: f.start,
		})
	}
	if len(segs) > MaxSegments {
		return nil, fmt.Errorf("%w: %d segments, more than %d", ErrTooLong, len(segs), MaxSegments)
	}
	out := make([]crm.Segment, len(segs))
	for i, s := range segs {
		// A segment whose end the format did not give lasts until the next
		// one starts.
		if !s.hasEnd && i+1 < len(segs) && segs[i+1].StartMS > s.EndMS {
			s.EndMS = segs[i+1].StartMS
		}
		s.Index = i
		out[i] = s.Segment
	}
	return out, nil
}

func cmpStart(a, b fragment) int {
	switch {
	case a.start < b.start:
		return -1
	case a.start > b.start:
		return 1
	}
	return 0
}

func clampMS(ms int64) int64 { return min(max(ms, 0), maxMS) }

// floatToMS converts a float number of seconds (or of milliseconds, with
// scale 1) to whole milliseconds, clamped to [0, maxMS]. NaN is 0.
func floatToMS(v, scale float64) int64 {
	ms := math.Round(v * scale)
	switch {
	case math.IsNaN(ms) || ms < 0:
		return 0
	case ms > float64(maxMS):
		return maxMS
	}
	return int64(ms)
}

// cleanSpeaker cleans a speaker name like a text, keeps at most 100
// characters, drops trailing colons and surrounding brackets, and names a
// blank speaker "Unknown".
func cleanSpeaker(s string) string {
	s, _ = cleanText(s)
	if utf8.RuneCountInString(s) > 100 {
		s = string([]rune(s)[:100])
	}
	for {
		before := s
		s = strings.TrimSpace(strings.TrimRight(s, ":：-–— "))
		if len(s) >= 2 {
			switch {
			case s[0] == '[' && s[len(s)-1] == ']', s[0] == '(' && s[len(s)-1] == ')',
				s[0] == '{' && s[len(s)-1] == '}', s[0] == '<' && s[len(s)-1] == '>':
				s = strings.TrimSpace(s[1 : len(s)-1])
			}
		}
		if s == before {
			break
		}
	}
	if s == "" {
		return "Unknown"
	}
	return s
}

// cleanText strips markup, decodes HTML entities, drops invisible and
// control characters, repairs invalid UTF-8 and collapses whitespace. It
// returns the clean text and its number of words.
func cleanText(s string) (string, int) {
	if strings.IndexByte(s, '<') >= 0 {
		s = stripTags(s)
	}
	if strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(s)
	}
	return finish(s)
}

// finish collapses whitespace, drops invisible and control characters and
// any '<' left right before a 'v' (so no voice tag, complete or not, can
// survive into a segment), and counts words.
func finish(s string) (string, int) {
	// Fast path: printable ASCII with single inner spaces and no '<' is
	// already clean.
	words, prevSpace, fast := 0, true, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '<' || (c == ' ' && prevSpace) {
			fast = false
			break
		}
		if c == ' ' {
			prevSpace = true
		} else {
			if prevSpace {
				words++
			}
			prevSpace = false
		}
	}
	if fast && (s == "" || s[len(s)-1] != ' ') {
		return s, words
	}

	buf := make([]byte, 0, len(s))
	words, space := 0, false
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		switch {
		case r == utf8.RuneError && w == 1:
			r = utf8.RuneError // invalid UTF-8 becomes U+FFFD
		case isInvisible(r):
			continue
		case unicode.IsSpace(r):
			space = true
			continue
		case unicode.IsControl(r):
			continue
		}
		if len(buf) == 0 || space {
			if len(buf) > 0 {
				buf = append(buf, ' ')
			}
			words++
		}
		space = false
		if r == 'v' || r == 'V' {
			buf = dropVoiceOpener(buf)
		}
		buf = utf8.AppendRune(buf, r)
	}
	return string(buf), words
}

// dropVoiceOpener removes a trailing "<" or "<…</" run from buf so that the
// 'v' about to be appended cannot form "<v" or "</v".
func dropVoiceOpener(buf []byte) []byte {
	n := len(buf)
	for n > 0 && buf[n-1] == '<' {
		n--
	}
	if n < len(buf) {
		return buf[:n]
	}
	if n >= 2 && buf[n-1] == '/' && buf[n-2] == '<' {
		m := n - 1
		for m > 0 && buf[m-1] == '<' {
			m--
		}
		buf = append(buf[:m], '/')
	}
	return buf
}

// isInvisible reports zero-width and bidirectional-control characters
// (&lrm; and &rlm; decode to these), the BOM and the soft hyphen.
func isInvisible(r rune) bool {
	switch {
	case r == 0xAD || r == 0xFEFF:
		return true
	case r >= 0x200B && r <= 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x2060 && r <= 0x2069:
		return true
	}
	return false
}

// knownTags are the tag names stripped as markup: WebVTT's cue tags plus
// the HTML ones SRT files and exports carry. Anything else between angle
// brackets ("<customer name>") is kept as text.
var knownTags = map[string]bool{
	"v": true, "c": true, "i": true, "b": true, "u": true, "lang": true, "ruby": true, "rt": true,
	"font": true, "span": true, "br": true, "p": true, "em": true, "strong": true, "s": true,
	"sub": true, "sup": true, "div": true, "mark": true,
}

// stripTags removes markup tags: known opening and closing tags and WebVTT
// timestamp tags (<00:00:05.120>). A <br> or <p> becomes a space.
func stripTags(s string) string {
	var b []byte
	last := 0
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			break
		}
		j += i
		end, spacer, ok := tagAt(s, j)
		if !ok {
			i = j + 1
			continue
		}
		if b == nil {
			b = make([]byte, 0, len(s))
		}
		b = append(b, s[last:j]...)
		if spacer {
			b = append(b, ' ')
		}
		last, i = end, end
	}
	if b == nil {
		return s
	}
	return string(append(b, s[last:]...))
}

// tagAt reports whether a markup tag starts at s[j] (which is '<'), where it
// ends (just past its '>') and whether it separates words.
func tagAt(s string, j int) (end int, spacer, ok bool) {
	gt := -1
	for k := j + 1; k < len(s) && k < j+256; k++ {
		c := s[k]
		if c == '>' {
			gt = k
			break
		}
		if c == '<' || c == '\n' {
			return 0, false, false
		}
	}
	if gt < 0 {
		return 0, false, false
	}
	inner := s[j+1 : gt]
	if inner == "" {
		return 0, false, false
	}
	if inner[0] >= '0' && inner[0] <= '9' {
		if _, ok := parseClock(inner); ok {
			return gt + 1, false, true
		}
		return 0, false, false
	}
	closing := inner[0] == '/'
	if closing {
		inner = inner[1:]
	}
	n := 0
	for n < len(inner) && isASCIILetter(inner[n]) {
		n++
	}
	if n == 0 {
		return 0, false, false
	}
	name := strings.ToLower(inner[:n])
	if !knownTags[name] {
		return 0, false, false
	}
	if n < len(inner) {
		switch inner[n] {
		case ' ', '\t', '.', '/':
		default:
			return 0, false, false
		}
	}
	return gt + 1, name == "br" || name == "p" || name == "div", true
}

func isASCIILetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
