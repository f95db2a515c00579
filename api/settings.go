package api

import (
	"net/http"

	"logbook/internal/crm"
)

func settingsRoutes() []route {
	return []route{
		{Method: "GET", Path: "/v1/settings", Scope: crm.ScopeRead, Handle: (*handler).settingsGet, Tag: "settings",
			Summary: "The org's settings: disposition codes, require_disposition, stalled_after_days.",
			Resp:    errResps(map[int]any{200: crm.Settings{}})},
		{Method: "PATCH", Path: "/v1/settings", Scope: crm.ScopeAdmin, Handle: (*handler).settingsUpdate, Tag: "settings",
			Summary: "Change the org's settings.", Body: crm.SettingsInput{},
			Resp: errResps(map[int]any{200: crm.Settings{}}, 400, 413, 422)},
	}
}

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
