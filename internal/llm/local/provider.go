package local

import (
	"context"
	"encoding/json"
	"fmt"

	"logbook/internal/llm"
	"logbook/internal/llm/local/answer"
	"logbook/prompts"
)

// Model is the model name the provider reports in Completion.Model.
const Model = "local-extractive-v1"

// DefaultDim is the embedding dimension New uses when given dim < 1.
const DefaultDim = 256

// DefaultSeed is the hashing seed New uses.
const DefaultSeed uint64 = 0

// Provider is the offline provider: an llm.Completer that answers by
// extraction and an llm.Embedder that hashes features. It holds no mutable
// state, so one Provider serves any number of goroutines.
type Provider struct {
	dim  int
	seed uint64
}

var (
	_ llm.Completer = (*Provider)(nil)
	_ llm.Embedder  = (*Provider)(nil)
)

// New returns a provider whose embeddings have dim dimensions (DefaultDim
// if dim < 1).
func New(dim int) *Provider { return NewWithSeed(dim, DefaultSeed) }

// NewWithSeed returns a provider whose embeddings have dim dimensions
// (DefaultDim if dim < 1) and are hashed with seed. The seed changes only
// which features share a coordinate, so a measure averaged over several
// seeds is one of the method rather than of one set of hash collisions.
// Vectors of different seeds must never be compared: Model names the seed.
// The completions do not depend on it.
func NewWithSeed(dim int, seed uint64) *Provider {
	if dim < 1 {
		dim = DefaultDim
	}
	return &Provider{dim: dim, seed: seed}
}

// Dim is the dimension of the provider's embeddings.
func (p *Provider) Dim() int { return p.dim }

// Seed is the seed the provider's embeddings are hashed with.
func (p *Provider) Seed() uint64 { return p.seed }

// Complete answers req by extraction from req.Data, switching on
// req.Purpose:
//
//   - prompts.PurposeNotes and prompts.PurposeReduce read an *prompts.NotesInput and
//     answer an llm.NotesOutput;
//   - prompts.PurposeFollowUp reads an *prompts.FollowUpInput and answers an
//     llm.FollowUpOutput;
//   - prompts.PurposeAnswer reads an *prompts.AnswerInput and answers an
//     llm.AnswerOutput.
//
// The answer is the JSON of that output type in Completion.Text. An unknown
// purpose, or Data of the wrong type (or nil), is an error wrapping
// llm.ErrPermanent. The prompt text (System, Messages) is never read except
// to estimate input tokens, so nothing said in a transcript can steer the
// answer. Token counts are estimates: a token per four bytes of prompt (or
// of the input data, when there is no prompt) and of the answer.
func (p *Provider) Complete(ctx context.Context, req llm.CompletionRequest) (llm.Completion, error) {
	if err := ctx.Err(); err != nil {
		return llm.Completion{}, err
	}
	var (
		out     any
		inBytes int
		err     error
	)
	switch req.Purpose {
	case prompts.PurposeNotes, prompts.PurposeReduce:
		in, ok := dataAs[prompts.NotesInput](req.Data)
		if !ok {
			return llm.Completion{}, wrongData(req)
		}
		var o llm.NotesOutput
		o, err = notes(ctx, in)
		out = o
		for _, s := range in.Segments {
			inBytes += len(s.Speaker) + len(s.Text) + 2
		}
	case prompts.PurposeFollowUp:
		in, ok := dataAs[prompts.FollowUpInput](req.Data)
		if !ok {
			return llm.Completion{}, wrongData(req)
		}
		out = followUp(in)
		inBytes = len(in.Summary) + len(in.Title)
	case prompts.PurposeAnswer:
		in, ok := dataAs[prompts.AnswerInput](req.Data)
		if !ok {
			return llm.Completion{}, wrongData(req)
		}
		out = answer.Answer(in)
		inBytes = len(in.Question)
		for _, s := range in.Sources {
			inBytes += len(s.Text)
		}
	default:
		return llm.Completion{}, fmt.Errorf("local: unknown purpose %q: %w", req.Purpose, llm.ErrPermanent)
	}
	if err != nil {
		return llm.Completion{}, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return llm.Completion{}, fmt.Errorf("local: encode %s answer: %w: %v", req.Purpose, llm.ErrPermanent, err)
	}
	if prompt := promptBytes(req); prompt > 0 {
		inBytes = prompt
	}
	return llm.Completion{Text: string(b), Model: Model, InputTokens: inBytes / 4, OutputTokens: len(b) / 4}, nil
}

// dataAs reads Data as a T given by pointer (non-nil) or by value.
func dataAs[T any](data any) (*T, bool) {
	switch d := data.(type) {
	case *T:
		return d, d != nil
	case T:
		return &d, true
	}
	return nil, false
}

func wrongData(req llm.CompletionRequest) error {
	return fmt.Errorf("local: %s needs its structured input in Data, got %T: %w", req.Purpose, req.Data, llm.ErrPermanent)
}

func promptBytes(req llm.CompletionRequest) int {
	n := len(req.System)
	for _, m := range req.Messages {
		n += len(m.Content)
	}
	return n
}
