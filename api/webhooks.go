package api

import (
	"net/http"
	"strings"

	"logbook/internal/crm"
	"logbook/internal/store"
)

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
