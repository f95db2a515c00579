package retrieval

import (
	"regexp"
	"slices"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/llm"
)

// marker is a source reference in an answer's text: [3], or [2, 5].
var marker = regexp.MustCompile(`\[(\d+(?:\s*,\s*\d+)*)\]`)

// validate keeps the citations whose source was given and whose quote is
// in one of its lines (findQuoteIn), drops the answer's references to
// anything else and every sentence left citing nothing (sentences as
// answerSentences splits them), and turns each citation into the record it
// cites.
// An answer with no valid citation is NothingOnRecord. answerStream applies
// the same rules (citationCheck, sentenceKeeper) while the answer streams.
func validate(out llm.AnswerOutput, srcs []Hit, orgWide bool) Answer {
	cc := newCitationCheck(srcs, orgWide)
	for _, c := range out.Citations {
		cc.add(c)
	}
	k := sentenceKeeper{valid: cc.valid}
	var kept []string
	for _, sent := range answerSentences(out.Answer) {
		if t, ok := k.push(sent); ok {
			kept = append(kept, t)
		}
	}
	if t, ok := k.settle(); ok {
		kept = append(kept, t)
	}
	text := strings.Join(kept, " ")
	if len(cc.citations) == 0 || text == "" {
		return Answer{Answer: NothingOnRecord, Citations: []Citation{}}
	}
	return Answer{Answer: text, Citations: cc.citations, Grounded: true}
}

// citationCheck validates a model's citations one at a time: a citation
// counts when its source number was given and its quote is in one line of
// that source (findQuoteIn). It collects the valid ones, once each, as the
// records they cite.
type citationCheck struct {
	// citations are the valid citations so far, never nil.
	citations []Citation
	orgWide   bool
	seen      map[string]bool
	srcs      []Hit
	// valid holds the source numbers cited validly so far.
	valid map[int]bool
}

func newCitationCheck(srcs []Hit, orgWide bool) *citationCheck {
	return &citationCheck{citations: []Citation{}, orgWide: orgWide, seen: map[string]bool{}, srcs: srcs, valid: map[int]bool{}}
}

// add checks one citation and keeps it when it is valid.
func (cc *citationCheck) add(c llm.AnswerCitation) {
	if c.Source < 1 || c.Source > len(cc.srcs) {
		return
	}
	h := &cc.srcs[c.Source-1]
	lines := quoteLines(&h.Chunk)
	li, start, end := findQuoteIn(h.Text, lines, c.Quote)
	if li < 0 {
		return
	}
	cc.valid[c.Source] = true
	quote := h.Text[start:end]
	key := h.ID + "\x00" + quote
	if cc.seen[key] {
		return
	}
	cc.seen[key] = true
	l := lines[li]
	cit := Citation{N: c.Source, ActivityID: h.ActivityID, ChunkID: h.ID, OccurredAt: h.OccurredAt, Type: h.ActivityType,
		Speaker: l.line.Speaker, Quote: quote, StartMS: msOf(l.line.StartMS), EndMS: msOf(l.endMS)}
	if cc.orgWide {
		cit.AccountID = h.AccountID
	}
	cc.citations = append(cc.citations, cit)
}

func msOf(v *int64) *int {
	if v == nil {
		return nil
	}
	ms := int(*v)
	return &ms
}

// quoteLine is one line of a chunk as a quote may be taken from it: its
// text without the label the chunk gives it ("Maya Patel: " before a
// transcript line, "Decision: " before a line of notes, "Email: " before an
// activity's subject), which is not the record's words.
type quoteLine struct {
	start, end int // the text's byte span in the chunk's text
	labelStart int // where its label starts (start when it has none)
	line       crm.ChunkLine
	// endMS is when the line's transcript segment ends (nil when unknown).
	endMS *int64
}

// quoteLines returns the lines of a chunk a quote may be taken from. A
// chunk without valid line offsets is read line by line from its text
// (unlabelledLines).
func quoteLines(c *crm.Chunk) []quoteLine {
	ok := len(c.Lines) > 0
	for i, l := range c.Lines {
		if l.Offset < 0 || l.Offset > len(c.Text) || (i > 0 && l.Offset <= c.Lines[i-1].Offset) {
			ok = false
		}
	}
	if !ok {
		return unlabelledLines(c.Text)
	}
	out := make([]quoteLine, len(c.Lines))
	for i, l := range c.Lines {
		end := len(c.Text)
		if i+1 < len(c.Lines) {
			end = c.Lines[i+1].Offset
		}
		text := strings.TrimRight(c.Text[l.Offset:end], "\n")
		start := l.Offset + labelLen(c, i, text)
		out[i] = quoteLine{start: start, labelStart: l.Offset, end: l.Offset + len(text), line: l, endMS: lineEnd(c, i)}
	}
	return out
}

// unlabelledLines are the lines of a chunk that does not record where its
// lines start: each line of its text, without a label when one opens it
// (isLabel: "Maya Patel: …").
func unlabelledLines(text string) []quoteLine {
	var out []quoteLine
	off := 0
	for _, raw := range strings.SplitAfter(text, "\n") {
		line := strings.TrimRight(raw, "\n")
		l := quoteLine{start: off, labelStart: off, end: off + len(line)}
		if label, _, ok := strings.Cut(line, ": "); ok && isLabel(label) {
			l.start += len(label) + 2
		}
		out = append(out, l)
		off += len(raw)
	}
	return out
}

// labelLen is the length of the label that opens line i of a chunk (text
// is the line's text), 0 when it has none.
func labelLen(c *crm.Chunk, i int, text string) int {
	switch {
	case c.Kind == crm.ChunkTranscript:
		if sp := c.Lines[i].Speaker; sp != nil && *sp != "" && strings.HasPrefix(text, *sp+": ") {
			return len(*sp) + 2
		}
	case c.Kind == crm.ChunkNotes, c.Kind == crm.ChunkActivity && c.Position == 0 && i == 0:
		if k := strings.Index(text, ": "); k >= 0 {
			return k + 2
		}
	}
	return 0
}

// lineEnd is when line i of a transcript chunk ends: as recorded, or, for
// chunks stored before lines recorded it, when the next segment's line
// starts (the chunk's end for its last segment).
func lineEnd(c *crm.Chunk, i int) *int64 {
	l := c.Lines[i]
	if l.EndMS != nil || c.Kind != crm.ChunkTranscript || l.StartMS == nil {
		return l.EndMS
	}
	for _, n := range c.Lines[i+1:] {
		if n.StartMS != nil && (n.Segment == nil || l.Segment == nil || *n.Segment != *l.Segment) {
			return n.StartMS
		}
	}
	return c.EndMS
}

// findQuoteIn finds quote in one of the lines of text (findQuote) and
// returns the line's index and the byte span of text it matches; -1 when
// no line holds it. A quote that opens with a label ("Maya Patel: we
// promised …", as the prompt shows each line) is found without it: the
// label is not the record's words. A quote that runs over two lines is not
// in one line, and is not found.
func findQuoteIn(text string, lines []quoteLine, quote string) (int, int, int) {
	try := func(q string) (int, int, int) {
		for i, l := range lines {
			if off, m := findQuote(text[l.start:l.end], q); off >= 0 {
				return i, l.start + off, l.start + off + len(m)
			}
		}
		return -1, 0, 0
	}
	if i, start, end := try(quote); i >= 0 {
		return i, start, end
	}
	// The label may have lost its colon ("Maya Patel we promised …").
	qw, spans := normWordSpans(quote)
	for _, l := range lines {
		lw := normWords(text[l.labelStart:l.start])
		if len(lw) > 0 && len(qw) > len(lw) && slices.Equal(qw[:len(lw)], lw) {
			if i, start, end := try(quote[spans[len(lw)][0]:]); i >= 0 {
				return i, start, end
			}
		}
	}
	if label, rest, ok := strings.Cut(quote, ":"); ok && isLabel(label) {
		return try(rest)
	}
	return -1, 0, 0
}

// isLabel reports whether s can be a line's label: a name or a kind of
// record, one to four words, with no sentence punctuation in it.
func isLabel(s string) bool {
	n := len(strings.Fields(s))
	return n >= 1 && n <= 4 && !strings.ContainsAny(s, ".?!,;\"\n")
}
