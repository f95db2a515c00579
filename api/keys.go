package api

import (
	"net/http"

	"logbook/internal/crm"
)

// itemsOf is a list that is not paginated.
type itemsOf[T any] struct {
	Items []T `json:"items"`
}

func (h *handler) keyCreate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var in crm.APIKeyInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	k, err := h.store.APIKeyCreate(r.Context(), p.OrgID, in.Name, in.Scopes)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store") // the key is shown once: neither caches nor Idempotency-Key keep it
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (h *handler) keyList(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	keys, err := h.store.APIKeyList(r.Context(), p.OrgID)
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []crm.APIKey{}
	}
	writeJSON(w, http.StatusOK, itemsOf[crm.APIKey]{Items: keys})
	return nil
}

func (h *handler) keyRevoke(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.store.APIKeyRevoke(r.Context(), p.OrgID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
