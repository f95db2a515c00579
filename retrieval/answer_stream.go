package retrieval

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"logbook/internal/llm"
)

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
