package local

import (
	"context"
	"fmt"

	"logbook/internal/llm/local/hashvec"
)

// EmbedModel names the scheme Embed embeds by. Chunks record it with the
// seed (when not the default) and the dimension, as Model says, and
// logbook reindex re-embeds the chunks another scheme made: bump the
// version with any change that alters a vector (features, weights,
// hashing, stop words, stemming).
//
// v2: bigrams only of two content words. v3: no list of domain synonyms
// (v2's "concepts", which mirrored the topics of a test set); hashing
// seeds (NewWithSeed).
const EmbedModel = "local-hash-v3"

// Model is the name chunks embedded by p record: EmbedModel, the seed
// when it is not DefaultSeed, and the dimension ("local-hash-v3/384",
// "local-hash-v3/s7/384"), since another seed or dimension gives other
// vectors and a question must be embedded like the chunks it is compared
// with.
func (p *Provider) Model() string {
	if p.seed == DefaultSeed {
		return fmt.Sprintf("%s/%d", EmbedModel, p.dim)
	}
	return fmt.Sprintf("%s/s%d/%d", EmbedModel, p.seed, p.dim)
}

// Embed returns one unit vector of the provider's dimension per text, in
// order. Each vector is the feature-hashed bag of the text's lower-case
// words: content unigrams and bigrams of neighbouring content words,
// weighted by sublinear term frequency (1+ln tf), then L2-normalised. Each
// feature is hashed (FNV-1a, mixed with the provider's seed and finalised
// with MurmurHash3's fmix64) to a coordinate (hash mod dim) and a sign (the
// hash's top bit). Texts sharing words and word pairs have a high cosine
// similarity; the seed only changes which features collide, so any seed
// gives the same structure up to hashing noise.
//
// A text with no content words (empty, or only stop words) embeds to the
// unit vector along dimension 0, so every vector has norm 1. Embed returns
// ctx.Err() once ctx is done.
func (p *Provider) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([][]float32, len(texts))
	var buf hashvec.Buffers
	acc := make([]float64, p.dim)
	for i, t := range texts {
		if i%64 == 63 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i] = hashvec.Vector(t, p.seed, &buf, acc)
	}
	return out, nil
}
