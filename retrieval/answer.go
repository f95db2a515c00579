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
var answerSchema = llm.Schema{Name: "account_answer", JSON: json.RawMessage(`{
	"type": "object",
	"properties": {
		"answer": {"type": "string"},
		"citations": {"type": "array", "items": {
			"type": "object",
			"properties": {"source": {"type": "integer"}, "quote": {"type": "string"}},
			"required": ["source", "quote"],
			"additionalProperties": false
		}}
	},
	"required": ["answer", "citations"],
	"additionalProperties": false
}`)}

// Streamer is a Completer that can stream a completion's text as it is
// generated (the openai provider). Answers stream through it when the
// caller asks for tokens; other completers answer whole and the answer is
// then sent word by word.
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
// a source number it was not given, or a quote that is not in its source,
// is dropped, and an answer left with no valid citation is replaced by
// NothingOnRecord. onToken, when set, receives the answer's text as it is
// produced; the returned Answer is the validated one.
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
	in := llm.AnswerInput{Question: q.Text}
	for i, h := range srcs {
		src := llm.Source{N: i + 1, Text: h.Text, OccurredAt: h.OccurredAt, Type: h.ActivityType}
		if h.Speaker != nil {
			src.Speaker = *h.Speaker
		}
		in.Sources = append(in.Sources, src)
	}
	ps := make([]prompts.Source, len(in.Sources))
	for i, src := range in.Sources {
		ps[i] = prompts.Source(src)
	}
	p, err := prompts.Answer(prompts.AnswerInput{Question: in.Question, Sources: ps})
	if err != nil {
		return Answer{}, err
	}
	req := llm.CompletionRequest{
		Purpose: p.Purpose(), System: p.System, Messages: []llm.Message{{Role: "user", Content: p.User}},
		JSON: true, Schema: &answerSchema, MaxTokens: 800, Data: &in,
	}
	out, streamed, err := s.complete(ctx, req, onToken)
	if err != nil {
		return Answer{}, err
	}
	a := validate(out, srcs, q.AccountID == "")
	if !streamed {
		if err := sendWords(onToken, a.Answer); err != nil {
			return Answer{}, err
		}
	}
	return a, nil
}

// complete asks for the answer, streaming it through onToken when the
// completer can, and retries once when the answer is not the JSON asked
// for. streamed reports whether onToken already got the text.
func (s *Service) complete(ctx context.Context, req llm.CompletionRequest, onToken func(string) error) (out llm.AnswerOutput, streamed bool, err error) {
	var last error
	for attempt := range 2 {
		var c llm.Completion
		st, ok := s.cfg.Completer.(Streamer)
		if ok && onToken != nil && attempt == 0 {
			ex := &answerExtractor{emit: onToken}
			c, err = st.CompleteStream(ctx, req, ex.write)
			streamed = ex.sent
		} else {
			c, err = s.cfg.Completer.Complete(ctx, req)
		}
		if err != nil {
			return out, streamed, fmt.Errorf("%w: answer: %w", ErrUnavailable, err)
		}
		if last = json.Unmarshal([]byte(c.Text), &out); last == nil {
			return out, streamed, nil
		}
		out = llm.AnswerOutput{}
	}
	return out, streamed, fmt.Errorf("%w: the model's answer is not the JSON asked for: %w", ErrUnavailable, last)
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
// in it, drops the answer's references to anything else and every sentence
// left citing nothing, and turns each citation into the record it cites.
// An answer with no valid citation is NothingOnRecord.
func validate(out llm.AnswerOutput, srcs []Hit, orgWide bool) Answer {
	a := Answer{Citations: []Citation{}}
	valid := map[int]bool{}
	seen := map[string]bool{}
	for _, c := range out.Citations {
		if c.Source < 1 || c.Source > len(srcs) {
			continue
		}
		h := &srcs[c.Source-1]
		off, quote := findQuote(h.Text, c.Quote)
		if off < 0 {
			continue
		}
		valid[c.Source] = true
		key := h.ID + "\x00" + quote
		if seen[key] {
			continue
		}
		seen[key] = true
		line := h.LineAt(off)
		cit := Citation{ActivityID: h.ActivityID, ChunkID: h.ID, OccurredAt: h.OccurredAt, Type: h.ActivityType,
			Speaker: line.Speaker, Quote: quote}
		if line.StartMS != nil {
			ms := int(*line.StartMS)
			cit.StartMS = &ms
		}
		if orgWide {
			cit.AccountID = h.AccountID
		}
		a.Citations = append(a.Citations, cit)
	}
	// Keep the sentences that cite a valid source; a sentence that cites
	// nothing, or only what was not given or not quoted, is not on record.
	var sents []string
	for _, sent := range Sentences(out.Answer) {
		// "… on track. [1]": a reference after the full stop belongs to the
		// sentence before it.
		if len(sents) > 0 && strings.TrimSpace(marker.ReplaceAllString(sent, "")) == "" {
			sents[len(sents)-1] += " " + sent
			continue
		}
		sents = append(sents, sent)
	}
	var kept []string
	for _, sent := range sents {
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
		if cited {
			sent = strings.Join(strings.Fields(sent), " ")
			kept = append(kept, strings.ReplaceAll(sent, " .", "."))
		}
	}
	text := strings.Join(kept, " ")
	if len(a.Citations) == 0 || text == "" {
		return Answer{Answer: NothingOnRecord, Citations: []Citation{}}
	}
	a.Answer, a.Grounded = text, true
	return a
}

// findQuote finds quote in text, ignoring case, punctuation and spacing
// differences (models tidy quotes), and returns where it starts in text and
// the passage of text it matches; -1 when it is not there. A quote of fewer
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

// answerExtractor pulls the "answer" string out of a JSON object while it
// streams in, emitting its decoded text as it arrives.
type answerExtractor struct {
	emit  func(string) error
	buf   strings.Builder
	state int // 0: looking for the key, 1: in the string, 2: done
	pos   int // next byte of buf to read
	sent  bool
}

func (x *answerExtractor) write(delta string) error {
	x.buf.WriteString(delta)
	s := x.buf.String()
	if x.state == 0 {
		k := strings.Index(s, `"answer"`)
		if k < 0 {
			return nil
		}
		rest := s[k+len(`"answer"`):]
		i := strings.IndexByte(rest, '"')
		if i < 0 || strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest[:i]), ":")) != "" {
			return nil
		}
		x.state, x.pos = 1, k+len(`"answer"`)+i+1
	}
	if x.state != 1 {
		return nil
	}
	var out strings.Builder
	for x.pos < len(s) {
		c := s[x.pos]
		if c == '\\' {
			// Collect a whole escape (\n, \", \uXXXX) before decoding it.
			j := x.pos
			need := 2
			if j+1 < len(s) && s[j+1] == 'u' {
				need = 6
			}
			if j+need > len(s) {
				break
			}
			var r string
			if err := json.Unmarshal([]byte(`"`+s[j:j+need]+`"`), &r); err == nil {
				out.WriteString(r)
			}
			x.pos += need
			continue
		}
		if c == '"' {
			x.state = 2
			break
		}
		out.WriteByte(c)
		x.pos++
	}
	if out.Len() == 0 {
		return nil
	}
	x.sent = true
	return x.emit(out.String())
}
