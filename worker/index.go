package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"logbook/internal/queue"
)

// HandleActivityIndex (re)indexes an activity's own text (an email, note or
// call): chunks, embeddings (reused where the text is unchanged) and the
// activity's indexed mark, in one transaction. A deleted activity is done
// (its chunks went with it); one changed while indexing runs again.
func (w *Worker) HandleActivityIndex(ctx context.Context, task *asynq.Task) error {
	p, err := queue.ParseActivityPayload(task.Payload())
	if err != nil {
		return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	if w.cfg.Retrieval == nil {
		return fmt.Errorf("worker: %s: no retrieval service configured: %w", queue.TypeActivityIndex, asynq.SkipRetry)
	}
	n, err := w.cfg.Retrieval.IndexActivity(ctx, p.OrgID, p.ActivityID)
	if err != nil {
		return err
	}
	w.log.DebugContext(ctx, "activity indexed", slog.String("org_id", p.OrgID), slog.String("activity_id", p.ActivityID),
		slog.Int("embedded", n))
	return nil
}

// indexBatch is how many unindexed activities one sweep enqueues.
const indexBatch = 500

// indexLoop enqueues an activity:index task for every activity whose text
// changed since it was indexed, every IndexEvery. The sweep is the only
// path from a write to its indexing: the API's write never waits on Redis,
// and an activity written while Redis was down is indexed once it is back.
func (w *Worker) indexLoop(ctx context.Context) {
	if w.cfg.Retrieval == nil {
		return
	}
	t := time.NewTicker(w.cfg.IndexEvery)
	defer t.Stop()
	for {
		if _, err := w.IndexSweep(ctx); err != nil && ctx.Err() == nil {
			w.log.WarnContext(ctx, "index sweep", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// IndexSweep enqueues indexing for up to indexBatch unindexed activities
// and returns how many it enqueued (or found already queued).
func (w *Worker) IndexSweep(ctx context.Context) (int, error) {
	acts, err := w.cfg.Store.ActivitiesUnindexed(ctx, indexBatch)
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, a := range acts {
		if err := w.cfg.Enqueuer.EnqueueActivityIndex(ctx, a.OrgID, a.ID); err != nil {
			errs = append(errs, err)
			if len(errs) >= 3 {
				break // Redis is likely down: try again next sweep
			}
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}
