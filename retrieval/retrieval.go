package retrieval

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"logbook/internal/crm"
	"logbook/internal/llm"
)

// Store is what retrieval needs of storage (*store.Store implements it).
type Store interface {
	// ChunkEmbeddings returns the embeddings model made for an activity's
	// chunks, by content hash.
	ChunkEmbeddings(ctx context.Context, orgID, activityID, model string) (map[string][]float32, error)
	// ChunkSearchVector returns the chunks nearest to vec: an exact scan
	// with q.AccountID, the HNSW index (efSearch candidates) without.
	ChunkSearchVector(ctx context.Context, q crm.ChunkQuery, vec []float32, efSearch int) ([]crm.ChunkHit, error)
	// ChunkSearchBM25 returns the chunks holding any lexeme of words, best
	// BM25 score first.
	ChunkSearchBM25(ctx context.Context, q crm.ChunkQuery, words string) ([]crm.ChunkHit, error)
	// ActivityGet returns an activity (crm.ErrNotFound when gone).
	ActivityGet(ctx context.Context, orgID, id string) (crm.Activity, error)
	// ActivityIndexSave replaces an activity's own-text chunks and marks it
	// indexed as of updatedAt.
	ActivityIndexSave(ctx context.Context, orgID, activityID string, updatedAt time.Time, cs []crm.Chunk) error
}

// ErrUnavailable wraps a failure of the embedder or the model (a timeout,
// a 429, a 5xx, an answer that is not the JSON asked for): the question
// can be asked again.
var ErrUnavailable = errors.New("retrieval: the language model is unavailable")

// Config is what a Service needs. Store and Embedder are required; Answer
// needs Completer too.
type Config struct {
	Store     Store
	Embedder  llm.Embedder
	Completer llm.Completer
	// EmbedModel names the embedding model; every chunk records it, and
	// only chunks of this model are compared with a question's vector.
	EmbedModel string
	// EmbedBatch is the most texts sent to the embedder at once (default
	// 256).
	EmbedBatch int
	// EfSearch is hnsw.ef_search for org-wide questions (default
	// DefaultEfSearch).
	EfSearch int
	// MinSimilarity is the least cosine similarity at which a chunk found
	// only by meaning counts as relevant enough to answer from. Zero uses
	// DefaultMinSimilarity.
	MinSimilarity float64
	// Sources is how many search results an answer is given (default 8).
	Sources int
	// VectorWeight is the vector list's weight in a hybrid search's
	// reciprocal rank fusion, the full-text list's being 1 (default
	// DefaultVectorWeight).
	VectorWeight float64
}

// DefaultVectorWeight suits the local hashing embedder, whose vectors
// share features only where texts share words: its list mostly repeats
// BM25's evidence, less precisely. On the quality dev set (account scope,
// 125 questions, with the 150-word transcript chunks of the time) hybrid
// search had hit@5 0.560 and MRR 0.398 at weight 1, 0.560 / 0.405 at 0.5
// and 0.608 / 0.400 at 0.3, against 0.584 / 0.397 for full text alone. A
// dense model brings evidence of its own: raise it.
const DefaultVectorWeight = 0.3

// DefaultMinSimilarity suits the local hashing embedder, whose vectors
// share features only where texts share words; a dense model's unrelated
// texts sit higher, so set MinSimilarity for it.
const DefaultMinSimilarity = 0.2

// DefaultEfSearch is the HNSW candidate list of an org-wide search: with
// the index built as migrated (store.HNSWOptions) and the local embedder
// it gives recall@10 0.967 at 1,000,000 chunks with p99 74–89 ms; 400 gave
// 0.926 and 100, pgvector's usual, 0.770 (BENCHMARKS.md). pgvector allows
// at most 1000.
const DefaultEfSearch = 800

// Service indexes and searches an org's history and answers questions
// from it.
type Service struct {
	cfg Config
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Embedder == nil {
		return nil, errors.New("retrieval: Store and Embedder are required")
	}
	if cfg.EmbedModel == "" {
		return nil, errors.New("retrieval: EmbedModel is required")
	}
	if cfg.EmbedBatch <= 0 {
		cfg.EmbedBatch = 256
	}
	if cfg.EfSearch <= 0 {
		cfg.EfSearch = DefaultEfSearch
	}
	if cfg.MinSimilarity <= 0 {
		cfg.MinSimilarity = DefaultMinSimilarity
	}
	if cfg.Sources <= 0 {
		cfg.Sources = 8
	}
	if cfg.VectorWeight <= 0 {
		cfg.VectorWeight = DefaultVectorWeight
	}
	return &Service{cfg: cfg}, nil
}

// EmbedModel returns the model chunks are embedded with.
func (s *Service) EmbedModel() string { return s.cfg.EmbedModel }

// embed fills the embeddings of cs: reused from known (by content hash)
// where the text is unchanged, the rest requested in batches. It returns
// how many were requested.
func (s *Service) embed(ctx context.Context, cs []crm.Chunk, known map[string][]float32) (int, error) {
	var todo []int
	for i := range cs {
		cs[i].ContentHash = crm.ChunkHash(cs[i].Text)
		cs[i].Model = s.cfg.EmbedModel
		if v, ok := known[string(cs[i].ContentHash)]; ok {
			cs[i].Embedding = v
			continue
		}
		todo = append(todo, i)
	}
	for start := 0; start < len(todo); start += s.cfg.EmbedBatch {
		batch := todo[start:min(start+s.cfg.EmbedBatch, len(todo))]
		texts := make([]string, len(batch))
		for j, i := range batch {
			texts[j] = EmbedText(cs[i].Text)
		}
		vecs, err := s.cfg.Embedder.Embed(ctx, texts)
		if err != nil {
			return 0, fmt.Errorf("retrieval: embed %d chunks: %w", len(texts), err)
		}
		if len(vecs) != len(texts) {
			return 0, fmt.Errorf("retrieval: embed: sent %d texts, got %d vectors", len(texts), len(vecs))
		}
		for j, i := range batch {
			cs[i].Embedding = vecs[j]
		}
	}
	return len(todo), nil
}

// EmbedTexts embeds texts in batches (reindexing uses it).
func (s *Service) EmbedTexts(ctx context.Context, cs []crm.Chunk) error {
	_, err := s.embed(ctx, cs, nil)
	return err
}

// MeetingChunks returns a processed meeting's chunks, its transcript's and
// its notes', embedded: text unchanged since the last indexing keeps its
// stored embedding. The caller stores them with the notes, in one
// transaction (store.NotesSave).
func (s *Service) MeetingChunks(ctx context.Context, orgID, activityID string, segs []crm.Segment, notes crm.Notes) ([]crm.Chunk, error) {
	cs := ChunkTranscript(segs)
	cs = append(cs, ChunkNotes(notes)...)
	known, err := s.cfg.Store.ChunkEmbeddings(ctx, orgID, activityID, s.cfg.EmbedModel)
	if err != nil {
		return nil, err
	}
	if _, err := s.embed(ctx, cs, known); err != nil {
		return nil, err
	}
	return cs, nil
}

// ErrChanged means an activity changed while it was being indexed; index
// it again.
var ErrChanged = errors.New("retrieval: activity changed while indexing")

// IndexActivity (re)indexes an activity's own text: subject, body,
// disposition and next step. Unchanged chunks keep their embeddings. A
// deleted activity is not an error (its chunks went with it).
func (s *Service) IndexActivity(ctx context.Context, orgID, activityID string) (embedded int, err error) {
	a, err := s.cfg.Store.ActivityGet(ctx, orgID, activityID)
	if errors.Is(err, crm.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	cs := ChunkActivity(a)
	known, err := s.cfg.Store.ChunkEmbeddings(ctx, orgID, activityID, s.cfg.EmbedModel)
	if err != nil {
		return 0, err
	}
	if embedded, err = s.embed(ctx, cs, known); err != nil {
		return 0, err
	}
	err = s.cfg.Store.ActivityIndexSave(ctx, orgID, activityID, a.UpdatedAt, cs)
	if errors.Is(err, crm.ErrNotFound) {
		return embedded, nil
	}
	if errors.Is(err, crm.ErrConflict) {
		return embedded, fmt.Errorf("%w: %w", ErrChanged, err)
	}
	return embedded, err
}

// EmbedText is what is embedded of a chunk's text: each line's label (the
// speaker of a transcript line, "Decision" or "Email" elsewhere) said once,
// then the lines without it. Repeated on every line, names would outweigh
// what was said, and every chunk of a meeting would look alike.
func EmbedText(text string) string {
	var labels []string
	var body strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if label, rest, ok := strings.Cut(line, ": "); ok && label != "" && len(strings.Fields(label)) <= 4 && !strings.ContainsAny(label, ".?!") {
			if !slices.Contains(labels, label) {
				labels = append(labels, label)
			}
			line = rest
		}
		body.WriteString(line)
		body.WriteByte('\n')
	}
	if len(labels) == 0 {
		return text
	}
	return strings.Join(labels, ", ") + "\n" + strings.TrimSuffix(body.String(), "\n")
}
