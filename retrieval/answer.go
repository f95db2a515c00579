package retrieval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

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
