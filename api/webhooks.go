package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"logbook/internal/crm"
	"logbook/internal/netguard"
	"logbook/internal/store"
)

// webhookResolveTimeout bounds the lookup of a new webhook's host name.
const webhookResolveTimeout = 3 * time.Second

// notPublicURL is what a client is told about a URL whose host is not
// public, whatever the reason: which address a name resolved to, or that it
// did not resolve, is for the server's log only (it would map the private
// network for whoever asks).
const notPublicURL = "must name a public host: one that resolves, and only to public addresses " +
	"(loopback, private, link-local and other internal addresses are refused unless the operator allows them)"

// webhookInput validates a create input and returns it normalised: the URL
// trimmed and checked by the guard (syntax, any IP address in it, and, when
// the handler resolves, every address its name resolves to), the events
// deduplicated in the order given. Problems are a *crm.ValidationError
// naming the fields.
func (h *handler) webhookInput(ctx context.Context, in crm.WebhookInput) (crm.WebhookInput, error) {
	var p crm.Problems
	raw := strings.TrimSpace(in.URL)
	before := p.Len()
	crm.CheckText(&p, "url", raw, crm.MaxWebhookURL, true)
	if p.Len() == before {
		if len(raw) > crm.MaxWebhookURL {
			p.Add("url", "must be at most %d bytes", crm.MaxWebhookURL)
		} else if msg := h.checkWebhookURL(ctx, raw); msg != "" {
			p.Add("url", "%s", msg)
		}
	}
	var events []string
	if len(in.Events) == 0 {
		p.Add("events", "must list at least one of %s", strings.Join(store.WebhookEvents, ", "))
	}
	for i, e := range in.Events {
		switch {
		case !slices.Contains(store.WebhookEvents, e):
			p.Add(fmt.Sprintf("events[%d]", i), "must be one of %s", strings.Join(store.WebhookEvents, ", "))
		case !slices.Contains(events, e):
			events = append(events, e)
		}
	}
	if in.Secret != nil {
		before := p.Len()
		crm.CheckText(&p, "secret", *in.Secret, crm.MaxWebhookSecret, false)
		if p.Len() == before && utf8.RuneCountInString(*in.Secret) < crm.MinWebhookSecret {
			p.Add("secret", "must be at least %d characters (or leave it out to have one generated)", crm.MinWebhookSecret)
		}
	}
	return crm.WebhookInput{URL: raw, Events: events, Secret: in.Secret}, p.Err()
}

// checkWebhookURL returns what is wrong with raw as a webhook URL, for the
// client, or "". A refusal is logged with its reason (the address and what
// it is); the client is told only notPublicURL.
func (h *handler) checkWebhookURL(ctx context.Context, raw string) string {
	u, err := h.webhookGuard.CheckURL(raw)
	if err == nil && h.resolveWebhooks {
		rctx, cancel := context.WithTimeout(ctx, webhookResolveTimeout)
		err = h.webhookGuard.CheckResolved(rctx, u)
		cancel()
	}
	var ue *netguard.URLError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ue):
		return ue.Msg
	default:
		h.log.InfoContext(ctx, "webhook URL refused", slog.String("url", raw), slog.Any("error", err))
		return notPublicURL
	}
}

func (h *handler) webhookCreate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var in crm.WebhookInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	in, err := h.webhookInput(r.Context(), in)
	if err != nil {
		return err
	}
	wh, err := h.store.WebhookCreateLimited(r.Context(), p.OrgID, in, h.maxWebhooks)
	if err != nil {
		return err
	}
	if wh.Secret != "" {
		w.Header().Set("Cache-Control", "no-store")
	}
	writeJSON(w, http.StatusCreated, wh)
	return nil
}

func (h *handler) webhookList(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	ws, err := h.store.WebhookList(r.Context(), p.OrgID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, itemsOf[crm.Webhook]{Items: ws})
	return nil
}

func (h *handler) webhookGet(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	wh, err := h.store.WebhookGet(r.Context(), p.OrgID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wh)
	return nil
}

func (h *handler) webhookDelete(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.store.WebhookDelete(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *handler) webhookDeliveries(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var pr crm.Problems
	status := crm.WebhookDeliveryStatus(r.URL.Query().Get("status"))
	if status != "" && !status.Valid() {
		pr.Add("status", "must be one of %s", strings.Join(strs(crm.WebhookDeliveryStatuses), ", "))
	}
	f := store.WebhookDeliveryFilter{
		Status: status,
		Limit:  queryInt(&pr, r, "limit", 1, store.MaxLimit),
		Cursor: r.URL.Query().Get("cursor"),
	}
	if err := pr.Err(); err != nil {
		return err
	}
	page, err := h.store.WebhookDeliveryList(r.Context(), p.OrgID, id, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// webhookRedeliverer is an Enqueuer that can also run a delivery waiting
// for its next retry at once (queue.Enqueuer); with any other, a redelivery
// of a delivery still retrying keeps its backoff.
type webhookRedeliverer interface {
	RedeliverWebhook(ctx context.Context, orgID, deliveryID string) error
}

// webhookRedeliver makes a delivery pending again and queues it now, with
// the same ID (the Logbook-Delivery header) and payload, so a receiver that
// already has it can tell. A failure to enqueue does not fail the request:
// the delivery is due, and the reconciler enqueues it.
func (h *handler) webhookRedeliver(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var pr crm.Problems
	webhookID, err := pathID(r, "id")
	pr.Merge("", err)
	deliveryID, err := pathID(r, "delivery_id")
	pr.Merge("", err)
	if err := pr.Err(); err != nil {
		return err
	}
	d, err := h.store.WebhookDeliveryRedeliver(r.Context(), p.OrgID, webhookID, deliveryID)
	if err != nil {
		return err
	}
	if rd, ok := h.enqueue.(webhookRedeliverer); ok {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), enqueueTimeout)
		defer cancel()
		if err := rd.RedeliverWebhook(ctx, p.OrgID, d.ID); err != nil {
			h.log.WarnContext(ctx, "enqueue webhook redelivery; the reconciler will retry", slog.String("delivery_id", d.ID), slog.Any("error", err))
		}
	} else {
		h.enqueueAfterCommit(r.Context(), p.OrgID, nil, []string{d.ID})
	}
	writeJSON(w, http.StatusAccepted, d)
	return nil
}
