package retrieval

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"logbook/internal/crm"
)

// Chunk sizes, in words (a word is about 1.3 tokens). A chunk grows turn by
// turn until it holds TargetWords, never past MaxWords; the next chunk
// repeats the last turn of the one before when that turn is short
// (OverlapWords or fewer), so an answer that spans the cut is found whole.
const (
	TargetWords  = 200
	MaxWords     = 300
	OverlapWords = 40
)

// unit is a piece of text that is never cut: a speaker turn, or a run of
// whole sentences of a long turn.
type unit struct {
	text    string
	words   int
	segment *int
	speaker *string
	startMS *int64
	endMS   *int64
}

// ChunkTranscript cuts a meeting's segments into chunks along speaker
// turns. Each line of a chunk is "Speaker: text"; the chunk keeps the
// speaker of its first line, its time span, the segments it covers and,
// per line, the segment, speaker and moment a quote from it is cited to.
// A turn longer than MaxWords is cut between sentences; only a single
// sentence longer than MaxWords is cut between words.
func ChunkTranscript(segs []crm.Segment) []crm.Chunk {
	var units []unit
	for i := range segs {
		s := &segs[i]
		text := strings.TrimSpace(s.Text)
		if text == "" {
			continue
		}
		idx := s.Index
		speaker := s.Speaker
		start, end := s.StartMS, s.EndMS
		// The "Speaker:" prefix counts towards the line's words.
		for _, part := range splitWords(text, max(MaxWords-countWords(speaker), 1)) {
			units = append(units, unit{text: part, words: countWords(part) + countWords(speaker), segment: &idx, speaker: &speaker,
				startMS: &start, endMS: &end})
		}
	}
	return pack(units, crm.ChunkTranscript, func(u unit) string {
		if u.speaker == nil || *u.speaker == "" {
			return u.text
		}
		return *u.speaker + ": " + u.text
	}, true)
}

// notesUnits are the lines of a meeting's notes, each cited to the first
// segment of its evidence.
func notesUnits(n crm.Notes) []unit {
	var units []unit
	add := func(label, text string, ev []crm.Evidence) {
		text = strings.TrimSpace(text)
		if text == "" {
			return
		}
		u := unit{text: label + ": " + text}
		if len(ev) > 0 {
			seg, sp, st := ev[0].Segment, ev[0].Speaker, ev[0].StartMS
			u.segment, u.startMS = &seg, &st
			if sp != "" {
				u.speaker = &sp
			}
		}
		for _, part := range splitWords(u.text, MaxWords) {
			p := u
			p.text, p.words = part, countWords(part)
			units = append(units, p)
		}
	}
	add("Summary", n.Summary, n.SummaryEvidence)
	for _, p := range n.KeyPoints {
		add("Key point", p.Text, p.Evidence)
	}
	for _, p := range n.Decisions {
		add("Decision", p.Text, p.Evidence)
	}
	for _, p := range n.Risks {
		add("Risk", p.Text, p.Evidence)
	}
	for _, a := range n.ActionItems {
		var extra []string
		if a.Owner != nil && *a.Owner != "" {
			extra = append(extra, "owner "+*a.Owner)
		}
		if a.DueDate != nil {
			extra = append(extra, "due "+a.DueDate.Format(time.DateOnly))
		}
		text := a.Text
		if len(extra) > 0 {
			text += " (" + strings.Join(extra, ", ") + ")"
		}
		add("Action item", text, a.Evidence)
	}
	return units
}

// ChunkNotes cuts a meeting's validated notes (summary, key points,
// decisions, risks, action items) into chunks, each line cited to the
// first transcript segment its evidence names.
func ChunkNotes(n crm.Notes) []crm.Chunk {
	return pack(notesUnits(n), crm.ChunkNotes, func(u unit) string { return u.text }, false)
}

// ChunkActivity cuts an activity's own text into chunks: its subject, body,
// disposition and next step, with the activity's type first so "the
// voicemail we left" finds voicemails. An activity with no text has none.
func ChunkActivity(a crm.Activity) []crm.Chunk {
	var head []string
	label := string(a.Type)
	if a.Disposition != nil && *a.Disposition != "" {
		label += " (" + *a.Disposition + ")"
	}
	if a.Subject != nil && strings.TrimSpace(*a.Subject) != "" {
		head = append(head, strings.TrimSpace(*a.Subject))
	}
	var body []string
	if a.Body != nil && strings.TrimSpace(*a.Body) != "" {
		body = append(body, strings.TrimSpace(*a.Body))
	}
	if a.NextStep != nil && a.NextStep.Text != "" {
		ns := "Next step: " + a.NextStep.Text
		if a.NextStep.DueDate != nil {
			ns += " (due " + a.NextStep.DueDate.Format(time.DateOnly) + ")"
		}
		body = append(body, ns)
	}
	if len(head) == 0 && len(body) == 0 {
		return nil
	}
	first := capitalize(label)
	if len(head) > 0 {
		first += ": " + head[0]
	}
	units := []unit{{text: first, words: countWords(first)}}
	for _, b := range body {
		for _, part := range splitWords(b, MaxWords) {
			units = append(units, unit{text: part, words: countWords(part)})
		}
	}
	return pack(units, crm.ChunkActivity, func(u unit) string { return u.text }, false)
}

func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// pack groups units into chunks of about TargetWords, each line rendered by
// line. With overlap, a chunk starts with the previous chunk's last unit
// when that unit is short.
func pack(units []unit, kind crm.ChunkKind, line func(unit) string, overlap bool) []crm.Chunk {
	var out []crm.Chunk
	for i := 0; i < len(units); {
		start := i
		words := 0
		for i < len(units) && (i == start || (words < TargetWords && words+units[i].words <= MaxWords)) {
			words += units[i].words
			i++
		}
		out = append(out, build(units[start:i], kind, len(out), line))
		if overlap && i < len(units) && i-start > 1 && units[i-1].words <= OverlapWords {
			i-- // the next chunk repeats this short unit
			if i == start {
				i++
			}
		}
	}
	return out
}

func build(us []unit, kind crm.ChunkKind, pos int, line func(unit) string) crm.Chunk {
	c := crm.Chunk{Kind: kind, Position: pos}
	var b strings.Builder
	for _, u := range us {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		c.Lines = append(c.Lines, crm.ChunkLine{Offset: b.Len(), Segment: u.segment, Speaker: u.speaker, StartMS: u.startMS, EndMS: u.endMS})
		b.WriteString(line(u))
		if u.segment != nil {
			if c.SegFirst == nil {
				c.SegFirst = u.segment
			}
			c.SegLast = u.segment
		}
		if u.startMS != nil && c.StartMS == nil {
			c.StartMS = u.startMS
		}
		if u.endMS != nil {
			c.EndMS = u.endMS
		}
	}
	if len(us) > 0 {
		c.Speaker = us[0].speaker
	}
	if kind == crm.ChunkNotes {
		// A notes chunk spans the meeting, not a moment in it.
		c.StartMS, c.EndMS, c.SegFirst, c.SegLast, c.Speaker = nil, nil, nil, nil, nil
	}
	c.Text = b.String()
	return c
}

// countWords counts whitespace-separated words.
func countWords(s string) int { return len(strings.Fields(s)) }

// splitWords returns text whole when it has at most max words, and
// otherwise cut into runs of whole sentences of at most max words each; a
// sentence longer than max is cut between words.
func splitWords(text string, max int) []string {
	if countWords(text) <= max {
		return []string{text}
	}
	var out []string
	var cur []string
	n := 0
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, " "))
			cur, n = nil, 0
		}
	}
	for _, s := range Sentences(text) {
		w := countWords(s)
		if w > max {
			flush()
			fs := strings.Fields(s)
			for len(fs) > 0 {
				k := min(max, len(fs))
				out = append(out, strings.Join(fs[:k], " "))
				fs = fs[k:]
			}
			continue
		}
		if n+w > max {
			flush()
		}
		cur = append(cur, s)
		n += w
	}
	flush()
	return out
}

// Sentences splits text after '.', '!' or '?' (with any closing quotes or
// brackets) that is followed by whitespace, trimming each sentence.
// Abbreviations such as "e.g." may split early; no word is ever cut.
func Sentences(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != '.' && c != '!' && c != '?' {
			continue
		}
		j := i + 1
		for j < len(text) && strings.IndexByte(`"')]`, text[j]) >= 0 {
			j++
		}
		if j < len(text) && (text[j] == ' ' || text[j] == '\n' || text[j] == '\t') {
			if s := strings.TrimSpace(text[start:j]); s != "" {
				out = append(out, s)
			}
			start = j
			i = j
		}
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		out = append(out, s)
	}
	return out
}
