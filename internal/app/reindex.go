package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"logbook/internal/store"
	"logbook/retrieval"
)

// Reindexer re-embeds every chunk the service's model has not embedded
// (logbook reindex, and the quality loop under each embedder seed). It is
// resumable by construction: a chunk counts as done once it carries the
// model's embedding, so an interrupted run leaves exactly the rest.
type Reindexer struct {
	// Store holds the chunks.
	Store *store.Store
	// Service embeds them (its EmbedModel is the model recorded).
	Service *retrieval.Service
	// OrgID limits the run to one org's chunks; empty is every org.
	OrgID string
	// Batch is the chunks embedded per request.
	Batch int
	// Out receives the progress lines.
	Out io.Writer
	// Now is the clock of the progress lines; nil is time.Now.
	Now func() time.Time
}

// Run embeds every chunk left to embed, reporting progress to Out.
func (r *Reindexer) Run(ctx context.Context) error {
	model := r.Service.EmbedModel()
	total, err := r.Store.ChunksCountToEmbed(ctx, r.OrgID, model)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.Out, "reindex: %d chunk(s) to embed with %s\n", total, model)
	if total == 0 {
		return nil
	}
	now := r.Now
	if now == nil {
		now = time.Now
	}
	start, lastReport := now(), now()
	var afterOrg, afterID string
	done := 0
	for {
		cs, err := r.Store.ChunksToEmbed(ctx, r.OrgID, model, afterOrg, afterID, r.Batch)
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			break
		}
		if err := r.Service.EmbedTexts(ctx, cs); err != nil {
			return fmt.Errorf("reindex: after %d of %d chunks (run again to resume): %w", done, total, err)
		}
		if err := r.Store.ChunkEmbeddingsSet(ctx, model, cs); err != nil {
			return fmt.Errorf("reindex: after %d of %d chunks (run again to resume): %w", done, total, err)
		}
		done += len(cs)
		last := cs[len(cs)-1]
		afterOrg, afterID = last.OrgID, last.ID
		if t := now(); t.Sub(lastReport) >= time.Second || done >= total {
			lastReport = t
			rate := float64(done) / max(t.Sub(start).Seconds(), 1e-9)
			fmt.Fprintf(r.Out, "reindex: %d/%d chunks (%.0f%%), %.0f/s\n", done, total, 100*float64(min(done, total))/float64(total), rate)
		}
	}
	fmt.Fprintf(r.Out, "reindex: done, %d chunk(s) embedded in %s\n", done, now().Sub(start).Round(time.Millisecond))
	return nil
}
