package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/store"
	"logbook/retrieval"
)

// embedModelName is the name chunks record for the configured embedder:
// the model and the dimension, since a text-embedding-3 model shortened to
// 384 dimensions gives other vectors than at 1536.
func embedModelName(cfg config.Config) string {
	if cfg.LLMProvider == "openai" {
		return fmt.Sprintf("%s/%d", cfg.EmbedModel, cfg.EmbedDim)
	}
	return local.New(cfg.EmbedDim).Model()
}

// retrievalService builds retrieval on the configured provider.
func (a *app) retrievalService() (*retrieval.Service, error) {
	completer, embedder, _, err := a.provider()
	if err != nil {
		return nil, err
	}
	return retrieval.New(retrieval.Config{
		Store: storeOf(a.pool), Embedder: embedder, Completer: completer, EmbedModel: embedModelName(a.cfg),
		MinSimilarity: a.cfg.MinSimilarity, EfSearch: a.cfg.EfSearch, VectorWeight: a.cfg.VectorWeight,
	})
}

// checkEmbedDim refuses to run on a chunks table whose vectors have another
// dimension than EMBED_DIM: nothing could be stored or compared.
func (a *app) checkEmbedDim(ctx context.Context) error {
	dim, err := storeOf(a.pool).EmbeddingDim(ctx)
	if err != nil {
		return err
	}
	if dim != a.cfg.EmbedDim {
		return fmt.Errorf("the database stores %d-dimensional embeddings but EMBED_DIM is %d: "+
			"run `logbook reindex` to change the database to %d and embed everything again, or set EMBED_DIM=%d",
			dim, a.cfg.EmbedDim, a.cfg.EmbedDim, dim)
	}
	return nil
}

func cmdReindex(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("reindex", stderr)
	org := fs.String("org", "", "re-embed only this org's chunks (an org ID)")
	batch := fs.Int("batch", 256, "chunks embedded per request")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *org != "" && !crm.ValidID(*org) {
		return usageError{fmt.Sprintf("--org %q is not an org ID", *org)}
	}
	if *batch < 1 || *batch > 2048 {
		return usageError{"--batch must be 1 to 2048"}
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	a := &app{cfg: cfg, log: newLogger(stderr, cfg.LogLevel)}
	if a.pool, err = store.Connect(ctx, cfg.DatabaseURL, store.PoolConfig{}); err != nil {
		return err
	}
	defer a.close()
	if err := a.ensureSchema(ctx); err != nil {
		return err
	}
	st := storeOf(a.pool)
	dim, err := st.EmbeddingDim(ctx)
	if err != nil {
		return err
	}
	if dim != cfg.EmbedDim {
		if *org != "" {
			return fmt.Errorf("the database stores %d-dimensional embeddings and EMBED_DIM is %d: "+
				"changing the dimension re-embeds every org; run reindex without --org", dim, cfg.EmbedDim)
		}
		fmt.Fprintf(stdout, "changing embeddings from %d to %d dimensions (every chunk is embedded again)\n", dim, cfg.EmbedDim)
		if err := st.SetEmbeddingDim(ctx, cfg.EmbedDim); err != nil {
			return err
		}
		a.pool.Reset()
	}
	svc, err := a.retrievalService()
	if err != nil {
		return err
	}
	r := reindexer{st: st, svc: svc, org: *org, batch: *batch, out: stdout}
	return r.run(ctx)
}

// reindexer re-embeds every chunk the configured model has not embedded.
// It is resumable by construction: a chunk counts as done once it carries
// the model's embedding, so an interrupted run leaves exactly the rest.
type reindexer struct {
	st    *store.Store
	svc   *retrieval.Service
	org   string
	batch int
	out   io.Writer
	now   func() time.Time
}

func (r *reindexer) run(ctx context.Context) error {
	model := r.svc.EmbedModel()
	total, err := r.st.ChunksCountToEmbed(ctx, r.org, model)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.out, "reindex: %d chunk(s) to embed with %s\n", total, model)
	if total == 0 {
		return nil
	}
	now := r.now
	if now == nil {
		now = time.Now
	}
	start, lastReport := now(), now()
	var afterOrg, afterID string
	done := 0
	for {
		cs, err := r.st.ChunksToEmbed(ctx, r.org, model, afterOrg, afterID, r.batch)
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			break
		}
		if err := r.svc.EmbedTexts(ctx, cs); err != nil {
			return fmt.Errorf("reindex: after %d of %d chunks (run again to resume): %w", done, total, err)
		}
		if err := r.st.ChunkEmbeddingsSet(ctx, model, cs); err != nil {
			return fmt.Errorf("reindex: after %d of %d chunks (run again to resume): %w", done, total, err)
		}
		done += len(cs)
		last := cs[len(cs)-1]
		afterOrg, afterID = last.OrgID, last.ID
		if t := now(); t.Sub(lastReport) >= time.Second || done >= total {
			lastReport = t
			rate := float64(done) / max(t.Sub(start).Seconds(), 1e-9)
			fmt.Fprintf(r.out, "reindex: %d/%d chunks (%.0f%%), %.0f/s\n", done, total, 100*float64(min(done, total))/float64(total), rate)
		}
	}
	fmt.Fprintf(r.out, "reindex: done, %d chunk(s) embedded in %s\n", done, now().Sub(start).Round(time.Millisecond))
	return nil
}
