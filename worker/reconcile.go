package worker

import (
	"context"
	"log/slog"
	"time"
)

// reconcileBatch bounds one pass of the reconciler.
const reconcileBatch = 500

func (w *Worker) reconcileLoop(ctx context.Context) {
	t := time.NewTicker(w.cfg.ReconcileEvery)
	defer t.Stop()
	for {
		if n, err := w.Reconcile(ctx); err != nil && ctx.Err() == nil {
			w.log.WarnContext(ctx, "reconcile", slog.Any("error", err))
		} else if n > 0 {
			w.log.InfoContext(ctx, "reconciled", slog.Int("enqueued", n))
		}
		if _, err := w.PurgeRetention(ctx); err != nil && ctx.Err() == nil {
			w.log.WarnContext(ctx, "retention purge", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Reconcile runs one pass: transcripts still queued or processing that
// have not moved for ReconcileGrace, and pending webhook deliveries whose
// next attempt has been due for ReconcileGrace (not those waiting out their
// retry backoff), are enqueued again. A task that is still in Redis (waiting, retrying or
// running) makes that a no-op, so the pass is safe to run at any time and
// from every worker at once. It returns how many enqueues it made.
func (w *Worker) Reconcile(ctx context.Context) (int, error) {
	n := 0
	ts, err := w.cfg.Store.TranscriptsUnfinished(ctx, w.cfg.ReconcileGrace, reconcileBatch)
	if err != nil {
		return n, err
	}
	for _, t := range ts {
		if err := w.cfg.Enqueuer.EnqueueTranscript(ctx, t.OrgID, t.ID); err != nil {
			return n, err
		}
		n++
	}
	ds, err := w.cfg.Store.WebhookDeliveriesDue(ctx, w.cfg.ReconcileGrace, reconcileBatch)
	if err != nil {
		return n, err
	}
	for _, d := range ds {
		if err := w.cfg.Enqueuer.EnqueueWebhook(ctx, d.OrgID, d.ID); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
