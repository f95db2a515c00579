package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/hibiken/asynq"

	"logbook/internal/crm"
	"logbook/internal/netguard"
	"logbook/internal/queue"
	"logbook/internal/store"
)

// noResponse is the delivery log's text for an attempt that got no HTTP
// answer, whatever the reason: the guard refused the address, the
// connection was refused or reset, it ended before an answer (EOF), it
// timed out, TLS failed. Telling those apart would let whoever reads the
// log (an org admin) map which ports answer on the hosts the worker can
// reach; the full error goes to the server's log only. An answer that did
// come is reported by its status code.
const noResponse = "delivery failed: could not connect or got no response"

// webhookClient is the client that sends deliveries: it connects only
// through the guard's dialer (the resolved address is checked at every
// dial), takes no proxy from the environment (proxy only, when set), never
// follows a redirect (a 3xx is a failed attempt), and gives up on an
// attempt after timeout.
func webhookClient(g *netguard.Guard, timeout time.Duration, proxy *url.URL) *http.Client {
	tr := &http.Transport{
		DialContext:            g.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	if proxy != nil {
		tr.Proxy = http.ProxyURL(proxy)
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// webhookRetryDelay is queue.WebhookRetryDelay plus up to a tenth of
// jitter, so the deliveries an endpoint's outage piled up do not all come
// back in the same second.
func webhookRetryDelay(n int) time.Duration {
	d := queue.WebhookRetryDelay(n)
	return d + time.Duration(rand.Int64N(int64(d)/10+1))
}

// HandleWebhookDeliver posts one delivery to its endpoint, signed with the
// endpoint's secret, and records the attempt: 2xx delivers it; 410 Gone
// fails it for good; anything else (a 3xx included: redirects are not
// followed) or no answer is retried on queue.WebhookRetrySchedule until the
// last attempt, which marks it failed. While it is retrying it stays
// pending, with the time its retry is due.
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
	if d.Status != string(crm.DeliveryPending) {
		return nil
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	last := ok && retried >= maxRetry
	record := func(code *int, text string, status crm.WebhookDeliveryStatus) error {
		a := store.WebhookAttempt{Code: code, Error: text, Status: status}
		if status == crm.DeliveryPending {
			// The latest the retry runs: its wait and all its jitter.
			a.NextAttemptAt = w.now().Add(queue.WebhookRetryDelay(retried) * 11 / 10)
		}
		if err := w.cfg.Store.WebhookDeliveryAttemptRecord(context.WithoutCancel(ctx), p.OrgID, d.DeliveryID, a); err != nil {
			return err
		}
		w.cfg.Metrics.WebhookAttempt(status, code)
		return nil
	}
	logFailure := func(err error) {
		w.log.WarnContext(ctx, "webhook delivery failed", slog.String("webhook_id", d.WebhookID),
			slog.String("delivery_id", d.DeliveryID), slog.Int("retried", retried), slog.Any("error", err))
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err != nil {
		logFailure(err)
		if rerr := record(nil, "delivery failed: the webhook's URL is not valid", crm.DeliveryFailed); rerr != nil {
			return rerr
		}
		return fmt.Errorf("webhook %s: %v: %w", d.WebhookID, err, asynq.SkipRetry)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Logbook-Webhooks/1")
	req.Header.Set("Logbook-Event", d.Event)
	req.Header.Set("Logbook-Delivery", d.DeliveryID)
	req.Header.Set(crm.SignatureHeader, crm.Sign(d.Secret, w.now(), d.Payload))

	res, err := w.http.Do(req)
	if err != nil {
		logFailure(err)
		if rerr := record(nil, noResponse, retryStatus(last)); rerr != nil {
			return errors.Join(fmt.Errorf("webhook %s: %w", d.WebhookID, err), rerr)
		}
		return fmt.Errorf("webhook %s: %w", d.WebhookID, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
	code := res.StatusCode
	var text string
	switch {
	case code >= 200 && code < 300:
		return record(&code, "", crm.DeliveryDelivered)
	case code == http.StatusGone:
		if err := record(&code, "delivery failed: HTTP 410 Gone (not retried)", crm.DeliveryFailed); err != nil {
			return err
		}
		return fmt.Errorf("webhook %s: 410 Gone: %w", d.WebhookID, asynq.SkipRetry)
	case code >= 300 && code < 400:
		text = fmt.Sprintf("delivery failed: HTTP %d (redirects are not followed)", code)
	default:
		text = fmt.Sprintf("delivery failed: HTTP %d", code)
	}
	if err := record(&code, text, retryStatus(last)); err != nil {
		return err
	}
	return fmt.Errorf("webhook %s: endpoint answered %d", d.WebhookID, code)
}

// retryStatus is a failed attempt's delivery status: pending while asynq
// will retry, failed after the last attempt.
func retryStatus(last bool) crm.WebhookDeliveryStatus {
	if last {
		return crm.DeliveryFailed
	}
	return crm.DeliveryPending
}
