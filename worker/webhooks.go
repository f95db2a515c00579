package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/hibiken/asynq"

	"logbook/internal/crm"
	"logbook/internal/queue"
)

// HandleWebhookDeliver posts one delivery to its endpoint, signed with the
// endpoint's secret, and records the attempt: 2xx delivers it; 410 Gone
// fails it for good; anything else (or no answer) is retried with backoff
// until the last attempt, which marks it failed.
func (w *Worker) HandleWebhookDeliver(ctx context.Context, task *asynq.Task) error {
	p, err := queue.ParseWebhookPayload(task.Payload())
	if err != nil {
		return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	d, err := w.cfg.Store.WebhookDeliveryForSend(ctx, p.OrgID, p.DeliveryID)
	if errors.Is(err, crm.ErrNotFound) {
		return nil // the webhook was deleted with its deliveries
	}
	if err != nil {
		return err
	}
	if d.Status != "pending" {
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err != nil {
		_ = w.cfg.Store.WebhookDeliveryRecord(ctx, p.OrgID, d.DeliveryID, nil, "bad URL: "+err.Error(), "failed")
		return fmt.Errorf("webhook %s: %v: %w", d.WebhookID, err, asynq.SkipRetry)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Logbook-Webhooks/1")
	req.Header.Set("Logbook-Event", d.Event)
	req.Header.Set("Logbook-Delivery", d.DeliveryID)
	req.Header.Set(crm.SignatureHeader, crm.Sign(d.Secret, w.now(), d.Payload))

	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	last := ok && retried >= maxRetry
	res, err := w.http.Do(req)
	if err != nil {
		if rerr := w.cfg.Store.WebhookDeliveryRecord(context.WithoutCancel(ctx), p.OrgID, d.DeliveryID, nil, err.Error(), retryStatus(last)); rerr != nil {
			w.log.ErrorContext(ctx, "record webhook attempt", slog.Any("error", rerr))
		}
		return fmt.Errorf("webhook %s: %w", d.WebhookID, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
	code := res.StatusCode
	switch {
	case code >= 200 && code < 300:
		return w.cfg.Store.WebhookDeliveryRecord(ctx, p.OrgID, d.DeliveryID, &code, "", "delivered")
	case code == http.StatusGone:
		if err := w.cfg.Store.WebhookDeliveryRecord(ctx, p.OrgID, d.DeliveryID, &code, "endpoint answered 410 Gone", "failed"); err != nil {
			return err
		}
		return fmt.Errorf("webhook %s: 410 Gone: %w", d.WebhookID, asynq.SkipRetry)
	default:
		if err := w.cfg.Store.WebhookDeliveryRecord(ctx, p.OrgID, d.DeliveryID, &code, fmt.Sprintf("endpoint answered %d", code), retryStatus(last)); err != nil {
			return err
		}
		return fmt.Errorf("webhook %s: endpoint answered %d", d.WebhookID, code)
	}
}

// retryStatus is a failed attempt's delivery status: pending while asynq
// will retry, failed after the last attempt.
func retryStatus(last bool) string {
	if last {
		return "failed"
	}
	return "pending"
}
