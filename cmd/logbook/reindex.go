package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"logbook/internal/app"
	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/store"
	"logbook/retrieval"
)

func cmdReindex(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("reindex", "Embed every chunk the configured model has not embedded (resumable); changes the database to EMBED_DIM if it differs.", stderr)
	org := fs.String("org", "", "re-embed only this org's chunks (an org ID)")
	batch := fs.Int("batch", 256, "chunks embedded per request")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *org != "" && !crm.ValidID(*org) {
		return usageError{Msg: fmt.Sprintf("--org %q is not an org ID", *org)}
	}
	if *batch < 1 || *batch > 2048 {
		return usageError{Msg: "--batch must be 1 to 2048"}
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	a := &app.App{Cfg: cfg, Log: app.NewLogger(stderr, cfg.LogLevel)}
	if a.Pool, err = store.Connect(ctx, cfg.DatabaseURL, store.PoolConfig{}); err != nil {
		return err
	}
	defer a.Close()
	if err := a.EnsureSchema(ctx); err != nil {
		return err
	}
	st := store.New(a.Pool)
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
		a.Pool.Reset()
	}
	svc, err := a.RetrievalService()
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
