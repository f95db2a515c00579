package worker

import (
	"context"
	"log/slog"
)

// purgeBatch bounds how many transcripts of one org a purge pass empties
// (one transaction per org), so a first run over years of backlog is many
// short passes, not one long lock.
const purgeBatch = 200

// PurgeRetention runs one pass of the orgs' transcript retention settings
// (store.TranscriptsPurge): raw transcripts older than an org's
// transcript_retention_days lose their content and segments, keeping or
// deleting the notes as its keep_notes_after_purge says. The reconciler
// calls it on every tick; a backlog drains purgeBatch per org per tick.
func (w *Worker) PurgeRetention(ctx context.Context) (int, error) {
	res, err := w.cfg.Store.TranscriptsPurge(ctx, purgeBatch)
	if res.Transcripts > 0 {
		w.log.InfoContext(ctx, "purged transcripts past their org's retention", slog.Int("transcripts", res.Transcripts),
			slog.Int("notes_deleted", res.NotesDeleted))
	}
	return res.Transcripts, err
}
