package retrieval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/prompts"
)

// NothingOnRecord is the answer when no record bears on the question, or
// when the model's answer cited nothing it was given.
const NothingOnRecord = "Nothing on record answers this."

// MinCoverage is the share of a question's content words a chunk must hold
// to count as relevant on words alone (a chunk close in meaning counts
// too: Config.MinSimilarity).
const MinCoverage = 0.5

// answerSchema is the strict JSON Schema of an answer (llm.AnswerOutput).
// citations comes before answer on purpose: strict structured output
// generates properties in schema order, so the citations are complete, and
// checked, before the first word of the answer arrives, and the answer can
// then stream sentence by sentence with nothing uncited in it (answerStream).
var answerSchema = llm.Schema{Name: "account_answer", JSON: json.RawMessage(`{
	"type": "object",
	"properties": {
		"citations": {"type": "array", "items": {
			"type": "object",
			"properties": {"source": {"type": "integer"}, "quote": {"type": "string"}},
			"required": ["source", "quote"],
			"additionalProperties": false
		}},
		"answer": {"type": "string"}
	},
	"required": ["citations", "answer"],
	"additionalProperties": false
}`)}

// Streamer is a Completer that can stream a completion's text as it is
// generated (the openai provider). Answers stream through it when the
// caller asks for tokens; other completers answer whole and the answer is
// then sent word by word. CompleteStream calls onDelta with each piece of
// text in order, stops when onDelta fails and returns that error (wrapped
// or not), and returns the whole completion only when the stream finished.
type Streamer interface {
	CompleteStream(ctx context.Context, req llm.CompletionRequest, onDelta func(string) error) (llm.Completion, error)
}

// ErrNoCompleter means the Service was built without a Completer.
var ErrNoCompleter = errors.New("retrieval: no completer configured")

// Ask answers a question from the org's records (the account's alone when
// q.AccountID is set). It searches, keeps the hits relevant enough to
// answer from, and asks the model with them as numbered sources; without
// any, it answers NothingOnRecord, ungrounded, without asking the model to
// guess. The model's citations are validated against the sources given:
// a source number it was not given, or a quote that is not the words of
// one line of its source, is dropped (a quote that opens with the line's
// label, "Maya Patel: …", is kept without it: the speaker is the
// citation's Speaker), and an answer left with no valid citation is
// replaced by NothingOnRecord. Each citation carries the number n its
// "[n]" references use and the span of the segment it quotes; every [n]
// left in the answer names a citation.
//
// onToken, when set, receives the answer's text; the tokens, joined, are
// exactly the returned (validated) Answer.Answer, and nothing validation
// drops is ever sent. With a Streamer they come as the model writes:
// once the model's citations are complete and checked, each sentence is
// sent as soon as it is complete and known to be kept, in the form the
// validated answer has it, and the last one after validation. Otherwise,
// or when the model wrote its answer before its citations, the validated
// answer is sent word by word when it is known. When Ask fails after
// tokens were sent, they are not an answer.
func (s *Service) Ask(ctx context.Context, q Question, onToken func(string) error) (Answer, error) {
	if s.cfg.Completer == nil {
		return Answer{}, ErrNoCompleter
	}
	hits, err := s.Search(ctx, q, Hybrid, s.cfg.Sources)
	if err != nil {
		return Answer{}, err
	}
	var srcs []Hit
	for _, h := range hits {
		if h.Similarity >= s.cfg.MinSimilarity || h.Coverage >= MinCoverage {
			srcs = append(srcs, h)
		}
	}
	if len(srcs) == 0 {
		a := Answer{Answer: NothingOnRecord, Citations: []Citation{}}
		return a, sendWords(onToken, a.Answer)
	}
	in := prompts.AnswerInput{Question: q.Text}
	for i, h := range srcs {
		src := prompts.Source{N: i + 1, Text: h.Text, OccurredAt: h.OccurredAt, Type: h.ActivityType}
		if h.Speaker != nil {
			src.Speaker = *h.Speaker
		}
		in.Sources = append(in.Sources, src)
	}
	ps := slices.Clone(in.Sources)
	for i, src := range in.Sources {
		// A transcript excerpt's lines name their speakers ("Dana Lee: …"):
		// the prompt does not name the first one again before them.
		if src.Speaker != "" && strings.HasPrefix(src.Text, src.Speaker+":") {
			ps[i].Speaker = ""
		}
	}
	p, err := prompts.Answer(prompts.AnswerInput{Question: in.Question, Sources: ps})
	if err != nil {
		return Answer{}, err
	}
	req := llm.CompletionRequest{
		Purpose: p.Purpose(), System: p.System, Messages: []llm.Message{{Role: "user", Content: p.User}},
		JSON: true, Schema: &answerSchema, MaxTokens: 800, Data: &in,
	}
	return s.answer(ctx, req, srcs, q.AccountID == "", onToken)
}

// answer asks the model for the answer, validates it and sends it to
// onToken (streaming it when the completer can), asking once more when
// the answer is not the JSON asked for.
//
// The retry and the stream: nothing is streamed before the model's
// citations are complete and checked, and only sentences validate keeps,
// so an attempt whose JSON turns out malformed has usually sent nothing,
// and is then retried (streamed again) as if it had never been. Once a
// token is out, no second answer is asked for, since it could contradict
// the first: a failure after that point (a cut stream, a truncated or
// malformed answer) is returned as ErrUnavailable, and the API ends the
// stream with an error event.
func (s *Service) answer(ctx context.Context, req llm.CompletionRequest, srcs []Hit, orgWide bool, onToken func(string) error) (Answer, error) {
	st, canStream := s.cfg.Completer.(Streamer)
	canStream = canStream && onToken != nil
	var last error
	for range 2 {
		var (
			c   llm.Completion
			err error
			as  *answerStream
		)
		if canStream {
			as = newAnswerStream(srcs, orgWide, onToken)
			c, err = st.CompleteStream(ctx, req, as.write)
		} else {
			c, err = s.cfg.Completer.Complete(ctx, req)
		}
		if err != nil {
			if as != nil && as.emitErr != nil && errors.Is(err, as.emitErr) {
				// onToken's own failure (the client went away), not the
				// model's.
				return Answer{}, as.emitErr
			}
			return Answer{}, fmt.Errorf("%w: answer: %w", ErrUnavailable, err)
		}
		var out llm.AnswerOutput
		if last = json.Unmarshal([]byte(c.Text), &out); last != nil {
			if as != nil && as.streamed() {
				return Answer{}, fmt.Errorf("%w: the model's answer stopped being the JSON asked for after it began to stream: %w",
					ErrUnavailable, last)
			}
			continue
		}
		a := validate(out, srcs, orgWide)
		if as != nil {
			err = as.finish(a.Answer)
		} else {
			err = sendWords(onToken, a.Answer)
		}
		if err != nil {
			return Answer{}, err
		}
		return a, nil
	}
	return Answer{}, fmt.Errorf("%w: the model's answer is not the JSON asked for: %w", ErrUnavailable, last)
}

// sendWords sends text to onToken a word (with its following space) at a
// time.
func sendWords(onToken func(string) error, text string) error {
	if onToken == nil {
		return nil
	}
	for len(text) > 0 {
		i := strings.IndexByte(text, ' ')
		if i < 0 {
			i = len(text) - 1
		}
		if err := onToken(text[:i+1]); err != nil {
			return err
		}
		text = text[i+1:]
	}
	return nil
}

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

// sentenceKeeper applies the sentence rules of a validated answer to the
// answer's sentences (as answerSentences splits them), one at a time: a sentence
// keeps only its references to valid sources, and goes when it cites no
// valid source; references that open a sentence ("… on track. [1] The
// next …", or a last sentence "… on track. [1]") belong to the sentence
// before it. validate and answerStream both use it, so a streamed answer
// and a validated one cannot differ.
type sentenceKeeper struct {
	// valid holds the source numbers cited validly.
	valid map[int]bool
	// pending is the last sentence pushed, with the references that
	// opened the sentences after it; has says whether there is one.
	pending string
	has     bool
	// leadTaken says the references opening the next sentence pushed are
	// in pending already (settleBefore took them).
	leadTaken bool
}

// push adds the next sentence. It returns the sentence before it in its
// kept form, with ok true, when that sentence is now complete and kept.
func (k *sentenceKeeper) push(sent string) (kept string, ok bool) {
	lead, rest := leadingMarkers(sent)
	if k.leadTaken {
		sent, k.leadTaken = rest, false
	} else if k.has && lead != "" {
		k.pending += " " + lead
		sent = rest
	}
	if k.has && strings.TrimSpace(sent) == "" {
		return "", false
	}
	prev, had := k.pending, k.has
	k.pending, k.has = sent, true
	if !had {
		return "", false
	}
	return keepSentence(prev, k.valid)
}

// settle ends the pending sentence: the next one, if any, is known not to
// be references only. It returns the sentence in its kept form, with ok
// true, when it is kept.
func (k *sentenceKeeper) settle() (kept string, ok bool) {
	if !k.has {
		return "", false
	}
	k.has = false
	return keepSentence(k.pending, k.valid)
}

// settleBefore ends the pending sentence while next, the sentence after
// it, is still being written but already holds more than references: the
// references that open next are final, so they join the pending sentence
// now, and push will not take them again.
func (k *sentenceKeeper) settleBefore(next string) (kept string, ok bool) {
	if !k.has {
		return "", false
	}
	if lead, _ := leadingMarkers(next); lead != "" {
		k.pending += " " + lead
	}
	k.leadTaken = true
	return k.settle()
}

// maxQuotation is the most bytes a quotation in an answer can run
// before the sentence ends in it split the answer's sentences again: past
// it, a quotation mark is taken to be a stray one.
const maxQuotation = 600

// answerSentences splits an answer into sentences as Sentences does, except
// inside a quotation: "Maya said: \"We ship in April. It is on track.\" [1]"
// is one sentence, whose reference backs the whole quotation. A straight
// quotation mark opens a quotation after white space, an opening bracket
// or at the start, and otherwise closes one; a curly one says which it is.
// A line break, or maxQuotation bytes, ends a quotation left open. Like
// Sentences, it splits a text's prefix where it splits the whole text,
// except that the prefix's last sentence may grow (TestSentencesArePrefixStable).
func answerSentences(text string) []string {
	var out []string
	start, open := 0, -1 // open: where the open quotation began (-1: none)
	quote := func(i int, r rune) {
		switch {
		case r == '\u201c' || (r == '"' && open < 0 && (i == 0 || strings.IndexByte(" \t\n([", text[i-1]) >= 0)):
			open = i
		case r == '\u201d' || r == '"':
			open = -1
		}
	}
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if r == '\n' {
			open = -1
		}
		if r != '.' && r != '!' && r != '?' {
			quote(i, r)
			i += n
			continue
		}
		j := i + 1
		for j < len(text) {
			r, n := utf8.DecodeRuneInString(text[j:])
			if r != '"' && r != '\'' && r != ')' && r != ']' && r != '\u201d' {
				break
			}
			if r == '"' || r == '\u201d' {
				open = -1 // a mark after a sentence's end closes
			}
			j += n
		}
		if open >= 0 && i-open > maxQuotation {
			open = -1
		}
		if open < 0 && j < len(text) && (text[j] == ' ' || text[j] == '\n' || text[j] == '\t') {
			if s := strings.TrimSpace(text[start:j]); s != "" {
				out = append(out, s)
			}
			start = j
		}
		i = j
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// leadingRefs matches the source references that open a sentence.
var leadingRefs = regexp.MustCompile(`^\s*(?:\[\d+(?:\s*,\s*\d+)*\]\s*)+`)

// leadingMarkers splits sent into the references that open it and the
// rest.
func leadingMarkers(sent string) (lead, rest string) {
	n := len(leadingRefs.FindString(sent))
	return strings.TrimSpace(sent[:n]), sent[n:]
}

// keepSentence returns sent with its references to sources not in valid
// removed and its spacing tidied, and whether it still cites a valid
// source (if not, it is not on record and goes).
func keepSentence(sent string, valid map[int]bool) (string, bool) {
	cited := false
	sent = marker.ReplaceAllStringFunc(sent, func(m string) string {
		var keep []string
		for _, n := range strings.Split(m[1:len(m)-1], ",") {
			k, err := strconv.Atoi(strings.TrimSpace(n))
			if err == nil && valid[k] {
				keep = append(keep, strconv.Itoa(k))
			}
		}
		if len(keep) == 0 {
			return ""
		}
		cited = true
		return "[" + strings.Join(keep, ", ") + "]"
	})
	if !cited {
		return "", false
	}
	sent = strings.Join(strings.Fields(sent), " ")
	return strings.ReplaceAll(sent, " .", "."), true
}

// findQuote finds quote in text, ignoring case, punctuation and spacing
// differences (models tidy quotes), and returns where it starts in text and
// the passage of text it matches, with the punctuation that ends the quote
// when the text has the same there; -1 when it is not there. A quote of fewer
// than two words is not evidence of anything.
func findQuote(text, quote string) (int, string) {
	qw := normWords(quote)
	if len(qw) < 2 {
		return -1, ""
	}
	tw, spans := normWordSpans(text)
	for i := 0; i+len(qw) <= len(tw); i++ {
		if slices.Equal(tw[i:i+len(qw)], qw) {
			start, end := spans[i][0], spans[i+len(qw)-1][1]
			// The punctuation that ends the quote, when the text has it
			// there too ("… in June." or "… in June ?").
			tail := quote[strings.LastIndexFunc(quote, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) })+1:]
			if tail = strings.TrimRightFunc(tail, unicode.IsSpace); tail != "" && strings.HasPrefix(text[end:], tail) {
				end += len(tail)
			}
			return start, text[start:end]
		}
	}
	return -1, ""
}

func normWords(s string) []string {
	ws, _ := normWordSpans(s)
	return ws
}

// normWordSpans returns s's lower-cased words (letters and digits; an
// apostrophe inside a word is kept out) and each word's byte span.
func normWordSpans(s string) ([]string, [][2]int) {
	var ws []string
	var spans [][2]int
	start := -1
	var b strings.Builder
	flush := func(end int) {
		if start >= 0 {
			ws = append(ws, b.String())
			spans = append(spans, [2]int{start, end})
			b.Reset()
			start = -1
		}
	}
	for i, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if start < 0 {
				start = i
			}
			b.WriteRune(unicode.ToLower(r))
		case (r == '\'' || r == '’') && start >= 0:
			// "don't" and "don’t" are one word either way
		default:
			flush(i)
		}
	}
	flush(len(s))
	return ws, spans
}

// answerStream reads a streamed answer (the JSON object of answerSchema,
// arriving in pieces through write) and sends onward only what validate
// will keep. It collects and checks the citations as each one completes;
// once the citations array is closed, it follows the answer string and
// sends each sentence as soon as it is complete and known to be kept, in
// its kept form (sentenceKeeper), preceded by a space after the first. The
// last kept sentence waits for finish, after validation.
//
// If the answer comes before the citations (JSON mode servers keep no
// order), or the text stops being the JSON expected, it sends nothing more
// and the caller's validation decides; finish then sends the validated
// answer word by word when nothing was sent. The parser is deliberately
// not the judge of the answer: encoding/json decodes the whole text, and
// finish refuses to complete a stream whose tokens are not the start of
// the validated answer (a model that wrote "answer" twice, say), so the
// tokens can only ever spell the validated answer.
type answerStream struct {
	emit func(string) error
	// emitErr is the error emit returned; nothing is sent after it.
	emitErr error
	// sent is everything sent so far.
	sent strings.Builder

	cits *citationCheck
	keep sentenceKeeper
	// live is set when the answer string began after the citations array
	// closed: its sentences are streamed.
	live bool
	// pushed counts the answer's sentences given to keep.
	pushed int

	buf         []byte
	pos         int // next byte of buf to parse
	state       parseState
	first       bool   // no member or element yet in the current object or array
	key         string // the member being read
	answerStart int    // offset of the answer string's opening quote
	seenAnswer  bool
	seenCits    bool
	citsClosed  bool
}

// parseState is where answerStream is in the answer's JSON.
type parseState int

const (
	psObject       parseState = iota // before the opening brace
	psKey                            // expecting a member name (or "}" when first)
	psColon                          // expecting ":"
	psValue                          // expecting a member's value
	psCitation                       // in the citations array: an element (or "]" when first)
	psCitationNext                   // after a citation: "," or "]"
	psAnswer                         // inside the answer string
	psNext                           // after a member: "," or "}"
	psDone                           // after the closing brace: only space may follow
	psFailed                         // not the JSON expected: parse nothing more
)

func newAnswerStream(srcs []Hit, orgWide bool, emit func(string) error) *answerStream {
	cits := newCitationCheck(srcs, orgWide)
	return &answerStream{emit: emit, cits: cits, keep: sentenceKeeper{valid: cits.valid}}
}

// write takes the next piece of the model's text (the Streamer's onDelta).
// It returns onToken's error, which stops the stream.
func (x *answerStream) write(delta string) error {
	if x.emitErr != nil {
		return x.emitErr
	}
	x.buf = append(x.buf, delta...)
	x.parse()
	return x.emitErr
}

// streamed reports whether any token was sent.
func (x *answerStream) streamed() bool { return x.sent.Len() > 0 }

// finish sends what is left of the validated answer after the tokens
// already sent: all of it, word by word, when nothing was sent; otherwise
// the rest, which begins at a sentence boundary. Tokens that are not the
// start of the validated answer (the model's JSON said two things, and the
// stream read the other one) make it fail with ErrUnavailable.
func (x *answerStream) finish(answer string) error {
	if x.emitErr != nil {
		return x.emitErr
	}
	if !x.streamed() {
		return sendWords(x.emit, answer)
	}
	rest, ok := strings.CutPrefix(answer, x.sent.String())
	if !ok || (rest != "" && rest[0] != ' ') {
		return fmt.Errorf("%w: the model's answer is ambiguous JSON: the streamed part is not the validated answer", ErrUnavailable)
	}
	if rest == "" {
		return nil
	}
	return x.emit(rest)
}

// send sends one kept sentence.
func (x *answerStream) send(sent string) {
	if x.emitErr != nil {
		return
	}
	if x.streamed() {
		sent = " " + sent
	}
	x.sent.WriteString(sent)
	x.emitErr = x.emit(sent)
}

// parse reads as far into buf as it can.
func (x *answerStream) parse() {
	for x.state != psFailed && x.emitErr == nil {
		if x.state == psAnswer {
			if !x.readAnswer() {
				return
			}
			continue
		}
		for x.pos < len(x.buf) && isJSONSpace(x.buf[x.pos]) {
			x.pos++
		}
		if x.pos == len(x.buf) {
			return
		}
		c := x.buf[x.pos]
		switch x.state {
		case psObject:
			if c != '{' {
				x.state = psFailed
				continue
			}
			x.pos++
			x.state, x.first = psKey, true
		case psKey:
			if c == '}' && x.first {
				x.pos++
				x.state = psDone
				continue
			}
			end := scanJSONString(x.buf, x.pos)
			if end == -1 {
				return
			}
			if end < 0 || json.Unmarshal(x.buf[x.pos:end], &x.key) != nil {
				x.state = psFailed
				continue
			}
			x.pos, x.state = end, psColon
		case psColon:
			if c != ':' {
				x.state = psFailed
				continue
			}
			x.pos++
			x.state = psValue
		case psValue:
			switch {
			case x.key == "citations" && !x.seenCits && c == '[':
				x.seenCits = true
				x.pos++
				x.state, x.first = psCitation, true
			case x.key == "answer" && !x.seenAnswer && c == '"':
				x.seenAnswer, x.live = true, x.citsClosed
				x.answerStart = x.pos
				x.pos++
				x.state = psAnswer
			case x.key == "citations" || x.key == "answer":
				// Twice, or not an array or a string: encoding/json will
				// decide what it means; stream no more of it.
				x.state = psFailed
			default:
				end := scanJSONValue(x.buf, x.pos)
				if end == -1 {
					return
				}
				if end < 0 || !json.Valid(x.buf[x.pos:end]) {
					x.state = psFailed
					continue
				}
				x.pos, x.state = end, psNext
			}
		case psCitation:
			if c == ']' && x.first {
				x.pos++
				x.state, x.citsClosed = psNext, true
				continue
			}
			end := scanJSONValue(x.buf, x.pos)
			if end == -1 {
				return
			}
			var ac llm.AnswerCitation
			if end < 0 || json.Unmarshal(x.buf[x.pos:end], &ac) != nil {
				x.state = psFailed
				continue
			}
			x.cits.add(ac)
			x.pos, x.state = end, psCitationNext
		case psCitationNext:
			switch c {
			case ',':
				x.pos++
				x.state, x.first = psCitation, false
			case ']':
				x.pos++
				x.state, x.citsClosed = psNext, true
			default:
				x.state = psFailed
			}
		case psNext:
			switch c {
			case ',':
				x.pos++
				x.state, x.first = psKey, false
			case '}':
				x.pos++
				x.state = psDone
			default:
				x.state = psFailed
			}
		case psDone:
			x.state = psFailed // text after the object
		case psAnswer, psFailed:
		}
	}
}

// readAnswer reads the answer string: to its end, feeding the whole text,
// or as far as it has come, feeding what can be decoded of it and
// reporting false (more is needed).
func (x *answerStream) readAnswer() bool {
	end := scanJSONString(x.buf, x.answerStart)
	if end == -1 {
		if !x.live {
			return false
		}
		text, err := decodeStringPrefix(x.buf[x.answerStart+1:])
		if err != nil {
			x.state = psFailed
			return true
		}
		x.feed(text, false)
		return false
	}
	var text string
	if end < 0 || json.Unmarshal(x.buf[x.answerStart:end], &text) != nil {
		x.state = psFailed
		return true
	}
	x.feed(text, true)
	x.pos, x.state = end, psNext
	return true
}

// feed takes the answer's text so far (all of it when complete) and sends
// the sentences that are now complete and kept. answerSentences splits a text the
// same way whatever follows it, except for its last sentence, which may
// still grow (TestSentencesArePrefixStable tests this); so all but the last
// sentence of a partial text are pushed. The one before the last is
// settled early when the last already holds something that no source
// reference can be made of: it will not be merged with what follows.
// (Only an answer's last sentence can be references alone, since every
// other one ends in punctuation; it always goes out through finish.)
func (x *answerStream) feed(text string, complete bool) {
	if !x.live {
		return
	}
	ss := answerSentences(text)
	stable := len(ss) - 1
	if complete {
		stable = len(ss)
	}
	for ; x.pushed < stable; x.pushed++ {
		if t, ok := x.keep.push(ss[x.pushed]); ok {
			x.send(t)
		}
	}
	if !complete && len(ss) > 0 && x.pushed == len(ss)-1 && x.keep.has && !x.keep.leadTaken && !markerAlphabet(ss[len(ss)-1]) {
		if t, ok := x.keep.settleBefore(ss[len(ss)-1]); ok {
			x.send(t)
		}
	}
}

// markerAlphabet reports whether s is made only of what source references
// and the space around them are made of ("[", "]", digits, "," and space),
// so that it might, once complete, be nothing but references.
func markerAlphabet(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !strings.ContainsRune("[],0123456789", r) {
			return false
		}
	}
	return true
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// scanJSONString returns the offset just after the JSON string starting at
// b[i] (a '"'): -1 when b ends inside it, -2 when it is not a string.
func scanJSONString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -2
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '\\':
			j++ // the escaped byte; \uXXXX's digits need no care
		case c == '"':
			return j + 1
		case c < 0x20:
			return -2
		}
	}
	return -1
}

// scanJSONValue returns the offset just after the JSON value starting at
// b[i]: -1 when b ends inside it (or may: a number at the end of b), -2
// when it cannot be one. It finds where the value ends; json.Valid or
// json.Unmarshal judges it.
func scanJSONValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return scanJSONString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end := scanJSONString(b, j)
				if end < 0 {
					return end
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	case ',', ':', '}', ']':
		return -2
	default: // a number, true, false or null
		for j := i; j < len(b); j++ {
			if c := b[j]; c == ',' || c == '}' || c == ']' || isJSONSpace(c) {
				return j
			}
		}
		return -1
	}
}

// decodeStringPrefix decodes the body of an unfinished JSON string (after
// its opening quote): as much of it as can be decoded for certain, leaving
// out an escape, a surrogate pair or a UTF-8 sequence cut at the end.
func decodeStringPrefix(raw []byte) (string, error) {
	cut := len(raw)
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if i+1 >= len(raw) {
			cut = i
			break
		}
		if raw[i+1] != 'u' {
			i++
			continue
		}
		if i+6 > len(raw) {
			cut = i
			break
		}
		// A high surrogate decodes only with the low one after it.
		if v, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 16); err == nil && v >= 0xD800 && v < 0xDC00 && i+12 > len(raw) {
			cut = i
			break
		}
		i += 5
	}
	k := cut
	for k > 0 && cut-k < utf8.UTFMax && !utf8.RuneStart(raw[k-1]) {
		k--
	}
	if k > 0 && !utf8.FullRune(raw[k-1:cut]) {
		cut = k - 1
	}
	var s string
	err := json.Unmarshal(append(append([]byte{'"'}, raw[:cut]...), '"'), &s)
	return s, err
}
