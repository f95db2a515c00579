package api

import (
	"context"
	"log/slog"
	"time"
)

// enqueueTimeout bounds how long a request waits on Redis. A slow or down
// Redis must not hold the answer: the work is already stored, and the
// worker's reconciler enqueues whatever did not make it.
const enqueueTimeout = 2 * time.Second

// enqueueAfterCommit enqueues stored work, logging (not returning) failures.
func (h *handler) enqueueAfterCommit(ctx context.Context, orgID string, transcripts, deliveries []string) {
	if h.enqueue == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), enqueueTimeout)
	defer cancel()
	for _, id := range transcripts {
		if err := h.enqueue.EnqueueTranscript(ctx, orgID, id); err != nil {
			h.log.WarnContext(ctx, "enqueue transcript; the reconciler will retry", slog.String("transcript_id", id), slog.Any("error", err))
			return // Redis is likely down: do not wait on it again
		}
	}
	for _, id := range deliveries {
		if err := h.enqueue.EnqueueWebhook(ctx, orgID, id); err != nil {
			h.log.WarnContext(ctx, "enqueue webhook delivery; the reconciler will retry", slog.String("delivery_id", id), slog.Any("error", err))
			return
		}
	}
}
