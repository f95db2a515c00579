package transcript

import (
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"logbook/internal/crm"
)

// A Google Meet transcript saved from Google Docs (as plain text, or
// converted to Markdown) reads:
//
//	Weekly sync (2026-03-04 10:02 GMT+1) - Transcript
//	Attendees
//	Dana Lee, Sam Ortiz, Sam Ortiz's Presentation
//	Transcript
//	This editable transcript was computer generated and might contain errors. …
//	Dana Lee: Good morning.
//	Sam Ortiz: Morning.
//	00:05:00
//	Dana Lee: …
//	Meeting ended after 00:42:17 👋
//
// Some copies lack the "Attendees" or "Transcript" line, put the disclaimer
// at the end, or carry Markdown ("#### Attendees", "### Meeting ended …").
// The header becomes Meta, never utterances; the "HH:MM:SS" marker lines
// (every five minutes) are read by the text parser as times, and the
// closing line gives the meeting's length.

// headerScan is how many non-blank lines at the start of a plain-text
// transcript are searched for a header.
const headerScan = 40

// header is what readHeader found: the metadata and which lines it used.
type header struct {
	meta Meta
	// end is the index of the first line after the header (0: none).
	end int
	// meet is set when the header is Google Meet's (a disclaimer or a
	// "Transcript" line), whose speaker labels are its attendees'
	// names.
	meet bool
}

// readHeader finds a transcript header at the start of raw (the lines of a
// plain-text transcript): an "Attendees" (or "Participants") line and the
// names after it, a "Transcript" line, Google Meet's disclaimer, and a title
// on the first line before them. It looks no further than the first
// utterance (a "Name: text" line, a timestamp, an Otter speaker line) after
// the first line, and at most headerScan non-blank lines. Without any of
// those keywords there is no header: the first lines stay text.
func readHeader(raw []string) header {
	first, attendees, transcript, disclaimer := -1, -1, -1, -1
	nonBlank := 0
scan:
	for i, line := range raw {
		l := headerText(line)
		if l == "" {
			continue
		}
		nonBlank++
		if nonBlank > headerScan {
			break
		}
		if first < 0 {
			first = i
		}
		switch {
		case isDisclaimer(l):
			disclaimer = i
			break scan
		case headerKey(l) == "attendees":
			if attendees < 0 && transcript < 0 {
				attendees = i
			}
		case headerKey(l) == "transcript":
			transcript = i
		case i != first && looksLikeUtterance(line):
			break scan
		}
	}
	if attendees < 0 && transcript < 0 && disclaimer < 0 {
		return header{}
	}
	h := header{meet: transcript >= 0 || disclaimer >= 0}
	if !h.meet && looksLikeUtterance(raw[first]) && !strings.HasSuffix(strings.ToLower(headerText(raw[first])), "transcript") {
		// "Dana Lee: …" then "Attendees: …": the list is in the speech.
		return header{}
	}
	end := max(transcript, disclaimer)
	if attendees >= 0 && end < 0 {
		// Only an attendee list: it ends at a blank line after its names,
		// or where the speech starts.
		end = attendees
		for j := attendees + 1; j < min(len(raw), attendees+1+headerScan); j++ {
			l := headerText(raw[j])
			if l == "" {
				if end > attendees {
					break
				}
				continue
			}
			if looksLikeUtterance(raw[j]) || headerKey(l) != "" {
				break
			}
			end = j
		}
	}
	h.end = end + 1

	// The title is the first line, if it comes before the keywords.
	names := attendees
	if first < min(nonNeg(attendees), nonNeg(transcript), nonNeg(disclaimer)) {
		h.meta.Title, h.meta.StartedAt = meetTitle(headerText(raw[first]))
		if attendees < 0 && h.meet {
			// Meet copies without the "Attendees" line list the names
			// right after the title.
			names = first
		}
	}
	if names >= 0 {
		seen := map[string]bool{}
		if _, rest, ok := strings.Cut(headerText(raw[names]), ":"); ok && names == attendees {
			h.meta.Attendees = addNames(h.meta.Attendees, rest, seen)
		}
		for j := names + 1; j < h.end; j++ {
			l := headerText(raw[j])
			if l == "" || headerKey(l) != "" || isDisclaimer(l) {
				continue
			}
			h.meta.Attendees = addNames(h.meta.Attendees, l, seen)
		}
	}
	return h
}

// nonNeg maps "not found" (-1) to a number past any line.
func nonNeg(i int) int {
	if i < 0 {
		return math.MaxInt
	}
	return i
}

// looksLikeUtterance reports whether a raw line starts the speech: a
// timestamp alone, an Otter speaker line, or a "Name: text" line whose name
// passes the strict name test.
func looksLikeUtterance(line string) bool {
	tl := analyzeTextLine(line)
	switch tl.kind {
	case lineStamp, lineOtter:
		return true
	case lineLabel:
		return isName(tl.name, strict, nil)
	}
	return false
}

// headerText trims a header line and the Markdown a Docs-to-Markdown
// conversion adds: leading '#'s and '>'s, and '*' or '_' emphasis around
// it.
func headerText(line string) string {
	l := strings.TrimSpace(line)
	l = strings.TrimLeft(l, "#> \t")
	l = strings.Trim(l, "*_ \t")
	return l
}

// headerKey names a header keyword line: "attendees" for "Attendees",
// "Participants" or "Attendees: Dana, Sam"; "transcript" for a line that is
// only "Transcript" (or "Transcript:"). Otherwise it is "".
// A symbol before the word ("📖 Transcript") is ignored.
func headerKey(l string) string {
	l = strings.TrimLeftFunc(l, func(r rune) bool { return !unicode.IsLetter(r) })
	head, rest, hasColon := strings.Cut(l, ":")
	switch strings.ToLower(strings.TrimSpace(head)) {
	case "attendees", "participants", "invited", "attendee list":
		return "attendees"
	case "transcript":
		if !hasColon || strings.TrimSpace(rest) == "" {
			return "transcript"
		}
	}
	return ""
}

// isDisclaimer reports Google's "This editable transcript was computer
// generated and might contain errors. …" line.
func isDisclaimer(l string) bool {
	lower := strings.ToLower(l)
	return strings.Contains(lower, "transcript") &&
		(strings.Contains(lower, "computer generated") || strings.Contains(lower, "computer-generated")) &&
		strings.Contains(lower, "might contain errors")
}

// meetingEnded recognises a closing "Meeting ended after 00:42:17 👋"
// line (also "Transcription ended after …", "Recording ended after …"),
// returning the length it gives. Nothing but punctuation, symbols and
// emoji may follow the time.
func meetingEnded(line string) (int64, bool) {
	l := strings.ToLower(headerText(line))
	rest := ""
	for _, p := range []string{"meeting ended after ", "transcription ended after ", "recording ended after "} {
		if r, ok := strings.CutPrefix(l, p); ok {
			rest = strings.TrimSpace(r)
			break
		}
	}
	if rest == "" {
		return 0, false
	}
	tok, tail, _ := strings.Cut(rest, " ")
	tok = strings.TrimRight(tok, ".!*_")
	ms, ok := parseClock(tok)
	if !ok {
		return 0, false
	}
	for _, r := range tail {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return 0, false
		}
	}
	return ms, true
}

// meetTitle cleans a title line: it drops a trailing " - Transcript" and a
// trailing "(2026-03-04 10:02 GMT+1)" date, which it returns as a time.
func meetTitle(l string) (string, time.Time) {
	t := strings.TrimSpace(l)
	lower := strings.ToLower(t)
	if strings.HasSuffix(lower, "transcript") {
		head := strings.TrimRight(t[:len(t)-len("transcript")], " \t")
		for _, sep := range []string{"-", "–", "—", "|", ":"} {
			if h, ok := strings.CutSuffix(head, sep); ok {
				t = strings.TrimSpace(h)
				break
			}
		}
	}
	var started time.Time
	if n := len(t); n > 0 && t[n-1] == ')' {
		if j := strings.LastIndexByte(t, '('); j >= 0 {
			if at, ok := meetDate(t[j+1 : n-1]); ok {
				started = at
				t = strings.TrimSpace(t[:j])
			}
		}
	}
	if utf8.RuneCountInString(t) > 500 {
		t = string([]rune(t)[:500])
	}
	return t, started
}

// meetDate parses Google Meet's "2026-03-04 10:02 GMT+1" (also "GMT-07:00",
// "GMT", "UTC+5:30").
func meetDate(s string) (time.Time, bool) {
	f := strings.Fields(s)
	if len(f) != 3 {
		return time.Time{}, false
	}
	zone := strings.ToUpper(f[2])
	var off string
	switch {
	case strings.HasPrefix(zone, "GMT"), strings.HasPrefix(zone, "UTC"):
		off = zone[3:]
	default:
		return time.Time{}, false
	}
	secs := 0
	if off != "" {
		sign := 1
		switch off[0] {
		case '+':
		case '-':
			sign = -1
		default:
			return time.Time{}, false
		}
		hh, mm, _ := strings.Cut(off[1:], ":")
		h, ok := atoiN(hh, 1, 2)
		if !ok || h > 14 {
			return time.Time{}, false
		}
		var m int64
		if mm != "" {
			if m, ok = atoiN(mm, 2, 2); !ok || m >= 60 {
				return time.Time{}, false
			}
		}
		secs = sign * int(h*3600+m*60)
	}
	at, err := time.ParseInLocation("2006-01-02 15:04", f[0]+" "+f[1], time.FixedZone(f[2], secs))
	if err != nil || !crm.TimeInRange(at) {
		return time.Time{}, false
	}
	return at, true
}

// addNames adds the comma- or semicolon-separated names in l to names,
// skipping repeats (seen, by lower-case name), Meet's "Dana Lee's
// Presentation" entries and anything that is not a plausible name.
func addNames(names []string, l string, seen map[string]bool) []string {
	for _, n := range strings.FieldsFunc(l, func(r rune) bool { return r == ',' || r == ';' }) {
		n = strings.Trim(strings.TrimSpace(n), "*_")
		n = strings.TrimSpace(n)
		lower := strings.ToLower(n)
		if n == "" || utf8.RuneCountInString(n) > 100 || strings.ContainsAny(n, ":<>") ||
			strings.HasSuffix(lower, "'s presentation") || strings.HasSuffix(lower, "’s presentation") {
			continue
		}
		r, _ := utf8.DecodeRuneInString(n)
		if !unicode.IsLetter(r) || seen[lower] {
			continue
		}
		seen[lower] = true
		names = append(names, n)
	}
	return names
}

// attendeeMatch reports whether a speaker label names one of the
// attendees: the same name in any case, or its first words ("Dana" for
// "Dana Lee").
func attendeeMatch(label string, attendees []string) bool {
	l := strings.Fields(strings.ToLower(label))
	if len(l) == 0 {
		return false
	}
	for _, a := range attendees {
		w := strings.Fields(strings.ToLower(a))
		if len(w) < len(l) {
			continue
		}
		match := true
		for i := range l {
			if l[i] != w[i] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
