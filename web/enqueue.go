package web

import (
	"context"
	"log/slog"
	"time"
)

// Enqueuer is the task queue as the web UI sees it: the same interface as
// api.Enqueuer (internal/queue's Enqueuer serves both), declared here since
// web and api are on one layer.
type Enqueuer interface {
	EnqueueTranscript(ctx context.Context, orgID, transcriptID string) error
	EnqueueWebhook(ctx context.Context, orgID, deliveryID string) error
}

// enqueueTimeout bounds how long a request waits on Redis (the API's): the
// work is stored already, and the worker's reconciler enqueues whatever
// did not make it.
const enqueueTimeout = 2 * time.Second

// enqueueDeliveries enqueues webhook deliveries a committed transaction
// wrote, logging (not returning) a failure: the deliveries are rows of the
// outbox, pending until sent, and the reconciler enqueues pending ones
// (worker.Reconcile), so none is lost when Redis is down or Deps has no
// Enqueuer.
func (h *handler) enqueueDeliveries(ctx context.Context, orgID string, deliveries []string) {
	if h.Enqueuer == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), enqueueTimeout)
	defer cancel()
	for _, id := range deliveries {
		if err := h.Enqueuer.EnqueueWebhook(ctx, orgID, id); err != nil {
			h.log.WarnContext(ctx, "enqueue webhook delivery; the reconciler will retry",
				slog.String("delivery_id", id), slog.Any("error", err))
			return // Redis is likely down: do not wait on it again
		}
	}
}
