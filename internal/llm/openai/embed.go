package openai

import (
	"context"
	"fmt"
	"strings"

	goopenai "github.com/sashabaranov/go-openai"

	"logbook/internal/llm"
)

// EmbedBatchSize is the most texts Embed sends in one request. OpenAI
// accepts up to 2,048 inputs per request; 512 keeps a batch of long chunks
// well under its per-request token limit and under the batch limits of
// self-hosted servers.
const EmbedBatchSize = 512

// Embed returns one vector per text, in order, sending the texts in batches
// of at most EmbedBatchSize. Empty input gives an empty result and no
// request. An empty text is sent as a single space, since the OpenAI API
// refuses empty strings.
//
// Every vector must have Config.EmbedDim dimensions; a model that returns
// another size fails with llm.ErrPermanent, naming the size to configure.
// Other errors are classified as for Complete.
func (p *Provider) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	if len(texts) == 0 {
		return out, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("openai: embed: %w", err)
	}
	for start := 0; start < len(texts); start += EmbedBatchSize {
		end := min(start+EmbedBatchSize, len(texts))
		vecs, err := p.embedBatch(ctx, texts[start:end])
		if err != nil {
			if len(texts) > EmbedBatchSize {
				return nil, fmt.Errorf("%w (texts %d to %d of %d)", err, start, end-1, len(texts))
			}
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// embedBatch embeds one batch under the per-request timeout.
func (p *Provider) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	input := make([]string, len(texts))
	for i, t := range texts {
		if t == "" {
			t = " "
		}
		input[i] = t
	}
	ereq := goopenai.EmbeddingRequestStrings{
		Input: input,
		Model: goopenai.EmbeddingModel(p.embedModel),
	}
	// Only text-embedding-3 models can shorten their vectors; other servers
	// reject the parameter or ignore it.
	if strings.Contains(p.embedModel, "text-embedding-3") {
		ereq.Dimensions = p.embedDim
	}

	reqCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	resp, err := p.client.CreateEmbeddings(reqCtx, ereq)
	if err != nil {
		return nil, p.classify(ctx, reqCtx, "embed", err, resp.Header())
	}

	if len(resp.Data) != len(texts) {
		return nil, fmt.Errorf("openai: embed: sent %d texts, got %d vectors back", len(texts), len(resp.Data))
	}
	vecs := make([][]float32, len(texts))
	byIndex := true
	for _, d := range resp.Data {
		if d.Index < 0 || d.Index >= len(vecs) || vecs[d.Index] != nil {
			byIndex = false
			break
		}
		vecs[d.Index] = d.Embedding
	}
	if !byIndex {
		// Some servers leave index at 0; they answer in input order.
		for i, d := range resp.Data {
			vecs[i] = d.Embedding
		}
	}
	for _, v := range vecs {
		if len(v) != p.embedDim {
			return nil, p.dimError(len(v))
		}
	}
	return vecs, nil
}

// dimError explains a dimension mismatch to the operator who has to fix it.
func (p *Provider) dimError(got int) error {
	if got == 0 {
		// A glitch rather than a configuration problem: worth a retry.
		return fmt.Errorf("openai: embed: model %q returned an empty vector", p.embedModel)
	}
	return fmt.Errorf("openai: embed: model %q returned %d-dimensional vectors but EMBED_DIM is %d: "+
		"set EMBED_DIM=%d (and run logbook reindex) or choose a model that returns %d dimensions: %w",
		p.embedModel, got, p.embedDim, got, p.embedDim, llm.ErrPermanent)
}
