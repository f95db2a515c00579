package api

import (
	"net/http"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/store"
)

func webhookRoutes() []route {
	events := strings.Join(store.WebhookEvents, ", ")
	return []route{
		{Method: "POST", Path: "/v1/webhooks", Scope: crm.ScopeAdmin, Handle: (*handler).webhookCreate, Tag: "webhooks",
			Summary: "Create a webhook: url (absolute http or https with a host, no user info, at most 2000 bytes) receives " +
				"the events listed (any of " + events + "; duplicates are dropped) as POSTs signed with " +
				crm.SignatureHeader + ": t=<unix>,v1=<hex HMAC-SHA256(secret, t + \".\" + body)>, retried with backoff. " +
				"secret (at least 16 characters) is never shown again; leave it out to have a random one generated and " +
				"returned in this response only.",
			Body: crm.WebhookInput{}, Required: []string{"url", "events"},
			Resp: errResps(map[int]any{201: crm.Webhook{}}, 400, 413, 422)},
		{Method: "GET", Path: "/v1/webhooks", Scope: crm.ScopeAdmin, Handle: (*handler).webhookList, Tag: "webhooks",
			Summary: "List the org's webhooks, newest first (without secrets).",
			Resp:    errResps(map[int]any{200: itemsOf[crm.Webhook]{}})},
		{Method: "GET", Path: "/v1/webhooks/{id}", Scope: crm.ScopeAdmin, Handle: (*handler).webhookGet, Tag: "webhooks",
			Object: "webhook", Summary: "Get a webhook (without its secret).",
			Resp: errResps(map[int]any{200: crm.Webhook{}}, 404, 422)},
		{Method: "DELETE", Path: "/v1/webhooks/{id}", Scope: crm.ScopeAdmin, Handle: (*handler).webhookDelete, Tag: "webhooks",
			Object: "webhook", Summary: "Delete a webhook with its delivery log; deliveries not yet sent are dropped.",
			Resp: errResps(map[int]any{204: noBody{}}, 404, 422)},
		{Method: "GET", Path: "/v1/webhooks/{id}/deliveries", Scope: crm.ScopeAdmin, Handle: (*handler).webhookDeliveries,
			Tag: "webhooks", Object: "webhook",
			Summary: "A webhook's delivery log, newest first, keyset-paginated: each event sent or to be sent, with its " +
				"status (pending until delivered, or failed when retries ran out or the endpoint answered 410), attempts " +
				"and the last attempt's HTTP status and error.",
			Query: append([]param{
				{Name: "status", Type: "string", Enum: strs(crm.WebhookDeliveryStatuses)},
			}, pageParams...),
			Resp: errResps(map[int]any{200: crm.Page[crm.WebhookDelivery]{}}, 404, 422)},
	}
}

func (h *handler) webhookCreate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var in crm.WebhookInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	wh, err := h.store.WebhookCreate(r.Context(), p.OrgID, in)
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
