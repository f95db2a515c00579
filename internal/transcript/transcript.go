package transcript

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"logbook/internal/crm"
)

// Limits on what Parse and FromSegments accept. A four-hour meeting is about
// 50,000 words, so MaxWords leaves room for the longest real meetings while
// keeping one transcript within what the summariser and indexer handle.
const (
	// MaxWords is the most words a transcript may hold; more is ErrTooLong.
	MaxWords = 60000
	// MaxSegments is the most segments (after merging) a transcript may
	// hold; more is ErrTooLong.
	MaxSegments = 20000
	// MergeMaxRunes is the longest text, in characters, that merging
	// consecutive fragments of one speaker may produce. A longer single
	// fragment is kept as it is; it is never cut.
	MergeMaxRunes = 1200
	// MergeMaxGap is the longest silence, in milliseconds, between two
	// fragments of one speaker that are still merged into one segment.
	MergeMaxGap = 30_000
)

// Format names accepted by Parse and returned by Detect.
const (
	// FormatVTT is WebVTT, as Zoom and Microsoft Teams write it.
	FormatVTT = "vtt"
	// FormatSRT is SubRip subtitles.
	FormatSRT = "srt"
	// FormatText is plain text: "Speaker: text" lines, optionally
	// timestamped, an Otter.ai export, or a Google Meet transcript saved
	// from Google Docs.
	FormatText = "text"
	// FormatJSON is a JSON segment, sentence or utterance list.
	FormatJSON = "json"
)

// sentinel is an error value that also matches the errors it lists, so that
// callers can test for the broad class (crm.ErrInvalid) or the precise one.
type sentinel struct {
	msg     string
	parents []error
}

func (e *sentinel) Error() string { return e.msg }

func (e *sentinel) Is(target error) bool {
	for _, p := range e.parents {
		if target == p {
			return true
		}
	}
	return false
}

// Errors returned by Parse and FromSegments.
var (
	// ErrInvalid is matched (errors.Is) by every error that means "this
	// content is not a transcript we can read": a *ParseError or ErrEmpty.
	// It also matches crm.ErrInvalid, so the API's generic mapping answers
	// 422 without knowing this package.
	ErrInvalid error = &sentinel{msg: "transcript: invalid", parents: []error{crm.ErrInvalid}}
	// ErrEmpty means the content was well formed but held no speech: no
	// cues, only NOTE blocks, only blank texts. It matches ErrInvalid.
	ErrEmpty error = &sentinel{msg: "transcript: no speech found", parents: []error{ErrInvalid, crm.ErrInvalid}}
	// ErrTooLong means the transcript has more than MaxWords words or more
	// than MaxSegments segments. It does not match ErrInvalid: the API
	// answers 413, not 422. Returned errors wrap it and say which limit
	// was passed.
	ErrTooLong = errors.New("transcript: too long")
)

// ParseError says where and why content could not be parsed. Line is
// 1-based; it is 0 when the position is not known (a JSON structure error).
// It matches ErrInvalid and crm.ErrInvalid with errors.Is.
type ParseError struct {
	Format string
	Line   int
	Reason string
}

// Error renders the error as "vtt line 12: reason", or "json: reason" when
// the line is not known.
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s line %d: %s", e.Format, e.Line, e.Reason)
	}
	return e.Format + ": " + e.Reason
}

// Is reports that a ParseError is an ErrInvalid (and a crm.ErrInvalid).
func (e *ParseError) Is(target error) bool { return target == ErrInvalid || target == crm.ErrInvalid }

// Meta is what a transcript says about its meeting besides the speech. Only
// some exports carry it (a Google Meet transcript saved from Google Docs has
// a title, an attendee list and a closing "Meeting ended after 00:42:17"
// line); a field the content does not give is zero.
type Meta struct {
	// Title is the meeting's title, without the " - Transcript" suffix
	// and the "(2026-03-04 10:02 GMT+1)" date Google Meet appends.
	Title string
	// StartedAt is when the meeting started, from the date in its title;
	// zero when not given.
	StartedAt time.Time
	// Attendees are the names the header lists, in order, without
	// duplicates and without Meet's "Dana Lee's Presentation" entries.
	Attendees []string
	// DurationMS is the meeting's length, from a closing "Meeting ended
	// after 00:42:17" line; 0 when not given.
	DurationMS int64
}

// Parsed is a parsed transcript: its normalised segments, the format it was
// read as (after detection) and its meeting metadata.
type Parsed struct {
	Format   string
	Segments []crm.Segment
	Meta     Meta
}

// Parse parses content in the given format ("vtt", "srt", "text" or "json";
// "webvtt", "txt" and "plain" are accepted too, case-insensitively) into
// normalised segments. An empty format means Detect(content). It returns
// ErrTooLong, or an error matching ErrInvalid: a *ParseError or ErrEmpty.
// ParseFull also returns the format used and the meeting's metadata.
func Parse(format string, content []byte) ([]crm.Segment, error) {
	p, err := ParseFull(format, content)
	if err != nil {
		return nil, err
	}
	return p.Segments, nil
}

// ParseFull is Parse that also returns the format the content was read as
// (one of the Format constants; Detect's answer when format is empty) and
// what the content says about the meeting (Meta). Errors are as for Parse.
func ParseFull(format string, content []byte) (Parsed, error) {
	return parseFull(format, func() string { return prepare(content) }, func() []byte { return trimBOM(content) },
		func() string { return Detect(content) })
}

// ParseString is ParseFull for content already held as a string, such as a
// decoded JSON request's field. The text formats (vtt, srt, text) are read
// from it without a copy unless it has carriage returns, and the segments
// may share its memory, so a large transcript is not held twice; only json
// content is copied (to bytes) to be decoded.
func ParseString(format, content string) (Parsed, error) {
	return parseFull(format, func() string { return prepareString(content) },
		func() []byte { return trimBOM([]byte(content)) },
		func() string { return Detect([]byte(content[:min(len(content), detectBytes)])) })
}

// parseFull is ParseFull on content given as a prepared string (text,
// text formats), raw bytes (json) and its detected format, each made only
// when needed.
func parseFull(format string, text func() string, raw func() []byte, detect func() string) (Parsed, error) {
	f := strings.ToLower(strings.TrimSpace(format))
	if f == "" {
		f = detect()
	}
	var (
		frags []fragment
		meta  Meta
		err   error
	)
	switch f {
	case FormatVTT, "webvtt":
		f = FormatVTT
		frags, err = parseVTT(text())
	case FormatSRT:
		frags, err = parseSRT(text())
	case FormatText, "txt", "plain":
		f = FormatText
		frags, meta, err = parseText(text())
	case FormatJSON:
		frags, err = parseJSON(raw())
	default:
		return Parsed{}, &ParseError{Format: "transcript", Reason: fmt.Sprintf("unknown format %q (want vtt, srt, text or json)", format)}
	}
	if err != nil {
		return Parsed{}, err
	}
	segs, err := normalize(frags)
	if err != nil {
		return Parsed{}, err
	}
	return Parsed{Format: f, Segments: segs, Meta: meta}, nil
}

// FromSegments normalises a segments array a client posted directly (API.md:
// `segments:[{speaker,start_ms,end_ms,text}]`) exactly as the parsers'
// output is normalised; the input's Index values are ignored. An EndMS of 0
// after a positive StartMS is taken as "not given" and filled from the next
// segment's start. Errors are as for Parse.
func FromSegments(in []crm.Segment) ([]crm.Segment, error) {
	frags := make([]fragment, 0, len(in))
	for _, s := range in {
		frags = append(frags, fragment{
			speaker: s.Speaker,
			text:    s.Text,
			start:   s.StartMS,
			end:     s.EndMS,
			hasEnd:  !(s.EndMS == 0 && s.StartMS > 0),
		})
	}
	return normalize(frags)
}

// detectBytes is how much of the content (with a BOM) Detect reads.
const detectBytes = 4096 + 3

// Detect guesses the format of content: a WEBVTT header is "vtt"; a first
// cue made of a numeric index line and a "-->" timing line (or a timing line
// alone) is "srt"; a leading '{' or '[' opening a JSON object or array is
// "json"; anything else is "text" (which includes Otter exports and Google
// Meet transcripts saved from Google Docs). It never fails.
func Detect(content []byte) string {
	b := trimBOM(content)
	if len(b) > detectBytes-3 {
		b = b[:detectBytes-3]
	}
	s := strings.TrimLeft(string(b), " \t\r\n")
	if isVTTHeader(firstLine(s)) {
		return FormatVTT
	}
	if s != "" {
		switch s[0] {
		case '{':
			return FormatJSON
		case '[':
			rest := strings.TrimLeft(s[1:], " \t\r\n")
			if rest == "" || rest[0] == '{' || rest[0] == ']' {
				return FormatJSON
			}
		}
	}
	l1, rest, _ := strings.Cut(s, "\n")
	l1 = strings.TrimSuffix(l1, "\r")
	l2 := firstLine(rest)
	if strings.Contains(l1, "-->") || (isDigits(strings.TrimSpace(l1)) && strings.Contains(l2, "-->")) {
		return FormatSRT
	}
	return FormatText
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, "\r")
}

// isVTTHeader reports whether line is a WebVTT signature line: "WEBVTT"
// alone or followed by a space or tab and free text.
func isVTTHeader(line string) bool {
	rest, ok := strings.CutPrefix(line, "WEBVTT")
	return ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t')
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return b[3:]
	}
	return b
}

// prepare turns content into a string with a leading BOM removed and every
// CRLF or lone CR turned into LF.
func prepare(content []byte) string {
	return prepareString(string(content))
}

// prepareString is prepare for a string: without a BOM or a CR it is the
// string itself, not a copy.
func prepareString(s string) string {
	s = strings.TrimPrefix(s, "\uFEFF")
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return s
}

// isBlank reports whether a line holds only whitespace.
func isBlank(line string) bool {
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case ' ', '\t', '\f', '\v':
		default:
			return false
		}
	}
	return true
}
