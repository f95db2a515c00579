package api

import (
	"net/http"

	"logbook/internal/crm"
)

func (h *handler) settingsGet(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	s, err := h.store.SettingsGet(r.Context(), p.OrgID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}

func (h *handler) settingsUpdate(w http.ResponseWriter, r *http.Request, p crm.Principal) error {
	var in crm.SettingsInput
	if err := decodeJSON(w, r, &in, maxBody); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	s, err := h.store.SettingsUpdate(r.Context(), p.OrgID, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s)
	return nil
}
