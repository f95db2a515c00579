package main

import (
	"context"
	"fmt"
	"io"

	"logbook/internal/app"
	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/store"
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
	r := app.Reindexer{Store: st, Service: svc, OrgID: *org, Batch: *batch, Out: stdout}
	return r.Run(ctx)
}
